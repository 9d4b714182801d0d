"""`ps:set APP procfile-path` and `skip-deploy` on the real engine, through git pushes (the same
hook as over ssh): the buildpack build and the running app take the Procfile at that path of the
pushed tree, not the top one; with skip-deploy a push builds and what serves stays."""

import json

from helpers import APPS, git, make_git_repo, wait_until_serving

APP = "procpath"
HOST = f"{APP}.example.test"


def test_a_push_runs_the_procfile_at_the_apps_procfile_path(platform, tmp_path):
    repo = make_git_repo(tmp_path / APP, APPS / "shell-serve")  # its top Procfile: `web: ./serve.sh`
    (repo / ".dokku").mkdir()
    (repo / ".dokku" / "Procfile").write_text("web: DYNO=chosen ./serve.sh\n")
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "a Procfile elsewhere")
    platform.dokku("apps:create", APP)
    platform.dokku("ps:set", APP, "procfile-path", ".dokku/Procfile")

    pushed = platform.push(repo, APP)

    assert pushed.returncode == 0, pushed.stderr
    assert "Procfile path .dokku/Procfile (ps:set procfile-path): the Procfile" in pushed.stderr
    wait_until_serving(platform, HOST, "hello from a shell script on chosen\n")
    assert platform.dokku("ps:report", APP, "--ps-computed-procfile-path").stdout == ".dokku/Procfile\n"
    shown = platform.dokku("run", APP, "cat", "/app/Procfile")  # what the buildpacks were given
    assert shown.stdout == "web: DYNO=chosen ./serve.sh\n", shown.stderr


def test_with_skip_deploy_a_push_builds_and_what_serves_stays(platform, tmp_path):
    repo = make_git_repo(tmp_path / APP, APPS / "shell-serve")
    platform.dokku("apps:create", APP)
    platform.dokku("ps:set", APP, "skip-deploy", "true")

    pushed = platform.push(repo, APP)

    assert pushed.returncode == 0, pushed.stderr
    assert "-----> Skipping deployment" in pushed.stderr and "Application deployed" not in pushed.stderr
    assert platform.dokku("ps:report", APP, "--deployed").stdout == "false\n"
    [build] = json.loads(platform.dokku("builds:list", APP, "--format", "json").stdout)
    assert build["status"] == "succeeded"
    platform.dokku("ps:set", APP, "skip-deploy")
    platform.dokku("ps:rebuild", APP)
    wait_until_serving(platform, HOST, "hello from a shell script on web.1\n")
