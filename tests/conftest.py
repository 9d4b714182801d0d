"""Shared fixtures: real parts started on loopback for the tests that need them.

- `engine`: the Docker engine (started by `make test` / .ci/run) and the stack image.
- `platform`: a minidokku root in a temp dir, wired to its own nginx on a loopback port.
- `sshd` (tests/e2e): a real sshd on a loopback port whose keys force minidokku.
Everything a test creates is removed by id at the end.

`make test` runs the Docker layers on several processes (pytest-xdist, a test file per process at a
time), so a test shares the engine with others: it names what it makes after its platform's
NAMESPACE (or a random name), uses ports from free_port, and counts only what carries its own
labels. A test that cannot (it restarts dockerd, or remakes an image others use) is marked
`serial`; those run before, alone, and a parallel worker refuses them.
"""

import os
import secrets
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from helpers import BUILD_NETWORK_OPTION, dokku_program, free_port, git, parent_of, read_process_files, wait_for_port

from minidokku.engine.client import Engine
from minidokku.plugins.postgres import records as postgres_records
from minidokku.records import envfile
from minidokku.runtime import isolation
from minidokku.settings import STACK_REPOSITORY
from minidokku.state import Store


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item) -> None:
    """A `serial` test fails, before any fixture, in a pytest-xdist worker: it would restart dockerd
    (or remake a shared image) under the tests of the other workers."""
    if item.get_closest_marker("serial") and "PYTEST_XDIST_WORKER" in os.environ:
        pytest.fail("marked serial: run it alone (`pytest -m serial`), not with -n", pytrace=False)


@pytest.fixture(scope="session")
def engine() -> Engine:
    engine = Engine()
    if not engine.ping():
        pytest.fail("no Docker engine answers on /var/run/docker.sock: run `make test`, which starts one")
    if not engine.image_exists(f"{STACK_REPOSITORY}:latest"):
        pytest.fail("the stack image is missing: run `make stack` (dokku stack:build) first")
    return engine


@dataclass
class Platform:
    root: Path
    http_port: int
    env: dict
    https_port: int
    nginx_pid_file: Path

    def dokku(self, *args: str, input=None, check: bool = True) -> subprocess.CompletedProcess:
        """Runs dokku in this root; input (str, or bytes for binary stdin) is its stdin."""
        binary = isinstance(input, bytes)
        result = subprocess.run(
            [dokku_program(), *args], input=input, capture_output=True, text=not binary, env=self.env, check=False
        )
        if binary:
            result.stdout, result.stderr = result.stdout.decode(), result.stderr.decode()
        if check and result.returncode != 0:
            raise AssertionError(
                f"dokku {' '.join(args)} failed ({result.returncode}):\n{result.stdout}{result.stderr}"
            )
        return result

    def settings(self) -> dict:
        return envfile.parse((self.root / "SETTINGS").read_text())

    def push(self, repo: Path, app: str) -> subprocess.CompletedProcess:
        """git push over git's local transport: the same receive-pack and hook as over ssh.
        Creates the app first, as an ssh push does."""
        if not (self.root / app / "HEAD").is_file():
            self.dokku("apps:create", app)
        pushed = git(repo, "push", "-q", str(self.root / app), "HEAD:main", env=self.env, check=False)
        if pushed.returncode != 0:  # shown with a failing test's captured output (an assert cuts it short)
            sys.stderr.write(f"git push to {app} failed ({pushed.returncode}):\n{pushed.stdout}{pushed.stderr}")
        return pushed

    def nginx_workers(self) -> set[int]:
        master = self.nginx_pid_file.read_text().strip()
        return {pid for pid, stat in read_process_files("stat") if parent_of(stat) == int(master)}

    def nginx_reloading(self) -> bool:
        """True while our nginx has more than its one worker: after a reload the old worker
        (with the old config) keeps accepting connections until the master tells it to quit."""
        return len(self.nginx_workers()) > 1

    def wait_for_reload(self, workers_before: set[int], timeout: float = 5) -> None:
        """Waits until a single worker runs that was not there before: the reload is complete."""
        deadline = time.monotonic() + timeout
        while True:
            workers = self.nginx_workers()
            if len(workers) == 1 and not workers & workers_before:
                return
            if time.monotonic() > deadline:
                raise AssertionError(f"nginx did not finish reloading within {timeout} s")
            time.sleep(0.02)

    def get(self, host: str, path: str = "/") -> tuple:
        """GET through nginx with a Host header; returns (status, body)."""
        import requests

        response = requests.get(f"http://127.0.0.1:{self.http_port}{path}", headers={"Host": host}, timeout=10)
        return response.status_code, response.text


@pytest.fixture
def apps_network(engine) -> Iterator[str]:
    """An apps' network of its own (runtime/isolation.py) for tests that drive builders or the scheduler."""
    name = isolation.network_name(f"test-{secrets.token_hex(3)}-")
    yield name
    engine.remove_network(name)


@pytest.fixture
def platform(engine, tmp_path_factory) -> Platform:
    """A minidokku root with its own nginx; domain example.test; builds may reach PyPI."""
    root = tmp_path_factory.mktemp("dokku-root")
    nginx_dir = tmp_path_factory.mktemp("nginx")
    http_port = free_port()
    https_port = free_port()
    nginx_conf = nginx_dir / "nginx.conf"
    nginx_conf.write_text(
        f"""pid {nginx_dir}/nginx.pid;
error_log {nginx_dir}/error.log;
events {{ worker_connections 256; }}
http {{
  access_log off;
  client_body_temp_path {nginx_dir}/body;
  proxy_temp_path {nginx_dir}/proxy;
  server {{ listen {http_port} default_server; return 404; }}
  include {root}/*/nginx.conf;
}}
"""
    )
    nginx = ["nginx", "-p", str(nginx_dir), "-c", str(nginx_conf)]
    # NAMESPACE keeps this root's containers, images and volumes apart from any real install.
    namespace = f"test-{secrets.token_hex(3)}-"
    (root / "SETTINGS").write_text(
        f"export NGINX_COMMAND='{' '.join(nginx)}'\nexport HTTP_PORT='{http_port}'\n"
        f"export NAMESPACE='{namespace}'\nexport NGINX_LOG_DIR='{nginx_dir}'\n"
        f"export HTTPS_PORT='{https_port}'\n"
    )
    env = dict(os.environ, DOKKU_ROOT=str(root))
    env.pop("SSH_ORIGINAL_COMMAND", None)
    platform = Platform(
        root=root, http_port=http_port, env=env, https_port=https_port, nginx_pid_file=nginx_dir / "nginx.pid"
    )
    subprocess.run(nginx, check=True)
    try:
        wait_for_port(http_port)
        platform.dokku("domains:set-global", "example.test")
        platform.dokku("docker-options:add", "--global", "build", BUILD_NETWORK_OPTION)
        yield platform
    finally:  # even when the set-up itself failed
        for app in [p.name for p in root.iterdir() if (p / "HEAD").is_file()]:
            platform.dokku("apps:destroy", app, "--force", check=False)
        for service in postgres_records.names(Store(root)):  # unlinked now: their apps are gone
            platform.dokku("postgres:destroy", service, "--force", check=False)
        Engine().remove_network(f"{namespace}{postgres_records.NETWORK}")
        Engine().remove_network(isolation.network_name(namespace))
        subprocess.run([*nginx, "-s", "quit"], check=False)
