"""What DockerScheduler asks the engine for an app's network:set networks (runtime/isolation.py,
runtime/docker_scheduler.py), without Docker: the network a container is created on, the ones it
joins before it starts and under which names, and where web publishes its port."""

from typing import Optional

import pytest
from fakes import web_network

from minidokku.records import resources
from minidokku.records.docker_options import DockerOptions
from minidokku.records.releases import Release
from minidokku.runtime import host_ports, web_addresses
from minidokku.runtime.docker_scheduler import DockerScheduler
from minidokku.runtime.scheduler import Networking, OneOff

APPS = "t-1-minidokku-apps"
LIMITS = resources.Limits(nano_cpus=0, memory=0, pids=0)
ID = "0123456789abcdef" * 4
WEB = ("connect", web_addresses.NETWORK, ())  # at the address minidokku pins (test_web_addresses.py)


class RecordingEngine:
    """Records what the scheduler asks, in order; the apps' network exists as minidokku makes it."""

    def __init__(self):
        self.calls: list[tuple] = []
        self.created: dict = {}

    def ensure_network(self, name, labels, options):
        self.calls.append(("ensure", name))
        return {"Options": dict(options)}

    def create_container(self, config, name=None):
        self.created = config
        self.calls.append(("create", config["HostConfig"]["NetworkMode"]))
        return ID

    def connect_network(self, network, container_id, aliases, address=""):
        self.calls.append(("connect", network, tuple(aliases)))

    def inspect_network(self, name):
        return web_network()

    def start_container(self, container_id):
        self.calls.append(("start",))

    def remove_container(self, container_id, force=True):
        self.calls.append(("remove",))

    def list_containers(self, wanted, all_states=True):
        return []

    def inspect_container(self, container_id):
        return {
            "Id": ID,
            "Name": "/t-1-cat.web.1",
            "Config": {"Labels": {}, "Env": ["PORT=5000"]},
            "NetworkSettings": {"Ports": {"5000/tcp": [{"HostIp": "0.0.0.0", "HostPort": "32001"}]}},
            "HostConfig": {"PortBindings": {"5000/tcp": []}},
            "State": {"Running": True},
        }


def start(networking: Networking, options: Optional[DockerOptions] = None) -> RecordingEngine:
    engine = RecordingEngine()
    release = Release(1, "sha", "sha256:one", {"web": "serve"}, "Deploy sha", 0.0)
    DockerScheduler(engine, APPS).start(
        "t-1-cat", release, "web", 1, options or DockerOptions(), limits=LIMITS, command=None, networking=networking
    )
    return engine


def test_without_network_properties_a_container_is_on_the_apps_network_and_publishes_on_loopback():
    engine = start(Networking())
    assert engine.calls == [("ensure", APPS), ("create", APPS), WEB, ("start",)]
    [binding] = engine.created["HostConfig"]["PortBindings"]["5000/tcp"]
    assert binding["HostIp"] == "127.0.0.1" and int(binding["HostPort"]) in host_ports.RANGE


def test_attach_post_create_networks_are_joined_before_the_start_with_dokkus_aliases():
    engine = start(Networking("", ("t-1-backend", "t-1-cache"), ("cat.web",)))
    assert engine.calls == [
        ("ensure", APPS),
        ("create", APPS),
        WEB,
        ("connect", "t-1-backend", ("cat.web", "0123456789ab.cat.web")),
        ("connect", "t-1-cache", ("cat.web", "0123456789ab.cat.web")),
        ("start",),
    ]


def test_the_initial_network_replaces_the_apps_network_which_is_neither_made_nor_checked():
    engine = start(Networking("t-1-backend", ("t-1-cache",), ("cat.web",)))
    assert engine.calls[:3] == [
        ("create", "t-1-backend"),
        WEB,
        ("connect", "t-1-cache", ("cat.web", "0123456789ab.cat.web")),
    ]
    assert engine.created["NetworkingConfig"] == {"EndpointsConfig": {"t-1-backend": {"Aliases": ["cat.web"]}}}
    assert "NET_RAW" in engine.created["HostConfig"]["CapDrop"]


def test_where_docker_options_name_a_network_the_initial_one_is_joined_after_the_creation():
    engine = start(Networking("t-1-backend", ("t-1-backend",), ("cat.web",)), DockerOptions(network="t-1-link"))
    assert engine.calls == [
        ("create", "t-1-link"),
        WEB,
        ("connect", "t-1-backend", ("cat.web", "0123456789ab.cat.web")),  # once
        ("start",),
    ]


def test_bind_all_interfaces_publishes_web_on_every_interface():
    engine = start(Networking(all_interfaces=True))
    [binding] = engine.created["HostConfig"]["PortBindings"]["5000/tcp"]
    assert binding["HostIp"] == "" and int(binding["HostPort"]) in host_ports.RANGE


def test_a_container_whose_join_fails_is_removed_and_never_started():
    engine = RecordingEngine()

    def refuse(network, container_id, aliases):
        raise RuntimeError("no such network")

    engine.connect_network = refuse
    one_off = OneOff("run.1234", "image", ["true"], {}, DockerOptions(), LIMITS, False, 60, Networking("", ("gone",)))
    with pytest.raises(RuntimeError, match="no such network"):
        DockerScheduler(engine, APPS).run_detached("t-1-cat", one_off, at_most=5)
    assert engine.calls == [("ensure", APPS), ("create", APPS), ("remove",)]
