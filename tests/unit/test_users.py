"""Root becoming the state root's owner in its own process (access/users.py)."""

import os
import pwd
import shutil
import stat
import tempfile
from pathlib import Path

import pytest

from minidokku.access import users

NOBODY = 65534


def status(mode: int, uid: int, gid: int) -> os.stat_result:
    return os.stat_result((stat.S_IFDIR | mode, 0, 0, 2, uid, gid, 0, 0, 0, 0))


@pytest.mark.parametrize(
    "mode, uid, gid, granted",
    [
        (0o700, NOBODY, 0, True),  # its owner
        (0o700, 0, 0, False),
        (0o750, 0, 7, True),  # its group, one of the user's
        (0o705, 0, 7, False),  # the group's bits decide for the group, whatever the others'
        (0o751, 0, 0, False),  # others may pass through, not list
        (0o755, 0, 0, True),
        (0o070, NOBODY, 0, False),  # the owner's bits decide for the owner
    ],
)
def test_the_mode_bits_of_the_user_s_class_decide(mode, uid, gid, granted):
    wanted = stat.S_IROTH | stat.S_IXOTH
    assert users.permits(status(mode, uid, gid), NOBODY, {NOBODY, 7}, wanted) is granted


@pytest.fixture
def folders():
    """/tmp/X (0755, root's) holding code/ (0750, root's); removed afterwards."""
    top = Path(tempfile.mkdtemp(prefix="minidokku-users-"))
    top.chmod(0o755)
    code = top / "code"
    code.mkdir(mode=0o750)
    code.chmod(0o750)
    yield top, code
    shutil.rmtree(top)


def test_a_folder_is_readable_when_every_folder_above_lets_the_user_through(folders):
    top, code = folders
    assert users.readable_by(top, NOBODY, [NOBODY])
    assert not users.readable_by(code, NOBODY, [NOBODY])
    assert users.readable_by(code, NOBODY, [NOBODY, 0])
    top.chmod(0o700)
    assert not users.readable_by(code, NOBODY, [NOBODY, 0])
    assert users.readable_by(Path("/usr/lib"), NOBODY, [NOBODY])


class Drop:
    """Records what act_as_owner_of asks of the system instead of doing it."""

    def __init__(self, monkeypatch):
        self.calls = []
        monkeypatch.setattr(users.os, "geteuid", lambda: 0)
        for name in ("setgroups", "setgid", "setuid"):
            monkeypatch.setattr(users.os, name, lambda value, name=name: self.calls.append((name, value)))
        monkeypatch.setattr(users.os, "execve", self.execve)
        monkeypatch.setattr(users.sys, "argv", ["dokku", "apps:list"])
        # root's environment, as a root's login leaves it (os.environ is put back after the test)
        monkeypatch.setattr(users.os, "environ", dict(ROOT_ENVIRONMENT))
        self.environment = None

    def execve(self, path, argv, env):
        self.calls.append(("execve", argv))
        self.environment = dict(env)


ROOT_ENVIRONMENT = {
    "HOME": "/root",
    "USER": "root",
    "PATH": "/root/bin:/usr/bin",
    "SHIV_ROOT": "/usr/local/lib/minidokku/unpacked",
    "SSH_AUTH_SOCK": "/tmp/ssh-root/agent.1",
    "SSH_CONNECTION": "10.0.0.1 5000 10.0.0.2 22",
    "PYTHONPATH": "/root/lib",
    "GIT_DIR": "/root/.git",
    "AWS_SECRET_ACCESS_KEY": "root's",
    "NAME": "admin",
    "TERM": "xterm-256color",
    "LANG": "C.UTF-8",
    "LC_TIME": "en_GB.UTF-8",
    "TZ": "Europe/Paris",
    "SUDO_USER": "alice",
    "DOKKU_ROOT": "/home/dokku",
    "MINIDOKKU_NGINX_COMMAND": "nginx",
}
# what the owner's run keeps of it, with the owner's own HOME, USER, LOGNAME and the system's PATH
KEPT = ("TERM", "LANG", "LC_TIME", "TZ", "SUDO_USER", "DOKKU_ROOT", "MINIDOKKU_NGINX_COMMAND")


def owner_s_environment(account: pwd.struct_passwd) -> dict[str, str]:
    kept = {key: ROOT_ENVIRONMENT[key] for key in KEPT}
    return dict(kept, HOME=account.pw_dir, USER=account.pw_name, LOGNAME=account.pw_name, PATH=users.SYSTEM_PATH)


@pytest.fixture
def owned_root(tmp_path):
    root = tmp_path / "root"
    root.mkdir()
    os.chown(root, NOBODY, NOBODY)
    return root


def test_root_becomes_the_owner_in_this_process_when_it_may_read_the_code(owned_root, folders, monkeypatch):
    drop = Drop(monkeypatch)
    top, _ = folders
    users.act_as_owner_of(owned_root, [top], lambda: pytest.fail("the program is only asked for to run it again"))
    account = pwd.getpwuid(NOBODY)
    groups = os.getgrouplist(account.pw_name, account.pw_gid)
    assert drop.calls == [("setgroups", groups), ("setgid", account.pw_gid), ("setuid", NOBODY)]
    assert os.environ == owner_s_environment(account)  # SHIV_ROOT, root's agent, PYTHON*, GIT_* are gone


def test_root_runs_the_command_again_as_the_owner_when_the_code_is_not_theirs_to_read(owned_root, folders, monkeypatch):
    drop = Drop(monkeypatch)
    _, code = folders
    users.act_as_owner_of(owned_root, [code], lambda: ["/usr/local/bin/dokku"])
    assert [name for name, _ in drop.calls] == ["setgroups", "setgid", "setuid", "execve"]
    assert drop.calls[-1] == ("execve", ["/usr/local/bin/dokku", "apps:list"])
    # the owner's run unpacks its own copy (no SHIV_ROOT: root's is where the owner may not write)
    assert drop.environment == owner_s_environment(pwd.getpwuid(NOBODY))


def test_nothing_changes_for_a_root_of_root_s_own_or_another_user(tmp_path, monkeypatch):
    drop = Drop(monkeypatch)
    users.act_as_owner_of(tmp_path, [tmp_path], lambda: ["dokku"])
    monkeypatch.setattr(users.os, "geteuid", lambda: NOBODY)
    users.act_as_owner_of(tmp_path / "missing", [tmp_path], lambda: ["dokku"])
    assert drop.calls == []
    assert os.environ == ROOT_ENVIRONMENT
