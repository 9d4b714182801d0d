"""The deploy tail on a fake scheduler and proxy: new containers beside the old, checks, the
switch, the retirement, the release record (and its RECORDING journal), tasks and image pruning."""

import json
import re

import pytest
from fakes import make_flow

from minidokku.errors import DeployFailed, NotFound, ProxyError
from minidokku.ops import deploy
from minidokku.records import releases
from minidokku.records.appjson import AppJson
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


def test_checks_disabled_stop_the_old_containers_first(flow):
    flow.deploy(APP, flow.built("sha256:one"))
    checks.set_mode(flow.ctx.store, APP, ["worker"], "disabled")
    flow.journal.clear()
    flow.deploy(APP, flow.built("sha256:two"))
    assert [entry[:2] for entry in flow.journal[:2]] == [("retire", "cat.worker.1"), ("start", flow.journal[1][1])]
    assert flow.journal[1][1].startswith("cat.web.1.upcoming-")


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
