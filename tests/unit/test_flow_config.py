"""config:set and config:unset on a fake scheduler and proxy: each change is a new release with
the new env, saved only once that release serves."""

import pytest
from fakes import make_flow

from minidokku.errors import DeployFailed
from minidokku.ops import config
from minidokku.records import releases

APP = "cat"


@pytest.fixture
def flow(tmp_path, monkeypatch):
    flow = make_flow(tmp_path / "root", monkeypatch)
    flow.create_app(APP, {"GREETING": "hello"})
    flow.deploy(APP, flow.built("sha256:one"))
    flow.journal.clear()
    return flow


def test_config_set_deploys_a_new_release_with_the_new_env_before_the_old_containers_go(flow):
    config.set_vars(flow.ctx, APP, ["GREETING=bye", "COLOR=blue"])
    current = releases.current(flow.ctx.store, APP)
    assert (current.name, current.image_id, current.description) == (
        "v2",
        "sha256:one",
        "Set GREETING, COLOR config vars",
    )
    assert current.config["GREETING"] == "bye" and current.config["COLOR"] == "blue"
    assert flow.ctx.store.read_env(APP) == current.config
    assert [entry[0] for entry in flow.journal] == ["start", "start", "route", "retire", "retire"]
    assert {c.release for c in flow.scheduler.containers(APP)} == {"v2"}


def test_config_unset_deploys_without_the_keys(flow):
    config.unset_vars(flow.ctx, APP, ["GREETING"])
    assert "GREETING" not in releases.current(flow.ctx.store, APP).config
    assert "GREETING" not in flow.ctx.store.read_env(APP)


def test_a_config_change_whose_release_fails_its_checks_is_not_kept(flow):
    flow.scheduler.failing_releases.add("v2")
    with pytest.raises(DeployFailed):
        config.set_vars(flow.ctx, APP, ["GREETING=broken"])
    assert flow.ctx.store.read_env(APP)["GREETING"] == "hello"
    assert releases.current(flow.ctx.store, APP).name == "v1"
    assert [c.release for c in flow.scheduler.containers(APP)] == ["v1", "v1"]
    assert flow.proxy.routes[APP] == [c.id for c in flow.scheduler.web_containers(APP)]


def test_no_restart_saves_the_env_and_runs_nothing(flow):
    config.set_vars(flow.ctx, APP, ["GREETING=later"], restart=False)
    assert flow.ctx.store.read_env(APP)["GREETING"] == "later"
    assert releases.current(flow.ctx.store, APP).name == "v1"
    assert flow.journal == []


def test_a_never_deployed_app_only_saves_its_env(flow):
    flow.create_app("dog")
    config.set_vars(flow.ctx, "dog", ["A=1"])
    assert flow.ctx.store.read_env("dog")["A"] == "1"
    assert releases.current(flow.ctx.store, "dog") is None
    assert flow.scheduler.containers("dog") == []
