"""apps:destroy on a fake scheduler and proxy: what goes, in which order, and what stays when the
engine refuses to let a tag go (the app's name must not be freed while dokku/APP tags remain: a
new app of that name could build FROM them)."""

import pytest
from fakes import make_flow

from minidokku.errors import EngineError
from minidokku.ops import app_lifecycle
from minidokku.records import releases

APP = "cat"


@pytest.fixture
def flow(tmp_path, monkeypatch):
    flow = make_flow(tmp_path / "root", monkeypatch)
    flow.create_app(APP)
    flow.deploy(APP, flow.built("sha256:one"))
    flow.journal.clear()
    return flow


def test_destroy_removes_containers_route_tags_cache_and_state(flow):
    app_lifecycle.destroy(flow.ctx, APP)
    assert flow.journal == [
        ("remove-app", APP),
        ("unroute", APP),
        ("remove-volume", "minidokku-cache-cat"),
        ("remove-network", "dokku.postgres.links.cat"),  # the postgres plugin's post-delete
    ]
    assert flow.scheduler.names(APP) == []
    assert flow.scheduler.tags == {} and flow.scheduler.images == {}
    assert not flow.ctx.store.app_exists(APP)


def test_destroy_stops_keeping_the_app_when_a_tag_cannot_go(flow):
    flow.scheduler.tags_in_use.add("dokku/cat:v1")
    with pytest.raises(EngineError, match="dokku/cat:v1"):
        app_lifecycle.destroy(flow.ctx, APP)
    assert flow.ctx.store.app_exists(APP)  # the name stays taken; destroy can be run again
    assert [r.name for r in releases.history(flow.ctx.store, APP)] == ["v1"]
    assert flow.scheduler.tags["dokku/cat:v1"] == "sha256:one"
    assert flow.scheduler.removed_volumes == []


def test_a_deploys_pruning_leaves_a_tag_in_use_for_later(tmp_path, monkeypatch):
    flow = make_flow(tmp_path / "root", monkeypatch, keep_releases=1)
    flow.create_app(APP)
    flow.deploy(APP, flow.built("sha256:one"))
    flow.scheduler.tags_in_use.add("dokku/cat:v1")
    flow.deploy(APP, flow.built("sha256:two"))  # no error: pruning is best effort
    assert flow.scheduler.tags["dokku/cat:v1"] == "sha256:one"
    assert releases.current(flow.ctx.store, APP).name == "v2"
