"""What keeps a tenant's container away from every other container: the one way an app's
containers (its processes, deployment tasks, one-off runs and buildpack builds) are created.

Each goes on the apps' network unless its docker-options name another (an admin's choice; a
tenant's are confined by docker_options.confine), without NET_RAW (no raw sockets: no ARP or IP
spoofing on the bridge, no forged packets) and with no-new-privileges (a setuid program gains
nothing). The apps' network is a user-defined bridge with inter-container traffic off: a container
reaches the outside world (PyPI, apt) and nginx, never another container's address, so nobody
skips nginx to reach an app (nginx and the checks reach web containers from the host, on the web
network: runtime/web_addresses.py). Its name carries the platform's NAMESPACE, so a test root has its own.

An app linked to a postgres service is the exception: the plugin's `--network` puts its
containers on the app's own link network instead (postgres/hooks.py), where only the services
linked to it are besides them. So is an app an admin put on a network made by `network:create`
(ops/network.py): its `initial-network` replaces the apps' network, and there, as on the networks
it joins, its containers reach the other members (never the apps of any other network).
"""

from dataclasses import replace
from typing import Optional

from minidokku.engine.client import Engine
from minidokku.errors import EngineError
from minidokku.records import resources
from minidokku.records.docker_options import DockerOptions
from minidokku.runtime import labels

NETWORK = "minidokku-apps"
NETWORK_OPTIONS = {"com.docker.network.bridge.enable_icc": "false"}
DROPPED_CAPABILITIES = ("NET_RAW", "MKNOD")  # raw sockets (ARP spoofing); device nodes (in a mounted dir)
SECURITY_OPTIONS = ("no-new-privileges",)


def network_name(namespace: str) -> str:
    return f"{namespace}{NETWORK}"


def ensure_network(engine: Engine, network: str) -> None:
    """Creates the apps' network (inter-container traffic off) unless it is there; refuses one of
    that name made otherwise (by hand, say), where containers would reach each other."""
    found = engine.ensure_network(network, {labels.NETWORK: "apps"}, NETWORK_OPTIONS)
    options = found.get("Options") or {}
    if any(options.get(name) != value for name, value in NETWORK_OPTIONS.items()):
        raise EngineError(
            f"the Docker network {network} lets containers reach each other; remove it "
            f"(docker network rm {network}) and minidokku makes it anew, with inter-container traffic off"
        )


def network_for(engine: Engine, options: DockerOptions, network: str) -> str:
    """The network a container (or a Dockerfile build's steps) joins: the options' own, else the
    apps' network, made first if need be."""
    if options.network:
        return options.network
    ensure_network(engine, network)
    return network


def container_config(config: dict, options: DockerOptions, limits: resources.Limits, network: str) -> dict:
    """The create request of an app's container: config with options merged in (on network unless
    they name one), bounded by limits, without NET_RAW and MKNOD and with no-new-privileges."""
    placed = options if options.network else replace(options, network=network)
    bounded = resources.apply(placed.apply(config), limits)
    host = dict(bounded["HostConfig"])
    host["CapDrop"] = list(dict.fromkeys([*host.get("CapDrop", []), *DROPPED_CAPABILITIES]))
    host["SecurityOpt"] = list(dict.fromkeys([*host.get("SecurityOpt", []), *SECURITY_OPTIONS]))
    return dict(bounded, HostConfig=host)


def create_container(
    engine: Engine,
    config: dict,
    options: DockerOptions,
    limits: resources.Limits,
    network: str,
    name: Optional[str] = None,
    initial: str = "",
    aliases: tuple[str, ...] = (),
) -> str:
    """Creates an app's container (container_config), making the apps' network first if it is
    used. initial: the network network:set's initial-network names (ops/network.py), to create
    it on instead unless its options name one, known there by aliases; its members may reach
    each other, so it is neither made nor checked here as the apps' network is."""
    if initial and not options.network:
        on_initial = dict(config, NetworkingConfig={"EndpointsConfig": {initial: {"Aliases": list(aliases)}}})
        return engine.create_container(container_config(on_initial, options, limits, initial), name=name)
    network_for(engine, options, network)
    return engine.create_container(container_config(config, options, limits, network), name=name)
