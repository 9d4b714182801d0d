"""After the Docker engine restarts, `dokku ps:restore` (run at boot by the installer's unit)
brings every app back and points nginx at the containers' new addresses, and what an app wrote
into its storage mount is still there."""

import time

import pytest
from helpers import APPS, make_git_repo, restart_engine, wait_until_serving

pytestmark = pytest.mark.serial  # restarts dockerd: every other test's containers stop
HOST = "procs.example.test"


def test_ps_restore_brings_apps_back_after_the_engine_restarts(platform, tmp_path):
    repo = make_git_repo(tmp_path / "procs", APPS / "procs")
    assert platform.push(repo, "procs").returncode == 0
    platform.dokku("storage:create", "procs-data")
    platform.dokku("storage:mount", "procs", "procs-data", "--container-dir", "/data")
    platform.dokku("ps:scale", "procs", "web=2")
    platform.dokku("ps:restart", "procs")  # a mount applies from the next restart
    wait_until_serving(platform, HOST, "hello from web.1")
    platform.dokku("run", "procs", "echo written-before-the-restart > /data/kept")

    restart_engine()
    restored = platform.dokku("ps:restore")

    assert "Restored procs" in restored.stdout
    print(f"\n{restored.stdout.strip()}")
    answers = set()
    deadline = time.monotonic() + 15
    while answers != {"hello from web.1", "hello from web.2"} and time.monotonic() < deadline:
        status, body = platform.get(HOST)
        if status == 200:
            answers.add(body)
        time.sleep(0.05)
    assert answers == {"hello from web.1", "hello from web.2"}
    report = platform.dokku("ps:report", "procs").stdout
    assert "Status web.1:" in report and "Status worker.1:" in report and "running" in report
    kept = platform.dokku("enter", "procs", "web.1", "cat", "/data/kept")
    assert kept.stdout.strip() == "written-before-the-restart"
