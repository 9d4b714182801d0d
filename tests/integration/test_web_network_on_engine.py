"""The namespace a web container runs in, made beforehand (runtime/web_network.py), on the
engine: a start leaves a spare for its dyno, the next start of that dyno joins it and serves at
the spare's address and host port, the holder goes with its container (retire, a container that
went by other hands, apps:destroy), a stopped one starts again with its holder, networks join
the holder, and a spare made for other ports or left idle goes."""

import secrets
import socket
import time

import pytest
import requests

from minidokku.engine.client import Engine
from minidokku.errors import EngineNotFound
from minidokku.records import resources
from minidokku.records.docker_options import DockerOptions
from minidokku.records.releases import Release
from minidokku.runtime import at_once, labels, web_addresses, web_network
from minidokku.runtime.docker_scheduler import DockerScheduler
from minidokku.runtime.scheduler import Container, PortTaken

STACK = "minidokku/stack:latest"
# a web process without a build: the stack's python serves the folder it starts in
SERVE = ["python3", "-m", "http.server", "5000"]
RELEASE = Release(1, "sha", STACK, {"web": " ".join(SERVE)}, "test", 0.0)


APP = f"it-webnet-{secrets.token_hex(3)}"  # the holders' names are the engine's: one per test worker


@pytest.fixture
def scheduler(engine, apps_network):
    yield DockerScheduler(engine, apps_network, holder_image=STACK)
    for entry in engine.list_containers({labels.APP: APP}):
        engine.remove_container(entry["Id"], force=True)
    web_network.remove_app(engine, APP)


def start_web(scheduler: DockerScheduler, index: int = 1, extra_ports: tuple[int, ...] = ()) -> Container:
    """Starts web.index and waits for the spare it leaves (the hold's end waits for it)."""
    with at_once.holding_back():
        container = scheduler.start(
            APP,
            RELEASE,
            "web",
            index,
            DockerOptions(),
            extra_ports=extra_ports,
            limits=resources.PROCESS_DEFAULTS,
            command=SERVE,
        )
    wait_until_answering(scheduler, container)
    return container


def wait_until_answering(scheduler: DockerScheduler, container: Container) -> None:
    deadline = time.monotonic() + 20
    while not scheduler.answers_http(container):
        assert time.monotonic() < deadline, f"{container.name} does not answer"
        time.sleep(0.1)


def described(scheduler: DockerScheduler, container: Container) -> Container:
    return next(c for c in scheduler.containers(APP) if c.id == container.id)


def network_mode(engine: Engine, container: Container) -> str:
    return engine.inspect_container(container.id)["HostConfig"]["NetworkMode"]


def spare(engine: Engine, index: int = 1) -> dict:
    return engine.inspect_container(web_network.spare_name(APP, index))


def holders(engine: Engine) -> list[str]:
    found = engine.list_containers({labels.WEB_NETWORK: APP}, all_states=True)
    return sorted(entry["Names"][0].lstrip("/") for entry in found)


def gone(engine: Engine, container_id: str) -> bool:
    try:
        engine.inspect_container(container_id)
    except EngineNotFound:
        return True
    return False


def test_the_next_start_of_a_dyno_joins_its_spare_and_serves_at_its_address(engine, scheduler, apps_network):
    first = start_web(scheduler)
    assert network_mode(engine, first) == apps_network  # no spare yet: a namespace of its own
    made = spare(engine)
    assert made["State"]["Running"]
    assert set(made["NetworkSettings"]["Networks"]) == {apps_network, web_addresses.NETWORK}

    second = start_web(scheduler)
    assert network_mode(engine, second) == f"container:{made['Id']}"
    taken = engine.inspect_container(made["Id"])
    assert taken["Name"].startswith(f"/{APP}.web.1{web_network.TAKEN}")
    endpoint = taken["NetworkSettings"]["Networks"][web_addresses.NETWORK]
    assert second.address == endpoint["IPAMConfig"]["IPv4Address"] != first.address
    assert second.host_port == int(taken["HostConfig"]["PortBindings"]["5000/tcp"][0]["HostPort"])
    assert requests.get(f"http://127.0.0.1:{second.host_port}/", timeout=5).status_code == 200
    assert spare(engine)["Id"] != made["Id"]  # a new spare for the next start

    scheduler.retire([second.id], grace=0)
    assert gone(engine, made["Id"])  # the holder went with its container
    assert scheduler.answers_http(first)


def test_a_stopped_container_and_its_holder_start_again_in_their_namespace_the_holder_first(engine, scheduler):
    start_web(scheduler)
    joined = start_web(scheduler)
    holder_id = network_mode(engine, joined).removeprefix("container:")
    scheduler.stop([joined], grace=0)
    assert not engine.inspect_container(holder_id)["State"]["Running"]  # stopped with it

    restarted = scheduler.restart(joined)
    wait_until_answering(scheduler, restarted)
    assert (restarted.address, restarted.host_port) == (joined.address, joined.host_port)
    assert engine.inspect_container(holder_id)["State"]["Running"]


def test_a_holder_whose_container_went_goes_at_the_next_command_on_the_app(engine, scheduler):
    start_web(scheduler)
    joined = start_web(scheduler)
    holder_id = network_mode(engine, joined).removeprefix("container:")
    scheduler.remove_abandoned_namespaces(APP)
    assert not gone(engine, holder_id) and scheduler.answers_http(joined)  # its container lives
    engine.remove_container(joined.id, force=True)  # by hand, or a command killed before its holder's removal

    scheduler.remove_abandoned_namespaces(APP)  # what every command taking the app's lock runs
    assert gone(engine, holder_id)
    assert holders(engine) == [web_network.spare_name(APP, 1)]  # the spare stays


def test_a_container_that_lost_its_namespace_is_deployed_again_not_restarted(engine, scheduler):
    """Its holder started again under it (the container's namespace has no interface left), or
    went: it counts as one whose ports moved, which the restore deploys again."""
    start_web(scheduler)
    joined = start_web(scheduler)
    holder_id = network_mode(engine, joined).removeprefix("container:")
    assert described(scheduler, joined).ports_kept
    engine.stop_container(holder_id, timeout=0)
    engine.start_container(holder_id)
    assert not described(scheduler, joined).ports_kept
    scheduler.stop([joined], grace=0)
    engine.remove_container(holder_id, force=True)
    with pytest.raises(PortTaken):
        scheduler.restart(joined)


def test_a_spare_made_for_other_ports_is_removed_not_joined(engine, scheduler, apps_network):
    start_web(scheduler)
    made = spare(engine)
    wider = start_web(scheduler, extra_ports=(6000,))
    assert network_mode(engine, wider) == apps_network
    assert gone(engine, made["Id"])
    assert "6000/tcp" in spare(engine)["HostConfig"]["PortBindings"]


def test_networks_join_and_leave_the_holder_and_list_the_container(engine, scheduler):
    start_web(scheduler)
    joined = start_web(scheduler)
    holder_id = network_mode(engine, joined).removeprefix("container:")
    network = f"{APP}-extra"
    engine.create_network(network, {})
    try:
        scheduler.join_network(joined, network, ("it-webnet.web",))
        assert network in engine.inspect_container(holder_id)["NetworkSettings"]["Networks"]
        assert network in scheduler.joined_networks(joined)
        assert scheduler.network_members(network) == [joined.name]
        scheduler.leave_network(joined, network)
        assert network not in engine.inspect_container(holder_id)["NetworkSettings"]["Networks"]
    finally:
        scheduler.remove_app(APP)
        engine.remove_network(network)


def test_idle_spares_and_an_apps_holders_go(engine, scheduler):
    start_web(scheduler)
    start_web(scheduler)
    spare_id = spare(engine)["Id"]
    web_network.remove_idle(engine, time.time())
    assert not gone(engine, spare_id)  # made just now
    assert web_network.remove_idle(engine, time.time() + web_network.IDLE) >= 1
    assert gone(engine, spare_id)
    assert len(holders(engine)) == 1  # the taken one stays while its container lives
    scheduler.remove_app(APP)
    assert holders(engine) == []


def test_a_forged_holder_label_removes_nothing_of_another(engine, scheduler, apps_network):
    """A tenant's image may carry the holder's label naming another app: only containers named
    as holders count as such."""
    config = {"Image": STACK, "Cmd": ["sleep", "infinity"], "Labels": {labels.WEB_NETWORK: APP}}
    forged = engine.create_container(config, name="it-webnet-forged")
    try:
        scheduler.remove_app(APP)
        web_network.remove_idle(engine, time.time() + web_network.IDLE)
        assert not gone(engine, forged)
    finally:
        engine.remove_container(forged, force=True)


def test_a_container_reached_through_its_holder_answers_on_the_web_address(engine, scheduler):
    start_web(scheduler)
    joined = start_web(scheduler)
    with socket.create_connection(joined.reached_at(), timeout=5) as connection:
        connection.sendall(b"GET / HTTP/1.0\r\n\r\n")
        assert connection.recv(12).startswith(b"HTTP/1.0 200")
