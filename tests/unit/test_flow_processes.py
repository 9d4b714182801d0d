"""ps:scale, ps:stop, ps:start, ps:restart of one process type and ps:restore on a fake scheduler and proxy."""

from dataclasses import replace

import pytest
from fakes import make_flow

from minidokku.errors import DeployFailed, ValidationError
from minidokku.ops import processes
from minidokku.records import ps_settings, releases, scale
from minidokku.runtime.scheduler import PortTaken

APP = "cat"


@pytest.fixture
def flow(tmp_path, monkeypatch):
    flow = make_flow(tmp_path / "root", monkeypatch)
    flow.create_app(APP)
    flow.deploy(APP, flow.built("sha256:one"))
    flow.journal.clear()
    return flow


def test_scaling_up_runs_the_new_counts_in_fresh_containers_of_the_same_release(flow):
    assert processes.set_scale(flow.ctx, APP, ["worker=3", "web=2"]) == {"worker": 3, "web": 2}
    assert flow.scheduler.names(APP) == ["cat.web.1", "cat.web.2", "cat.worker.1", "cat.worker.2", "cat.worker.3"]
    assert {c.release for c in flow.scheduler.containers(APP)} == {"v1"}
    assert len(flow.proxy.routes[APP]) == 2
    assert releases.current(flow.ctx.store, APP).name == "v1"  # a restart is no new release
    assert scale.read(flow.ctx.store, APP) == {"web": 2, "worker": 3}


def test_scaling_to_zero_leaves_no_container_of_that_type(flow):
    processes.set_scale(flow.ctx, APP, ["worker=0"])
    assert flow.scheduler.names(APP) == ["cat.web.1"]


def test_an_unknown_process_type_is_refused_and_nothing_changes(flow):
    with pytest.raises(ValidationError, match=r"cat has no process type clock \(it has web, worker\)"):
        processes.set_scale(flow.ctx, APP, ["clock=1"])
    assert scale.read(flow.ctx.store, APP) == {"web": 1, "worker": 1}
    assert flow.journal == []


def test_a_scale_change_that_fails_its_checks_keeps_the_old_counts(flow):
    flow.scheduler.failing_releases.add("v1")  # the release now crashes in any new container
    with pytest.raises(DeployFailed):
        processes.set_scale(flow.ctx, APP, ["worker=2"])
    assert scale.read(flow.ctx.store, APP) == {"web": 1, "worker": 1}


def test_stop_routes_away_first_then_stops_and_keeps_the_containers(flow):
    processes.stop(flow.ctx, APP)
    assert flow.journal[0] == ("route", APP, [])
    assert [entry[0] for entry in flow.journal[1:]] == ["stop", "stop"]
    assert [c.running for c in flow.scheduler.containers(APP)] == [False, False]
    assert ps_settings.is_stopped(flow.ctx.store, APP)


def test_start_after_stop_runs_fresh_containers_and_removes_the_stopped_ones(flow):
    processes.stop(flow.ctx, APP)
    stopped = [c.id for c in flow.scheduler.containers(APP)]
    processes.start(flow.ctx, APP)
    now = flow.scheduler.containers(APP)
    assert [c.name for c in now] == ["cat.web.1", "cat.worker.1"]
    assert all(c.running and c.id not in stopped for c in now)
    assert flow.proxy.routes[APP] == [now[0].id]
    assert not ps_settings.is_stopped(flow.ctx.store, APP)


def test_restore_leaves_a_stopped_app_stopped(flow):
    processes.stop(flow.ctx, APP)
    assert processes.restore(flow.ctx, APP) is None
    assert [c.running for c in flow.scheduler.containers(APP)] == [False, False]


def test_restore_after_a_reboot_starts_the_recorded_containers_and_routes_to_them(flow):
    for container in flow.scheduler.containers(APP):  # the engine came back with them stopped
        flow.scheduler.live[container.id] = replace(container, running=False)
    assert processes.restore(flow.ctx, APP) == "restarted"
    assert [c.running for c in flow.scheduler.containers(APP)] == [True, True]
    assert flow.proxy.routes[APP] == [c.id for c in flow.scheduler.web_containers(APP)]
    assert flow.scheduler.retired == []


def test_restore_removes_what_a_killed_deploy_had_started(flow):
    v1 = releases.current(flow.ctx.store, APP)
    stray = flow.scheduler.start(
        flow.ctx.docker_name(APP), replace(v1, number=2), "web", 1, None, limits=None, command=None
    )
    assert processes.restore(flow.ctx, APP) == "rerouted, 1 containers outside v1 removed"
    assert flow.scheduler.retired == [f"cat.web.1.retiring-{stray.id}"]
    assert flow.scheduler.names(APP) == ["cat.web.1", "cat.worker.1"]


def test_restore_redeploys_when_a_container_of_the_release_is_missing(flow):
    worker = [c for c in flow.scheduler.containers(APP) if c.process_type == "worker"][0]
    del flow.scheduler.live[worker.id]
    assert processes.restore(flow.ctx, APP) == "redeployed"
    assert flow.scheduler.names(APP) == ["cat.web.1", "cat.worker.1"]
    assert all(c.id != worker.id for c in flow.scheduler.containers(APP))


def test_restore_removes_the_containers_of_a_first_deploy_that_never_finished(tmp_path, monkeypatch):
    flow = make_flow(tmp_path / "root", monkeypatch)
    flow.create_app("dog")
    never_recorded = releases.prepare(
        flow.ctx.store, "dog", "a" * 40, "sha256:one", "Deploy", {}, flow.built("sha256:one")
    )
    for process_type in ("web", "worker"):  # the deploy was killed while checking them
        flow.scheduler.start("dog", never_recorded, process_type, 1, None, limits=None, command=None)
    assert processes.restore(flow.ctx, "dog") == "2 containers of a deploy that never finished removed"
    assert flow.scheduler.containers("dog") == []
    assert flow.proxy.removed == ["dog"]


def _ids(flow) -> dict[str, str]:
    return {c.dyno: c.id for c in flow.scheduler.containers(APP) if not c.retiring}


def test_restarting_one_process_type_replaces_its_containers_and_leaves_web_serving(flow):
    before, routes = _ids(flow), list(flow.proxy.routes[APP])
    processes.restart(flow.ctx, APP, "worker")
    after = _ids(flow)
    assert after["web.1"] == before["web.1"] and after["worker.1"] != before["worker.1"]
    assert flow.scheduler.names(APP) == ["cat.web.1", "cat.worker.1"]
    assert flow.proxy.routes[APP] == routes and not [e for e in flow.journal if e[0] == "route"]


def test_restarting_web_alone_routes_to_its_new_containers(flow):
    before = _ids(flow)
    processes.restart(flow.ctx, APP, "web")
    after = _ids(flow)
    assert after["worker.1"] == before["worker.1"] and after["web.1"] != before["web.1"]
    assert flow.proxy.routes[APP] == [after["web.1"]]


def test_an_unknown_or_stopped_process_type_is_refused_and_nothing_restarts(flow):
    with pytest.raises(ValidationError, match=r"^cat has no process type clock \(it has web, worker\)$"):
        processes.restart(flow.ctx, APP, "clock")
    processes.stop(flow.ctx, APP)
    flow.journal.clear()
    with pytest.raises(ValidationError, match="cat is stopped"):
        processes.restart(flow.ctx, APP, "worker")
    assert flow.journal == []


def test_restore_deploys_again_when_a_host_port_of_a_stopped_container_was_taken(flow, monkeypatch):
    before = {c.id for c in flow.scheduler.containers(APP)}
    for container in flow.scheduler.containers(APP):
        flow.scheduler.live[container.id] = replace(container, running=False)

    def taken(container):
        raise PortTaken(f"{container.name}: port is already allocated")

    monkeypatch.setattr(flow.scheduler, "restart", taken)
    assert processes.restore(flow.ctx, APP) == "redeployed (a host port of its containers was taken)"
    now = flow.scheduler.containers(APP)
    assert [c.name for c in now] == ["cat.web.1", "cat.worker.1"] and not {c.id for c in now} & before
    assert flow.proxy.routes[APP] == [now[0].id]


def test_restore_deploys_again_containers_whose_host_ports_the_engine_picked(flow):
    for container in flow.scheduler.containers(APP):  # made before minidokku picked host ports
        flow.scheduler.live[container.id] = replace(container, ports_kept=False)
    assert processes.restore_due(flow.ctx, APP)
    assert processes.restore(flow.ctx, APP) == "redeployed on host ports it keeps"
    assert all(c.ports_kept for c in flow.scheduler.containers(APP))
    assert not processes.restore_due(flow.ctx, APP)
