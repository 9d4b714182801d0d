"""records/scheduler.py (which scheduler runs an app, where the swarm's manager is) and what a
swarm app's deploy asks of the registry settings (ops/registry.distribute)."""

import pytest
from fakes import make_flow

from minidokku.access import rules
from minidokku.errors import DeployFailed, ValidationError
from minidokku.ops import registry as registry_ops
from minidokku.records import properties, registry
from minidokku.records import scheduler as selection

IMAGE = "sha256:" + "c" * 64


@pytest.fixture
def flow(tmp_path, monkeypatch):
    flow = make_flow(tmp_path / "root", monkeypatch)
    flow.create_app("cat")
    return flow


def test_an_app_runs_on_its_own_choice_else_the_global_one_else_docker_local(flow):
    store = flow.ctx.store
    assert selection.selected(store, "cat") == "docker-local"
    properties.set_value(store, None, selection.SELECTED, "swarm")
    assert selection.runs_on_swarm(store, "cat")
    properties.set_value(store, "cat", selection.SELECTED, "docker-local")
    assert not selection.runs_on_swarm(store, "cat")


@pytest.mark.parametrize(
    "setting, value",
    [
        (selection.SELECTED, "k3s"),
        (selection.SELECTED, "swarm "),
        (selection.MANAGER_SOCKET, "relative.sock"),
        (selection.MANAGER_SOCKET, "/run/../etc/shadow"),
        (selection.MANAGER_SOCKET, "/run/x\n.sock"),
        (selection.ADVERTISE_ADDR, "eth0"),
        (selection.NODE_SOCKETS, "node2"),
        (selection.NODE_SOCKETS, "node 2=/run/n2.sock"),
        (selection.NODE_SOCKETS, "node2=run/n2.sock"),
        (selection.NODE_SOCKETS, "node2=/run/n2.sock,node3"),
    ],
)
def test_a_bad_value_is_refused(flow, setting, value):
    with pytest.raises(ValidationError):
        properties.set_value(flow.ctx.store, None, setting, value)


def test_a_swarm_apps_release_runs_from_the_registry_and_needs_one(flow):
    store = flow.ctx.store
    properties.set_value(store, "cat", selection.SELECTED, "swarm")
    with pytest.raises(DeployFailed, match="registry:set --global server"):
        registry_ops.push_on_release(flow.ctx, "cat", IMAGE)
    properties.set_value(store, None, registry.SERVER, "10.0.0.1:5000")
    reference = registry_ops.push_on_release(flow.ctx, "cat", IMAGE)  # push-on-release is off: pushed anyway
    assert reference.startswith("10.0.0.1:5000/dokku/cat@sha256:")
    assert registry.pushed_reference(store, "cat", IMAGE) == reference


def test_a_tenants_app_runs_on_this_host_whatever_is_set_and_pushes_nothing_for_it(flow):
    store = flow.ctx.store
    properties.set_value(store, "cat", selection.SELECTED, "swarm")
    properties.set_value(store, None, selection.SELECTED, "swarm")
    properties.set_value(store, None, registry.SERVER, "10.0.0.1:5000")
    rules.grant(store, "cat", "eve")
    assert selection.selected(store, "cat") == "docker-local"
    assert registry_ops.push_on_release(flow.ctx, "cat", IMAGE) is None
    assert flow.ctx.scheduler_for("cat") is flow.scheduler


def test_node_sockets_name_each_nodes_engine(flow):
    properties.set_value(flow.ctx.store, None, selection.NODE_SOCKETS, "node2=/run/n2.sock,node3.lan=/run/n3.sock")
    assert selection.node_sockets(flow.ctx.store) == {"node2": "/run/n2.sock", "node3.lan": "/run/n3.sock"}
