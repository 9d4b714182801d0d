"""The config family over ssh on a deployed app: the global config reaches the app's containers
at its next deploy or restart (setting it redeploys nothing), the app's own value wins, and
config:export --format json prints what a tool parses."""

import json

from helpers import APPS, git, make_git_repo, wait_until_serving

HOST = "echo.example.test"


def test_the_global_config_reaches_a_deployed_app_under_its_own_values(platform, ssh_client, tmp_path):
    repo = make_git_repo(tmp_path / "echo", APPS / "envecho")
    assert ssh_client.ssh("config:set", "--global", "SHARED=everyone", "GREETING=global").returncode == 0
    assert ssh_client.push(repo, "echo").returncode == 0
    wait_until_serving(platform, HOST, "everyone", path="/SHARED")  # a first deploy gets it
    assert platform.get(HOST, "/GREETING") == (200, "global")

    assert ssh_client.ssh("config:set", "echo", "GREETING=own").returncode == 0
    wait_until_serving(platform, HOST, "own", path="/GREETING")  # the app's value wins
    assert platform.get(HOST, "/SHARED") == (200, "everyone")

    changed = ssh_client.ssh("config:set", "--global", "SHARED=changed")
    assert changed.returncode == 0, changed.stderr
    assert "No app was restarted" in changed.stdout and "Deploying" not in changed.stdout
    assert platform.get(HOST, "/SHARED") == (200, "everyone")  # still the running release's
    assert ssh_client.ssh("ps:restart", "echo").returncode == 0
    wait_until_serving(platform, HOST, "changed", path="/SHARED")
    assert platform.get(HOST, "/GREETING") == (200, "own")

    exported = ssh_client.ssh("config:export", "--format", "json", "echo")
    assert exported.returncode == 0, exported.stderr
    pushed = git(repo, "rev-parse", "HEAD").stdout.strip()  # a deploy sets GIT_REV, as Dokku's (git:set rev-env-var)
    assert json.loads(exported.stdout) == {"GIT_REV": pushed, "GREETING": "own"}
    merged = json.loads(ssh_client.ssh("config:export", "--format", "json", "--merged", "echo").stdout)
    assert merged == {"GIT_REV": pushed, "GREETING": "own", "SHARED": "changed"}
    assert json.loads(ssh_client.ssh("config:export", "--global", "--format", "json").stdout) == {
        "GREETING": "global",
        "SHARED": "changed",
    }
