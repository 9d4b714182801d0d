"""Cron tasks on the real engine: app.json's `cron` entries of a pushed app, run as one-off
containers of its release with its config, their output in `dokku logs`.

Most cases drive the daemon's minute boundaries themselves (crond.Daemon.tick), holding the
daemon's lock so the one a deploy starts stays away. One case, marked `realtime`, waits for the
wall clock: the daemon the deploy started runs an every-minute task twice (about 2 minutes), and
prints how long each run took from its minute to the command's first line (`-s`)."""

import datetime
import json
import os
import re
import statistics
import time

import pytest
from helpers import APPS, commit_all, make_git_repo

from minidokku.context import Context
from minidokku.ops import cron as cron_ops
from minidokku.ops import crond
from minidokku.output import RecordingOutput
from minidokku.settings import Settings
from minidokku.state import file_lock

APP = "crontab"
SAYS = {"command": "sh -c 'echo cron says $GREETING at $(date +%s.%N)'", "schedule": "* * * * *"}
SLEEPS = {"command": "sleep 30", "schedule": "* * * * *"}


def push_with_cron(platform, tmp_path, entries):
    """Pushes shell-serve with these cron entries in its app.json (a new commit each time)."""
    repo = tmp_path / APP
    if not repo.exists():
        make_git_repo(repo, APPS / "shell-serve")
    (repo / "app.json").write_text(json.dumps({"cron": entries}))
    commit_all(repo, f"cron {entries}")
    pushed = platform.push(repo, APP)
    assert pushed.returncode == 0, pushed.stderr
    return pushed


@pytest.fixture
def ctx(platform, monkeypatch):
    monkeypatch.setenv("DOKKU_ROOT", str(platform.root))
    return Context(Settings.load(), RecordingOutput())


@pytest.fixture
def held(ctx):
    """The daemon's lock, held by the test: no daemon of the platform runs beside its ticks."""
    with file_lock(ctx.store.path(None, cron_ops.DAEMON_LOCK)):
        yield


def tick(daemon, boundary):
    for thread in daemon.tick(boundary):
        thread.join(120)


def said(platform) -> list[str]:
    return [line for line in platform.dokku("logs", APP, "-n", "50").stdout.splitlines() if "cron says" in line]


def test_two_minutes_run_the_task_twice_with_the_release_config_and_logs_show_it(platform, tmp_path, ctx, held):
    platform.dokku("apps:create", APP)
    platform.dokku("config:set", "--no-restart", APP, "GREETING=hello")
    push_with_cron(platform, tmp_path, [SAYS])
    [task] = json.loads(platform.dokku("cron:list", APP, "--format", "json").stdout)
    assert (task["schedule"], task["concurrency_policy"], task["maintenance"]) == ("* * * * *", "forbid", False)
    daemon = crond.Daemon(ctx)
    boundary = (int(time.time()) // 60) * 60
    tick(daemon, boundary)
    tick(daemon, boundary + 60)
    lines = said(platform)
    assert len(lines) == 2 and all(re.search(r" app\[cron\.\d+\]: cron says hello at ", line) for line in lines)
    [listed] = json.loads(platform.dokku("cron:list", APP, "--format", "json").stdout)
    assert listed["last_run"]["exit_code"] == 0 and listed["last_run"]["dyno"].startswith("cron.")
    assert platform.dokku("run:list", APP, "--format", "json").stdout.strip() == "[]", "each run's container is gone"


def test_a_run_still_going_is_not_started_again_and_suspend_holds_a_task_off(platform, tmp_path, ctx, held, engine):
    push_with_cron(platform, tmp_path, [SLEEPS])
    [task] = cron_ops.tasks(ctx, APP)
    daemon = crond.Daemon(ctx)
    boundary = (int(time.time()) // 60) * 60
    [going] = daemon.tick(boundary)
    deadline = time.monotonic() + 30
    while not cron_ops.live_runs(ctx, task) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert crond.Daemon(ctx).tick(boundary + 60) == [], "a new daemon asks the engine, not its memory"
    [running] = cron_ops.live_runs(ctx, task)
    assert running.name.startswith(f"{ctx.docker_name(APP)}.cron.")
    platform.dokku("run:stop", APP, "--container", running.name)
    going.join(60)
    platform.dokku("cron:suspend", APP, task.id)
    assert "true (task)" in platform.dokku("cron:list", APP).stdout
    assert daemon.tick(boundary + 120) == []
    platform.dokku("cron:resume", APP, task.id)
    [again] = daemon.tick(boundary + 180)
    platform.dokku("run:stop", APP)
    again.join(60)


def test_cron_run_runs_the_task_now_and_a_rollback_brings_back_the_earlier_schedule(platform, tmp_path, ctx, held):
    platform.dokku("apps:create", APP)
    platform.dokku("config:set", "--no-restart", APP, "GREETING=now")
    push_with_cron(platform, tmp_path, [SAYS])
    [first] = cron_ops.tasks(ctx, APP)
    ran = platform.dokku("cron:run", APP, first.id)
    assert ran.stdout.startswith("cron says now at ")
    push_with_cron(platform, tmp_path, [{"command": "true", "schedule": "@daily"}])
    assert [t.schedule for t in cron_ops.tasks(ctx, APP)] == ["@daily"]
    platform.dokku("releases:rollback", APP, "v1")
    assert [t.id for t in cron_ops.tasks(ctx, APP)] == [first.id]


@pytest.mark.realtime
def test_REALTIME_the_daemon_started_by_the_deploy_runs_an_every_minute_task_twice_on_the_wall_clock(
    platform, tmp_path
):
    """About 2 minutes. CRON_REALTIME_RUNS=N waits for N runs (the figure's median)."""
    wanted = int(os.environ.get("CRON_REALTIME_RUNS", "2"))
    platform.dokku("apps:create", APP)
    platform.dokku("config:set", "--no-restart", APP, "GREETING=hello")
    pushed = push_with_cron(platform, tmp_path, [SAYS])
    assert "Started the cron daemon" in pushed.stderr
    deadline = time.monotonic() + 60 * (wanted + 1) + 30
    while len(said(platform)) < wanted and time.monotonic() < deadline:
        time.sleep(2)
    lines = said(platform)
    assert len(lines) >= wanted, (platform.root / ".cron/LOG").read_text()
    latencies = []
    for line in lines:
        printed = float(line.rsplit(" at ", 1)[1])
        latencies.append(printed - (int(printed) // 60) * 60)
    print(f"\nfrom the minute to the command's first line: {[round(s, 2) for s in latencies]} s,"
          f" median {statistics.median(latencies):.2f} s ({datetime.datetime.now():%H:%M})")  # fmt: skip
    assert all("app[cron." in line and "cron says hello" in line for line in lines)
