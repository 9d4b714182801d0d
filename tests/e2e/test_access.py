"""Keys with rights, over a real sshd: an admin key reaches everything, a user key only the apps
granted to it (or created by it, within its quota), and every refusal is a clear one-liner that
changes nothing and lands in the audit trail."""

import json

from helpers import APPS, git, make_git_repo, wait_until_serving

ADMIN_ONLY = [
    ("apps:list",),  # allowed, but shows only the user's apps (checked below)
    ("docker-options:add", "procs", "deploy", "-v /:/host"),
    ("ssh-keys:add", "mallory"),
    ("ssh-keys:remove", "tester"),
    ("acl:add", "procs", "alice"),
    ("domains:set-global", "evil.test"),
    ("buildpacks:add", "mine", "file:///etc"),
    ("git:from-image", "mine", "minidokku/stack:latest"),
    ("ps:restore",),
    ("ps:restart", "--all"),
    ("events",),
    ("config:show", "procs"),
    ("config:set", "procs", "X=1"),
    ("logs", "procs"),
    ("run", "procs", "id"),
    ("apps:destroy", "procs", "--force"),
]
APP_COMMANDS_ON_PROCS = {"config:show", "config:set", "logs", "run", "apps:destroy"}


def test_a_user_key_reaches_its_own_apps_and_nothing_else(platform, ssh_client, tmp_path):
    admin_repo = make_git_repo(tmp_path / "procs", APPS / "procs")
    assert ssh_client.push(admin_repo, "procs").returncode == 0
    wait_until_serving(platform, "procs.example.test", "hello from web.1")
    alice = ssh_client.with_key("alice", "user")

    own = make_git_repo(tmp_path / "mine", APPS / "procs")
    pushed = alice.push(own, "mine")
    assert pushed.returncode == 0, pushed.stderr
    wait_until_serving(platform, "mine.example.test", "hello from web.1")
    assert alice.ssh("config:set", "mine", "GREETING=hi").returncode == 0
    assert alice.ssh("apps:list").stdout.split("\n", 1)[1].split() == ["mine"]

    for words in ADMIN_ONLY[1:]:
        refused = alice.ssh(*words)
        # an app command on an app not granted answers as for a missing app: Dokku's exit code 20
        not_granted = words[0] in APP_COMMANDS_ON_PROCS
        assert refused.returncode == (20 if not_granted else 1), (words, refused.stdout, refused.stderr)
        assert refused.stderr.startswith(" !     ") and refused.stderr.count("\n") == 1, refused.stderr
        assert not not_granted or refused.stderr == " !     App procs does not exist\n", refused.stderr
    assert alice.push(admin_repo, "procs").returncode != 0
    cloned = git(tmp_path, "clone", f"{alice.remote_prefix}procs", "stolen", check=False, env=alice.git_env())
    assert cloned.returncode != 0 and not (tmp_path / "stolen").exists()
    assert platform.get("procs.example.test") == (200, "hello from web.1")
    assert "X" not in platform.dokku("config:show", "procs").stdout

    assert ssh_client.ssh("acl:add", "procs", "alice").returncode == 0
    assert alice.ssh("config:set", "procs", "GREETING=granted").returncode == 0
    wait_until_serving(platform, "procs.example.test", "granted from web.1")
    keys = json.loads(ssh_client.ssh("ssh-keys:list", "--format", "json").stdout)
    assert {(k["name"], k["role"]) for k in keys} == {("tester", "admin"), ("alice", "user")}
    trail = [line.split("\t")[1:5] for line in ssh_client.ssh("events").stdout.splitlines()]
    assert ["alice", "config:show", "procs", "denied"] in trail
    assert ["alice", "docker-options:add", "-", "denied"] in trail
    assert ["alice", "config:set", "procs", "ok"] in trail
    assert ["alice", "push", "procs", "denied"] in trail and ["alice", "fetch", "procs", "denied"] in trail


def test_a_user_key_creates_apps_up_to_its_quota(platform, ssh_client, tmp_path):
    (platform.root / "SETTINGS").write_text((platform.root / "SETTINGS").read_text() + "export USER_APP_QUOTA='1'\n")
    bob = ssh_client.with_key("bob", "user")
    assert bob.ssh("apps:create", "first").returncode == 0
    second = bob.ssh("apps:create", "second")
    assert second.returncode == 1 and "quota" in second.stderr
    assert not (platform.root / "second").exists()
    assert bob.ssh("acl:list", "first").returncode == 1
    assert platform.dokku("acl:list", "first").stdout.split() == ["bob"]
