"""The PostgreSQL service image on the real engine: made from Debian's package when no registry
answers (as on these machines), refused by name for a version Debian does not ship, and run the
way the official image is run: a named volume on PGDATA, POSTGRES_PASSWORD and POSTGRES_DB, clients
on a user-defined network, rows kept across a restart, the password on no command line."""

import secrets
import subprocess
import threading
import time
from dataclasses import dataclass
from typing import Optional

import pytest
from helpers import BUILD_NETWORK_OPTION

from minidokku.errors import MinidokkuError, ValidationError
from minidokku.output import RecordingOutput
from minidokku.plugins.postgres import image
from minidokku.records import docker_options
from minidokku.records.docker_options import DockerOptions
from minidokku.settings import STACK_REPOSITORY

# It untags and rebuilds the one PostgreSQL image every platform's postgres:create uses, and counts
# the build containers of the whole engine: nothing else may make or use that image meanwhile.
pytestmark = pytest.mark.serial
VERSION = "15"
ALIAS = "catdb-server"
PASSWORD = secrets.token_hex(16)
BUILD_OPTIONS = docker_options.parse([BUILD_NETWORK_OPTION])
BUILD_STEP = f"-----> Building the PostgreSQL {VERSION} image from Debian's package (no registry answers)"
# each process's argv, read inside the container (the image has no ps)
CONTAINER_ARGV = ["/bin/sh", "-c", 'for f in /proc/[0-9]*/cmdline; do tr "\\0" " " <"$f"; echo; done']


@dataclass
class Built:
    reference: str
    lines: list[str]
    seconds: float
    offline_failure: str
    leftovers: list[str]


@pytest.fixture(scope="module")
def built(engine) -> Built:
    """The image, made afresh once for this module (a previous one is untagged first, so the build
    is what is tested) and kept after, as the stack image is. Before it, one attempt with no
    network fails, to see what a failed build leaves."""
    reference = image.image_reference(VERSION)
    if engine.image_exists(reference):
        engine.remove_image(reference, force=True)  # only untags it while a container still runs it
    with pytest.raises(MinidokkuError) as offline:
        image.ensure_image(engine, RecordingOutput(), VERSION, DockerOptions(network="none"))
    out = RecordingOutput()
    started = time.monotonic()
    assert image.ensure_image(engine, out, VERSION, BUILD_OPTIONS) == reference
    return Built(reference, out.lines, time.monotonic() - started, str(offline.value), build_containers(engine))


def build_containers(engine) -> list[str]:
    """Containers of a PostgreSQL image build (from the stack, installing Debian's package)."""
    return [
        container["Id"]
        for container in engine.list_containers({})
        if container["Image"] == f"{STACK_REPOSITORY}:latest" and "postgresql-common" in container["Command"]
    ]


def test_the_image_is_built_from_debians_package_and_runs_the_official_contract(engine, built):
    assert built.lines[0] == BUILD_STEP
    assert any("Setting up postgresql-15" in line for line in built.lines)
    config = engine.inspect_image(built.reference)["Config"]
    assert config["Entrypoint"] == [image.ENTRYPOINT_PATH] and config["Cmd"] == ["postgres"]
    assert "PGDATA=/var/lib/postgresql/data" in config["Env"]
    assert list(config["ExposedPorts"]) == ["5432/tcp"]
    assert built.leftovers == []


def test_a_failed_build_says_its_exit_status_and_leaves_no_container_or_image(engine, built):
    assert built.offline_failure == "installing Debian's postgresql-15 failed (exit 100)"
    assert built.leftovers == []


def test_a_second_call_finds_the_image_without_building(engine, built):
    out = RecordingOutput()
    started = time.monotonic()
    assert image.ensure_image(engine, out, VERSION, BUILD_OPTIONS) == built.reference
    assert time.monotonic() - started < 1
    assert out.lines == []


def test_a_version_debian_does_not_ship_is_refused_naming_15_and_leaves_nothing(engine, built):
    out = RecordingOutput()
    with pytest.raises(ValidationError) as refused:
        image.ensure_image(engine, out, "9", BUILD_OPTIONS)
    assert str(refused.value) == (
        "postgres 9 cannot be pulled (no registry answers) and Debian bookworm ships only 15; use --image-version 15"
    )
    assert out.lines == []
    assert not engine.image_exists(image.image_reference("9"))
    assert build_containers(engine) == []


# -- running it -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def network(engine) -> str:
    name = f"minidokku-test-pg-{secrets.token_hex(3)}"
    network_id = engine.create_network(name, {})
    yield name
    engine.remove_network(network_id)


@dataclass
class Server:
    container: str
    host_argv_during_start: list[str]


@pytest.fixture(scope="module")
def server(engine, built, network) -> Server:
    """catdb's server on a fresh named volume, ready; the host's process listing is sampled all
    through its first start (initdb, createdb), when a password could reach a command line."""
    volume = f"{network}-data"
    engine.create_volume(volume, {})
    container: Optional[str] = None
    try:
        container = engine.create_container(
            {
                "Image": built.reference,
                "Env": [f"POSTGRES_PASSWORD={PASSWORD}", "POSTGRES_DB=catdb"],
                "HostConfig": {"Binds": [f"{volume}:{image.PGDATA}"], "NetworkMode": network},
                "NetworkingConfig": {"EndpointsConfig": {network: {"Aliases": [ALIAS]}}},
            }
        )
        with HostArgvSampler() as sampler:
            engine.start_container(container)
            wait_until_ready(engine, container)
        yield Server(container, sampler.samples)
    finally:
        if container:
            engine.remove_container(container, force=True)
        engine.remove_volume(volume)


class HostArgvSampler:
    """Runs the host's `ps -eo args` over and over in a thread, keeping every listing."""

    def __init__(self) -> None:
        self.samples: list[str] = []
        self.done = threading.Event()
        self.thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        while not self.done.is_set():
            self.samples.append(host_argv())

    def __enter__(self) -> "HostArgvSampler":
        self.thread.start()
        return self

    def __exit__(self, *_exc) -> None:
        self.done.set()
        self.thread.join()


def host_argv() -> str:
    return subprocess.run(["ps", "-eo", "args"], capture_output=True, text=True, check=True).stdout


def exec_in(engine, container: str, argv: list[str]) -> tuple[int, str]:
    exec_id = engine.create_exec(container, argv, tty=False)
    with engine.start_exec(exec_id, tty=False) as stream:
        stream.close_stdin()
        output = b"".join(data for _stream, data in stream.output())
    return engine.inspect_exec(exec_id)["ExitCode"], output.decode()


def wait_until_ready(engine, container: str, timeout: float = 60) -> None:
    """Ready once it answers on TCP: the first start's temporary server listens on its socket only."""
    deadline = time.monotonic() + timeout
    while exec_in(engine, container, ["pg_isready", "-q", "-h", "127.0.0.1"])[0] != 0:
        if time.monotonic() > deadline or not engine.inspect_container(container)["State"]["Running"]:
            logs = "\n".join(line for _stream, line in engine.container_logs(container))
            raise AssertionError(f"PostgreSQL is not ready:\n{logs}")
        time.sleep(0.1)


def psql(engine, built: Built, network: str, sql: str, password: str = PASSWORD) -> tuple[int, list[str]]:
    """Runs sql from a client container on the network (the password in its environment); returns
    its exit status and output lines."""
    container = engine.create_container(
        {
            "Image": built.reference,
            "Cmd": ["psql", f"postgres://postgres@{ALIAS}:5432/catdb", "-v", "ON_ERROR_STOP=1", "-tAc", sql],
            "Env": [f"PGPASSWORD={password}"],
            "HostConfig": {"NetworkMode": network},
        }
    )
    try:
        engine.start_container(container)
        status = engine.wait_container(container)
        return status, [line for _stream, line in engine.container_logs(container)]
    finally:
        engine.remove_container(container, force=True)


def test_a_client_on_the_network_stores_and_reads_rows_in_catdb(engine, built, network, server):
    assert psql(engine, built, network, "CREATE TABLE cats (name text)") == (0, ["CREATE TABLE"])
    assert psql(engine, built, network, "INSERT INTO cats VALUES ('Tom')") == (0, ["INSERT 0 1"])
    assert psql(engine, built, network, "SELECT name FROM cats") == (0, ["Tom"])


def test_a_wrong_password_is_refused(engine, built, network, server):
    status, output = psql(engine, built, network, "SELECT 1", password="not-" + PASSWORD)
    assert status == 2
    assert any('password authentication failed for user "postgres"' in line for line in output)


def test_the_server_runs_as_postgres_and_rows_survive_a_restart(engine, built, network, server):
    assert psql(engine, built, network, "CREATE TABLE dreams (what text)") == (0, ["CREATE TABLE"])
    assert psql(engine, built, network, "INSERT INTO dreams VALUES ('meow')") == (0, ["INSERT 0 1"])
    engine.stop_container(server.container)
    engine.start_container(server.container)
    wait_until_ready(engine, server.container)
    assert psql(engine, built, network, "SELECT what FROM dreams") == (0, ["meow"])
    assert exec_in(engine, server.container, ["stat", "-c", "%U", "/proc/1"]) == (0, "postgres\n")


def test_the_password_is_on_no_command_line(engine, server):
    # the samples did see the first start's initialisation, so their silence means something
    assert any("initdb" in sample for sample in server.host_argv_during_start)
    assert not any(PASSWORD in sample for sample in server.host_argv_during_start)
    assert PASSWORD not in host_argv()
    status, container_argv = exec_in(engine, server.container, CONTAINER_ARGV)
    assert status == 0 and "postgres -D /var/lib/postgresql/data" in container_argv
    assert PASSWORD not in container_argv
