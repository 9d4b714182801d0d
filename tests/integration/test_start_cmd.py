"""`ps:set APP start-cmd` and `dockerfile-start-cmd` on the real engine, through git pushes: the
buildpack app's web container runs start-cmd (through bash behind /exec, its profile sourced,
$PORT expanded) on the next ps:restart; the Dockerfile app's runs dockerfile-start-cmd's words
instead of the image's CMD; cleared, the Procfile's command (or the CMD) runs again."""

from helpers import APPS, make_git_repo, wait_until_serving

BUILDPACK_APP, DOCKERFILE_APP = "startcmd-bp", "startcmd-df"


def test_a_buildpack_apps_start_cmd_runs_on_restart_and_clearing_it_brings_the_procfile_back(platform, tmp_path):
    host = f"{BUILDPACK_APP}.example.test"
    repo = make_git_repo(tmp_path / BUILDPACK_APP, APPS / "shell-serve")  # its Procfile: `web: ./serve.sh`
    platform.dokku("apps:create", BUILDPACK_APP)
    assert platform.push(repo, BUILDPACK_APP).returncode == 0
    wait_until_serving(platform, host, "hello from a shell script on web.1\n")

    platform.dokku("ps:set", BUILDPACK_APP, "start-cmd", "DYNO=from-start-cmd ./serve.sh")
    platform.dokku("ps:restart", BUILDPACK_APP)
    wait_until_serving(platform, host, "hello from a shell script on from-start-cmd\n")

    platform.dokku("ps:set", BUILDPACK_APP, "start-cmd")
    platform.dokku("ps:restart", BUILDPACK_APP)
    wait_until_serving(platform, host, "hello from a shell script on web.1\n")


def test_a_dockerfile_apps_dockerfile_start_cmd_replaces_the_images_cmd(platform, tmp_path):
    host = f"{DOCKERFILE_APP}.example.test"
    repo = make_git_repo(tmp_path / DOCKERFILE_APP, APPS / "dockerfile-hello")
    platform.dokku("apps:create", DOCKERFILE_APP)
    platform.dokku(
        "ps:set",
        DOCKERFILE_APP,
        "dockerfile-start-cmd",
        "sh -c 'echo \"from dockerfile-start-cmd\" > /site/index.html && exec python3 -m http.server 8080 -d /site'",
    )
    assert platform.push(repo, DOCKERFILE_APP).returncode == 0
    wait_until_serving(platform, host, "from dockerfile-start-cmd\n")
    assert platform.dokku("ps:report", DOCKERFILE_APP, "--ps-computed-dockerfile-start-cmd").stdout.startswith("sh -c")

    platform.dokku("ps:set", DOCKERFILE_APP, "dockerfile-start-cmd")
    platform.dokku("ps:restart", DOCKERFILE_APP)
    wait_until_serving(platform, host, "unset and unset on ", prefix=True)
