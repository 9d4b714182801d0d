"""runtime/swarm_scheduler.py against a fake manager engine: the service a deploy makes, how tasks
become Containers, which ids go where, and what a task that cannot start does."""

import pytest

from minidokku.errors import EngineError, NotSupported
from minidokku.records import resources
from minidokku.records.docker_options import DockerOptions
from minidokku.records.releases import Release
from minidokku.runtime import labels
from minidokku.runtime.scheduler import RETIRING, UPCOMING, Container
from minidokku.runtime.swarm_scheduler import (
    MAX_SERVICE_NAME,
    STATE,
    SWARM_ID,
    SwarmScheduler,
    _restart_policy,
    _service_name,
    node_address,
)

APP = "t-cat"
IMAGE = "127.0.0.1:5000/dokku/t-cat@sha256:" + "a" * 64
RELEASE = Release(number=3, sha="", image_id=IMAGE, processes={"web": "httpd"}, description="", created=0.0, config={})
LIMITS = resources.Limits(nano_cpus=1_000_000_000, memory=512 * 1024 * 1024, pids=512)
NODES = [{"ID": "n1", "Status": {"Addr": "10.0.0.1"}}, {"ID": "n2", "Status": {"Addr": "10.0.0.2"}}]


class FakeManager:
    """A manager engine: services and tasks as the Engine API describes them."""

    def __init__(self, task_state: str = "running", task_error: str = ""):
        self.services: dict[str, dict] = {}
        self.tasks: list[dict] = []
        self.removed: list[str] = []
        self.auths: list[str] = []
        self.task_state, self.task_error = task_state, task_error
        self.networks: set[str] = set()

    def nodes(self):
        return NODES

    def ensure_network(self, name: str, wanted: dict, driver: str) -> None:
        assert driver == "overlay"
        self.networks.add(name)

    def create_service(self, spec: dict, auth: str) -> str:
        service_id = f"s{len(self.services) + 1}"
        self.services[service_id] = {"ID": service_id, "Spec": spec, "Version": {"Index": 1}}
        self.auths.append(auth)
        for slot in range(1, spec["Mode"]["Replicated"]["Replicas"] + 1):
            self.tasks.append(
                {
                    "ID": f"{service_id}t{slot}",
                    "ServiceID": service_id,
                    "Slot": slot,
                    "NodeID": NODES[(slot - 1) % 2]["ID"],
                    "CreatedAt": f"2026-12-03T00:00:0{slot}Z",
                    "DesiredState": "running",
                    "Status": {
                        "State": self.task_state,
                        "Err": self.task_error,
                        "PortStatus": {
                            "Ports": [
                                {"TargetPort": 5000, "PublishedPort": 30000 + slot, "PublishMode": "host"},
                                {"TargetPort": 5000, "PublishedPort": 30000 + slot, "PublishMode": "host"},
                            ]
                        },
                    },
                }
            )
        return service_id

    def inspect_service(self, service_id: str) -> dict:
        return self.services[service_id]

    def update_service(self, service_id: str, version: int, spec: dict) -> None:
        assert version == self.services[service_id]["Version"]["Index"]
        self.services[service_id]["Spec"] = spec
        self.services[service_id]["Version"]["Index"] += 1

    def list_services(self, wanted: dict) -> list[dict]:
        return [s for s in self.services.values() if all(s["Spec"]["Labels"].get(k) == v for k, v in wanted.items())]

    def list_tasks(self, filters: dict) -> list[dict]:
        found = [t for t in self.tasks if t["ServiceID"] in filters["service"]]
        if "desired-state" in filters:
            found = [t for t in found if t["DesiredState"] in filters["desired-state"]]
        return found

    def inspect_task(self, task_id: str) -> dict:
        return next(t for t in self.tasks if t["ID"] == task_id)

    def remove_service(self, service_id: str) -> None:
        self.removed.append(service_id)
        self.services.pop(service_id, None)
        self.tasks = [t for t in self.tasks if t["ServiceID"] != service_id]


class FakeLocal:
    """The local scheduler: what the swarm one hands on to it."""

    def __init__(self, containers=()):
        self.local = list(containers)
        self.retired: list[list[str]] = []

    def containers(self, app):
        return list(self.local)

    def retire(self, ids, grace=10):
        self.retired.append(list(ids))

    def mark_retiring(self, containers):
        pass

    def settle_names(self, containers):
        assert not containers, "a task was handed to the local scheduler"


def start(scheduler: SwarmScheduler, count: int = 2, options: DockerOptions = None, **settings) -> list[Container]:
    return scheduler.start_dynos(
        APP,
        settings.pop("release", RELEASE),
        "web",
        count,
        lambda index: options or DockerOptions(),
        limits=LIMITS,
        command=None,
        **settings,
    )


def test_a_process_type_is_one_service_of_its_scale_run_by_digest_published_on_its_nodes():
    manager = FakeManager()
    scheduler = SwarmScheduler(manager, FakeLocal(), sleep=lambda _: None)
    started = start(scheduler, credentials=("bot", "token"))
    (service,) = manager.services.values()
    spec = service["Spec"]
    assert spec["Mode"] == {"Replicated": {"Replicas": 2}}
    assert spec["TaskTemplate"]["ContainerSpec"]["Image"] == IMAGE
    assert spec["EndpointSpec"] == {
        "Mode": "dnsrr",
        "Ports": [{"Protocol": "tcp", "TargetPort": 5000, "PublishMode": "host"}],
    }
    assert spec["UpdateConfig"]["Order"] == "start-first"
    assert spec["Labels"][labels.APP] == APP and spec["Labels"][labels.RELEASE] == "v3"
    assert spec["TaskTemplate"]["Resources"]["Limits"] == {
        "MemoryBytes": LIMITS.memory,
        "NanoCPUs": LIMITS.nano_cpus,
        "Pids": 512,
    }
    assert manager.auths[0], "the nodes were given no credentials to pull with"
    # kept apart as a local container is: its own network, no raw sockets, a rotated log
    assert spec["TaskTemplate"]["Networks"] == [{"Target": "t-cat-swarm"}] and manager.networks == {"t-cat-swarm"}
    assert set(spec["TaskTemplate"]["ContainerSpec"]["CapabilityDrop"]) >= {"NET_RAW", "MKNOD"}
    assert spec["TaskTemplate"]["LogDriver"] == {"Name": "json-file", "Options": {"max-size": "10m", "max-file": "3"}}
    assert spec["TaskTemplate"]["RestartPolicy"] == {"Condition": "on-failure", "Delay": 10**9, "MaxAttempts": 10}
    assert [(c.name.split(UPCOMING)[0], c.reached_at(), c.running) for c in started] == [
        (f"{APP}.web.1", ("10.0.0.1", 30001), True),
        (f"{APP}.web.2", ("10.0.0.2", 30002), True),
    ]
    assert all(c.elsewhere and c.id.startswith(SWARM_ID) for c in started)


def test_config_braces_reach_the_app_as_text_and_the_dyno_is_the_tasks_slot():
    manager = FakeManager()
    release = Release(
        number=1, sha="", image_id=IMAGE, processes={"web": "x"}, description="", created=0.0,
        config={"GREETING": "{{.Node.Hostname}} hi"},
    )  # fmt: skip
    start(SwarmScheduler(manager, FakeLocal(), sleep=lambda _: None), 1, release=release)
    env = next(iter(manager.services.values()))["Spec"]["TaskTemplate"]["ContainerSpec"]["Env"]
    assert 'GREETING={{"{{"}}.Node.Hostname}} hi' in env
    assert "DYNO=web.{{.Task.Slot}}" in env and "PORT=5000" in env


def test_a_task_that_cannot_start_fails_the_start_with_the_nodes_reason_and_its_service_goes():
    manager = FakeManager(task_state="rejected", task_error="No such image: 127.0.0.1:5000/dokku/t-cat@sha256:aaa")
    with pytest.raises(EngineError, match="No such image"):
        start(SwarmScheduler(manager, FakeLocal(), sleep=lambda _: None))
    assert manager.removed == ["s1"] and not manager.services


@pytest.mark.parametrize(
    "options, refused",
    [(DockerOptions(binds=["/srv/data:/data"]), "-v"), (DockerOptions(network="host"), "--network")],
)
def test_docker_options_that_mean_this_host_are_refused_before_anything_starts(options, refused):
    manager = FakeManager()
    with pytest.raises(NotSupported, match=refused):
        start(SwarmScheduler(manager, FakeLocal(), sleep=lambda _: None), options=options)
    assert not manager.services


def test_names_follow_the_services_state_and_retire_removes_services_and_hands_local_ids_on():
    manager = FakeManager()
    local_container = Container(id="abc123", name=f"{APP}.web.1", process_type="web", host_port=None)
    local = FakeLocal([local_container])
    scheduler = SwarmScheduler(manager, local, sleep=lambda _: None)
    started = start(scheduler)
    scheduler.settle_names(started)
    assert [c.name for c in scheduler.containers(APP)] == [f"{APP}.web.1", f"{APP}.web.2", f"{APP}.web.1"]
    scheduler.mark_retiring(started)
    assert manager.services["s1"]["Spec"]["Labels"][STATE] == "retiring"
    assert all(RETIRING in c.name for c in scheduler.containers(APP)[:2])
    scheduler.retire([c.id for c in scheduler.containers(APP)])
    assert manager.removed == ["s1"] and local.retired == [["abc123"]]


def test_a_service_name_stays_within_swarms_limit():
    name = _service_name("a" * 60, "worker_queue", "abcdef")
    assert len(name) <= MAX_SERVICE_NAME and name.endswith("-abcdef")


def test_a_task_the_swarm_replaced_is_still_its_slot_and_a_service_goes_only_whole():
    manager = FakeManager()
    scheduler = SwarmScheduler(manager, FakeLocal(), sleep=lambda _: None)
    first, second = start(scheduler)
    scheduler.retire([first.id])  # web.2 is kept (ps:restore's stray web.1 alone): the service stays
    assert manager.removed == []
    crashed = manager.tasks[0]
    crashed["DesiredState"] = "shutdown"
    manager.tasks.append(dict(crashed, ID="s1t1b", DesiredState="running", CreatedAt="2026-12-03T00:01:00Z"))
    scheduler.retire([first.id, second.id])  # as listed before web.1 was replaced: the whole service
    assert manager.removed == ["s1"]


@pytest.mark.parametrize(
    "node, address",
    [
        ({"Status": {"Addr": "10.0.0.7"}}, "10.0.0.7"),
        ({"Status": {"Addr": "0.0.0.0"}, "ManagerStatus": {"Addr": "10.0.0.1:2377"}}, "10.0.0.1"),
        ({"Status": {"Addr": "fd00::1"}}, ""),
        ({"Status": {}}, ""),
    ],
)
def test_a_nodes_address_is_an_ipv4_one_nginx_can_use(node, address):
    assert node_address(node) == address


@pytest.mark.parametrize(
    "policy, expected",
    [
        ({"Name": ""}, {"Condition": "none"}),
        ({"Name": "on-failure", "MaximumRetryCount": 3}, {"Condition": "on-failure", "MaxAttempts": 3}),
        ({"Name": "on-failure"}, {"Condition": "on-failure"}),
        ({"Name": "always"}, {"Condition": "any"}),
        ({"Name": "unless-stopped"}, {"Condition": "any"}),
    ],
)
def test_a_restart_policy_is_the_swarms_own(policy, expected):
    assert _restart_policy(policy) == dict(expected, Delay=10**9)
