"""The network namespace an app's builds share (runtime/build_network.py), without Docker: which
builds join the app's holder, when a holder is started, replaced or removed, and that nothing
removes one while a build of the app may be in it."""

import fcntl
import os

import pytest

from minidokku.errors import EngineError, EngineNotFound
from minidokku.records.docker_options import DockerOptions
from minidokku.runtime import at_once, build_network, isolation, labels, namespace_holder

APP = "ns-catmeow"
NETWORK = "ns-minidokku-apps"
STACK = "minidokku/stack:latest"
HOLDER = build_network.holder_name(APP)


class HolderEngine:
    """Containers by name, as the engine inspects them; records what was created and removed."""

    def __init__(self):
        self.containers: dict[str, dict] = {}
        self.created: list[dict] = []
        self.removed: list[str] = []
        self.refuse_create = False
        self.refuse_starts = 0  # the next starts the engine refuses

    def put(self, name: str, running: bool = True, networks=(NETWORK,), marked: str = APP, identity=None) -> dict:
        found = {
            "Id": f"id-{name}",
            "Name": f"/{name}",
            "State": {"Running": running},
            "Config": {"Labels": {labels.BUILD_NETWORK: marked} if marked else {}},
            "NetworkSettings": {"Networks": {network: {} for network in networks}},
            "HostsPath": f"/var/lib/docker/containers/id-{name}/hosts",
            "ResolvConfPath": f"/var/lib/docker/containers/id-{name}/resolv.conf",
            "HostnamePath": f"/var/lib/docker/containers/id-{name}/hostname",
        }
        if identity:
            found["Config"]["Labels"][labels.BUILD_NETWORK_ID] = identity
        self.containers[name] = found
        return found

    def inspect_container(self, name: str) -> dict:
        for found in self.containers.values():
            if name in (found["Id"], found["Name"].lstrip("/")):
                return found
        raise EngineNotFound(f"no such container: {name}", 404)

    def remove_container(self, container_id: str, force: bool = True) -> None:
        name = self.inspect_container(container_id)["Name"].lstrip("/")
        del self.containers[name]
        self.removed.append(name)

    def ensure_network(self, name, network_labels, options, driver="bridge") -> dict:
        return {"Name": name, "Options": dict(isolation.NETWORK_OPTIONS)}

    def create_container(self, config: dict, name: str) -> str:
        if self.refuse_create:
            raise EngineError("the engine refused", 500)
        self.created.append(dict(config, name=name))
        found = self.put(name, running=False, networks=(config["HostConfig"]["NetworkMode"],))
        found["Config"]["Labels"] = config["Labels"]
        return found["Id"]

    def start_container(self, container_id: str) -> None:
        if self.refuse_starts:
            self.refuse_starts -= 1
            raise EngineError("OCI runtime start failed: container process is already dead: unknown", 500)
        self.inspect_container(container_id)["State"]["Running"] = True


@pytest.fixture
def lock(tmp_path):
    return tmp_path / APP / build_network.LOCK


def identity(lock) -> str:
    """The app's build network ID (made by its first build)."""
    return (lock.parent / build_network.ID).read_text().strip()


def with_identity(lock, value: str = "1d" * 16) -> str:
    lock.parent.mkdir(exist_ok=True)
    (lock.parent / build_network.ID).write_text(value + "\n")
    return value


def build(engine, lock, options=None) -> DockerOptions:
    """What a build of the app is made with; the holder a build that found none started is there
    when it returns (its thread waits for the hold to let go, as a deploy's)."""
    with at_once.holding_back():
        with build_network.joined(engine, APP, lock, options or DockerOptions(), NETWORK, STACK) as placed:
            return placed


def test_the_first_build_gets_a_namespace_of_its_own_and_starts_the_holder_for_the_next(lock):
    engine = HolderEngine()
    assert build(engine, lock) == DockerOptions()
    [created] = engine.created
    assert created["name"] == HOLDER and created["Image"] == STACK
    assert created["Labels"] == {labels.BUILD_NETWORK: APP, labels.BUILD_NETWORK_ID: identity(lock)}
    assert len(identity(lock)) == 32
    assert labels.APP not in created["Labels"], "it would count as one of the app's containers"
    host = created["HostConfig"]
    assert host["NetworkMode"] == NETWORK
    assert "ALL" in host["CapDrop"] and host["ReadonlyRootfs"] and host["Init"]
    assert host["Memory"] == namespace_holder.LIMITS.memory and host["PidsLimit"] == 4
    assert "no-new-privileges" in host["SecurityOpt"]
    assert engine.containers[HOLDER]["State"]["Running"]


def test_the_next_build_joins_the_running_holder_and_marks_its_use(lock):
    engine = HolderEngine()
    engine.put(HOLDER, identity=with_identity(lock))
    lock.touch()
    os.utime(lock, (1, 1))
    placed = build(engine, lock, DockerOptions(binds=["/etc/ssl/certs/ca-certificates.crt:/ca:ro"]))
    assert placed.network == f"container:id-{HOLDER}"
    kept = f"/var/lib/docker/containers/id-{HOLDER}"
    assert placed.binds == [
        "/etc/ssl/certs/ca-certificates.crt:/ca:ro",  # the other options stay
        f"{kept}/hosts:/etc/hosts:ro",  # what the namespace's builds share, none may change for the next
        f"{kept}/resolv.conf:/etc/resolv.conf:ro",
        f"{kept}/hostname:/etc/hostname:ro",
    ]
    assert engine.created == [] and engine.removed == []
    assert lock.stat().st_mtime > 1, "the use was not marked: the holder would be removed as idle"


@pytest.mark.parametrize(
    "options",
    [
        DockerOptions(network="host"),
        DockerOptions(network="none"),
        DockerOptions(extra_hosts=["db:10.0.0.2"]),
        DockerOptions(restart={"Name": "always"}),
        DockerOptions(binds=["/srv/resolv.conf:/etc/resolv.conf:ro"]),  # the engine refuses a second one there
        DockerOptions(binds=["/srv/hosts:/etc/./hosts"]),
    ],
)
def test_a_build_whose_options_name_a_network_or_hosts_is_made_as_they_say(lock, options):
    engine = HolderEngine()
    engine.put(HOLDER)
    assert build(engine, lock, options) == options
    assert engine.created == [] and not lock.exists()


@pytest.mark.parametrize(
    "holder",
    [
        {"running": False},
        {"networks": (NETWORK, "ns-dokku.postgres.links.catmeow")},
        {"networks": ("bridge",)},
    ],
)
def test_a_holder_that_ended_or_is_on_another_network_is_replaced_not_joined(lock, holder):
    engine = HolderEngine()
    engine.put(HOLDER, identity=with_identity(lock), **holder)
    assert build(engine, lock) == DockerOptions()
    assert engine.removed == [HOLDER]
    assert [created["name"] for created in engine.created] == [HOLDER]
    assert engine.containers[HOLDER]["NetworkSettings"]["Networks"] == {NETWORK: {}}


def test_the_holder_of_an_app_that_had_the_name_before_is_replaced_not_joined(lock):
    """Destroyed, or renamed half-way: its builds may have been another tenant's."""
    engine = HolderEngine()
    engine.put(HOLDER, identity="0ld")
    assert build(engine, lock) == DockerOptions()
    assert engine.removed == [HOLDER]
    assert engine.containers[HOLDER]["Config"]["Labels"][labels.BUILD_NETWORK_ID] == identity(lock) != "0ld"


@pytest.mark.parametrize("found", ["", "1d\n", "not an id at all"])
def test_an_id_file_a_killed_build_left_short_is_made_again(lock, found):
    engine = HolderEngine()
    with_identity(lock, found)
    build(engine, lock)
    assert len(identity(lock)) == 32 and identity(lock) != found.strip()
    assert sorted(path.name for path in lock.parent.iterdir()) == [build_network.ID, build_network.LOCK]
    assert build(engine, lock).network == f"container:id-{HOLDER}", "the made ID is kept"


def test_a_holder_whose_files_the_engine_does_not_name_is_not_joined(lock):
    """The build would get the holder's hosts file writable, as the engine mounts it by default."""
    engine = HolderEngine()
    del engine.put(HOLDER, identity=with_identity(lock))["ResolvConfPath"]
    assert build(engine, lock) == DockerOptions()
    assert engine.created == [] and HOLDER in engine.containers


def test_the_apps_id_is_kept_from_build_to_build(lock):
    engine = HolderEngine()
    build(engine, lock)
    made = identity(lock)
    assert build(engine, lock).network == f"container:id-{HOLDER}"
    assert identity(lock) == made and len(engine.created) == 1


@pytest.mark.parametrize("marked", ["", "ns-other-app"])
def test_a_container_of_that_name_not_made_as_the_apps_holder_is_neither_joined_nor_removed(lock, marked):
    engine = HolderEngine()
    engine.put(HOLDER, marked=marked)
    engine.refuse_create = True  # the name is taken
    assert build(engine, lock) == DockerOptions()
    assert engine.removed == [] and HOLDER in engine.containers


def test_no_holder_is_started_while_another_build_of_the_app_is_in_one(lock):
    engine = HolderEngine()
    lock.parent.mkdir()
    with open(lock, "a") as other_build:
        fcntl.flock(other_build, fcntl.LOCK_SH)
        assert build(engine, lock) == DockerOptions()
    assert engine.created == []


def test_a_refused_start_fails_no_build(lock):
    engine = HolderEngine()
    engine.refuse_create = True
    assert build(engine, lock) == DockerOptions()
    assert engine.containers == {}


def test_a_holder_the_engine_did_not_start_is_made_again_once(lock):
    engine = HolderEngine()
    engine.refuse_starts = 1
    assert build(engine, lock) == DockerOptions()
    assert [created["name"] for created in engine.created] == [HOLDER, HOLDER]
    assert engine.removed == [HOLDER], "the dead one is not left behind"
    assert engine.containers[HOLDER]["State"]["Running"]


def test_a_holder_the_engine_keeps_refusing_is_left_for_the_next_build(lock):
    engine = HolderEngine()
    engine.refuse_starts = build_network.STARTS
    assert build(engine, lock) == DockerOptions()
    assert len(engine.created) == build_network.STARTS
    assert not engine.containers[HOLDER]["State"]["Running"]
    engine.refuse_starts = 0
    assert build(engine, lock) == DockerOptions(), "a stopped holder is not joined"
    assert engine.containers[HOLDER]["State"]["Running"], "and is made again after that build"


def test_a_holder_is_not_started_for_an_app_that_went_meanwhile(tmp_path):
    """Its folder is not made again (the app would seem to exist)."""
    engine = HolderEngine()
    lock = tmp_path / APP / build_network.LOCK
    build_network._start(engine, APP, lock, NETWORK, STACK, "1d")
    assert engine.created == [] and not lock.parent.exists()


def test_a_holder_unused_for_the_idle_time_is_removed(lock):
    engine = HolderEngine()
    engine.put(HOLDER)
    lock.parent.mkdir()
    lock.touch()
    used = lock.stat().st_mtime
    assert not build_network.remove_idle(engine, APP, lock, now=used + build_network.IDLE - 1)
    assert HOLDER in engine.containers
    assert build_network.remove_idle(engine, APP, lock, now=used + build_network.IDLE + 1)
    assert engine.removed == [HOLDER]
    assert not build_network.remove_idle(engine, APP, lock, now=used + build_network.IDLE + 1), "none left"


def test_a_holder_a_build_is_in_is_never_removed_as_idle(lock):
    engine = HolderEngine()
    engine.put(HOLDER)
    lock.parent.mkdir()
    lock.touch()
    with open(lock, "a") as going_build:
        fcntl.flock(going_build, fcntl.LOCK_SH)
        assert not build_network.remove_idle(engine, APP, lock, now=lock.stat().st_mtime + 10 * build_network.IDLE)
    assert engine.removed == []


def test_only_the_apps_own_holder_is_removed(lock):
    engine = HolderEngine()
    engine.put(HOLDER, marked="ns-other-app")
    lock.parent.mkdir()
    lock.touch()
    assert not build_network.remove(engine, APP)
    assert not build_network.remove_idle(engine, APP, lock, now=lock.stat().st_mtime + 10 * build_network.IDLE)
    assert engine.removed == []
