"""Issue 12, classes 6 and 7, and the user-app quota: roles fail closed, a key and its role land
together, root acts on nothing the dokku user could write, and a user key's concurrent creates
stay within its quota.

The suite runs as root with a root-owned state root: files owned by `nobody` stand for what the
dokku user (the owner of /home/dokku on an install.sh machine) could have written.
"""

import contextlib
import dataclasses
import json
import os
import pwd
import shutil
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from helpers import APPS, dokku_program, git, make_git_repo
from security_helpers import VICTIM, assert_refused, events_of, quoted, state_of

from minidokku.access import rules

TESTS = Path(__file__).parents[1]
RECORDER = TESTS / "plugins" / "recorder"
NOBODY = pwd.getpwnam("nobody").pw_uid
ADMIN_COMMANDS = [
    ("docker-options:add", "--global", "deploy", "-v /:/host"),
    ("ssh-keys:add", "--role", "admin", "mallory2"),
    ("config:show", VICTIM),
    ("events",),
]


def roles_file(platform) -> Path:
    return platform.root / rules.ROLES_FILE


def roles(ssh_client) -> dict[str, str]:
    listed = ssh_client.ssh("ssh-keys:list", "--format", "json")
    assert listed.returncode == 0, listed.stderr
    return {key["name"]: key["role"] for key in json.loads(listed.stdout)}


def remove_key(platform, name: str) -> None:
    platform.dokku("ssh-keys:remove", name, check=False)


# -- class 6: roles fail closed --------------------------------------------------------------------


def test_a_key_whose_role_line_was_removed_acts_as_a_user(platform, ssh_client, engine, victim):
    mallory = ssh_client.with_key("mallory", rules.ADMIN)
    try:
        assert mallory.ssh("config:show", VICTIM).returncode == 0  # an admin, while its line is there
        lines = roles_file(platform).read_text().splitlines()
        roles_file(platform).write_text("".join(f"{line}\n" for line in lines if not line.startswith("mallory ")))
        before, events_before = state_of(platform, engine), events_of(platform)

        for words in ADMIN_COMMANDS:
            result = mallory.ssh(quoted(*words))
            if words[0] == "config:show":
                assert_refused(result, f"App {VICTIM} does not exist")
            else:
                assert_refused(result, f"{words[0]} is for admin keys only; mallory is a user key")
            assert result.stdout == ""

        assert state_of(platform, engine) == before
        trail = [line.split("\t")[1:5] for line in events_of(platform)[len(events_before) :]]
        assert [row[0] for row in trail] == ["mallory"] * len(ADMIN_COMMANDS)
        assert {row[3] for row in trail} == {"denied"}
        assert roles(ssh_client)["mallory"] == rules.USER
    finally:
        remove_key(platform, "mallory")


def test_keys_added_at_once_all_land_with_their_roles(platform, ssh_client, tmp_path):
    names = [f"crowd{index}" for index in range(8)]
    wanted = {name: rules.ADMIN if index % 2 else rules.USER for index, name in enumerate(names)}
    for name in names:
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(tmp_path / name)], check=True)

    def add(name: str) -> subprocess.CompletedProcess:
        return platform.dokku("ssh-keys:add", "--role", wanted[name], name, str(tmp_path / f"{name}.pub"), check=False)

    try:
        with ThreadPoolExecutor(max_workers=len(names)) as pool:
            results = list(pool.map(add, names))
        assert [result.returncode for result in results] == [0] * len(names), [r.stderr for r in results]
        listed = roles(ssh_client)
        assert {name: listed[name] for name in names} == wanted
        assert sorted(line for line in roles_file(platform).read_text().splitlines() if line.startswith("crowd")) == (
            sorted(f"{name} {role}" for name, role in wanted.items())
        )
    finally:
        for name in names:
            remove_key(platform, name)


KILLED_BETWEEN_THE_WRITES = """
import os, signal, sys
from minidokku.access.sshkeys import AuthorizedKeys
AuthorizedKeys.append = lambda *_: os.kill(os.getpid(), signal.SIGKILL)  # the role is written, the key not yet
from minidokku.cli import main
sys.argv = ["dokku", *sys.argv[1:]]
main()
"""


def test_a_kill_between_the_two_writes_of_an_add_leaves_no_admin(platform, ssh_client, engine, victim, tmp_path):
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(tmp_path / "ghost")], check=True)
    killed = subprocess.run(
        [
            sys.executable,
            "-c",
            KILLED_BETWEEN_THE_WRITES,
            "ssh-keys:add",
            "--role",
            "user",
            "ghost",
            f"{tmp_path}/ghost.pub",
        ],
        env=platform.env,
        capture_output=True,
        text=True,
    )
    try:
        assert killed.returncode == -9, killed.stderr
        assert "ghost" not in roles(ssh_client)  # no key: nothing logs in as ghost
        ghost = dataclasses.replace(ssh_client, key=tmp_path / "ghost")
        assert ghost.ssh("apps:list").returncode != 0

        platform.dokku("ssh-keys:add", "--role", "user", "ghost", f"{tmp_path}/ghost.pub")  # the retry
        before = state_of(platform, engine)
        assert_refused(ghost.ssh(quoted(*ADMIN_COMMANDS[0])), "is for admin keys only; ghost is a user key")
        assert state_of(platform, engine) == before
        assert roles(ssh_client)["ghost"] == rules.USER
    finally:
        remove_key(platform, "ghost")


# -- class 7: root acts on nothing the dokku user could write --------------------------------------


@contextlib.contextmanager
def owned_by_nobody(path: Path):
    """path as the dokku user could have left it, for the block; root's again after."""
    os.chown(path, NOBODY, NOBODY)
    try:
        yield
    finally:
        os.chown(path, 0, 0)


@pytest.fixture
def recorder(platform, tmp_path):
    """The recorder plugin, installed by root (plugin:install runs as root)."""
    platform.dokku("plugin:install", str(shutil.copytree(RECORDER, tmp_path / "recorder")))
    (platform.root / "recorder.log").unlink()
    yield platform.root / ".plugins" / "recorder"
    platform.dokku("plugin:uninstall", "recorder")
    (platform.root / "recorder.log").unlink(missing_ok=True)


def test_root_runs_no_plugin_file_someone_else_could_write(platform, recorder):
    with owned_by_nobody(recorder / "record"):
        result = platform.dokku("plugin:install", check=False)  # every plugin's install trigger, as root
        assert_refused(result, f"root does not run plugin recorder: {recorder}/record belongs to nobody, not root")
        assert result.stderr.count("\n") == 1
    (recorder / "planted").write_text("#!/bin/sh\n")
    os.chown(recorder / "planted", NOBODY, NOBODY)  # a file added to the plugin, sourced by nothing yet
    try:
        assert_refused(platform.dokku("plugin:install", check=False), f"{recorder}/planted belongs to nobody")
    finally:
        (recorder / "planted").unlink()
    assert not (platform.root / "recorder.log").exists()
    platform.dokku("plugin:install")  # root's alone again: it runs
    assert (platform.root / "recorder.log").read_text().splitlines()[0].startswith("dependencies\t")


def test_root_does_not_act_on_settings_someone_else_wrote(platform, engine, tmp_path):
    settings = platform.root / "SETTINGS"
    original = settings.read_text()
    canary = tmp_path / "pwned"
    settings.write_text(original + f"export NGINX_COMMAND='/usr/bin/touch {canary}'\n")
    before = state_of(platform, engine)
    try:
        with owned_by_nobody(settings):
            result = platform.dokku("proxy:build-config", VICTIM, check=False)  # would reload nginx
            assert_refused(result, f"{settings} belongs to nobody, not root: root does not act on it")
            assert not canary.exists()
            settings.chmod(0o666)
            os.chown(settings, 0, 0)
            assert_refused(platform.dokku("stack:build", check=False), f"{settings} is writable by others than root")
            assert not canary.exists()
        assert state_of(platform, engine) == before
    finally:
        settings.write_text(original)
        settings.chmod(0o644)


def test_root_hands_plugins_no_program_someone_else_named(platform, recorder, tmp_path):
    canary = tmp_path / "pwned"
    impostor = tmp_path / "impostor"
    impostor.write_text(f"#!/bin/sh\ntouch {canary}\n")
    impostor.chmod(0o755)
    sshcommand = platform.root / ".sshcommand"
    sshcommand.write_text(f"{impostor}\n")
    platform.dokku("apps:create", "handed")
    try:
        with owned_by_nobody(sshcommand):
            platform.dokku("config:set", "--no-restart", "handed", "GREETING=purr")
            platform.dokku("apps:create", "handed2")
        log = (platform.root / "recorder.log").read_text()
        assert "value GREETING=purr" in log  # $DOKKU_BIN config:get answered: the real program
        assert not canary.exists()
        hook = (platform.root / "handed2" / "hooks" / "pre-receive").read_text()
        assert str(impostor) not in hook and dokku_program() in hook
    finally:
        sshcommand.unlink()
        for app in ("handed", "handed2"):
            platform.dokku("apps:destroy", app, "--force", check=False)


def test_a_new_apps_repo_is_its_owners_alone(platform):
    platform.dokku("apps:create", "private")
    try:
        assert (platform.root / "private").stat().st_mode & 0o777 == 0o700
    finally:
        platform.dokku("apps:destroy", "private", "--force")


def test_key_entries_are_restricted_and_keep_their_forced_command(platform, ssh_client):
    entries = (platform.root / ".ssh" / "authorized_keys").read_text().splitlines()
    assert entries and all(",restrict,pty ssh-ed25519 " in line for line in entries), entries
    forwarded = subprocess.run(
        [*ssh_client.ssh_command, "-N", "-o", "ExitOnForwardFailure=yes", "-R", "127.0.0.1:0:127.0.0.1:22",
         "root@127.0.0.1"],
        capture_output=True, text=True, timeout=20, stdin=subprocess.DEVNULL,
    )  # fmt: skip
    assert forwarded.returncode != 0  # restrict: no port forwarding


# -- the user-app quota under a lock ---------------------------------------------------------------


def test_a_user_keys_concurrent_creates_stay_within_its_quota(platform, ssh_client, engine, victim, tmp_path):
    settings = platform.root / "SETTINGS"
    original = settings.read_text()
    settings.write_text(original + "export USER_APP_QUOTA='2'\n")
    greedy = ssh_client.with_key("greedy", rules.USER)
    repo = make_git_repo(tmp_path / "repo", APPS / "procs")
    git(repo, "branch", "feature")  # a push of another branch creates the app without a deploy
    wanted = [f"greedy{index}" for index in range(6)]

    def create(app: str) -> subprocess.CompletedProcess:
        if int(app[-1]) % 2:
            return greedy.push(repo, app, branch="feature")
        return greedy.ssh("apps:create", app)

    try:
        with ThreadPoolExecutor(max_workers=len(wanted)) as pool:
            results = dict(zip(wanted, pool.map(create, wanted)))
        made = sorted(app for app in wanted if (platform.root / app / "HEAD").is_file())
        assert len(made) == 2, {app: result.stderr for app, result in results.items()}
        assert sorted(app for app, result in results.items() if result.returncode == 0) == made
        for app in set(wanted) - set(made):
            assert "greedy has 2 apps, its quota" in results[app].stderr, results[app].stderr
            assert not (platform.root / app).exists()
        assert [app for app in wanted if "greedy" in access_list(platform, app)] == made
    finally:
        settings.write_text(original)
        for app in wanted:
            if (platform.root / app).exists():
                platform.dokku("apps:destroy", app, "--force", check=False)
        remove_key(platform, "greedy")


def access_list(platform, app: str) -> list[str]:
    listed = platform.dokku("acl:list", app, check=False)
    return listed.stdout.split() if listed.returncode == 0 else []
