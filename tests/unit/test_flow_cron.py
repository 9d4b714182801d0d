"""The cron daemon and cron:* use cases on the fake scheduler, its minute boundaries given by the
test: what is due starts once per minute with the release's config, a run still going is not
started again, a rollback brings back the earlier schedule, suspend and maintenance hold tasks
off, one app's error does not stop another's, output and exit status are recorded."""

import dataclasses
import datetime
import shutil
import threading

import pytest
from fakes import FakeScheduler, make_flow

from minidokku.errors import Locked, NotFound, ValidationError
from minidokku.ops import cron as cron_ops
from minidokku.ops import crond, deploy, logs, oneoff
from minidokku.records import cron
from minidokku.records.appjson import AppJson
from minidokku.runtime.scheduler import OneOff, OneOffContainer
from minidokku.runtime.terminal import Streams
from minidokku.state import file_lock

APP = "cat"
EVERY_MINUTE = {"command": "printenv GREETING", "schedule": "* * * * *"}
BOUNDARY = datetime.datetime(2026, 3, 4, 5, 6).timestamp()  # a Wednesday, 05:06 local time


class CronScheduler(FakeScheduler):
    """Runs print `ran ARGV with GREETING=...` and exit with `status`; while `hold` is clear a
    run goes on, seen by run_containers as a running container with its task's label."""

    def __init__(self, journal):
        super().__init__(journal)
        self.hold = threading.Event()
        self.hold.set()
        self.going: dict[str, OneOffContainer] = {}
        self.status = 0
        self.stopped_runs: list[str] = []

    def run(self, app: str, one_off: OneOff, streams: Streams, at_most: int) -> int:
        super().run(app, one_off, streams, at_most)
        name = f"{app}.{one_off.dyno}"
        self.going[name] = OneOffContainer(name, name, "running", "", 0, one_off.ttl_seconds, one_off.cron_id)
        streams.stdout.write(f"ran {' '.join(one_off.command)} with GREETING={one_off.env.get('GREETING')}\n".encode())
        streams.stderr.write(b"no newline at the end")
        self.hold.wait(10)
        self.going.pop(name, None)  # unless replace stopped it
        return self.status

    def run_containers(self, app: str) -> list[OneOffContainer]:
        mine = [c for c in self.going.values() if c.name.startswith(f"{app}.")]
        return super().run_containers(app) + mine

    def retire(self, container_ids: list[str], grace: int = 10) -> None:
        super().retire(container_ids, grace)
        self.stopped_runs += [self.going.pop(i).name for i in container_ids if i in self.going]


@pytest.fixture
def flow(tmp_path, monkeypatch):
    flow = make_flow(tmp_path / "root", monkeypatch)
    flow.scheduler = flow.ctx._scheduler = CronScheduler(flow.journal)
    flow.create_app(APP, {"GREETING": "hello"})
    return flow


def deploy_cron(flow, *entries, app=APP, image="sha256:one"):
    return flow.deploy(app, flow.built(image, app_json=AppJson(cron=[dict(cron.entries([e])[0]) for e in entries])))


def tick(daemon, boundary=BOUNDARY):
    for thread in daemon.tick(boundary):
        thread.join(10)


def wait_until_going(flow, count=1):
    """Until count runs were started (a run's thread starts its container after tick returns)."""
    for _ in range(1000):
        if len(flow.scheduler.one_offs) >= count and flow.scheduler.going:
            return
        threading.Event().wait(0.01)
    raise AssertionError("no run started")


def test_an_every_minute_task_runs_at_each_boundary_with_the_release_config(flow):
    deploy_cron(flow, EVERY_MINUTE)
    daemon = crond.Daemon(flow.ctx)
    tick(daemon, BOUNDARY)
    tick(daemon, BOUNDARY + 60)
    assert [o.command for o in flow.scheduler.one_offs] == [["printenv", "GREETING"]] * 2
    assert all(o.env["GREETING"] == "hello" and o.dyno.startswith("cron.") for o in flow.scheduler.one_offs)
    [task] = cron_ops.tasks(flow.ctx, APP)
    assert {o.cron_id for o in flow.scheduler.one_offs} == {task.id}
    output = list(logs.lines(flow.ctx, APP, follow=False, history=10, process=None))
    assert sum("app[cron." in line and "ran printenv GREETING with GREETING=hello" in line for line in output) == 2
    assert sum(line.endswith("no newline at the end") for line in output) == 2
    run = cron.last_runs(flow.ctx.store, APP)[task.id]
    assert run["exit_code"] == 0 and run["finished"] >= run["started"]


def test_a_task_runs_only_in_the_minutes_its_schedule_names(flow):
    deploy_cron(flow, {"command": "true", "schedule": "7 5 * * *"}, {"command": "false", "schedule": "@daily"})
    daemon = crond.Daemon(flow.ctx)
    tick(daemon, BOUNDARY)  # 05:06
    assert flow.scheduler.one_offs == []
    tick(daemon, BOUNDARY + 60)  # 05:07
    assert [o.command for o in flow.scheduler.one_offs] == [["true"]]


def test_a_run_still_going_is_not_started_again_even_by_a_new_daemon(flow):
    deploy_cron(flow, EVERY_MINUTE)
    flow.scheduler.hold.clear()
    first = crond.Daemon(flow.ctx)
    [going] = first.tick(BOUNDARY)
    wait_until_going(flow)
    assert first.tick(BOUNDARY + 60) == []
    assert crond.Daemon(flow.ctx).tick(BOUNDARY + 120) == []  # asks the scheduler, not its memory
    assert len(flow.scheduler.one_offs) == 1
    assert "still runs; not started again (forbid)" in flow.ctx.store.read(None, crond.LOG)
    flow.scheduler.hold.set()
    going.join(10)
    tick(first, BOUNDARY + 180)
    assert len(flow.scheduler.one_offs) == 2


def test_replace_stops_the_run_still_going_and_starts_a_new_one(flow):
    deploy_cron(flow, {**EVERY_MINUTE, "concurrency_policy": "replace"})
    flow.scheduler.hold.clear()
    daemon = crond.Daemon(flow.ctx)
    [first] = daemon.tick(BOUNDARY)
    wait_until_going(flow)
    [name] = flow.scheduler.going
    [second] = daemon.tick(BOUNDARY + 60)
    wait_until_going(flow, 2)
    assert flow.scheduler.stopped_runs == [name]
    flow.scheduler.hold.set()
    first.join(10), second.join(10)


def test_a_rollback_brings_back_that_releases_schedule(flow):
    deploy_cron(flow, EVERY_MINUTE)
    deploy_cron(flow, {"command": "true", "schedule": "@daily"}, image="sha256:two")
    daemon = crond.Daemon(flow.ctx)
    tick(daemon)
    assert flow.scheduler.one_offs == []
    deploy.rollback(flow.ctx, APP, "v1")
    tick(daemon, BOUNDARY + 60)
    assert [o.command for o in flow.scheduler.one_offs] == [["printenv", "GREETING"]]
    assert [t.schedule for t in cron_ops.tasks(flow.ctx, APP)] == ["* * * * *"]


def test_suspend_and_maintenance_hold_tasks_off_and_resume_brings_them_back(flow):
    deploy_cron(flow, EVERY_MINUTE)
    [task] = cron_ops.tasks(flow.ctx, APP)
    daemon = crond.Daemon(flow.ctx)
    cron_ops.suspend(flow.ctx, APP, task.id, True)
    assert cron_ops.tasks(flow.ctx, APP)[0].maintenance_shown == "true (task)"
    tick(daemon)
    cron_ops.suspend(flow.ctx, APP, task.id, False)
    cron.set_property(flow.ctx.store, None, "maintenance", "true")
    assert cron_ops.tasks(flow.ctx, APP)[0].maintenance_shown == "true (app)"
    tick(daemon, BOUNDARY + 60)
    assert flow.scheduler.one_offs == []
    cron.set_property(flow.ctx.store, None, "maintenance", "")
    tick(daemon, BOUNDARY + 120)
    assert len(flow.scheduler.one_offs) == 1


def test_an_unknown_id_is_refused_with_dokkus_message(flow):
    deploy_cron(flow, EVERY_MINUTE)
    with pytest.raises(NotFound, match="^No matching Cron ID found. Please specify a Cron ID from the output of"):
        cron_ops.suspend(flow.ctx, APP, "nope", True)
    with pytest.raises(ValidationError, match="^Please specify a Cron ID"):
        cron_ops.find(flow.ctx, APP, "")
    assert cron.suspended_ids(flow.ctx.store, APP) == []


def test_one_apps_error_does_not_stop_anothers_runs(flow):
    flow.create_app("dog")
    deploy_cron(flow, EVERY_MINUTE)
    deploy_cron(flow, EVERY_MINUTE, app="dog", image="sha256:dog")
    flow.ctx.store.write("cat", "releases/v1.json", "{not json")
    tick(crond.Daemon(flow.ctx))
    assert [o.image for o in flow.scheduler.one_offs] == ["sha256:dog"]
    assert "cat: " in flow.ctx.store.read(None, crond.LOG)


def test_cron_run_now_honours_forbid_and_the_exit_status(flow):
    deploy_cron(flow, EVERY_MINUTE)
    [task] = cron_ops.tasks(flow.ctx, APP)
    flow.scheduler.status = 3
    assert cron_ops.run_now(flow.ctx, task, Streams(None, _Sink(), _Sink()), 60)[0] == 3
    name = cron_ops.run_now(flow.ctx, task, None, 60)[1]
    assert name.startswith("cat.cron.")
    with pytest.raises(ValidationError, match=f"cat currently has a cron lock in place for {task.id}"):
        cron_ops.run_now(flow.ctx, task, None, 60)


def test_a_procfile_process_type_as_the_command_runs_that_process(flow):
    app_json = AppJson(cron=cron.entries([{"command": "report --all", "schedule": "@daily"}]))
    flow.deploy(APP, flow.built("sha256:one", {"web": "serve", "report": "python report.py"}, app_json=app_json))
    [task] = cron_ops.tasks(flow.ctx, APP)
    assert cron_ops.one_off(flow.ctx, task).command[-2:] == ["python report.py", "--all"]


def test_only_one_daemon_runs_at_a_time(flow):
    with pytest.raises(Locked):
        holder = crond.Daemon(flow.ctx, clock=lambda: BOUNDARY, sleep=lambda _: _second_daemon(flow))
        holder.serve(minutes=1)


def _second_daemon(flow):
    assert cron_ops.daemon_running(flow.ctx)
    crond.Daemon(flow.ctx).serve(minutes=1)


def test_the_daemon_sleeps_to_each_minute_boundary(flow):
    deploy_cron(flow, EVERY_MINUTE)
    now = [BOUNDARY - 42.5]
    slept = []

    def sleep(seconds):
        slept.append(seconds)
        now[0] += seconds

    crond.Daemon(flow.ctx, clock=lambda: now[0], sleep=sleep).serve(minutes=2)
    assert slept == [42.5, 60]
    assert not cron_ops.daemon_running(flow.ctx)
    log = flow.ctx.store.read(None, crond.LOG)
    assert "started (pid" in log and "stopped (pid" in log


class _Sink:
    def write(self, data):
        return len(data)

    def flush(self):
        pass


def test_a_runs_output_is_mailed_to_the_global_mailto_through_sendmail(flow, tmp_path):
    deploy_cron(flow, EVERY_MINUTE)
    cron.set_property(flow.ctx.store, None, "mailto", "ops@example.com")
    cron.set_property(flow.ctx.store, None, "mailfrom", "cron@example.com")
    sendmail = tmp_path / "sendmail"
    sendmail.write_text(f'#!/bin/sh\necho "$@" > {tmp_path}/argv\ncat > {tmp_path}/mail\n')
    sendmail.chmod(0o755)
    daemon = crond.Daemon(flow.ctx)
    daemon.sendmail = str(sendmail)
    tick(daemon)
    assert (tmp_path / "argv").read_text() == "-i -f cron@example.com -- ops@example.com\n"
    mail = (tmp_path / "mail").read_text()
    [task] = cron_ops.tasks(flow.ctx, APP)
    assert mail.startswith(f"To: ops@example.com\nFrom: cron@example.com\nSubject: Cron: cat {task.id[:12]}\n\n")
    assert mail.endswith("ran printenv GREETING with GREETING=hello\nno newline at the end")
    (tmp_path / "mail").unlink()
    tick(daemon, BOUNDARY + 60)  # an every-minute task: its next output within the hour is not mailed
    assert not (tmp_path / "mail").exists() and "output not mailed" in flow.ctx.store.read(None, crond.LOG)


@pytest.mark.parametrize(
    "app, key, value, message",
    [
        ("cat", "mailto", "a@b.c", "Property cannot be specified on a per-app basis"),
        (None, "mailto", "-oQ/tmp/x@b.c", "expected an email address"),
        (None, "mailto", "a@b.c\nBcc: x@y.z", "expected an email address"),
        (None, "maintenance", "yes", "maintenance must be true or false"),
        (None, "shell", "x", "Invalid property specified"),
    ],
)
def test_cron_set_refuses_bad_keys_and_values(flow, app, key, value, message):
    with pytest.raises(ValidationError, match=message):
        cron.set_property(flow.ctx.store, app, key, value)
    assert flow.ctx.store.read(app, "properties/cron") is None


def test_a_deploy_with_cron_tasks_starts_the_daemon_unless_one_runs(flow):
    deploy_cron(flow, EVERY_MINUTE)
    assert flow.output.count("Started the cron daemon") == 1
    with file_lock(flow.ctx.store.path(None, cron_ops.DAEMON_LOCK)):  # as a running daemon holds it
        deploy_cron(flow, EVERY_MINUTE, image="sha256:two")
    assert flow.output.count("Started the cron daemon") == 1


def test_the_daemon_ends_when_the_root_holds_no_app(tmp_path, monkeypatch):
    empty = make_flow(tmp_path / "empty", monkeypatch)
    crond.Daemon(empty.ctx, clock=lambda: BOUNDARY, sleep=pytest.fail).serve()
    assert empty.ctx.store.read(None, crond.LOG).splitlines()[-1].endswith(": no apps")


def test_every_five_minutes_the_daemon_stops_runs_past_their_ttl(flow):
    deploy_cron(flow, EVERY_MINUTE)
    [task] = cron_ops.tasks(flow.ctx, APP)
    name = cron_ops.run_now(flow.ctx, task, None, ttl_seconds=1)[1]
    [container] = flow.scheduler.run_containers(APP)
    later = (container.created // 300 + 2) * 300  # a boundary of the 5-minute pass, beyond its 1 s
    daemon = crond.Daemon(flow.ctx)
    assert daemon.tick(later) == [], "a run still going is not started again"
    daemon.retiring.join(10)
    assert ("stop-run", container.id) in flow.journal
    assert f"retired {name} (past its --ttl-seconds)" in flow.ctx.store.read(None, crond.LOG)


def test_a_runs_container_left_behind_by_a_stopped_daemon_is_removed_once_it_ended(flow):
    deploy_cron(flow, {"command": "true", "schedule": "@daily"})
    [task] = cron_ops.tasks(flow.ctx, APP)
    cron_ops.run_now(flow.ctx, task, None, 60)
    [container] = flow.scheduler.run_containers(APP)
    flow.scheduler.detached[container.id] = dataclasses.replace(container, state="exited")
    tick(crond.Daemon(flow.ctx))
    assert flow.scheduler.run_containers(APP) == [] and ("stop-run", container.id) in flow.journal


class SlowStops(CronScheduler):
    """A stop of one of `slow_app`'s containers blocks until `stopped` is set, as the engine's
    stop of a container ignoring SIGTERM waits the app's stop-timeout-seconds (600 s at most)."""

    def __init__(self, journal, slow_app):
        super().__init__(journal)
        self.slow_app, self.stopped = slow_app, threading.Event()

    def retire(self, container_ids, grace=10):
        if any(i.startswith(f"{self.slow_app}.") or i in self.detached for i in container_ids):
            self.stopped.wait(10)
        super().retire(container_ids, grace)


def _another_app_ticks_while_one_apps_stop_waits(flow, slow_tick):
    """slow_tick(daemon) blocks in the slow app's stop unless the tick does not wait on it;
    the other app's every-minute task starts at each tick all the same."""
    flow.create_app("dog")
    deploy_cron(flow, {"command": "true", "schedule": "* * * * *"}, app="dog")
    daemon = crond.Daemon(flow.ctx)
    ticked = threading.Thread(target=slow_tick, args=(daemon,), daemon=True)
    ticked.start()
    ticked.join(3)
    try:
        assert not ticked.is_alive(), "the tick waits on one app's container stop"
        [dogs] = cron_ops.tasks(flow.ctx, "dog")
        for _ in range(300):
            if dogs.id in [o.cron_id for o in flow.scheduler.one_offs]:
                break
            threading.Event().wait(0.01)
        assert dogs.id in [o.cron_id for o in flow.scheduler.one_offs], "the other app's task did not start"
    finally:
        flow.scheduler.stopped.set()
        flow.scheduler.hold.set()


def test_a_replace_tasks_slow_stop_holds_back_no_other_apps_tick(flow):
    flow.scheduler = flow.ctx._scheduler = SlowStops(flow.journal, APP)
    deploy_cron(flow, {"command": "sleep 1d", "schedule": "* * * * *", "concurrency_policy": "replace"})
    flow.scheduler.hold.clear()
    tick_started = crond.Daemon(flow.ctx).tick(BOUNDARY)  # its first run goes on
    wait_until_going(flow)
    _another_app_ticks_while_one_apps_stop_waits(flow, lambda daemon: daemon.tick(BOUNDARY + 60))
    for thread in tick_started:
        thread.join(10)


def test_the_run_retire_pass_holds_back_no_tick(flow):
    flow.scheduler = flow.ctx._scheduler = SlowStops(flow.journal, APP)
    deploy_cron(flow, EVERY_MINUTE)
    [task] = cron_ops.tasks(flow.ctx, APP)
    cron_ops.run_now(flow.ctx, task, None, ttl_seconds=1)  # past its ttl at the next pass
    [container] = flow.scheduler.run_containers(APP)
    later = (container.created // 300 + 2) * 300
    _another_app_ticks_while_one_apps_stop_waits(flow, lambda daemon: daemon.tick(later))


def _serve_ticks(flow, now, minutes, step):
    """The minutes a daemon ticks, its sleep moving the clock by seconds then step(slept)."""
    ticks = []
    daemon = crond.Daemon(flow.ctx, clock=lambda: now[0], sleep=lambda s: now.__setitem__(0, now[0] + s + step(s)))
    original = daemon.tick
    daemon.tick = lambda boundary: ticks.append(boundary) or original(boundary)
    daemon.serve(minutes=minutes)
    return ticks


def test_a_clock_stepped_back_sleeps_to_the_next_minute_of_the_new_time(flow):
    deploy_cron(flow, EVERY_MINUTE)
    now, steps = [BOUNDARY - 1], iter([-3600])
    ticks = _serve_ticks(flow, now, 2, lambda _: next(steps, 0))
    assert ticks == [BOUNDARY - 3600 + 60, BOUNDARY - 3600 + 120]


def test_minutes_a_slow_tick_or_a_jump_missed_run_late_once_each_bounded(flow):
    deploy_cron(flow, EVERY_MINUTE)
    now, steps = [BOUNDARY - 1], iter([150])  # the clock jumps 150 s past the first boundary
    assert _serve_ticks(flow, now, 4, lambda _: next(steps, 0)) == [BOUNDARY + 60 * i for i in range(4)]
    now, steps = [BOUNDARY - 1], iter([5 * 3600])  # five hours: only the last CATCH_UP minutes run
    ticks = _serve_ticks(flow, now, 1, lambda _: next(steps, 0))
    assert ticks == [BOUNDARY + 5 * 3600 - (crond.CATCH_UP - 1) * 60]


def test_at_the_one_off_cap_the_rest_of_the_due_tasks_create_no_container(flow):
    many = [{"command": f"sleep {i}", "schedule": "* * * * *", "concurrency_policy": "allow"} for i in range(9)]
    deploy_cron(flow, *many)
    flow.scheduler.hold.clear()
    daemon = crond.Daemon(flow.ctx)
    started = daemon.tick(BOUNDARY)
    wait_until_going(flow, oneoff.MAX_AT_ONCE)
    started += daemon.tick(BOUNDARY + 60)
    flow.scheduler.hold.set()
    for thread in started:
        thread.join(10)
    assert len(flow.scheduler.one_offs) == oneoff.MAX_AT_ONCE
    assert flow.ctx.store.read(None, crond.LOG).count("not started: at cap") == 4 + 9


def test_a_full_disk_loses_log_lines_not_the_runs_end_record(flow, monkeypatch):
    deploy_cron(flow, EVERY_MINUTE)

    def full(*_args):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(flow.ctx.store, "append_line", full)
    monkeypatch.setattr(crond.os, "write", full)
    tick(crond.Daemon(flow.ctx))
    [run] = cron.last_runs(flow.ctx.store, APP).values()
    assert run["finished"] is not None and run["exit_code"] == 0


def test_a_runs_output_is_capped_and_a_full_output_file_moved_aside(flow, monkeypatch):
    monkeypatch.setattr(crond, "MAX_RUN_OUTPUT", 200)
    deploy_cron(flow, EVERY_MINUTE)
    output = flow.ctx.store.path(APP, cron.OUTPUT)
    output.parent.mkdir(exist_ok=True)
    output.write_bytes(b"x" * (crond.MAX_LOG + 1))
    recorder = crond.Recorder(crond.Daemon(flow.ctx), APP, "cron.1")
    for _ in range(100):
        recorder.write(b"line\n")
    recorder.close()
    assert output.with_name("OUTPUT.1").stat().st_size == crond.MAX_LOG + 1
    lines = output.read_text().splitlines()
    assert lines[-1].endswith("app[cron.1]: [output truncated]") and len(lines) < 10
    assert all(line.endswith(": line") for line in lines[:-1]) and len(output.read_bytes()) < 300


def test_a_run_ending_after_its_app_was_destroyed_does_not_make_its_folder_again(flow):
    deploy_cron(flow, EVERY_MINUTE)
    flow.scheduler.hold.clear()
    started = crond.Daemon(flow.ctx).tick(BOUNDARY)
    wait_until_going(flow)
    shutil.rmtree(flow.ctx.store.app_dir(APP))
    flow.scheduler.hold.set()
    for thread in started:
        thread.join(10)
    assert not flow.ctx.store.app_dir(APP).exists()


def test_where_systemds_unit_starts_the_daemon_a_deploy_starts_none(flow, tmp_path, monkeypatch):
    monkeypatch.setattr(cron_ops, "DEFAULT_ROOT", str(flow.ctx.settings.root))  # the unit's root
    monkeypatch.setattr(cron_ops, "SYSTEMD_RUNNING", tmp_path)
    monkeypatch.setattr(cron_ops, "UNIT", tmp_path / "minidokku-cron.service")
    cron_ops.UNIT.write_text("[Service]\n")
    deploy_cron(flow, EVERY_MINUTE)
    assert "Started the cron daemon" not in flow.output


def test_a_daemon_started_from_a_keys_session_keeps_only_an_allow_listed_environment(flow, monkeypatch):
    started = []
    monkeypatch.setattr(cron_ops.subprocess, "Popen", lambda argv, **options: started.append(options))
    monkeypatch.setenv("SSH_ORIGINAL_COMMAND", "git-receive-pack 'cat'")
    monkeypatch.setenv("GIT_DIR", "/somewhere")
    monkeypatch.setenv("MINIDOKKU_TRACE", "1")
    assert cron_ops.start_daemon(flow.ctx)
    [options] = started
    assert all(k in cron_ops.KEPT_ENVIRONMENT or k.startswith("MINIDOKKU_") for k in options["env"])
    assert "SSH_ORIGINAL_COMMAND" not in options["env"] and "GIT_DIR" not in options["env"]
    assert options["env"]["MINIDOKKU_TRACE"] == "1" and options["env"]["DOKKU_ROOT"] == str(flow.ctx.settings.root)
    assert options["cwd"] == flow.ctx.settings.root and options["start_new_session"]


def test_logs_never_read_the_cron_output_through_a_link(flow, tmp_path):
    secret = tmp_path / "secret"
    secret.write_text("the host's secret\n")
    output = flow.ctx.store.path(APP, cron.OUTPUT)
    output.parent.mkdir(exist_ok=True)
    output.symlink_to(secret)
    with pytest.raises(ValidationError):
        cron.recorded_output(flow.ctx.store, APP, 100, False)


class RecordedWatch:
    started = threading.Event()

    def __init__(self, ctx, log):
        self.log = log

    def run(self):
        self.log("watching")
        RecordedWatch.started.set()


def test_the_daemon_watches_the_engine_and_the_default_roots_waits_for_apps(tmp_path, monkeypatch):
    monkeypatch.setattr(crond.engine_watch, "EngineWatch", RecordedWatch)
    empty = make_flow(tmp_path / "empty", monkeypatch)
    crond.Daemon(empty.ctx, clock=lambda: BOUNDARY, sleep=pytest.fail, watch=True).serve()  # a test root: ends
    assert RecordedWatch.started.wait(5)
    monkeypatch.setattr(cron_ops, "serves_default_root", lambda ctx: True)
    now, slept = [BOUNDARY], []

    def sleep(seconds):
        slept.append(seconds)
        now[0] += seconds

    crond.Daemon(empty.ctx, clock=lambda: now[0], sleep=sleep, watch=True).serve(minutes=1)
    assert slept == [60]  # no app, yet it went on to the next minute
    assert "watching" in empty.ctx.store.read(None, crond.LOG)
