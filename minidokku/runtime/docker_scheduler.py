"""The local Docker scheduler: runs an app's processes and deployment tasks as containers.

Web containers publish their PORT on 127.0.0.1 only (a port Docker picks); nginx proxies to it.
A container's name tells its part in a deploy: `app.web.1.upcoming-ab12cd` while it is checked,
`app.web.1` while it serves, `app.web.1.retiring-ab12cd` during its grace period after a switch.
"""

import secrets
import socket
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Optional

import requests

from minidokku.engine.client import Engine
from minidokku.errors import EngineError, EngineNotFound
from minidokku.records import names, resources
from minidokku.records.docker_options import DockerOptions
from minidokku.records.releases import Release
from minidokku.runtime import isolation, labels

PROCESS_ROLE = "process"
TASK_ROLE = "task"
# containers that live only as long as the deploy that made them: a buildpack build's, and tasks
LEFTOVER_ROLES = ("build", TASK_ROLE)
DEFAULT_RESTART_POLICY = {"Name": "on-failure", "MaximumRetryCount": 10}  # Dokku's default
STOP_GRACE_SECONDS = 10
UPCOMING = ".upcoming-"
RETIRING = ".retiring-"


@dataclass(frozen=True)
class Container:
    id: str
    name: str
    process_type: str
    host_port: Optional[int]  # where its PORT is published (web only)
    running: bool = True
    release: str = ""
    host_ports: dict[int, int] = field(default_factory=dict)  # every published container port -> host port

    @property
    def plain_name(self) -> str:
        return self.name.split(UPCOMING)[0].split(RETIRING)[0]

    @property
    def dyno(self) -> str:
        """`web.1`, from the name `<app>.web.1`."""
        return ".".join(self.plain_name.split(".")[-2:])

    @property
    def retiring(self) -> bool:
        return RETIRING in self.name


class DockerScheduler:
    def __init__(self, engine: Engine, network: str):
        self.engine = engine
        self.network = network  # the apps' network (runtime/isolation.py)

    # -- finding --------------------------------------------------------------------------
    def containers(self, app: str) -> list[Container]:
        """Every process container of the app, in any state, ordered by name."""
        found = self.engine.list_containers({labels.APP: app, labels.ROLE: PROCESS_ROLE}, all_states=True)
        described = [self._describe(entry["Id"]) for entry in found]
        return sorted((c for c in described if c), key=lambda c: c.name)

    def running(self, app: str) -> list[Container]:
        """The app's containers that serve or are being checked (not the retiring ones)."""
        return [c for c in self.containers(app) if not c.retiring]

    def remove_leftover_tasks(self, app: str) -> None:
        """Removes the app's build and deployment task containers: a deploy removes its own, so
        any found by a command holding the app's lock were left by a deploy that was killed."""
        found = self.engine.list_containers({labels.APP: app}, all_states=True)
        leftovers = [entry["Id"] for entry in found if (entry.get("Labels") or {}).get(labels.ROLE) in LEFTOVER_ROLES]
        self.retire(leftovers, grace=0)

    # -- processes ------------------------------------------------------------------------
    def start(
        self,
        app: str,
        release: Release,
        process_type: str,
        index: int,
        options: DockerOptions,
        restart_policy: Optional[dict] = None,
        extra_ports: tuple[int, ...] = (),
        *,
        limits: resources.Limits,
    ) -> Container:
        """Starts one container, bounded by limits; web publishes its PORT (and extra_ports, for
        `ports:add` mappings to other container ports) on 127.0.0.1."""
        dyno = f"{process_type}.{index}"
        environment = dict(release.config, DYNO=dyno)
        if process_type == "web":
            environment["PORT"] = str(release.web_port)
        config = {
            "Image": release.image_id,
            "Env": [f"{key}={value}" for key, value in environment.items()],
            "Labels": {
                labels.APP: app,
                labels.PROCESS_TYPE: process_type,
                labels.DYNO: dyno,
                labels.RELEASE: release.name,
                labels.ROLE: PROCESS_ROLE,
            },
            # Init: a tiny init as PID 1 forwards SIGTERM, so a process stops when asked
            # (an app as PID 1 would ignore it and be killed only after the grace period).
            "HostConfig": {"RestartPolicy": restart_policy or DEFAULT_RESTART_POLICY, "Init": True},
        }
        command = release.command(process_type)
        if command:
            config["Cmd"] = command
        if process_type == "web":
            ports = [f"{port}/tcp" for port in dict.fromkeys((release.web_port, *extra_ports))]
            config["ExposedPorts"] = {port: {} for port in ports}
            config["HostConfig"]["PortBindings"] = {port: [{"HostIp": "127.0.0.1", "HostPort": ""}] for port in ports}
        name = f"{app}.{dyno}{UPCOMING}{secrets.token_hex(3)}"
        container_id = isolation.create_container(self.engine, config, options, limits, self.network, name=name)
        try:
            self.engine.start_container(container_id)
            return self._describe(container_id)
        except BaseException:
            self.engine.remove_container(container_id, force=True)
            raise

    def restart(self, container: Container) -> Container:
        """Starts a stopped container again (its port may change)."""
        self.engine.start_container(container.id)
        return self._describe(container.id)

    def settle_names(self, containers: list[Container]) -> None:
        """Gives new containers their plain names (app.web.1) once the old ones moved aside."""
        for container in containers:
            if container.plain_name != container.name:
                self.engine.rename_container(container.id, container.plain_name)

    def mark_retiring(self, containers: list[Container]) -> None:
        for container in containers:
            if not container.retiring:
                self.engine.rename_container(container.id, f"{container.plain_name}{RETIRING}{secrets.token_hex(3)}")

    def retire_earlier_beyond(self, app: str, just_retiring: list[Container], cap: int) -> None:
        """Keeps the app's retiring containers at most cap: when more are, the ones retiring since
        an earlier deploy go now (they left nginx's upstream a deploy ago), so a burst of deploys
        with a long wait-to-retire cannot pile up containers."""
        retiring = [c for c in self.containers(app) if c.retiring]
        if len(retiring) > cap:
            kept = {c.id for c in just_retiring}
            self.retire([c.id for c in retiring if c.id not in kept])

    def stop(self, containers: list[Container], grace: int = STOP_GRACE_SECONDS) -> None:
        """Stops the containers, keeping them (and their logs) for a later start."""
        for container in containers:
            try:
                self.engine.stop_container(container.id, timeout=grace)
            except EngineNotFound:
                pass

    def retire(self, container_ids: list[str], grace: int = STOP_GRACE_SECONDS) -> None:
        """Stops (SIGTERM, then SIGKILL after grace seconds) and removes the containers."""
        for container_id in container_ids:
            try:
                self.engine.stop_container(container_id, timeout=grace)
                self.engine.remove_container(container_id, force=True)
            except EngineNotFound:
                pass

    # -- what checks ask ------------------------------------------------------------------
    def is_running(self, container: Container) -> tuple[bool, Optional[int]]:
        """(running, exit code); a container that restarts after a crash is not running."""
        try:
            state = self.engine.inspect_container(container.id)["State"]
        except EngineNotFound:
            return False, None
        return bool(state["Running"] and not state.get("Restarting")), state.get("ExitCode")

    def answers_http(self, container: Container) -> bool:
        """True when something answers an HTTP request on the web port with a status line."""
        if container.host_port is None:
            return False
        try:
            with socket.create_connection(("127.0.0.1", container.host_port), timeout=2) as sock:
                # HTTP/1.1: some servers (websockets) refuse 1.0 without a word
                sock.sendall(b"GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
                return sock.recv(5) == b"HTTP/"
        except OSError:
            return False

    def http_get(self, container: Container, path: str, host: str, timeout: int) -> tuple[int, str]:
        """GET path on the container's web port; raises OSError when nothing answers."""
        if container.host_port is None:
            raise OSError(f"{container.name} publishes no port")
        headers = {"Host": host} if host else {}
        try:
            response = requests.get(
                f"http://127.0.0.1:{container.host_port}{path}", headers=headers, timeout=timeout, allow_redirects=False
            )
        except requests.RequestException as error:
            raise OSError(str(error)) from None
        return response.status_code, response.text

    def last_logs(self, container_id: str, lines: int = 20) -> str:
        try:
            return "\n".join(line for _stream, line in self.engine.container_logs(container_id, tail=lines))
        except EngineError:
            return ""

    # -- deployment tasks -----------------------------------------------------------------
    def run_task(
        self,
        app: str,
        image: str,
        command: list[str],
        env: dict[str, str],
        options: DockerOptions,
        on_line: Callable[[str], None],
        commit_as: Optional[tuple[str, str]] = None,
        *,
        limits: resources.Limits,
    ) -> tuple[int, Optional[str]]:
        """Runs command once in a new container of image (bounded by limits), streaming its output to on_line.

        Returns (exit status, image id): with commit_as=(repo, tag) a successful run is committed
        as a new image keeping image's own configuration (never the task's environment).
        """
        config = {
            "Image": image,
            "Cmd": command,
            "Env": [f"{key}={value}" for key, value in env.items()],
            "Labels": {labels.APP: app, labels.ROLE: TASK_ROLE},
        }
        container_id = isolation.create_container(self.engine, config, options, limits, self.network)
        try:
            self.engine.start_container(container_id)
            for _stream, line in self.engine.container_logs(container_id, follow=True):
                on_line(line)
            status = self.engine.wait_container(container_id)
            committed = None
            if status == 0 and commit_as:
                image_config = self.engine.inspect_image(image)["Config"]
                committed = self.engine.commit(container_id, commit_as[0], commit_as[1], image_config)
            return status, committed
        finally:
            self.engine.remove_container(container_id, force=True)

    def _describe(self, container_id: str) -> Optional[Container]:
        try:
            info = self.engine.inspect_container(container_id)
        except EngineNotFound:  # removed while we looked
            return None
        bound = info["NetworkSettings"].get("Ports") or {}
        host_ports = {
            int(port.split("/")[0]): int(bindings[0]["HostPort"])
            for port in info["HostConfig"].get("PortBindings") or {}  # only web publishes ports
            if (bindings := bound.get(port))
        }
        env = dict(item.partition("=")[::2] for item in info["Config"].get("Env") or [])
        web_port = int(env["PORT"]) if names.is_whole_number(env.get("PORT", "")) else None
        container_labels = info["Config"]["Labels"] or {}
        return Container(
            id=info["Id"],
            name=info["Name"].lstrip("/"),
            process_type=container_labels.get(labels.PROCESS_TYPE, ""),
            host_port=host_ports.get(web_port) if web_port else None,
            running=bool(info["State"]["Running"]),
            release=container_labels.get(labels.RELEASE, ""),
            host_ports=host_ports,
        )
