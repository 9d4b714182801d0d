"""The cron daemon's engine watch (ops/engine_watch.py) on a fake scheduler and proxy: when the
engine answers (the daemon starts, or the engine restarted), every app that should run and lacks
a running container is restored with no command typed; apps that serve, stopped apps and apps
`ps:set restore false` are left alone; an app whose lock a command holds is asked again."""

from dataclasses import replace

import pytest
from fakes import make_flow

from minidokku.errors import EngineError
from minidokku.ops import engine_watch, processes
from minidokku.records import ps_settings

APPS = ("cat", "dog")


class Engine:
    """Answers /_ping as pings says (then always), and streams events until it stops."""

    def __init__(self, pings: list[bool], events: list[dict], refuse_events: bool = False):
        self.pings, self.events_given, self.refuse_events = list(pings), events, refuse_events
        self.opened = 0

    def ping(self) -> bool:
        return self.pings.pop(0) if self.pings else True

    def events(self):
        if self.refuse_events:
            raise EngineError("the Docker engine does not answer")
        self.opened += 1
        return iter(self.events_given)


@pytest.fixture
def flow(tmp_path, monkeypatch):
    flow = make_flow(tmp_path / "root", monkeypatch)
    for app in APPS:
        flow.create_app(app)
        flow.deploy(app, flow.built(f"sha256:{app}"))
    flow.journal.clear()
    return flow


def engine_stopped_them(flow, app: str) -> None:
    """As the engine comes back: the app's containers exited 0, so their policy left them stopped."""
    for container in flow.scheduler.containers(app):
        flow.scheduler.live[container.id] = replace(container, running=False)


def watch(flow, engine, slept: list[float], on_sleep=None) -> tuple[engine_watch.EngineWatch, list[str]]:
    lines: list[str] = []

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        if on_sleep:
            on_sleep()

    return engine_watch.EngineWatch(flow.ctx, lines.append, engine, sleep=sleep), lines


def test_when_the_engine_answers_again_the_stopped_app_starts_and_nginx_points_at_it(flow):
    engine_stopped_them(flow, "cat")
    slept: list[float] = []
    watcher, lines = watch(flow, Engine([False, False, True], [{"Type": "container"}]), slept)
    watcher.once()
    assert slept == [engine_watch.PING_EVERY] * 2  # a ping a second, no busy loop
    assert all(c.running for c in flow.scheduler.containers("cat"))
    assert flow.proxy.routes["cat"] == [c.id for c in flow.scheduler.web_containers("cat")]
    assert [entry for entry in flow.journal if entry[0] == "route"] == [("route", "cat", ["cat.web.1"])]
    assert lines[0] == "cat: restored (restarted)"
    assert lines[1].startswith("1 apps restored ") and lines[1].endswith(" s after the engine answered")
    assert lines[2] == "the Docker engine stopped; its apps are restored once it answers again"


def test_apps_that_serve_are_not_touched(flow):
    watcher, lines = watch(flow, Engine([], []), [])
    watcher.once()
    assert flow.journal == [] and lines == ["the Docker engine stopped; its apps are restored once it answers again"]


def test_a_stopped_app_and_an_app_not_to_restore_stay_stopped(flow):
    processes.stop(flow.ctx, "cat")
    engine_stopped_them(flow, "dog")
    ps_settings.set_property(flow.ctx.store, "dog", "restore", "false")
    flow.journal.clear()
    watcher, _ = watch(flow, Engine([], []), [])
    watcher.once()
    assert flow.journal == []
    assert not any(c.running for app in APPS for c in flow.scheduler.containers(app))


def test_an_app_whose_lock_a_command_holds_is_asked_again(flow):
    engine_stopped_them(flow, "cat")
    engine_stopped_them(flow, "dog")
    held = flow.ctx.store.lock("cat")
    held.__enter__()
    slept: list[float] = []
    watcher, lines = watch(flow, Engine([], []), slept, on_sleep=lambda: held.__exit__(None, None, None))
    watcher.once()
    assert slept == [engine_watch.RETRY_EVERY]
    assert lines[:2] == ["dog: restored (restarted)", "cat: restored (restarted)"]
    assert all(c.running for app in APPS for c in flow.scheduler.containers(app))


def test_one_apps_failure_is_logged_and_the_others_are_restored(flow, monkeypatch):
    engine_stopped_them(flow, "cat")
    engine_stopped_them(flow, "dog")
    real = processes.restore

    def restore(ctx, app):
        if app == "cat":
            raise EngineError("Docker engine: no such image")
        return real(ctx, app)

    monkeypatch.setattr(processes, "restore", restore)
    watcher, lines = watch(flow, Engine([], []), [])
    watcher.once()
    assert lines[:2] == ["cat: restore failed: EngineError: Docker engine: no such image", "dog: restored (restarted)"]


def test_an_engine_gone_again_before_its_events_open_is_waited_for_again(flow):
    engine_stopped_them(flow, "cat")
    engine = Engine([], [], refuse_events=True)
    watcher, lines = watch(flow, engine, [])
    watcher.once()
    assert lines == [] and not any(c.running for c in flow.scheduler.containers("cat"))


def test_restore_due_only_when_a_dyno_lacks_its_running_container(tmp_path, monkeypatch):
    flow = make_flow(tmp_path / "root", monkeypatch)
    flow.create_app("cat")
    assert not processes.restore_due(flow.ctx, "cat")  # never deployed
    flow.deploy("cat", flow.built("sha256:one"))
    assert not processes.restore_due(flow.ctx, "cat")
    worker = [c for c in flow.scheduler.containers("cat") if c.process_type == "worker"][0]
    flow.scheduler.live[worker.id] = replace(worker, running=False)
    assert processes.restore_due(flow.ctx, "cat")
    del flow.scheduler.live[worker.id]
    assert processes.restore_due(flow.ctx, "cat")
