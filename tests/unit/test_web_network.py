"""What decides whether a web container joins a spare namespace (runtime/web_network.py): a
spare fits only what it was made for, docker-options with a network or hosts and apps on other
networks never join one, a container whose holder went or started again lost its namespace, and
only containers named as holders count as holders, whatever their labels say; a spare is a
namespace holder that starts again with the engine and carries none of the app's labels."""

from minidokku.records.docker_options import DockerOptions
from minidokku.runtime import labels, namespace_holder, web_network
from minidokku.runtime.scheduler import Networking

PORTS = ["5000/tcp"]


def test_a_spare_fits_only_the_ports_and_interface_it_was_made_for():
    made_for = web_network.fit(PORTS, "127.0.0.1")
    assert web_network.fit(list(PORTS), "127.0.0.1") == made_for
    assert web_network.fit([*PORTS, "6000/tcp"], "127.0.0.1") != made_for
    assert web_network.fit(PORTS, "") != made_for


def test_options_naming_a_network_or_hosts_and_apps_on_other_networks_never_join_a_spare():
    assert web_network.may_join(DockerOptions(binds=["data:/data"], memory=1 << 20), Networking())
    assert web_network.may_join(DockerOptions(), Networking(all_interfaces=True))
    assert not web_network.may_join(DockerOptions(network="none"), Networking())
    assert not web_network.may_join(DockerOptions(extra_hosts=["db:10.0.0.2"]), Networking())
    assert not web_network.may_join(DockerOptions(), Networking(initial="lan", aliases=("cat.web",)))
    assert not web_network.may_join(DockerOptions(), Networking(joined=("lan",), aliases=("cat.web",)))


def test_a_spare_sleeps_confined_restarts_with_the_engine_and_is_not_one_of_the_apps_containers():
    made_for = web_network.fit(PORTS, "127.0.0.1")
    config = web_network.holder_config("cat", "stack:latest", made_for, PORTS)
    assert config["Entrypoint"] == ["sleep"] and config["ExposedPorts"] == {"5000/tcp": {}}
    assert config["Labels"] == {labels.WEB_NETWORK: "cat", labels.WEB_NETWORK_FIT: made_for}
    host = config["HostConfig"]
    assert host["Init"] and host["ReadonlyRootfs"] and host["CapDrop"] == ["ALL"]
    assert host["RestartPolicy"] == {"Name": "unless-stopped"}
    # each call makes its own request: one spare's restart policy never lands in a build holder's
    assert "RestartPolicy" not in namespace_holder.config("stack:latest", {})["HostConfig"]


def state(running: bool, started: str) -> dict:
    return {"Running": running, "StartedAt": started}


def test_a_joined_container_lost_its_namespace_when_its_holder_went_or_started_after_it():
    container = {"HostConfig": {"NetworkMode": "container:abc"}, "State": state(True, "2026-12-04T12:00:00.25Z")}
    holder = {"State": state(True, "2026-12-04T12:00:00.125Z")}
    assert not web_network.namespace_lost(container, holder)
    assert web_network.namespace_lost(container, container)  # no holder: the container's own
    assert web_network.namespace_lost(container, {"State": state(True, "2026-12-04T12:00:00.5Z")})
    assert web_network.namespace_lost(container, {"State": state(False, "2026-12-04T12:00:00.1Z")})
    stopped = dict(container, State=state(False, "2026-12-04T12:00:00.25Z"))
    assert not web_network.namespace_lost(stopped, {"State": state(False, "2026-12-04T12:00:00.5Z")})
    own = {"HostConfig": {"NetworkMode": "apps"}, "State": state(True, "2026-12-04T12:00:00Z")}
    assert not web_network.namespace_lost(own, own)


def entry(name: str, app: str) -> dict:
    return {"Names": [f"/{name}"], "Labels": {labels.WEB_NETWORK: app}}


def test_only_containers_named_as_an_apps_holders_are_holders():
    assert web_network.is_holder(entry("cat.web.1.network", "cat"))
    assert web_network.is_holder(entry("cat.web.2.network-ab12cd", "cat"))
    assert not web_network.is_holder(entry("dog.web.1.network", "cat"))  # a label from an image
    assert not web_network.is_holder(entry("cat.web.1", "cat"))
    assert not web_network.is_holder(entry("cat.worker.1.network", "cat"))
    assert not web_network.is_holder(entry("cat.web.x.network-ab12cd", "cat"))
    assert not web_network.is_holder({"Names": ["/cat.web.1.network"], "Labels": {}})
