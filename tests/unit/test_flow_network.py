"""network:* on the fake scheduler (ops/network.py): the networks network:create makes, what
network:set accepts, and what an app's containers get from it: processes, release tasks and one-off
runs, created on initial-network, joined to attach-post-create before they start and to
attach-post-deploy once nginx moved to them, under Dokku's aliases."""

import pytest
from fakes import make_flow

from minidokku.access import rules
from minidokku.errors import AlreadyExists, AppNotFound, DeployFailed, MinidokkuError, NotFound, ValidationError
from minidokku.ops import network, oneoff
from minidokku.records import network_settings
from minidokku.runtime import labels
from minidokku.runtime.scheduler import Networking
from minidokku.runtime.terminal import Streams

APP = "cat"
OTHER = "dog"
NAMESPACE = "t-1-"


@pytest.fixture
def flow(tmp_path, monkeypatch):
    flow = make_flow(tmp_path / "root", monkeypatch, namespace=NAMESPACE)
    flow.create_app(APP)
    flow.create_app(OTHER)
    return flow


def networking_of(flow, app: str) -> dict[str, Networking]:
    """Each of the app's live process containers' networking, by dyno."""
    return {c.dyno: flow.scheduler.networkings[c.id] for c in flow.scheduler.containers(NAMESPACE + app)}


def test_network_create_makes_a_labelled_network_under_the_namespace(flow):
    network.create(flow.ctx, "backend")
    info = flow.scheduler.engine_networks[f"{NAMESPACE}backend"]
    assert info.labels == {network.MANAGED_LABEL: "backend", labels.NETWORK: "network:create"}
    [listed] = network.listed(flow.ctx)
    assert (listed.name, listed.managed) == ("backend", True)
    assert listed.as_json()["Name"] == "backend" and listed.as_json()["DokkuManaged"] is True
    assert network.find(flow.ctx, "backend") == listed
    with pytest.raises(AlreadyExists, match="a network named backend exists already"):
        network.create(flow.ctx, "backend")


def test_networks_of_another_namespace_are_not_seen(flow):
    flow.scheduler.create_network("t-2-backend", {network.MANAGED_LABEL: "backend"})
    flow.scheduler.create_network("bridge", {})
    assert network.listed(flow.ctx) == []
    assert network.find(flow.ctx, "backend") is None
    network.create(flow.ctx, "backend")  # its own, beside the other root's
    assert [n.info.name for n in network.listed(flow.ctx)] == ["t-1-backend"]


def test_a_network_labelled_for_another_name_is_not_managed(flow):
    flow.scheduler.create_network(f"{NAMESPACE}forged", {network.MANAGED_LABEL: "backend"})
    assert network.require(flow.ctx, "forged").managed is False


def test_network_set_needs_an_existing_network_and_an_existing_app(flow):
    with pytest.raises(NotFound, match="^Network backend does not exist$"):
        network.set_property(flow.ctx, APP, "attach-post-create", ["backend"])
    with pytest.raises(AppNotFound):
        network.set_property(flow.ctx, "nope", "attach-post-create", ["backend"])
    network.create(flow.ctx, "backend")
    network.create(flow.ctx, "cache")
    assert network.set_property(flow.ctx, APP, "attach-post-create", ["backend", "cache"]) == "backend,cache"
    assert network_settings.own(flow.ctx.store, APP, "attach-post-create") == "backend,cache"
    with pytest.raises(ValidationError, match="Network name already associated with this app: cache"):
        network.set_property(flow.ctx, APP, "attach-post-deploy", ["cache"])
    assert network.set_property(flow.ctx, APP, "attach-post-create", []) == ""
    assert network_settings.own(flow.ctx.store, APP, "attach-post-create") == ""


def test_minidokkus_own_networks_are_never_set(flow):
    flow.scheduler.create_network(f"{NAMESPACE}minidokku-apps", {labels.NETWORK: "apps"})
    flow.scheduler.create_network(f"{NAMESPACE}dokku.postgres.links.{OTHER}", {labels.SERVICE: "postgres"})
    for name in ("minidokku-apps", f"dokku.postgres.links.{OTHER}"):
        with pytest.raises(ValidationError, match="one of minidokku's own networks"):
            network.set_property(flow.ctx, APP, "initial-network", [name])
        with pytest.raises(ValidationError, match="one of minidokku's own networks"):
            network.set_property(flow.ctx, None, "attach-post-create", [name])
    assert network_settings.computed(flow.ctx.store, APP, "initial-network") == ""


def test_a_user_keys_app_is_set_only_on_networks_of_network_create(flow):
    rules.grant(flow.ctx.store, APP, "eve")
    flow.scheduler.create_network(f"{NAMESPACE}compose_default", {})  # made by hand: anyone may be on it
    network.create(flow.ctx, "backend")
    with pytest.raises(ValidationError, match="cat is a user key's app: it joins only networks made by network:create"):
        network.set_property(flow.ctx, APP, "attach-post-create", ["compose_default"])
    network.set_property(flow.ctx, OTHER, "attach-post-create", ["compose_default"])  # an admin's app may
    network.set_property(flow.ctx, APP, "attach-post-create", ["backend"])


@pytest.mark.parametrize("key", ["attach-post-create", "attach-post-deploy", "initial-network"])
def test_a_user_keys_app_gets_no_global_network_saying_so_once(flow, key):
    """A global network would put every tenant's app (and its one-offs) beside every other app."""
    rules.grant(flow.ctx.store, APP, "eve")
    network.create(flow.ctx, "backend")
    network.set_property(flow.ctx, None, key, ["backend"])
    flow.deploy(APP, flow.built("sha256:one"))
    flow.deploy(OTHER, flow.built("sha256:two"))
    assert {(n.initial, n.joined) for n in networking_of(flow, APP).values()} == {("", ())}
    assert network.networking(flow.ctx, APP) == Networking("", ())
    assert network.plan(flow.ctx, APP) == network.Plan(APP)
    assert network.plan(flow.ctx, OTHER) != network.Plan(OTHER)  # an admin's app gets it
    line = f"Not applied to {APP}, a user key's app: --global {key} backend"
    assert flow.output.count(line) == 2  # once for the deploy, once for the one-off


def test_a_user_keys_app_gets_the_networks_an_admin_set_for_it_of_network_create_only(flow):
    flow.scheduler.create_network(f"{NAMESPACE}compose_default", {})
    network.create(flow.ctx, "backend")
    network.set_property(flow.ctx, APP, "attach-post-create", ["compose_default", "backend"])  # before the grant
    rules.grant(flow.ctx.store, APP, "eve")
    flow.deploy(APP, flow.built("sha256:one"))
    assert networking_of(flow, APP)["web.1"].joined == (f"{NAMESPACE}backend",)
    assert (
        flow.output.count(f"Not applied to {APP}, a user key's app: attach-post-create compose_default "
                          "(not made by network:create)") == 1
    )  # fmt: skip


def test_a_global_bind_all_interfaces_leaves_a_user_keys_app_on_loopback(flow):
    """On every interface its port is reached from every container (the gateway's address),
    bypassing nginx: only an admin's value for that very app puts it there."""
    rules.grant(flow.ctx.store, APP, "eve")
    network.set_property(flow.ctx, None, "bind-all-interfaces", ["true"])
    flow.deploy(APP, flow.built("sha256:one"))
    flow.deploy(OTHER, flow.built("sha256:two"))
    assert networking_of(flow, APP)["web.1"].all_interfaces is False
    assert networking_of(flow, OTHER)["web.1"].all_interfaces is True
    assert f"Not applied to {APP}, a user key's app: --global bind-all-interfaces true" in flow.output
    network.set_property(flow.ctx, APP, "bind-all-interfaces", ["true"])
    flow.deploy(APP, flow.built("sha256:three"))
    assert networking_of(flow, APP)["web.1"].all_interfaces is True


def test_processes_join_attach_post_create_networks_under_dokkus_aliases(flow):
    network.create(flow.ctx, "backend")
    network.set_property(flow.ctx, APP, "attach-post-create", ["backend"])
    flow.deploy(APP, flow.built("sha256:one"))
    flow.deploy(OTHER, flow.built("sha256:two"))
    got = networking_of(flow, APP)
    assert got["web.1"] == Networking("", (f"{NAMESPACE}backend",), ("cat.web",), False)
    assert got["worker.1"].aliases == ("cat.worker",)
    assert {(n.initial, n.joined) for n in networking_of(flow, OTHER).values()} == {("", ())}  # on none of these


def test_a_tld_and_an_initial_network_and_bind_all_interfaces(flow):
    network.create(flow.ctx, "backend")
    network.set_property(flow.ctx, None, "tld", ["svc.cluster.local"])
    network.set_property(flow.ctx, APP, "initial-network", ["backend"])
    network.set_property(flow.ctx, APP, "bind-all-interfaces", ["true"])
    flow.deploy(APP, flow.built("sha256:one"))
    assert networking_of(flow, APP)["web.1"] == Networking(
        f"{NAMESPACE}backend", (), ("cat.web.svc.cluster.local",), True
    )


def test_attach_post_deploy_networks_are_joined_after_the_checks_before_nginx_moves(flow):
    network.create(flow.ctx, "backend")
    network.set_property(flow.ctx, APP, "attach-post-deploy", ["backend"])
    flow.deploy(APP, flow.built("sha256:one"))
    routed = next(i for i, entry in enumerate(flow.journal) if entry[0] == "route")
    joins = [(i, entry) for i, entry in enumerate(flow.journal) if entry[0] == "join"]
    assert [entry[2].split(".upcoming-")[0] for _, entry in joins] == [
        f"{NAMESPACE}cat.web.1",
        f"{NAMESPACE}cat.worker.1",
    ]
    assert all(i < routed for i, _ in joins)
    web = next(c for c in flow.scheduler.containers(NAMESPACE + APP) if c.process_type == "web")
    assert flow.scheduler.joined[web.id] == {f"{NAMESPACE}backend": ("cat.web",)}
    assert networking_of(flow, APP)["web.1"].joined == ()  # not before its checks
    assert "-----> Associating app with network backend" in flow.output


def test_a_failing_check_leaves_the_new_containers_off_the_attach_post_deploy_network(flow):
    network.create(flow.ctx, "backend")
    network.set_property(flow.ctx, APP, "attach-post-deploy", ["backend"])
    flow.scheduler.failing_releases.add("v1")
    with pytest.raises(DeployFailed):
        flow.deploy(APP, flow.built("sha256:one"))
    assert [entry for entry in flow.journal if entry[0] == "join"] == []
    assert flow.scheduler.network_members(f"{NAMESPACE}backend") == []


def test_a_missing_network_fails_the_deploy_before_any_container_starts(flow):
    network.create(flow.ctx, "backend")
    network.set_property(flow.ctx, APP, "attach-post-create", ["backend"])
    flow.deploy(APP, flow.built("sha256:one"))
    serving = flow.scheduler.names(NAMESPACE + APP)
    flow.scheduler.remove_network(f"{NAMESPACE}backend")  # by hand, behind minidokku's back
    with pytest.raises(NotFound, match="Network backend does not exist"):
        flow.deploy(APP, flow.built("sha256:two"))
    assert flow.scheduler.names(NAMESPACE + APP) == serving


def test_release_tasks_and_one_off_runs_join_without_aliases(flow):
    network.create(flow.ctx, "backend")
    network.create(flow.ctx, "jobs")
    network.set_property(flow.ctx, APP, "attach-post-create", ["backend"])
    network.set_property(flow.ctx, APP, "attach-post-deploy", ["jobs"])
    network.set_property(flow.ctx, APP, "initial-network", ["jobs"])
    flow.deploy(APP, flow.built("sha256:one", {"web": "serve", "release": "migrate"}))
    expected = Networking(f"{NAMESPACE}jobs", (f"{NAMESPACE}backend",))
    assert flow.scheduler.task_networkings == [expected]
    oneoff.run(flow.ctx, APP, ["ls"], False, Streams(None, None, None))
    oneoff.run_detached(flow.ctx, APP, ["sleep", "9"])
    assert [one_off.networking for one_off in flow.scheduler.one_offs] == [expected, expected]


def test_rebuild_joins_what_was_set_and_leaves_what_was_unset_without_a_restart(flow):
    network.create(flow.ctx, "backend")
    network.create(flow.ctx, "cache")
    flow.scheduler.create_network(f"{NAMESPACE}by-hand", {})
    flow.deploy(APP, flow.built("sha256:one"))
    flow.deploy(OTHER, flow.built("sha256:two"))
    web = next(c for c in flow.scheduler.containers(NAMESPACE + APP) if c.process_type == "web")
    flow.scheduler.join_network(web, f"{NAMESPACE}by-hand", ())  # an admin's `docker network connect`
    started = len(flow.scheduler.started)

    network.set_property(flow.ctx, APP, "attach-post-create", ["backend"])
    network.set_property(flow.ctx, APP, "attach-post-deploy", ["cache"])
    network.rebuild(flow.ctx, APP)
    assert flow.scheduler.joined[web.id] == {
        f"{NAMESPACE}by-hand": (),
        f"{NAMESPACE}backend": ("cat.web",),
        f"{NAMESPACE}cache": ("cat.web",),
    }
    assert "-----> Ensuring network configuration is in sync for cat" in flow.output
    assert "       web.1 joins backend" in flow.output
    assert flow.journal[-1] == ("route", APP, [f"{NAMESPACE}cat.web.1"])  # where web publishes may have moved

    network.set_property(flow.ctx, APP, "attach-post-create", [])
    network.rebuild(flow.ctx, APP)
    assert set(flow.scheduler.joined[web.id]) == {f"{NAMESPACE}by-hand", f"{NAMESPACE}cache"}
    assert len(flow.scheduler.started) == started  # nothing restarted
    assert [flow.scheduler.joined_networks(c) for c in flow.scheduler.containers(NAMESPACE + OTHER)] == [[], []]


def test_rebuild_that_fails_after_web_joined_one_network_still_routes_nginx_to_its_ports(flow):
    """On the engine a joined web container publishes on new host ports: nginx follows them even
    when a later join fails, or the app answers 502 until its next deploy."""
    network.create(flow.ctx, "backend")
    network.create(flow.ctx, "cache")
    flow.deploy(APP, flow.built("sha256:one"))
    join = flow.scheduler.join_network

    def join_backend_only(container, name, aliases):
        if name.endswith("cache"):
            raise MinidokkuError("the engine refused the join")
        return join(container, name, aliases)

    flow.scheduler.join_network = join_backend_only
    network.set_property(flow.ctx, APP, "attach-post-create", ["backend", "cache"])
    del flow.journal[:]
    with pytest.raises(MinidokkuError, match="refused"):
        network.rebuild(flow.ctx, APP)
    assert flow.journal[-1] == ("route", APP, [f"{NAMESPACE}cat.web.1"])


def test_rebuild_of_an_app_never_deployed_does_nothing_and_rebuildall_goes_through_every_app(flow):
    network.create(flow.ctx, "backend")
    network.set_property(flow.ctx, None, "attach-post-create", ["backend"])
    network.rebuild(flow.ctx, APP)
    assert "Ensuring" not in flow.output
    flow.deploy(APP, flow.built("sha256:one"))
    flow.deploy(OTHER, flow.built("sha256:two"))
    network.set_property(flow.ctx, None, "attach-post-create", [])
    assert network.rebuild_all(flow.ctx) == []
    assert all(not flow.scheduler.joined_networks(c) for c in flow.scheduler.live.values())


def test_destroy_is_refused_while_an_app_is_set_to_join_or_a_container_is_on_it(flow):
    network.create(flow.ctx, "backend")
    network.set_property(flow.ctx, APP, "attach-post-create", ["backend"])
    flow.deploy(APP, flow.built("sha256:one"))
    with pytest.raises(
        ValidationError, match="^Unable to destroy network: the network properties of cat name backend$"
    ):
        network.destroy(flow.ctx, "backend")
    network.set_property(flow.ctx, APP, "attach-post-create", [])
    with pytest.raises(ValidationError, match=r"backend has containers attached \(t-1-cat.web.1, t-1-cat.worker.1\)"):
        network.destroy(flow.ctx, "backend")
    network.rebuild(flow.ctx, APP)
    network.destroy(flow.ctx, "backend")
    assert network.find(flow.ctx, "backend") is None
    assert "-----> Destroying network backend" in flow.output


def test_destroy_removes_only_networks_of_network_create(flow):
    flow.scheduler.create_network(f"{NAMESPACE}minidokku-apps", {labels.NETWORK: "apps"})
    with pytest.raises(ValidationError, match="minidokku-apps was not made by network:create"):
        network.destroy(flow.ctx, "minidokku-apps")
    with pytest.raises(NotFound, match="^Network does not exist$"):
        network.destroy(flow.ctx, "nothing")
    assert f"{NAMESPACE}minidokku-apps" in flow.scheduler.engine_networks


def test_web_listeners_are_where_nginx_reaches_web(flow):
    flow.deploy(APP, flow.built("sha256:one"))
    [web] = flow.scheduler.web_containers(NAMESPACE + APP)
    assert network.web_listeners(flow.ctx, APP) == f"{web.address}:5000"  # its pinned address, its PORT
    assert network.web_listeners(flow.ctx, OTHER) == ""
