"""A command typed as root on the host runs as the state root's owner, in the same process
(access/users.py): what it writes is the owner's, and root's identity is gone for good before the
command does anything."""

import fcntl
import os
import pwd
import shutil
import subprocess
import sys
import tempfile
import termios
from pathlib import Path

import click
import pytest
from test_storage_root_mount import INSTALL_SH, function

from minidokku.access import users

OWNER = pwd.getpwnam("nobody")
PUBLIC_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAILj40cxgi9/kUjVPrS6oh5ywwfLLwuUhLUOiorPtQY6p alice@laptop"
# A Python the owner may read, as Debian's on an install.sh machine (the tests' own may be under
# /root), given this checkout's libraries (and, through them, the checkout).
PYTHON = Path("/usr/bin/python3")
SITE_PACKAGES = str(Path(click.__file__).parent.parent)
REPO = INSTALL_SH.parent
# Runs the command line in this very process, then prints the process's identities: a command run
# again in a new process would print nothing, and a drop that could be undone would leave root's
# saved uid.
IN_PROCESS = f"""
import site
import sys
site.addsitedir({SITE_PACKAGES!r})
from minidokku.cli import cli
try:
    cli.main(sys.argv[1:], prog_name="dokku")
except SystemExit as done:
    assert done.code in (0, None), done.code
print(next(line for line in open("/proc/self/status") if line.startswith("Uid:")))
print(next(line for line in open("/proc/self/status") if line.startswith("Gid:")))
import os
print("Environment:", " ".join(sorted(os.environ)))
print("Folder:", os.getcwd())
"""


@pytest.fixture
def owned_root():
    """A state root the user nobody owns, as /home/dokku is the dokku user's."""
    if os.geteuid() != 0 or not PYTHON.exists():
        pytest.skip("needs root and /usr/bin/python3")
    root = Path(tempfile.mkdtemp(prefix="minidokku-owned-"))
    root.chmod(0o755)
    os.chown(root, OWNER.pw_uid, OWNER.pw_gid)
    yield root
    shutil.rmtree(root)


def run_as_root(root: Path, *words: str, cwd: str = "/", **variables: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, DOKKU_ROOT=str(root), **variables)
    env.pop("SSH_ORIGINAL_COMMAND", None)
    return subprocess.run(
        [str(PYTHON), "-c", IN_PROCESS, *words], env=env, cwd=cwd, capture_output=True, text=True, timeout=60
    )


def test_a_command_typed_in_a_folder_under_root_s_home_goes_on_where_the_owner_may_be(owned_root, tmp_path):
    home = tmp_path / "root-home"  # as /root: 0700, with a checkout in it that is itself open
    checkout = home / "minidokku"
    checkout.mkdir(parents=True)
    home.chmod(0o700)
    checkout.chmod(0o755)
    done = run_as_root(owned_root, "config:set", "--global", "--no-restart", "GREETING=hello", cwd=str(checkout))
    assert done.returncode == 0, done.stderr
    assert "Folder: /\n" in done.stdout, "nobody's home (/nonexistent) is no folder: / then"
    assert (owned_root / "ENV").is_file()


def test_root_drops_to_the_owner_for_good_in_its_own_process(owned_root):
    done = run_as_root(owned_root, "config:set", "--global", "--no-restart", "GREETING=hello")
    assert done.returncode == 0, done.stderr
    uid, gid = OWNER.pw_uid, OWNER.pw_gid
    assert f"Uid:\t{uid}\t{uid}\t{uid}\t{uid}" in done.stdout
    assert f"Gid:\t{gid}\t{gid}\t{gid}\t{gid}" in done.stdout
    written = [owned_root / "ENV", owned_root / "EVENTS"]
    assert [(path.stat().st_uid, path.stat().st_gid) for path in written] == [(uid, gid)] * 2
    assert "nobody (on the host)" in (owned_root / "EVENTS").read_text()


def test_the_owner_s_run_keeps_nothing_of_root_s_environment_but_what_a_command_needs(owned_root):
    root_s = {"SHIV_ROOT": "/usr/local/lib/minidokku/unpacked", "SSH_AUTH_SOCK": "/tmp/ssh-root/agent.1"}
    done = run_as_root(owned_root, "config:show", "--global", TERM="xterm", SUDO_USER="alice", **root_s)
    assert done.returncode == 0, done.stderr
    environment = next(line for line in done.stdout.splitlines() if line.startswith("Environment:")).split()[1:]
    assert {"HOME", "USER", "LOGNAME", "PATH", "DOKKU_ROOT", "TERM", "SUDO_USER"} <= set(environment)
    assert not set(environment) & {"SHIV_ROOT", "SSH_AUTH_SOCK", "PYTHONPATH", "VIRTUAL_ENV"}
    allowed = set(users.KEPT_VARIABLES) | {"HOME", "USER", "LOGNAME", "PATH"}
    assert all(name in allowed or name.startswith(users.KEPT_PREFIXES) for name in environment), environment


def test_a_file_only_root_may_read_is_read_by_root_before_it_drops(owned_root, tmp_path):
    """`ssh-keys:add NAME FILE` typed as root: the file (0600, root's, in root's 0700 folder) is
    read while still root; the command then runs as the owner, who could not have opened it."""
    key = tmp_path / "alice.pub"
    key.write_text(PUBLIC_KEY + "\n")
    key.chmod(0o600)
    tmp_path.chmod(0o700)
    done = run_as_root(owned_root, "ssh-keys:add", "alice", str(key))
    assert done.returncode == 0, done.stderr
    assert f"Uid:\t{OWNER.pw_uid}\t" in done.stdout  # it ran as the owner
    authorized = owned_root / ".ssh" / "authorized_keys"
    assert PUBLIC_KEY in authorized.read_text() and authorized.stat().st_uid == OWNER.pw_uid
    # a file that is not there is still told as one, with its name
    missing = run_as_root(owned_root, "ssh-keys:add", "bob", str(tmp_path / "bob.pub"))
    assert missing.returncode != 0 and "bob.pub: No such file or directory" in missing.stderr


def test_a_root_only_command_keeps_root(owned_root):
    done = run_as_root(owned_root, "stack:build", "--help")
    assert done.returncode == 0, done.stderr
    assert "Uid:\t0\t0\t0\t0" in done.stdout


@pytest.fixture
def pyz_dir():
    """A folder as install.sh's /usr/local/lib/minidokku, with this checkout's zipapp in it."""
    folder = Path(tempfile.mkdtemp(prefix="minidokku-pyz-"))
    folder.chmod(0o755)
    shiv = [str(Path(sys.executable).parent / "shiv"), "--quiet", "-p", "/usr/bin/env python3"]
    zipapp = [*shiv, "-e", "minidokku.cli:main", "-o", str(folder / "minidokku.pyz"), str(REPO)]
    subprocess.run(zipapp, check=True, capture_output=True, timeout=600)
    yield folder
    shutil.rmtree(folder)


# install.sh's unpack_program and dokku_launcher, run under root's umask 027 on a PYZ_DIR
INSTALL = (
    "set -eu\n"
    + "".join(function(name) for name in ("info", "die", "system_python", "unpack_program", "dokku_launcher"))
    + 'umask 027; unpack_program "$(system_python)" "$1/minidokku.pyz" "$1"\n'
    + 'dokku_launcher "$(system_python)" "$1" >"$1/dokku"; chmod 755 "$1/dokku"\n'
)
DEBIAN_PATH = "/usr/bin:/bin"  # Debian's python3, which the owner may read


def install(pyz_dir: Path) -> None:
    env = dict(os.environ, PATH=DEBIAN_PATH)
    subprocess.run(["sh", "-c", INSTALL, "install", str(pyz_dir)], env=env, check=True, timeout=300)


def test_install_sh_s_launcher_runs_root_s_command_as_the_owner_in_one_process(owned_root, pyz_dir):
    """The launcher runs the copy install.sh unpacked (root's umask 027 notwithstanding, the owner
    may read it), so a command typed as root goes on as the owner without starting again, and
    never through the zipapp's own start."""
    if shutil.which("strace") is None:
        pytest.skip("needs strace")
    install(pyz_dir)
    (copy,) = pyz_dir.glob("program-*/site-packages")
    assert users.readable_by(copy, OWNER.pw_uid, os.getgrouplist(OWNER.pw_name, OWNER.pw_gid))
    env = dict(os.environ, DOKKU_ROOT=str(owned_root), PATH=DEBIAN_PATH)
    env.pop("SSH_ORIGINAL_COMMAND", None)
    trace = pyz_dir / "execve.log"
    typed = 'umask 027; dir=$1; shift; exec strace -f -qq -e trace=execve -o "$dir/execve.log" "$dir/dokku" "$@"'
    done = subprocess.run(
        ["sh", "-c", typed, "typed", str(pyz_dir), "config:set", "--global", "--no-restart", "GREETING=hello"],
        env=env, cwd="/", capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert (owned_root / "ENV").stat().st_uid == OWNER.pw_uid
    started = [line for line in trace.read_text().splitlines() if "execve(" in line]
    assert len(started) == 1 and f'execve("{pyz_dir}/dokku"' in started[0], started


def test_an_upgrade_switches_the_program_and_keeps_the_copy_before_it(pyz_dir):
    """A command that started on the copy before an upgrade still finds the rest of its modules:
    that copy stays until the next upgrade, also when the same zipapp is installed again; older
    ones, and shiv's folder of an earlier launcher, go."""
    for name in ("program-older", "program-before", "unpacked"):
        (pyz_dir / name / "site-packages").mkdir(parents=True)
    (pyz_dir / "program").symlink_to("program-before")
    install(pyz_dir)
    new = os.readlink(pyz_dir / "program")
    assert new.startswith("program-") and new != "program-before"
    assert sorted(path.name for path in pyz_dir.iterdir()) == sorted(
        ["dokku", "minidokku.pyz", "program", new, "program-before"]
    )
    install(pyz_dir)  # the same zipapp again: the link stays, and so does the copy before it
    assert os.readlink(pyz_dir / "program") == new and (pyz_dir / "program-before").exists()


def test_the_launcher_runs_debian_s_python_even_where_root_s_path_finds_another_first(tmp_path):
    """A python3 of root's own first on root's PATH (a pyenv shim under /root, 0700) is one the
    dokku user cannot run: every push and ssh command would fail on the launcher's first line."""
    own = tmp_path / "bin"
    own.mkdir()
    (own / "python3").write_text("#!/bin/sh\nexit 1\n")
    (own / "python3").chmod(0o755)
    script = function("system_python") + "system_python\n"
    found = subprocess.run(["sh", "-c", script], env={"PATH": f"{own}:/usr/bin:/bin"}, capture_output=True, text=True)
    assert found.stdout == "/usr/bin/python3\n"


def test_the_launcher_tells_in_one_line_that_its_program_is_missing(pyz_dir):
    install(pyz_dir)
    shutil.rmtree(pyz_dir / os.readlink(pyz_dir / "program"))
    done = subprocess.run([str(pyz_dir / "dokku"), "apps:list"], capture_output=True, text=True, timeout=60)
    assert done.returncode == 1
    missing = pyz_dir / os.readlink(pyz_dir / "program") / "site-packages"
    assert done.stderr == f"dokku: {missing} is missing: run install.sh again\n"


# Started with a terminal (a pty) as its controlling one, as root's shell starts `dokku`: writes the
# terminal of its own (field 7 of /proc/self/stat, 0 for none), then starts a program the owner may
# have written (any hook in an app's repo; a plugin's trigger, as the owner once dropped) that
# writes its own.
WITH_A_TERMINAL = """
import sys
from pathlib import Path
out, what, *words = sys.argv[1:]
Path(out, "caller").write_text(open("/proc/self/stat").read().rsplit(")", 1)[1].split()[4])
if what == "git hook":
    from minidokku.build import gitrepo
    gitrepo.move_branch(Path(words[0]), "main", words[1])
else:
    from minidokku.context import Context
    from minidokku.output import Output
    from minidokku.plugins import triggers
    from minidokku.plugins.registry import Plugin
    from minidokku.settings import Settings
    spy = Plugin("spy", "1", "", folder=Path(words[0]))
    triggers.run_one(Context(Settings.load(), Output(sys.stdout)), spy, "post-deploy", "catmeow")
    triggers.run_one(Context(Settings.load(), Output(sys.stdout)), spy, "post-deploy", "catmeow", capture=True)
"""
SPY = """#!/bin/sh
cut -d" " -f7 /proc/$$/stat >>"$OUT/started"
"""


def write_spy(path: Path) -> None:
    path.write_text(SPY)
    path.chmod(0o755)


def git_hook(folder: Path) -> list[str]:
    """A repo with a commit whose reference-transaction hook is SPY: moving a branch runs it."""
    repo = folder / "repo.git"
    subprocess.run(["git", "init", "--quiet", "--bare", str(repo)], check=True)
    tree = subprocess.run(["git", "--git-dir", str(repo), "mktree"], input=b"", capture_output=True, check=True)
    made = subprocess.run(
        ["git", "--git-dir", str(repo), "-c", "user.name=t", "-c", "user.email=t@t", "commit-tree", "-m", "one",
         tree.stdout.decode().strip()],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    hooks = folder / "hooks"
    hooks.mkdir()
    write_spy(hooks / "reference-transaction")
    subprocess.run(["git", "--git-dir", str(repo), "config", "core.hooksPath", str(hooks)], check=True)
    return [str(repo), made.stdout.strip()]


def plugin_trigger(folder: Path) -> list[str]:
    """A plugin folder (root's alone, as root runs only such) whose post-deploy trigger is SPY."""
    plugin = folder / "spy"
    plugin.mkdir(mode=0o755)
    write_spy(plugin / "post-deploy")
    return [str(plugin)]


@pytest.mark.parametrize("what, made", [("git hook", git_hook), ("plugin trigger", plugin_trigger)])
def test_hooks_and_triggers_run_outside_the_caller_s_terminal(tmp_path, what, made):
    """After the drop these run as the owner: in root's terminal session one could type into
    root's shell (TIOCSTI); in a session of its own it has no terminal to type into."""
    out = Path(tempfile.mkdtemp(prefix="minidokku-tty-"))  # root's alone from /
    words = made(out)
    env = dict(os.environ, OUT=str(out), DOKKU_ROOT=str(tmp_path))
    leader, terminal = os.openpty()
    try:
        done = subprocess.run(
            [sys.executable, "-c", WITH_A_TERMINAL, str(out), what, *words],
            stdin=terminal, stdout=terminal, stderr=terminal, env=env,
            start_new_session=True, preexec_fn=lambda: fcntl.ioctl(0, termios.TIOCSCTTY, 0), timeout=60,
        )  # fmt: skip
        assert done.returncode == 0, os.read(leader, 4096).decode(errors="replace")
        assert (out / "caller").read_text() != "0"  # the caller had the terminal
        started = (out / "started").read_text().split()
        assert started and set(started) == {"0"}, started  # the spy did run, each time without it
    finally:
        os.close(terminal)
        os.close(leader)
        shutil.rmtree(out)
