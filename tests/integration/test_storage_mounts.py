"""storage:* on the real engine: an app writes into its mount at each start, and what it wrote
outlives a redeploy, a rollback, ps:rebuild and ps:restart; one-off containers get the mount,
a mount narrowed to a process type reaches only that type. (A dockerd restart keeps it too: the
data is a host directory bound into the containers, not part of any container.)"""

import pytest
from helpers import APPS, git, make_git_repo, wait_until_serving

APP = "keeper"
HOST = f"{APP}.example.test"
PROCFILE = (
    'web: echo "$DYNO $(date +%s%N)" >> /data/boots && exec ./serve.sh\n'
    "worker: echo worker >> /data/worker-boots && exec sleep infinity\n"
)


@pytest.fixture
def keeper(platform, tmp_path):
    """shell-serve whose processes append a line to /data at each start, with the entry `keeper-data`
    mounted at /data (every process type)."""
    repo = make_git_repo(tmp_path / APP, APPS / "shell-serve")
    (repo / "Procfile").write_text(PROCFILE)
    git(repo, "commit", "-q", "-am", "write into the mount")
    platform.dokku("apps:create", APP)
    platform.dokku("storage:create", "keeper-data")
    platform.dokku("storage:mount", APP, "keeper-data", "--container-dir", "/data")
    pushed = platform.push(repo, APP)
    assert pushed.returncode == 0, pushed.stderr
    wait_until_serving(platform, HOST, "hello from a shell script on web.1\n")
    return repo


def boots(platform) -> list[str]:
    return (platform.root / ".storage-data" / "keeper-data" / "boots").read_text().splitlines()


def test_what_the_app_writes_outlives_redeploy_rollback_rebuild_and_restart(platform, keeper):
    assert len(boots(platform)) == 1
    wrote = platform.dokku("run", APP, "echo from-run > /data/from-run && cat /data/boots")
    assert wrote.stdout.splitlines() == boots(platform), "a one-off container sees the same directory"

    git(keeper, "commit", "-q", "--allow-empty", "-m", "redeploy")
    assert platform.push(keeper, APP).returncode == 0
    platform.dokku("releases:rollback", APP, "v1")
    platform.dokku("ps:rebuild", APP)
    platform.dokku("ps:restart", APP)

    lines = boots(platform)
    assert len(lines) == 5 and all(line.startswith("web.1 ") for line in lines), lines
    assert platform.dokku("enter", APP, "web", "cat", "/data/from-run").stdout == "from-run\n"
    wait_until_serving(platform, HOST, "hello from a shell script on web.1\n")


def test_a_mount_narrowed_to_a_process_type_reaches_only_it(platform, keeper):
    platform.dokku("storage:create", "web-only")
    platform.dokku("storage:mount", APP, "web-only", "--container-dir", "/web-only", "--process-type", "web")
    platform.dokku("ps:scale", APP, "worker=1")  # a deploy: both types start again

    assert platform.dokku("enter", APP, "web", "test", "-d", "/web-only", check=False).returncode == 0
    assert platform.dokku("enter", APP, "worker", "test", "-d", "/web-only", check=False).returncode == 1
    assert platform.dokku("enter", APP, "worker", "cat", "/data/worker-boots").stdout == "worker\n"
    assert platform.dokku("run", APP, "test", "-d", "/web-only", check=False).returncode == 1
    report = platform.dokku("storage:report", APP, "--storage-deploy-mounts").stdout
    assert report.split() == ["-v", f"{platform.root}/.storage-data/keeper-data:/data"] + [
        "-v",
        f"{platform.root}/.storage-data/web-only:/web-only",
    ]


def test_unmounted_and_destroyed_the_data_goes_only_when_asked(platform, keeper):
    refused = platform.dokku("storage:destroy", "keeper-data", "--force", check=False)
    assert (refused.returncode, refused.stderr) == (
        1,
        f' !     storage entry "keeper-data" is still mounted by app(s): {APP}\n',
    )
    platform.dokku("storage:unmount", APP, "keeper-data")
    assert platform.dokku("run", APP, "test", "-e", "/data/boots", check=False).returncode == 1, "a new container"
    assert platform.dokku("enter", APP, "web", "test", "-e", "/data/boots").returncode == 0, "until a restart"
    platform.dokku("storage:destroy", "keeper-data", "--force")
    assert boots(platform), "kept without --destroy-host-dir"
    platform.dokku("storage:create", "keeper-data")
    platform.dokku("storage:destroy", "keeper-data", "--force", "--destroy-host-dir")
    assert not (platform.root / ".storage-data" / "keeper-data").exists()


def test_exec_runs_in_a_container_with_the_entry_at_data_and_passes_its_status_on(platform):
    platform.dokku("storage:create", "scratch", "--mode", "0750")
    platform.dokku("storage:exec", "scratch", "--", "sh", "-c", "echo kept > /data/note")
    assert (platform.root / ".storage-data" / "scratch" / "note").read_text() == "kept\n"
    assert platform.dokku("storage:exec", "scratch", "--", "sh", "-c", "exit 7", check=False).returncode == 7
    shown = platform.dokku("storage:exec", "scratch", "--", "stat", "-c", "%a %u", "/data").stdout
    assert shown == "750 0\n", "mode and owner (root: what our containers run as) were set"
