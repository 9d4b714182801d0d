"""The local Docker scheduler: runs an app's processes as containers and retires old ones.

Web containers publish their PORT on 127.0.0.1 only (a port Docker picks); nginx proxies to it.
"""

import secrets
import socket
import time
from dataclasses import dataclass
from typing import Optional

from minidokku import labels
from minidokku.dockeroptions import DockerOptions
from minidokku.engine.client import Engine
from minidokku.errors import DeployFailed, EngineNotFound
from minidokku.releases import Release

PROCESS_ROLE = "process"
WEB_PORT = 5000
DEFAULT_RESTART_POLICY = {"Name": "on-failure", "MaximumRetryCount": 10}  # Dokku's default
READY_TIMEOUT = 60.0
RETIRE_GRACE_SECONDS = 10


@dataclass(frozen=True)
class Container:
    id: str
    name: str
    process_type: str
    host_port: Optional[int]


class DockerScheduler:
    def __init__(self, engine: Engine):
        self.engine = engine

    def running(self, app: str) -> list[Container]:
        found = self.engine.list_containers({labels.APP: app, labels.ROLE: PROCESS_ROLE}, all_states=True)
        return [self._describe(entry["Id"]) for entry in found]

    def start(
        self, app: str, release: Release, process_type: str, index: int, env: dict[str, str], options: DockerOptions
    ) -> Container:
        dyno = f"{process_type}.{index}"
        environment = dict(env, DYNO=dyno)
        if process_type == "web":
            environment["PORT"] = str(WEB_PORT)
        config = {
            "Image": release.image_id,
            "Cmd": ["bash", "-c", release.processes[process_type]],
            "Env": [f"{key}={value}" for key, value in environment.items()],
            "Labels": {
                labels.APP: app,
                labels.PROCESS_TYPE: process_type,
                labels.DYNO: dyno,
                labels.RELEASE: str(release.number),
                labels.ROLE: PROCESS_ROLE,
            },
            # Init: a tiny init as PID 1 forwards SIGTERM, so a process stops when asked
            # (an app as PID 1 would ignore it and be killed only after the grace period).
            "HostConfig": {"RestartPolicy": DEFAULT_RESTART_POLICY, "Init": True},
        }
        if process_type == "web":
            config["ExposedPorts"] = {f"{WEB_PORT}/tcp": {}}
            config["HostConfig"]["PortBindings"] = {f"{WEB_PORT}/tcp": [{"HostIp": "127.0.0.1", "HostPort": ""}]}
        name = f"{app}.{dyno}.upcoming-{secrets.token_hex(3)}"
        container_id = self.engine.create_container(options.apply(config), name=name)
        try:
            self.engine.start_container(container_id)
            return self._describe(container_id)
        except BaseException:
            self.engine.remove_container(container_id, force=True)
            raise

    def wait_ready(self, container: Container, timeout: float = READY_TIMEOUT) -> None:
        """Waits until the container runs and, for web, answers HTTP on its port; else raises."""
        deadline = time.monotonic() + timeout
        while True:
            state = self.engine.inspect_container(container.id)["State"]
            if not state["Running"] or state.get("Restarting"):
                raise DeployFailed(
                    f"{container.name} exited (status {state.get('ExitCode')}) before it was ready:\n"
                    + self.last_logs(container.id)
                )
            if container.host_port is None or _answers_http("127.0.0.1", container.host_port):
                return
            if time.monotonic() > deadline:
                raise DeployFailed(
                    f"{container.name} did not answer on port {WEB_PORT} within {timeout:.0f} s:\n"
                    + self.last_logs(container.id)
                )
            time.sleep(0.1)

    def last_logs(self, container_id: str, lines: int = 20) -> str:
        return "\n".join(line for _stream, line in self.engine.container_logs(container_id, tail=lines))

    def settle_names(self, containers: list[Container]) -> None:
        """Gives new containers their plain names (app.web.1) once the old ones are gone."""
        for container in containers:
            plain = container.name.split(".upcoming-")[0]
            if plain != container.name:
                self.engine.rename_container(container.id, plain)

    def retire(self, containers: list[Container], grace: int = RETIRE_GRACE_SECONDS) -> None:
        for container in containers:
            try:
                self.engine.stop_container(container.id, timeout=grace)
                self.engine.remove_container(container.id, force=True)
            except EngineNotFound:
                pass

    def _describe(self, container_id: str) -> Container:
        info = self.engine.inspect_container(container_id)
        bindings = (info["NetworkSettings"].get("Ports") or {}).get(f"{WEB_PORT}/tcp") or []
        return Container(
            id=info["Id"],
            name=info["Name"].lstrip("/"),
            process_type=info["Config"]["Labels"].get(labels.PROCESS_TYPE, ""),
            host_port=int(bindings[0]["HostPort"]) if bindings else None,
        )


def _answers_http(host: str, port: int) -> bool:
    """True when something answers an HTTP request with a status line (any status)."""
    try:
        with socket.create_connection((host, port), timeout=2) as sock:
            sock.sendall(b"GET / HTTP/1.0\r\nHost: localhost\r\n\r\n")
            return sock.recv(5) == b"HTTP/"
    except OSError:
        return False
