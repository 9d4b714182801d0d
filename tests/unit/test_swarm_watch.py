"""ops/swarm_watch.py on the fake scheduler and proxy: nginx follows a swarm app's web tasks of
its current release when they move, leaves alone what did not move, and waits out a held lock."""

import pytest
from fakes import make_flow

from minidokku.ops import swarm_watch
from minidokku.records import properties, ps_settings
from minidokku.records import scheduler as selection

APP = "cat"


@pytest.fixture
def flow(tmp_path, monkeypatch):
    flow = make_flow(tmp_path / "root", monkeypatch)
    flow.create_app(APP)
    flow.deploy(APP, flow.built("sha256:" + "1" * 64))
    properties.set_value(flow.ctx.store, APP, selection.SELECTED, "swarm")
    return flow


def routes(flow) -> list[tuple]:
    return [entry for entry in flow.journal if entry[0] == "route"]


def test_nginx_follows_a_task_that_moved_and_nothing_else(flow):
    logged = []
    watch = swarm_watch.SwarmWatch(flow.ctx, logged.append, contexts=lambda: flow.ctx)
    before = len(routes(flow))
    watch.follow_all()  # first look: routes where the tasks are
    watch.follow_all()  # nothing moved: nginx is left alone
    assert len(routes(flow)) == before + 1 and not logged

    (web,) = flow.scheduler.web_containers(APP)
    flow.scheduler._update(web, host="10.77.0.11", address=None, host_ports={5000: 30001})  # rescheduled
    watch.follow_all()
    assert len(routes(flow)) == before + 2
    assert logged == [f"{APP}: nginx follows its tasks to 10.77.0.11:30001"]


def test_a_stopped_app_or_one_on_the_local_scheduler_is_left_alone(flow):
    watch = swarm_watch.SwarmWatch(flow.ctx, print, contexts=lambda: flow.ctx)
    ps_settings.mark_stopped(flow.ctx.store, APP)
    before = len(routes(flow))
    watch.follow_all()
    ps_settings.mark_running(flow.ctx.store, APP)
    properties.set_value(flow.ctx.store, APP, selection.SELECTED, "")
    watch.follow_all()
    assert len(routes(flow)) == before


def test_an_app_whose_lock_is_held_is_asked_again_at_the_next_pass(flow):
    watch = swarm_watch.SwarmWatch(flow.ctx, print, contexts=lambda: flow.ctx)
    before = len(routes(flow))
    with flow.ctx.store.lock(APP):
        watch.follow_all()
    assert len(routes(flow)) == before
    watch.follow_all()
    assert len(routes(flow)) == before + 1
