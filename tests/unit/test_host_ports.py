"""The host ports web containers publish on (runtime/host_ports.py, runtime/docker_scheduler.py),
without Docker: picked outside the kernel's ephemeral range and never one another container (of
any app, running or stopped) has in its PortBindings; set at creation, so every later start of
the container, the engine's restarts too, binds the same one; a start refused because something
holds a port is made again on other ports."""

import itertools
import threading
import time

import pytest
from fakes import web_network

from minidokku.errors import EngineError, EngineNotFound
from minidokku.records import resources
from minidokku.records.docker_options import DockerOptions
from minidokku.records.releases import Release
from minidokku.runtime import host_ports, labels, web_addresses
from minidokku.runtime.docker_scheduler import DockerScheduler
from minidokku.runtime.scheduler import Container, PortTaken

LIMITS = resources.Limits(nano_cpus=0, memory=0, pids=0)
RELEASE = Release(1, "sha", "sha256:one", {"web": "serve"}, "Deploy sha", 0.0)
ALLOCATED = "driver failed programming external connectivity: Bind for 127.0.0.1:{}: port is already allocated"


class PortsEngine:
    """Containers with their PortBindings, as the engine lists and describes them; a start binds
    them, refused (as the engine refuses it) on a port a running one binds or in held (a host
    process has it)."""

    def __init__(self, held: set[int] = frozenset(), slow: float = 0.0):
        self.containers: dict[str, dict] = {}
        self.networks: dict[str, dict] = {}
        self.held = set(held)
        self.slow = slow  # seconds a listing takes, so that two threads' picks overlap
        self.removed: list[str] = []
        self.described: list[str] = []
        self.created = itertools.count(1)

    def add(self, container_id: str, state: str, bindings: dict, address: str = "", role: str = "") -> None:
        found = {"State": state, "PortBindings": bindings, "Networks": {}, "Labels": {}}
        if role:
            found["Labels"][labels.ROLE] = role
        self.containers[container_id] = found
        if address:
            self.connect_network(web_addresses.NETWORK, container_id, [], address)

    def list_containers(self, wanted: dict, all_states: bool = True) -> list[dict]:
        time.sleep(self.slow)
        listed = []
        for container_id, found in list(self.containers.items()):
            ports = [
                {"PrivatePort": int(port.split("/")[0]), "PublicPort": int(b["HostPort"])}
                for port, bound in found["PortBindings"].items()
                for b in bound
                if found["State"] == "running" and b["HostPort"]
            ]
            listed.append(
                {
                    "Id": container_id,
                    "State": found["State"],
                    "Ports": ports,
                    "Labels": found["Labels"],
                    "NetworkSettings": {"Networks": found["Networks"]},
                }
            )
        return listed

    def inspect_container(self, container_id: str) -> dict:
        found = self.containers[container_id]
        self.described.append(container_id)
        bound = {p: b for p, b in found["PortBindings"].items()} if found["State"] == "running" else {}
        return {
            "Id": container_id,
            "Name": f"/{container_id}",
            "Config": {"Labels": {}, "Env": ["PORT=5000"]},
            "NetworkSettings": {"Ports": bound, "Networks": found["Networks"]},
            "HostConfig": {"PortBindings": found["PortBindings"]},
            "State": {"Running": found["State"] == "running"},
        }

    def ensure_network(self, name, labels, options):
        return {"Options": dict(options)}

    def inspect_network(self, name):
        if name not in self.networks:
            raise EngineNotFound(f"network {name} not found", 404)
        return self.networks[name]

    def create_network(self, name, labels, options=None, internal=False, ipam=None, ipv6=None):
        self.networks[name] = web_network(*(ipam and [ipam[0]["Subnet"], ipam[0]["IPRange"]] or []))

    def remove_network(self, name):
        del self.networks[name]

    def connect_network(self, network: str, container_id: str, aliases: list[str], address: str = "") -> None:
        self.containers[container_id]["Networks"][network] = {"IPAMConfig": {"IPv4Address": address}}

    def create_container(self, config: dict, name: str) -> str:
        container_id = f"{name}-{next(self.created)}"
        self.add(container_id, "created", config["HostConfig"].get("PortBindings") or {})
        return container_id

    def start_container(self, container_id: str) -> None:
        bound = {int(p["PublicPort"]) for found in self.list_containers({}) for p in found["Ports"]}
        ports = {int(b["HostPort"]) for bound in self.containers[container_id]["PortBindings"].values() for b in bound}
        if ports & (self.held | bound):
            raise EngineError(ALLOCATED.format(min(ports & (self.held | bound))), 500)
        address = self.address_of(container_id)
        if address and any(self.address_of(other) == address for other in self.running() if other != container_id):
            raise EngineError("Docker engine: Address already in use", 500)
        self.containers[container_id]["State"] = "running"

    def running(self) -> list[str]:
        return [container_id for container_id, found in self.containers.items() if found["State"] == "running"]

    def address_of(self, container_id: str) -> str:
        return web_addresses.pinned(self.containers[container_id]["Networks"].get(web_addresses.NETWORK)) or ""

    def remove_container(self, container_id: str, force: bool = True) -> None:
        del self.containers[container_id]
        self.removed.append(container_id)


def start_web(scheduler: DockerScheduler, extra_ports: tuple[int, ...] = ()) -> Container:
    return scheduler.start(
        "t-1-cat", RELEASE, "web", 1, DockerOptions(), extra_ports=extra_ports, limits=LIMITS, command=None
    )


def start_at_once(scheduler: DockerScheduler, count: int) -> list[Container]:
    """count web containers started by as many threads at once."""
    started: list[Container] = []
    threads = [threading.Thread(target=lambda: started.append(start_web(scheduler))) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return started


@pytest.fixture
def small_range(monkeypatch):
    monkeypatch.setattr(host_ports, "RANGE", range(16000, 16006))


def test_a_port_another_container_has_running_or_stopped_is_never_picked(small_range):
    engine = PortsEngine()
    engine.add("running", "running", {"5000/tcp": [{"HostIp": "127.0.0.1", "HostPort": "16000"}]})
    engine.add("exited", "exited", {"5000/tcp": [{"HostIp": "127.0.0.1", "HostPort": "16001"}]})
    engine.add("created", "created", {"80/tcp": [{"HostIp": "", "HostPort": "16002"}]})
    engine.add("picked-by-docker", "exited", {"5000/tcp": [{"HostIp": "127.0.0.1", "HostPort": ""}]})
    for _ in range(20):
        assert set(host_ports.pick(engine, 3)) == {16003, 16004, 16005}


def test_a_stopped_build_container_is_not_described():
    """It has no port bindings, and a deploy's own is busy for the engine while the build base's
    changes are listed: asking for its description waited for that."""
    engine = PortsEngine()
    engine.add("build", "exited", {}, role=labels.BUILD_ROLE)
    engine.add("web", "exited", {"5000/tcp": [{"HostIp": "127.0.0.1", "HostPort": "16001"}]}, role="process")
    assert host_ports.taken(engine) == {16001}
    assert engine.described == ["web"]


def test_the_kernels_ephemeral_ports_are_never_picked(small_range, tmp_path, monkeypatch):
    ephemeral = tmp_path / "ip_local_port_range"
    ephemeral.write_text("16003\t60999\n")
    monkeypatch.setattr(host_ports, "EPHEMERAL", ephemeral)
    assert set(host_ports.pick(PortsEngine(), 3)) == {16000, 16001, 16002}
    with pytest.raises(EngineError, match=r"^no free host port left in 16000-16005 for a web container$"):
        host_ports.pick(PortsEngine(), 4)


def test_a_web_container_publishes_each_port_on_a_picked_one_outside_dockers_range():
    engine = PortsEngine()
    container = start_web(DockerScheduler(engine, "apps"), extra_ports=(8080,))
    bindings = engine.containers[container.id]["PortBindings"]
    assert set(bindings) == {"5000/tcp", "8080/tcp"}
    picked = {int(b["HostPort"]) for bound in bindings.values() for b in bound}
    assert len(picked) == 2 and picked <= set(host_ports.RANGE)
    assert all(b["HostIp"] == "127.0.0.1" for bound in bindings.values() for b in bound)
    assert not picked & set(host_ports.ephemeral_range())
    assert container.host_port == int(bindings["5000/tcp"][0]["HostPort"])


def test_a_start_refused_for_a_port_a_host_process_holds_is_made_again_on_another(small_range):
    engine = PortsEngine(held={16000, 16001, 16002, 16003})
    container = start_web(DockerScheduler(engine, "apps"))
    assert container.host_port in (16004, 16005)
    assert list(engine.containers) == [container.id]  # the refused ones were removed
    assert len(engine.removed) <= 4


def test_when_every_port_is_held_the_start_fails_with_the_engines_words(small_range):
    engine = PortsEngine(held=set(host_ports.RANGE))
    with pytest.raises(EngineError, match="port is already allocated"):
        start_web(DockerScheduler(engine, "apps"))
    assert engine.containers == {}


def test_a_start_failing_otherwise_is_not_tried_again():
    engine = PortsEngine()

    def broken(container_id):
        raise EngineError("Docker engine: OCI runtime create failed", 500)

    engine.start_container = broken
    with pytest.raises(EngineError, match="OCI runtime"):
        start_web(DockerScheduler(engine, "apps"))
    assert engine.containers == {} and len(engine.removed) == 1


def test_two_starts_at_once_never_pick_the_same_port(small_range, tmp_path):
    engine = PortsEngine(slow=0.02)
    started = start_at_once(DockerScheduler(engine, "apps", tmp_path / ".host-ports.lock"), 6)
    assert sorted(c.host_port for c in started) == list(host_ports.RANGE)
    assert engine.removed == []  # no start was refused: no two picked the same


def test_a_stopped_container_whose_port_was_taken_meanwhile_says_so():
    engine = PortsEngine()
    scheduler = DockerScheduler(engine, "apps")
    container = start_web(scheduler)
    engine.containers[container.id]["State"] = "exited"
    engine.held.add(container.host_port)
    with pytest.raises(PortTaken, match="port is already allocated"):
        scheduler.restart(container)
    engine.held.clear()
    assert scheduler.restart(container).host_port == container.host_port  # the same port again


def test_a_container_made_before_minidokku_picked_ports_is_told_apart():
    engine = PortsEngine()
    scheduler = DockerScheduler(engine, "apps")
    assert start_web(scheduler).ports_kept
    engine.add("old", "exited", {"5000/tcp": [{"HostIp": "127.0.0.1", "HostPort": ""}]})
    assert not scheduler._describe("old").ports_kept
