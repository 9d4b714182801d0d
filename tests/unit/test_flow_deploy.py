"""The deploy tail on a fake scheduler and proxy: new containers beside the old, checks, the
switch, the retirement, the release record (and its RECORDING journal), tasks and image pruning."""

import functools
import json
import os
import re
import shutil

import pytest
from fakes import make_flow

from minidokku import steps
from minidokku.errors import DeployFailed, EngineError, NotFound, ProxyError
from minidokku.ops import deploy, processes
from minidokku.output import Output, RecordingOutput
from minidokku.records import builds, releases, switching
from minidokku.records.appjson import AppJson
from minidokku.routing import proxy
from minidokku.runtime import checks

APP = "cat"


@pytest.fixture
def flow(tmp_path, monkeypatch):
    flow = make_flow(tmp_path / "root", monkeypatch)
    flow.create_app(APP, {"GREETING": "hello"})
    return flow


def test_a_first_deploy_starts_each_process_routes_web_and_records_v1(flow):
    release = flow.deploy(APP, flow.built("sha256:one"))
    assert release.name == "v1"
    assert flow.scheduler.names(APP) == ["cat.web.1", "cat.worker.1"]
    web = flow.scheduler.web_containers(APP)
    assert flow.proxy.routes[APP] == [c.id for c in web]
    recorded = json.loads(flow.ctx.store.read(APP, "releases/v1.json"))
    assert (recorded["image_id"], recorded["processes"]) == ("sha256:one", {"web": "serve", "worker": "work"})
    assert flow.ctx.store.read(APP, releases.RECORDING) is None
    assert flow.scheduler.tags["dokku/cat:v1"] == "sha256:one"
    assert "http://cat.example.test" in flow.output


def test_old_containers_retire_only_after_the_new_ones_serve(flow):
    flow.deploy(APP, flow.built("sha256:one"))
    flow.journal.clear()
    flow.deploy(APP, flow.built("sha256:two"))
    kinds = [entry[0] for entry in flow.journal]
    assert kinds == ["start", "start", "route", "retire", "retire"]
    assert flow.journal[2][2][0].startswith("cat.web.1.upcoming-")  # routed to the new web, still being checked
    assert [name.split(".retiring-")[0] for _, name in flow.journal[3:]] == ["cat.web.1", "cat.worker.1"]
    assert {c.release for c in flow.scheduler.containers(APP)} == {"v2"}


def test_a_failing_check_keeps_the_old_release_serving_and_removes_the_new_containers(flow):
    first = flow.deploy(APP, flow.built("sha256:one"))
    serving = list(flow.proxy.routes[APP])
    flow.scheduler.failing_releases.add("v2")
    with pytest.raises(DeployFailed, match=r"cat\.web\.1\.upcoming-\w+ failed the check `answers HTTP on its port`"):
        flow.deploy(APP, flow.built("sha256:broken"))
    assert flow.proxy.routes[APP] == serving
    assert [c.release for c in flow.scheduler.containers(APP)] == ["v1", "v1"]
    assert [name.split(".upcoming-")[0] for name in flow.scheduler.retired] == ["cat.web.1", "cat.worker.1"]
    assert releases.current(flow.ctx.store, APP) == first
    assert flow.ctx.store.read(APP, "releases/v2.json") is None


def with_uptime_window(flow) -> None:
    """New containers must stay up 1 s (the flows' default is no uptime check)."""
    flow.ctx.store.write_env(APP, {**flow.ctx.store.read_env(APP), "DOKKU_DEFAULT_CHECKS_WAIT": "1"})


def test_traffic_moves_before_the_uptime_window_ends_with_the_old_web_kept_as_backup(flow):
    flow.deploy(APP, flow.built("sha256:one"))
    with_uptime_window(flow)
    flow.journal.clear()
    second = flow.deploy(APP, flow.built("sha256:two"))
    kinds = [entry[0] for entry in flow.journal]
    assert kinds == ["start", "start", "route", "route", "retire", "retire"]
    switched, alone = flow.journal[2], flow.journal[3]
    assert switched[2][0].startswith("cat.web.1.upcoming-") and switched[3] == ["cat.web.1"]  # old one as backup
    assert alone == ("route", APP, switched[2]), "once the window passed the old one leaves nginx"
    lines = flow.output.splitlines()
    moved = lines.index("       Traffic moved; the old containers stay ready until the new ones have run 1 s")
    assert lines[moved + 1] == "       The new containers ran 1 s"
    assert releases.current(flow.ctx.store, APP) == second


def test_a_long_uptime_window_says_what_the_deploy_waits_for(flow, monkeypatch):
    monkeypatch.setattr(deploy, "waiting", functools.partial(steps.waiting, after=0.3, every=60))
    flow.deploy(APP, flow.built("sha256:one"))
    with_uptime_window(flow)
    flow.deploy(APP, flow.built("sha256:two"))
    lines = flow.output.splitlines()
    moved = lines.index("       Traffic moved; the old containers stay ready until the new ones have run 1 s")
    assert lines[moved + 1 : moved + 3] == [
        "       Waiting for the new containers to run 1 s (0 s so far)",
        "       The new containers ran 1 s",
    ]


def test_a_new_container_dying_within_the_window_sends_traffic_back_and_records_nothing(flow):
    first = flow.deploy(APP, flow.built("sha256:one"))
    serving = list(flow.proxy.routes[APP])
    with_uptime_window(flow)
    flow.scheduler.dying_once_routed.add("v2")
    flow.journal.clear()
    with pytest.raises(DeployFailed) as raised:
        flow.deploy(APP, flow.built("sha256:crashes"))
    message = str(raised.value)
    assert re.search(r"cat\.web\.1\.upcoming-\w+ failed the check `up for 1 s`: it exited \(status 1\)", message)
    assert message.endswith("traffic went back to v1; v2 was not released")
    assert [entry[0] for entry in flow.journal] == ["start", "start", "route", "route", "retire", "retire"]
    assert flow.proxy.routes[APP] == serving and flow.proxy.backups[APP] == []
    assert [c.release for c in flow.scheduler.containers(APP)] == ["v1", "v1"]
    assert [c.name for c in flow.scheduler.containers(APP)] == ["cat.web.1", "cat.worker.1"], "nothing retires"
    assert releases.current(flow.ctx.store, APP) == first
    assert flow.ctx.store.read_env(APP)["GREETING"] == "hello"


def test_nginx_refusing_to_let_the_old_containers_go_sends_traffic_back_to_them(flow, monkeypatch):
    first = flow.deploy(APP, flow.built("sha256:one"))
    serving = list(flow.proxy.routes[APP])
    with_uptime_window(flow)
    routed = flow.proxy.route

    def route(app, web_containers, release=None, backups=()):
        if not backups and web_containers[0].name.startswith("cat.web.1.upcoming-"):
            raise ProxyError("nginx rejected the new configuration")
        routed(app, web_containers, release, backups)

    monkeypatch.setattr(flow.proxy, "route", route)
    with pytest.raises(ProxyError):
        flow.deploy(APP, flow.built("sha256:two"))
    assert flow.proxy.routes[APP] == serving and flow.proxy.backups[APP] == []
    assert releases.current(flow.ctx.store, APP) == first
    assert [c.release for c in flow.scheduler.containers(APP)] == ["v1", "v1"]


def test_a_first_deploy_dying_within_the_window_takes_its_site_away(flow):
    with_uptime_window(flow)
    flow.scheduler.dying_once_routed.add("v1")
    with pytest.raises(DeployFailed, match="cat was not deployed: nothing serves it"):
        flow.deploy(APP, flow.built("sha256:crashes"))
    assert APP not in flow.proxy.routes and flow.proxy.removed == [APP]
    assert flow.scheduler.containers(APP) == [] and releases.current(flow.ctx.store, APP) is None


def test_a_restart_dying_within_the_window_goes_back_to_the_same_release_s_old_containers(flow):
    with_uptime_window(flow)  # a restart runs the release's config: v1's
    flow.deploy(APP, flow.built("sha256:one"))
    serving = list(flow.proxy.routes[APP])
    flow.journal.clear()
    flow.scheduler.dying_once_routed.add("v1")  # the new ones (routed to from now on)
    with deploy.exclusive(flow.ctx, APP), pytest.raises(DeployFailed, match="back to the previous containers of v1"):
        deploy.restart(flow.ctx, APP)
    assert flow.proxy.routes[APP] == serving


def new_and_old(flow) -> tuple[set[str], set[str]]:
    """The ids of the app's containers of v2 (the deploy under test) and of v1."""
    live = flow.scheduler.containers(APP)
    return {c.id for c in live if c.release == "v2"}, {c.id for c in live if c.release == "v1"}


@pytest.mark.parametrize("stop", [KeyboardInterrupt(), SystemExit(129), BrokenPipeError(32, "Broken pipe")])
def test_whatever_stops_a_deploy_after_it_routed_sends_traffic_back_before_a_new_container_goes(
    flow, monkeypatch, stop
):
    """^C, a hang-up (main()'s SystemExit), an error: once nginx sends to the new containers,
    nginx goes back to the old ones first, never left on the ports of removed containers."""
    flow.deploy(APP, flow.built("sha256:one"))
    serving = list(flow.proxy.routes[APP])
    with_uptime_window(flow)
    said = RecordingOutput.line

    def line(output, text):
        if "Traffic moved" in text:
            raise stop
        said(output, text)

    monkeypatch.setattr(RecordingOutput, "line", line)
    flow.journal.clear()
    with pytest.raises(type(stop)):
        flow.deploy(APP, flow.built("sha256:two"))
    assert [entry[0] for entry in flow.journal] == ["start", "start", "route", "route", "retire", "retire"]
    assert flow.journal[3] == ("route", APP, ["cat.web.1"]), "back to the old web, before the new ones retire"
    assert flow.proxy.routes[APP] == serving and flow.proxy.backups[APP] == []
    assert new_and_old(flow)[0] == set()
    assert flow.ctx.store.read(APP, switching.FILE) is None


def test_a_deploy_goes_on_to_its_end_when_the_reader_of_its_output_went_away(flow):
    """A push whose client went away (^C, a dropped ssh session) is not cut at the line it was
    printing: the deploy finishes (the build's record keeps its lines)."""
    flow.deploy(APP, flow.built("sha256:one"))
    with_uptime_window(flow)
    read_end, write_end = os.pipe()
    os.close(read_end)
    with os.fdopen(write_end, "w") as stream:
        flow.ctx.out = Output(stream)
        second = flow.deploy(APP, flow.built("sha256:two"))
    assert flow.ctx.out.reader_gone
    assert releases.current(flow.ctx.store, APP) == second
    assert new_and_old(flow)[1] == set() and flow.proxy.routes[APP] == [
        c.id for c in flow.scheduler.web_containers(APP)
    ]
    last = builds.history(flow.ctx.store, APP)[0]
    assert last.status == builds.SUCCEEDED
    assert b"The new containers ran 1 s\n=====> Application deployed:" in builds.read_output(
        flow.ctx.store, APP, last.id
    )


def killed_at(flow, monkeypatch, module, name, tmp_path, then=lambda: None) -> None:
    """Runs a deploy and puts back the state a SIGKILL right after module.name returned would
    have left: the files under the root, the engine's containers and nginx's routes then.
    then() runs the deploy (raising or not)."""
    root = flow.ctx.store.root
    real = getattr(module, name)
    seen = {}

    def snapshot(*args, **kwargs):
        result = real(*args, **kwargs)
        if not seen:
            shutil.copytree(root, tmp_path / "snapshot")
            seen.update(
                live=dict(flow.scheduler.live), routes=dict(flow.proxy.routes), backups=dict(flow.proxy.backups)
            )
        return result

    monkeypatch.setattr(module, name, snapshot)
    then()
    monkeypatch.setattr(module, name, real)
    shutil.rmtree(root)
    shutil.copytree(tmp_path / "snapshot", root)
    flow.scheduler.live, flow.proxy.routes, flow.proxy.backups = seen["live"], seen["routes"], seen["backups"]


def recover(flow, how: str) -> None:
    if how == "ps:restore":
        processes.restore(flow.ctx, APP)
    else:  # any next command: it takes the app's lock
        with deploy.locked(flow.ctx, APP):
            pass


@pytest.mark.parametrize("how", ["next command", "ps:restore"])
def test_a_deploy_killed_within_the_window_is_sent_back_by_the_next_command_taking_the_lock(
    flow, monkeypatch, tmp_path, how
):
    first = flow.deploy(APP, flow.built("sha256:one"))
    old_web = list(flow.proxy.routes[APP])
    with_uptime_window(flow)
    killed_at(flow, monkeypatch, checks, "watch", tmp_path, lambda: flow.deploy(APP, flow.built("sha256:two")))
    new, _ = new_and_old(flow)
    assert set(flow.proxy.routes[APP]) <= new and switching.unfinished(flow.ctx.store, APP).release == "v2"
    assert set(flow.proxy.backups[APP]) == set(old_web), "killed in the window: the old web is nginx's backup"
    recover(flow, how)
    assert flow.proxy.routes[APP] == old_web and flow.proxy.backups[APP] == []
    assert {c.release for c in flow.scheduler.containers(APP)} == {"v1"}
    assert releases.current(flow.ctx.store, APP) == first
    assert flow.ctx.store.read(APP, switching.FILE) is None
    assert (
        "A deploy of v2 was killed before its new containers passed their checks: traffic went back to v1"
        in flow.output
    )


def test_a_reroute_after_a_deploy_killed_within_the_window_leaves_its_new_containers_out(flow, monkeypatch, tmp_path):
    """domains:add, nginx:set... reroute under the app's lock without finishing what a killed
    deploy left: its new containers are not made equals of the recorded release's."""
    flow.deploy(APP, flow.built("sha256:one"))
    old_web = list(flow.proxy.routes[APP])
    with_uptime_window(flow)
    killed_at(flow, monkeypatch, checks, "watch", tmp_path, lambda: flow.deploy(APP, flow.built("sha256:two")))
    routed = []
    monkeypatch.setattr(proxy, "route", lambda ctx, app, web, release=None: routed.append([c.id for c in web]))
    proxy.reroute(flow.ctx, APP)
    assert routed == [old_web]


def test_a_deploy_killed_once_its_release_was_saved_is_finished_not_sent_back(flow, monkeypatch, tmp_path):
    flow.deploy(APP, flow.built("sha256:one"))
    with_uptime_window(flow)
    killed_at(flow, monkeypatch, releases, "save", tmp_path, lambda: flow.deploy(APP, flow.built("sha256:two")))
    new, _ = new_and_old(flow)
    with deploy.locked(flow.ctx, APP):
        pass
    assert releases.current(flow.ctx.store, APP).name == "v2" and set(flow.proxy.routes[APP]) <= new
    assert {c.id for c in flow.scheduler.containers(APP) if c.release == "v2"} == new
    assert flow.ctx.store.read(APP, switching.FILE) is None and "was killed" not in flow.output


def test_a_first_deploy_killed_within_the_window_leaves_nothing_after_the_next_command(flow, monkeypatch, tmp_path):
    with_uptime_window(flow)
    killed_at(flow, monkeypatch, checks, "watch", tmp_path, lambda: flow.deploy(APP, flow.built("sha256:one")))
    assert flow.proxy.routes[APP]
    with deploy.locked(flow.ctx, APP):
        pass
    assert APP not in flow.proxy.routes and flow.scheduler.containers(APP) == []
    assert (
        "A deploy of v1 was killed before its new containers passed their checks: cat was not deployed" in flow.output
    )


def refuse_routing_to_the_old_web(flow, monkeypatch, removal_refused: bool = False) -> None:
    routed, removed = flow.proxy.route, flow.proxy.remove

    def route(app, web_containers, release=None, backups=()):
        if web_containers and not web_containers[0].name.startswith("cat.web.1.upcoming-"):
            raise ProxyError("nginx rejected the new configuration")
        routed(app, web_containers, release, backups)

    def remove(app):
        if removal_refused:
            raise ProxyError("nginx could not be reloaded")
        removed(app)

    monkeypatch.setattr(flow.proxy, "route", route)
    monkeypatch.setattr(flow.proxy, "remove", remove)


def test_nginx_refusing_the_way_back_takes_the_site_away_before_the_new_containers_go(flow, monkeypatch):
    flow.deploy(APP, flow.built("sha256:one"))
    with_uptime_window(flow)
    flow.scheduler.dying_once_routed.add("v2")
    refuse_routing_to_the_old_web(flow, monkeypatch)
    flow.journal.clear()
    with pytest.raises(DeployFailed) as raised:
        flow.deploy(APP, flow.built("sha256:two"))
    message = str(raised.value)
    assert "failed the check `up for 1 s`: it exited (status 1)" in message, "the first error is kept"
    assert message.endswith(
        "traffic could not go back to v1 (nginx rejected the new configuration): cat's site is taken away "
        "until `dokku ps:restore cat`"
    )
    kinds = [entry[0] for entry in flow.journal]
    assert kinds == ["start", "start", "route", "unroute", "retire", "retire"], "the site goes, then the new ones"
    assert APP not in flow.proxy.routes and new_and_old(flow)[0] == set()


def test_nginx_refusing_the_way_back_and_the_site_s_removal_keeps_the_new_containers_for_the_next_command(
    flow, monkeypatch
):
    flow.deploy(APP, flow.built("sha256:one"))
    old_web = list(flow.proxy.routes[APP])
    with_uptime_window(flow)
    flow.scheduler.dying_once_routed.add("v2")
    with monkeypatch.context() as nginx_broken:
        refuse_routing_to_the_old_web(flow, nginx_broken, removal_refused=True)
        with pytest.raises(DeployFailed) as raised:
            flow.deploy(APP, flow.built("sha256:two"))
    message = str(raised.value)
    assert "failed the check `up for 1 s`: it exited (status 1)" in message
    assert "traffic could not go back to v1 (nginx rejected the new configuration), nor could cat's site" in message
    new, _ = new_and_old(flow)
    assert new and set(flow.proxy.routes[APP]) <= new, "nginx still sends to them: they keep their ports"
    assert switching.unfinished(flow.ctx.store, APP) is not None
    with deploy.locked(flow.ctx, APP):  # nginx works again
        pass
    assert flow.proxy.routes[APP] == old_web and new_and_old(flow)[0] == set()
    assert flow.ctx.store.read(APP, switching.FILE) is None


def test_an_old_container_restarted_during_the_deploy_is_no_fallback_at_its_old_port(flow, monkeypatch):
    """Its restart policy started it again (its port may have moved): nginx gets it neither as
    a backup nor as where traffic goes back, as described when the deploy began."""
    flow.deploy(APP, flow.built("sha256:one"))
    (old_web,) = flow.scheduler.web_containers(APP)
    with_uptime_window(flow)
    real = checks.run_ready

    def run_ready(prober, targets):
        flow.scheduler.restart_by_policy(old_web.id)
        return real(prober, targets)

    monkeypatch.setattr(checks, "run_ready", run_ready)
    flow.deploy(APP, flow.built("sha256:two"))
    assert [entry for entry in flow.journal if entry[0] == "route"][-2][3:] == (), "no backup on a moved port"


def test_traffic_goes_back_only_to_old_containers_not_restarted_since_the_deploy_began(flow, monkeypatch):
    flow.deploy(APP, flow.built("sha256:one"))
    (old_web,) = flow.scheduler.web_containers(APP)
    with_uptime_window(flow)
    flow.scheduler.dying_once_routed.add("v2")
    real = checks.watch

    def watch(prober, window):
        flow.scheduler.restart_by_policy(old_web.id)
        return real(prober, window)

    monkeypatch.setattr(checks, "watch", watch)
    with pytest.raises(
        DeployFailed, match=r"no container of v1 is left to take the traffic back: `dokku ps:restore cat`$"
    ):
        flow.deploy(APP, flow.built("sha256:two"))
    assert flow.proxy.routes[APP] == [] and flow.proxy.backups[APP] == []


def test_checks_disabled_stop_the_old_containers_first(flow):
    flow.deploy(APP, flow.built("sha256:one"))
    checks.set_mode(flow.ctx.store, APP, ["worker"], "disabled")
    flow.journal.clear()
    flow.deploy(APP, flow.built("sha256:two"))
    assert [entry[:2] for entry in flow.journal[:2]] == [("retire", "cat.worker.1"), ("start", flow.journal[1][1])]
    assert flow.journal[1][1].startswith("cat.web.1.upcoming-")


def test_with_web_checks_disabled_nginx_lets_go_of_the_old_web_containers_before_they_go(flow, monkeypatch):
    """Their addresses may be given to another app's containers as soon as they are removed,
    and a deploy failing after that would leave nginx naming them."""
    flow.deploy(APP, flow.built("sha256:one"))
    checks.set_mode(flow.ctx.store, APP, ["web"], "disabled")
    flow.journal.clear()

    def refused(*args, **kwargs):
        raise EngineError("Docker engine: OCI runtime create failed", 500)

    monkeypatch.setattr(flow.scheduler, "start", refused)
    with pytest.raises(EngineError, match="OCI runtime"):
        flow.deploy(APP, flow.built("sha256:two"))
    assert flow.journal[:2] == [("route", APP, []), ("retire", "cat.web.1")]
    assert flow.proxy.routes[APP] == []


def test_with_a_wait_to_retire_the_old_containers_are_set_aside_for_ps_retire(flow):
    flow.deploy(APP, flow.built("sha256:one"))
    checks.set_property(flow.ctx.store, APP, "wait-to-retire", "30")
    flow.deploy(APP, flow.built("sha256:two"))
    retiring = [c for c in flow.scheduler.containers(APP) if c.retiring]
    assert [(c.plain_name, c.release, c.running) for c in retiring] == [("cat.web.1", "v1", True),
                                                                      ("cat.worker.1", "v1", True)]  # fmt: skip
    assert [c.name for c in flow.scheduler.running(APP)] == ["cat.web.1", "cat.worker.1"]
    assert flow.scheduler.retired == []


def test_the_release_command_runs_before_traffic_moves_and_its_failure_deploys_nothing(flow):
    flow.deploy(APP, flow.built("sha256:one"))
    flow.journal.clear()
    with_release = {"web": "serve", "release": "migrate"}
    flow.deploy(APP, flow.built("sha256:two", with_release))
    assert flow.journal[0] == ("task", "release.1")
    assert flow.scheduler.tasks[-1] == ("sha256:two", ["bash", "-c", "migrate"], flow.scheduler.tasks[-1][2])
    assert flow.scheduler.tasks[-1][2]["DYNO"] == "release.1"
    flow.scheduler.task_status = 3
    with pytest.raises(DeployFailed, match="the release command of cat failed \\(status 3\\); nothing was deployed"):
        flow.deploy(APP, flow.built("sha256:three", with_release))
    assert releases.current(flow.ctx.store, APP).image_id == "sha256:two"
    assert [c.release for c in flow.scheduler.containers(APP)] == ["v2"]


def test_the_predeploy_script_changes_are_the_released_image(flow):
    build = flow.built("sha256:one", app_json=AppJson(predeploy="collectstatic"))
    release = flow.deploy(APP, build)
    assert release.image_id == "sha256:one+predeploy.1"
    assert flow.scheduler.tags["dokku/cat:latest"] == "sha256:one+predeploy.1"
    assert flow.scheduler.tasks[0][1] == ["bash", "-c", "collectstatic"]


def test_the_postdeploy_script_runs_once_the_new_release_serves_and_its_failure_says_so(flow):
    flow.deploy(APP, flow.built("sha256:one", app_json=AppJson(postdeploy="warm-cache")))
    assert [entry[0] for entry in flow.journal][-1] == "task"
    assert flow.scheduler.tasks[-1][1] == ["bash", "-c", "warm-cache"]
    flow.scheduler.task_status = 1
    with pytest.raises(DeployFailed, match=r"the postdeploy script of cat failed \(status 1\); v2 is serving"):
        flow.deploy(APP, flow.built("sha256:two", app_json=AppJson(postdeploy="warm-cache")))
    assert releases.current(flow.ctx.store, APP).name == "v2"
    assert {c.release for c in flow.scheduler.containers(APP)} == {"v2"}


def test_rollback_deploys_an_earlier_image_and_config_without_a_build(flow):
    flow.deploy(APP, flow.built("sha256:one"))
    flow.ctx.store.write_env(APP, dict(flow.ctx.store.read_env(APP), GREETING="bye"))
    flow.deploy(APP, flow.built("sha256:two"))
    with deploy.exclusive(flow.ctx, APP):
        release = deploy.rollback(flow.ctx, APP)
    assert (release.name, release.image_id, release.description) == ("v3", "sha256:one", "Rollback to v1")
    assert flow.ctx.store.read_env(APP)["GREETING"] == "hello"
    assert {c.release for c in flow.scheduler.containers(APP)} == {"v3"}
    assert flow.scheduler.tasks == []


def test_rollback_to_a_pruned_image_is_refused(flow):
    flow.deploy(APP, flow.built("sha256:one"))
    flow.deploy(APP, flow.built("sha256:two"))
    del flow.scheduler.images["sha256:one"]
    with pytest.raises(NotFound, match="the image of cat v1 was pruned"), deploy.exclusive(flow.ctx, APP):
        deploy.rollback(flow.ctx, APP, "v1")
    assert releases.current(flow.ctx.store, APP).name == "v2"


def test_images_beyond_the_kept_releases_are_removed_but_their_records_stay(tmp_path, monkeypatch):
    flow = make_flow(tmp_path / "root", monkeypatch, keep_releases=2)
    flow.create_app(APP)
    for image in ("sha256:one", "sha256:two", "sha256:three"):
        flow.deploy(APP, flow.built(image))
    assert sorted(flow.scheduler.images) == ["sha256:three", "sha256:two"]
    assert sorted(flow.scheduler.tags) == ["dokku/cat:v2", "dokku/cat:v3"]
    assert [r.name for r in releases.history(flow.ctx.store, APP)] == ["v1", "v2", "v3"]


def test_a_record_cut_short_by_a_kill_is_finished_by_the_next_command_taking_the_lock(flow):
    flow.deploy(APP, flow.built("sha256:one"))
    v2 = releases.successor(flow.ctx.store, APP, releases.current(flow.ctx.store, APP), "Set X", {"X": "1"})
    # killed inside begin_record: the journal and the release file are written, ENV not yet
    flow.ctx.store.write(APP, releases.RECORDING, "v2\n")
    releases.save(flow.ctx.store, APP, v2)
    assert "X" not in flow.ctx.store.read_env(APP)
    with deploy.locked(flow.ctx, APP):
        pass
    assert flow.ctx.store.read_env(APP) == {"X": "1"}
    assert flow.scheduler.tags["dokku/cat:v2"] == "sha256:one"
    assert flow.ctx.store.read(APP, releases.RECORDING) is None


def test_a_journal_naming_a_release_never_saved_is_dropped_and_env_is_untouched(flow):
    flow.deploy(APP, flow.built("sha256:one"))
    env = flow.ctx.store.read_env(APP)
    flow.ctx.store.write(APP, releases.RECORDING, "v2\n")
    with deploy.locked(flow.ctx, APP):
        pass
    assert flow.ctx.store.read_env(APP) == env
    assert flow.ctx.store.read(APP, releases.RECORDING) is None
    assert releases.current(flow.ctx.store, APP).name == "v1"


def test_the_next_command_taking_the_lock_removes_a_killed_deploys_task_containers(flow):
    flow.scheduler.leftover_tasks = {"t1": APP, "t2": "other"}
    with deploy.locked(flow.ctx, APP):
        pass
    assert flow.scheduler.leftover_tasks == {"t2": "other"}
