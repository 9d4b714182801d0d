"""The addresses nginx reaches web containers at (runtime/web_addresses.py, runtime/docker_scheduler.py),
without Docker: the web network as minidokku makes it, an address pinned for each web container
before its first start, never one another container has pinned (running or stopped), kept across
its starts; a start refused because another root pinned the same address meanwhile is made again."""

import pytest
from fakes import web_network
from test_host_ports import RELEASE, PortsEngine, start_at_once, start_web

from minidokku.errors import EngineError, EngineNotFound
from minidokku.records import resources
from minidokku.records.docker_options import DockerOptions
from minidokku.runtime import web_addresses
from minidokku.runtime.docker_scheduler import DockerScheduler
from minidokku.runtime.scheduler import Container, PortTaken

LIMITS = resources.Limits(nano_cpus=0, memory=0, pids=0)


class ProbedEngine(PortsEngine):
    """The engine picking 10.40.0.0/16 for a network made without a subnet, as from its pools."""

    def __init__(self):
        super().__init__()
        self.made: list[dict] = []

    def create_network(self, name, labels, options=None, internal=False, ipam=None, ipv6=None):
        self.made.append({"name": name, "labels": labels, "options": options, "internal": internal, "ipam": ipam})
        subnet = ipam[0]["Subnet"] if ipam else "10.40.0.0/16"
        self.networks[name] = dict(web_network(subnet, ipam[0]["IPRange"] if ipam else ""), Name=name)


def scheduler_on_web_network() -> tuple[PortsEngine, DockerScheduler]:
    """An engine whose web network minidokku made (172.30.0.0/16), and a scheduler on it."""
    engine = PortsEngine()
    engine.networks[web_addresses.NETWORK] = web_network()
    return engine, DockerScheduler(engine, "apps")


def small_web_network(engine: PortsEngine) -> None:
    """A /29 web network: its pinned half is 172.30.0.4-172.30.0.6 (.7 is the broadcast address)."""
    engine.networks[web_addresses.NETWORK] = web_network("172.30.0.0/29", "172.30.0.0/30")


def test_the_web_network_is_made_on_the_subnet_the_engine_picks_internal_without_inter_container_traffic():
    engine = ProbedEngine()
    half = web_addresses.ensure(engine)
    probe, made = engine.made
    assert probe["name"].startswith("minidokku-web-probe-") and probe["ipam"] is None
    assert probe["name"] not in engine.networks  # the probe is removed
    assert made == {
        "name": "minidokku-web",
        "labels": {"com.minidokku.network": "web"},
        "options": {"com.docker.network.bridge.enable_icc": "false"},
        "internal": True,
        "ipam": [{"Subnet": "10.40.0.0/16", "IPRange": "10.40.0.0/17"}],  # the engine's half
    }
    assert str(half) == "10.40.128.0/17"
    assert web_addresses.ensure(engine) == half and len(engine.made) == 2  # made once


@pytest.mark.parametrize(
    "change",
    [
        {"Labels": {}},  # made by hand
        {"Internal": False},  # a way out through it
        {"Options": {}},  # containers on it reach each other
        {"EnableIPv6": True},  # IPv6 between containers, which the engine may leave unfiltered
        {"IPAM": {"Config": [{"Subnet": "172.30.0.0/16", "IPRange": "172.30.128.0/17"}]}},  # the engine's upper half
        {"IPAM": {"Config": [{"Subnet": "172.30.0.0/16"}]}},  # the engine's whole subnet
        {"IPAM": {"Config": [{"Subnet": "fd00::/64"}]}},  # IPv6 only
    ],
)
def test_a_web_network_minidokku_did_not_make_is_refused(change):
    engine = PortsEngine()
    engine.networks[web_addresses.NETWORK] = dict(web_network(), **change)
    with pytest.raises(EngineError, match=r"^the Docker network minidokku-web was not made by minidokku; remove it"):
        start_web(DockerScheduler(engine, "apps"))
    assert engine.containers == {}


def test_an_address_another_container_pinned_running_or_stopped_is_never_picked():
    engine = PortsEngine()
    small_web_network(engine)
    engine.add("running", "running", {}, address="172.30.0.4")
    engine.add("exited", "exited", {}, address="172.30.0.5")
    half = web_addresses.ensure(engine)
    for _ in range(20):
        assert web_addresses.pick(engine.list_containers({}), half) == "172.30.0.6"
    engine.add("created", "created", {}, address="172.30.0.6")
    with pytest.raises(EngineError, match=r"^no free address left in 172.30.0.4/30 for a web container$"):
        web_addresses.pick(engine.list_containers({}), half)


def test_once_random_draws_find_nothing_the_free_addresses_are_tried_in_order(monkeypatch):
    engine = PortsEngine()
    small_web_network(engine)
    engine.add("running", "running", {}, address="172.30.0.4")
    monkeypatch.setattr(web_addresses, "PICK_ATTEMPTS", 0)
    assert web_addresses.pick(engine.list_containers({}), web_addresses.ensure(engine)) == "172.30.0.5"


@pytest.mark.parametrize("network", ["none", "host", "container:0123456789ab"])
def test_a_web_container_without_networks_of_its_own_is_not_pinned(network):
    engine, scheduler = scheduler_on_web_network()
    web = scheduler.start("t-1-cat", RELEASE, "web", 1, DockerOptions(network=network), limits=LIMITS, command=None)
    assert web.address is None and engine.containers[web.id]["Networks"] == {}


def test_a_web_network_removed_while_a_process_runs_is_made_again():
    engine = ProbedEngine()
    scheduler = DockerScheduler(engine, "apps")
    start_web(scheduler)
    del engine.networks[web_addresses.NETWORK]  # a `docker network prune` while the cron daemon runs
    connect = engine.connect_network

    def connect_where_there(network, container_id, aliases, address=""):
        if network not in engine.networks:
            raise EngineNotFound(f"network {network} not found", 404)
        connect(network, container_id, aliases, address)

    engine.connect_network = connect_where_there
    assert start_web(scheduler).address.startswith("10.40.")
    assert web_addresses.NETWORK in engine.networks


def test_a_restart_refused_for_its_address_says_its_port_or_address_is_taken():
    engine, scheduler = scheduler_on_web_network()
    web = start_web(scheduler)
    engine.containers[web.id]["State"] = "exited"
    engine.add("squatter", "running", {}, address=web.address)
    with pytest.raises(PortTaken, match="Address already in use"):
        scheduler.restart(web)


def test_a_web_container_is_reached_at_its_pinned_address_other_processes_get_none():
    engine, scheduler = scheduler_on_web_network()
    web = start_web(scheduler, extra_ports=(8080,))
    assert web.address.startswith("172.30.") and int(web.address.split(".")[2]) >= 128  # the pinned half
    assert engine.address_of(web.id) == web.address
    assert web.reached_at() == (web.address, 5000) and web.reached_at(8080) == (web.address, 8080)
    assert web.reached_at(9999) is None
    worker = scheduler.start("t-1-cat", RELEASE, "worker", 1, DockerOptions(), limits=LIMITS, command=None)
    assert worker.address is None and engine.containers[worker.id]["Networks"] == {}


def test_an_address_is_kept_across_starts():
    engine, scheduler = scheduler_on_web_network()
    web = start_web(scheduler)
    engine.containers[web.id]["State"] = "exited"
    assert scheduler.restart(web).address == web.address


def test_a_container_made_before_addresses_were_pinned_is_reached_at_its_published_port():
    old = Container("old", "cat.web.1", "web", host_port=16004, host_ports={5000: 16004}, web_port=5000)
    assert old.reached_at() == ("127.0.0.1", 16004)


def test_a_start_refused_for_an_address_another_root_pinned_meanwhile_is_made_again_at_another(monkeypatch):
    engine = PortsEngine()
    small_web_network(engine)
    engine.add("other-roots", "running", {}, address="172.30.0.4")
    seen = []
    pick = web_addresses.pick

    def blind_pick(listed, half, refused=()):  # another root's container, not yet listed when this one picked
        seen.append(tuple(refused))
        return "172.30.0.4" if not refused else pick([], half, refused)

    monkeypatch.setattr(web_addresses, "pick", blind_pick)
    web = start_web(DockerScheduler(engine, "apps"))
    assert web.address in ("172.30.0.5", "172.30.0.6")
    assert seen == [(), ("172.30.0.4",)]
    assert sorted(engine.containers) == sorted(["other-roots", web.id])  # the refused one was removed


def test_a_host_ports_refusal_is_not_taken_for_an_address_refusal():
    bind = EngineError("listen tcp4 127.0.0.1:16001: bind: address already in use", 500)
    assert not web_addresses.address_refused(bind)
    assert web_addresses.address_refused(EngineError("Docker engine: Address already in use", 500))


def test_two_starts_at_once_never_pin_the_same_address(tmp_path):
    engine = PortsEngine(slow=0.02)
    small_web_network(engine)
    started = start_at_once(DockerScheduler(engine, "apps", tmp_path / ".host-ports.lock"), 3)
    assert sorted(c.address for c in started) == ["172.30.0.4", "172.30.0.5", "172.30.0.6"]
    assert engine.removed == []  # no start was refused: no two pinned the same
