"""DockerScheduler without Docker: it finds an app's process and one-off containers by their
labels and by the name minidokku gave them (any container may carry any label: a tenant's
Dockerfile LABEL reaches its build's RUN containers, which the engine names at random), and it
stops many containers at once, so that their graces overlap."""

import threading

import pytest

from minidokku.records import resources
from minidokku.records.docker_options import DockerOptions
from minidokku.runtime import labels
from minidokku.runtime.docker_scheduler import DockerScheduler
from minidokku.runtime.scheduler import AtCapacity, OneOff

VICTIM = "t-1-victim"


class LabelledEngine:
    """The engine's container list, filtered by labels as the Engine API does."""

    def __init__(self):
        self.found: dict[str, dict] = {}

    def add(self, container_id: str, name: str, role: str) -> None:
        self.found[container_id] = {
            "Id": container_id,
            "Names": [f"/{name}"],
            "State": "running",
            "Labels": {labels.APP: VICTIM, labels.ROLE: role, labels.PROCESS_TYPE: "web"},
        }

    def list_containers(self, wanted: dict[str, str], all_states: bool = True) -> list[dict]:
        return [e for e in self.found.values() if all(e["Labels"].get(k) == v for k, v in wanted.items())]

    def inspect_container(self, container_id: str) -> dict:
        entry = self.found[container_id]
        return {
            "Id": container_id,
            "Name": entry["Names"][0],
            "Config": {"Labels": entry["Labels"], "Env": []},
            "NetworkSettings": {"Ports": {}},
            "HostConfig": {},
            "State": {"Running": True, "ExitCode": entry.get("ExitCode", 0)},
            "RestartCount": entry.get("RestartCount", 0),
        }

    def create_container(self, config: dict, name: str) -> str:
        self.add(name, name, config["Labels"][labels.ROLE])
        return name

    def remove_container(self, container_id: str, force: bool = True) -> None:
        del self.found[container_id]


def scheduler_with_forged_containers() -> tuple[DockerScheduler, LabelledEngine]:
    engine = LabelledEngine()
    engine.add("p1", f"{VICTIM}.web.1", "process")
    engine.add("r1", f"{VICTIM}.run.1234", "run")
    engine.add("forged-process", "eager_euler", "process")  # a tenant's build step, its labels forged
    engine.add("forged-run", "quirky_hopper", "run")
    engine.add("linked", f"/{VICTIM}.web.1/alias", "run")  # a legacy link's alias names no container
    return DockerScheduler(engine, "apps"), engine


def test_a_container_labelled_as_an_apps_process_but_not_named_for_it_is_not_one():
    scheduler, _ = scheduler_with_forged_containers()
    assert [c.id for c in scheduler.containers(VICTIM)] == ["p1"]
    assert [c.id for c in scheduler.running(VICTIM)] == ["p1"]


def test_a_container_labelled_as_an_apps_one_off_but_not_named_for_it_is_not_one():
    scheduler, _ = scheduler_with_forged_containers()
    assert [c.id for c in scheduler.run_containers(VICTIM)] == ["r1"]


def test_forged_one_offs_take_no_place_of_the_apps():
    scheduler, engine = scheduler_with_forged_containers()
    limits = resources.Limits(nano_cpus=0, memory=0, pids=0)
    one_off = OneOff("run.5678", "image", ["true"], {}, DockerOptions(network="none"), limits, False, 60)
    engine.start_container = lambda container_id: None
    assert scheduler.run_detached(VICTIM, one_off, at_most=2) == f"{VICTIM}.run.5678"
    other = OneOff("run.9999", "image", ["true"], {}, DockerOptions(network="none"), limits, False, 60)
    with pytest.raises(AtCapacity):
        scheduler.run_detached(VICTIM, other, at_most=2)


class SlowToStopEngine(LabelledEngine):
    """Each stop returns only once every other one has begun: one after another, they never do."""

    def __init__(self, count: int):
        super().__init__()
        self.everyone_stopping = threading.Barrier(count, timeout=5)
        self.removed: list[str] = []

    def stop_container(self, container_id: str, timeout: int = 10) -> None:
        self.everyone_stopping.wait()

    def remove_container(self, container_id: str, force: bool = True) -> None:
        self.removed.append(container_id)


def test_containers_stop_at_once_each_with_the_grace():
    engine = SlowToStopEngine(3)
    for number in (1, 2, 3):
        engine.add(f"p{number}", f"{VICTIM}.web.{number}", "process")
    scheduler = DockerScheduler(engine, "apps")
    scheduler.stop(scheduler.containers(VICTIM), grace=600)


def test_containers_retire_at_once():
    engine = SlowToStopEngine(3)
    for number in (1, 2, 3):
        engine.add(f"r{number}", f"{VICTIM}.run.{number}", "run")
    DockerScheduler(engine, "apps").retire(["r1", "r2", "r3"], grace=600)
    assert sorted(engine.removed) == ["r1", "r2", "r3"]


def test_a_container_the_engine_restarted_since_it_was_described_is_not_running():
    """A crash its restart policy hid between two polls still counts: the engine's restart
    count grew; one restarted before it was described (checks:run) runs."""
    scheduler, engine = scheduler_with_forged_containers()
    engine.found["p1"]["RestartCount"] = 2
    [described] = scheduler.containers(VICTIM)
    assert scheduler.is_running(described) == (True, 0)
    engine.found["p1"].update(RestartCount=3, ExitCode=124)
    assert scheduler.is_running(described) == (False, 124)
