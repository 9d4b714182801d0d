"""Builder paths and build tracking on the real engine, through git pushes (the same hook as over
ssh): a Dockerfile and an app.json where their paths say, a path through a link in the pushed
tree refused, and builds:cancel stopping a Dockerfile build in progress while the old release
serves on."""

import json
import shutil
import subprocess
import time

from helpers import APPS, git, make_git_repo, wait_until_serving

HOST = "tracked.example.test"
APP = "tracked"


def pushed_ok(platform, repo):
    pushed = platform.push(repo, APP)
    assert pushed.returncode == 0, pushed.stderr
    return pushed


def test_the_dockerfile_and_app_json_are_the_ones_their_paths_name(platform, tmp_path):
    repo = make_git_repo(tmp_path / APP, APPS / "dockerfile-hello")
    (repo / "svc").mkdir()
    (repo / "Dockerfile").rename(repo / "svc" / "Dockerfile.web")
    (repo / "Dockerfile").write_text("FROM nosuchimage/anywhere:0.0\n")  # what a build of the top one would fail on
    (repo / "ops").mkdir()
    (repo / "ops" / "app.json").write_text('{"scripts": {"dokku": {"postdeploy": "echo postdeploy from ops"}}}')
    (repo / "app.json").write_text('{"scripts": {"dokku": {"postdeploy": "echo postdeploy from the top"}}}')
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "a monorepo")
    platform.dokku("apps:create", APP)
    platform.dokku("builder-dockerfile:set", APP, "dockerfile-path", "svc/Dockerfile.web")
    platform.dokku("app-json:set", APP, "appjson-path", "ops/app.json")

    pushed = pushed_ok(platform, repo)

    assert "Building with the Dockerfile at svc/Dockerfile.web" in pushed.stderr
    assert "postdeploy from ops" in pushed.stderr and "from the top" not in pushed.stderr
    wait_until_serving(platform, HOST, "unset and unset on 12\n")
    [build] = json.loads(platform.dokku("builds:list", APP, "--format", "json").stdout)
    assert (build["status"], build["kind"], build["source"], build["release"]) == (
        "succeeded",
        "build",
        "git-hook",
        "v1",
    )
    logged = platform.dokku("builds:output", APP, build["id"]).stdout
    assert "Building with the Dockerfile at svc/Dockerfile.web" in logged and "postdeploy from ops" in logged


def test_a_build_dir_is_built_as_the_whole_tree(platform, tmp_path):
    repo = tmp_path / "monorepo"
    shutil.copytree(APPS / "dockerfile-hello", repo / "services" / "hello")
    (repo / "Dockerfile").write_text("FROM nosuchimage/anywhere:0.0\n")
    git(repo, "init", "-q", "-b", "main")
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "two services one day")
    platform.dokku("apps:create", APP)
    platform.dokku("builder:set", APP, "build-dir", "services/hello")

    pushed = pushed_ok(platform, repo)

    assert "Building the folder services/hello of the commit" in pushed.stderr
    assert "Procfile declares types -> web, worker" in pushed.stderr
    wait_until_serving(platform, HOST, "unset and unset on 12\n")


def test_a_dockerfile_path_through_a_link_of_the_pushed_tree_reads_no_host_file(platform, tmp_path):
    repo = make_git_repo(tmp_path / APP, APPS / "dockerfile-hello")
    pushed_ok(platform, repo)
    wait_until_serving(platform, HOST, "unset and unset on 12\n")
    (repo / "host").symlink_to("/etc")
    (repo / "Dockerfile.link").symlink_to("/etc/passwd")
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "links out of the tree")
    platform.dokku("builder:set", APP, "selected", "dockerfile")

    for path, refusal in (("host/hostname", "the commit has no host/hostname"),
                          ("Dockerfile.link", "Dockerfile.link must be a file, not a link")):  # fmt: skip
        platform.dokku("builder-dockerfile:set", APP, "dockerfile-path", path)
        refused = platform.push(repo, APP)
        assert refused.returncode != 0 and refusal in refused.stderr, refused.stderr
        assert "root:" not in refused.stderr

    assert platform.get(HOST) == (200, "unset and unset on 12\n")
    statuses = [b["status"] for b in json.loads(platform.dokku("builds:list", APP, "--format", "json").stdout)]
    assert statuses == ["failed", "failed", "succeeded"]


def test_cancel_stops_a_dockerfile_build_in_progress_and_the_old_release_serves_on(platform, tmp_path):
    repo = make_git_repo(tmp_path / APP, APPS / "dockerfile-hello")
    pushed_ok(platform, repo)
    wait_until_serving(platform, HOST, "unset and unset on 12\n")
    dockerfile = repo / "Dockerfile"
    dockerfile.write_text(dockerfile.read_text().replace("EXPOSE 8080", "RUN echo slow step && sleep 300\nEXPOSE 8080"))
    git(repo, "commit", "-qam", "a build that takes its time")

    push = subprocess.Popen(
        ["git", "push", "-q", str(platform.root / APP), "HEAD:main"],
        cwd=repo, env=platform.env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        running = wait_for_running_build(platform)
        canceled = platform.dokku("builds:cancel", APP)
        assert canceled.stdout == "-----> Killing app deploy\n"
        _out, err = push.communicate(timeout=60)
    finally:
        push.kill()
    assert push.returncode != 0
    assert f"the deploy of {APP} was canceled (builds:cancel); v1 serves on" in err
    build = json.loads(platform.dokku("builds:info", APP, running["id"], "--format", "json").stdout)
    assert build["status"] == "canceled"
    assert platform.get(HOST) == (200, "unset and unset on 12\n")
    assert platform.dokku("builds:cancel", APP).stdout == "-----> App not currently deploying\n"
    git(repo, "revert", "--no-edit", "HEAD")
    pushed_ok(platform, repo)  # the app's lock was let go
    assert [b["status"] for b in json.loads(platform.dokku("builds:list", APP, "--format", "json").stdout)] == [
        "succeeded", "canceled", "succeeded"
    ]  # fmt: skip


def wait_for_running_build(platform) -> dict:
    """The app's running build, once its output (read as a file: builds:output would follow it
    to its end) shows the slow step."""
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        found = json.loads(platform.dokku("builds:list", APP, "--status", "running", "--format", "json").stdout)
        output = platform.root / APP / "builds" / f"{found[0]['id']}.log" if found else None
        if output and output.exists() and "slow step" in output.read_text():
            return found[0]
        time.sleep(0.5)
    raise AssertionError("no running build showed its slow step within 120 s")
