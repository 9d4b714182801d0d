"""The local Docker scheduler (runtime/scheduler.py's first implementation): an app's processes,
deployment tasks, one-off runs and services are containers on this machine's engine.

Web containers publish their PORT on 127.0.0.1 only, on a host port minidokku picks
(runtime/host_ports.py) and keeps across every start of the container; nginx and the checks reach
them at an address minidokku pins for each on the web network (runtime/web_addresses.py). Where
it may, a web container joins a namespace made beforehand that has both (runtime/web_network.py).
"""

import contextlib
import secrets
import socket
import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import replace
from functools import partial
from pathlib import Path
from typing import Optional

from minidokku.build.builders import read_text_file, remove_former_base, remove_if_unnamed
from minidokku.engine.client import Engine, registry_auth
from minidokku.errors import EngineError, EngineNotFound, NotFound
from minidokku.records import names, registry, resources
from minidokku.records.docker_options import DockerOptions
from minidokku.records.releases import Release
from minidokku.runtime import (
    at_once,
    build_network,
    host_ports,
    isolation,
    labels,
    namespace_holder,
    terminal,
    web_addresses,
    web_network,
)
from minidokku.runtime.scheduler import (
    LOOPBACK,
    NO_NETWORKING,
    RETIRING,
    STOP_GRACE_SECONDS,
    UNLIMITED_LOGS,
    UPCOMING,
    AtCapacity,
    Container,
    Image,
    NetworkInfo,
    Networking,
    OneOff,
    OneOffContainer,
    PortTaken,
    Service,
    ServiceState,
)
from minidokku.runtime.terminal import Streams
from minidokku.state import file_lock

PROCESS_ROLE = "process"
TASK_ROLE = "task"
RUN_ROLE = "run"
# containers that live only as long as the deploy that made them: a buildpack build's, and tasks
LEFTOVER_ROLES = (labels.BUILD_ROLE, TASK_ROLE)
FINISHED_STATES = ("exited", "dead")  # what `cleanup` removes, as Dokku's
DEFAULT_RESTART_POLICY = {"Name": "on-failure", "MaximumRetryCount": 10}  # Dokku's default
CONFLICT = 409  # the engine's answer to a removal already under way


class DockerScheduler:
    def __init__(
        self, engine: Engine, network: str, ports_lock: Optional[Path] = None, holder_image: Optional[str] = None
    ):
        self.engine = engine
        self.network = network  # the apps' network (runtime/isolation.py)
        self.ports_lock = ports_lock  # a file flocked while host ports are picked (runtime/host_ports.py)
        self._ports_threads = threading.Lock()
        self._web_half = None  # the web network's pinned half, once asked (runtime/web_addresses.py)
        self.holder_image = holder_image  # what spare web namespaces run (None: none is made; runtime/web_network.py)

    # -- finding --------------------------------------------------------------------------
    def containers(self, app: str) -> list[Container]:
        """Every process container of the app, in any state, ordered by name."""
        found = self._named_for(app, {labels.APP: app, labels.ROLE: PROCESS_ROLE}, all_states=True)
        described = [self._describe(entry["Id"]) for entry in found]
        return sorted((c for c in described if c), key=lambda c: c.name)

    def _named_for(self, app: str, wanted: dict[str, str], all_states: bool) -> list[dict]:
        """The containers with the wanted labels that minidokku named for the app (`APP.web.1`,
        `APP.run.1234`, ...): any container can carry any label (a Dockerfile's LABEL reaches its
        build's RUN containers, which the engine names at random), never the name of another's."""
        found = self.engine.list_containers(wanted, all_states=all_states)
        return [entry for entry in found if _is_named_for(app, entry)]

    def running(self, app: str) -> list[Container]:
        """The app's containers that serve or are being checked (not the retiring ones)."""
        return [c for c in self.containers(app) if not c.retiring]

    def web_containers(self, app: str) -> list[Container]:
        """The running web containers, which serve the app (where each is reached: Container.reached_at)."""
        return [c for c in self.running(app) if c.process_type == "web" and c.running]

    def remove_leftover_tasks(self, app: str) -> None:
        """Removes the app's build and deployment task containers: a deploy removes its own, so
        any found by a command holding the app's lock were left by a deploy that was killed."""
        found = self.engine.list_containers({labels.APP: app}, all_states=True)
        leftovers = [entry["Id"] for entry in found if (entry.get("Labels") or {}).get(labels.ROLE) in LEFTOVER_ROLES]
        self.retire(leftovers, grace=0)

    def remove_abandoned_namespaces(self, app: str) -> None:
        if self.holder_image:
            web_network.remove_orphans(self.engine, app, self.engine.list_containers({labels.APP: app}))

    def remove_app(self, app: str) -> None:
        """Removes every container of the app (processes, runs, builds, tasks, what holds its
        builds' and its web containers' networks)."""
        for entry in self.engine.list_containers({labels.APP: app}):
            with contextlib.suppress(EngineNotFound):  # a retirement removed it meanwhile
                self.engine.remove_container(entry["Id"], force=True)
        build_network.remove(self.engine, app)
        web_network.remove_app(self.engine, app)

    def remove_volume(self, volume: str) -> None:
        self.engine.remove_volume(volume)

    def clean_up(self, app: str) -> tuple[int, int]:
        finished = [
            entry["Id"]
            for entry in self.engine.list_containers({labels.APP: app}, all_states=True)
            if entry.get("State") in FINISHED_STATES and _started_again_by_nothing(entry)
        ]
        containers = 0
        for container_id in finished:
            with contextlib.suppress(EngineNotFound):  # removed meanwhile (a run's own --rm)
                info = self.engine.inspect_container(container_id)
                self.engine.remove_container(container_id, force=False)
                web_network.remove_holder_of(self.engine, info)
                containers += 1
        images = 0
        for entry in self.engine.list_images({labels.APP: app}, dangling=True):
            try:
                self.engine.remove_image(entry["Id"])
                images += 1
            except EngineError:  # a container uses it, or it went meanwhile
                continue
        return containers, images

    # -- processes ------------------------------------------------------------------------
    def start_dynos(
        self,
        app: str,
        release: Release,
        process_type: str,
        count: int,
        options_for: Callable[[int], DockerOptions],
        restart_policy: Optional[dict] = None,
        extra_ports: tuple[int, ...] = (),
        *,
        limits: resources.Limits,
        log_max_size: Optional[str] = None,
        command: Optional[list[str]],
        networking: Networking = NO_NETWORKING,
        credentials: Optional[tuple[str, str]] = None,
    ) -> list[Container]:
        """Starts dynos 1..count of the process type, one container each (start); a failure
        removes the ones started. credentials: unused, the image is on this engine."""
        started: list[Container] = []
        try:
            for index in range(1, count + 1):
                started.append(
                    self.start(
                        app,
                        release,
                        process_type,
                        index,
                        options_for(index),
                        restart_policy,
                        extra_ports,
                        limits=limits,
                        log_max_size=log_max_size,
                        command=command,
                        networking=networking,
                    )
                )
        except BaseException:
            self.retire([c.id for c in started], grace=0)
            raise
        return started

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
        log_max_size: Optional[str] = None,
        command: Optional[list[str]],
        networking: Networking = NO_NETWORKING,
    ) -> Container:
        """Starts one container, bounded by limits; web publishes its PORT (and extra_ports, for
        `ports:add` mappings to other container ports) on 127.0.0.1 (every interface with
        networking.all_interfaces). log_max_size: the json-file log's size before it rotates
        (`20m`, or UNLIMITED), None for the default. command: its Cmd, None for the image's own."""
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
        if log_max_size:
            config["HostConfig"]["LogConfig"] = _log_config(log_max_size)
        if command:
            config["Cmd"] = command
        ports = [f"{port}/tcp" for port in dict.fromkeys((release.web_port, *extra_ports))]
        name = f"{app}.{dyno}{UPCOMING}{secrets.token_hex(3)}"
        if process_type != "web":
            return self._describe(self._create_and_start(config, [], "", options, limits, name, networking))
        host_ip = "" if networking.all_interfaces else LOOPBACK
        # its namespace made beforehand where it may be (runtime/web_network.py)
        spares = bool(self.holder_image) and web_network.may_join(options, networking)
        made_for = web_network.fit(ports, host_ip)
        container_id = None
        if spares:
            container_id = self._start_joined(app, index, made_for, config, options, limits, name, networking)
        if container_id is None:
            config["ExposedPorts"] = {port: {} for port in ports}
            container_id = self._create_and_start(config, ports, host_ip, options, limits, name, networking)
        if spares:
            spare = partial(self._make_spare, app, index, made_for, ports, host_ip, networking)
            at_once.meanwhile(spare, web_network.MAKE_THREAD)
        return self._describe(container_id)

    def _start_joined(
        self,
        app: str,
        index: int,
        made_for: str,
        config: dict,
        options: DockerOptions,
        limits: resources.Limits,
        name: str,
        networking: Networking,
    ) -> Optional[str]:
        """Starts the web container in the namespace of the spare made for its dyno and returns
        its id; None when there is no such spare, or the engine refused (the spare then goes):
        the container is made with a namespace of its own instead (runtime/web_network.py)."""
        holder = web_network.take(self.engine, app, index, made_for, (self.network, web_addresses.NETWORK))
        if holder is None:
            return None
        joining = replace(options, network=f"{web_network.JOINED}{holder['Id']}")
        container_id = ""
        try:
            container_id = isolation.create_container(self.engine, config, joining, limits, self.network, name)
            self.engine.start_container(container_id)
            return container_id
        except BaseException as error:
            for made in (container_id, holder["Id"]):
                if made:
                    with contextlib.suppress(EngineError):
                        self.engine.remove_container(made, force=True)
            if isinstance(error, EngineError):
                return None
            raise

    def _make_spare(
        self, app: str, index: int, made_for: str, ports: list[str], host_ip: str, networking: Networking
    ) -> None:
        """Makes the spare of the app's web.N unless one is there; on the engine's refusal, none
        (the next start makes its namespace as before)."""
        name = web_network.spare_name(app, index)
        config = web_network.holder_config(app, self.holder_image, made_for, ports)
        with contextlib.suppress(EngineError):
            self.engine.inspect_container(name)
            return
        with contextlib.suppress(EngineError):
            self._create_and_start(config, ports, host_ip, DockerOptions(), namespace_holder.LIMITS, name, networking)

    def _create_and_start(
        self,
        config: dict,
        ports: list[str],
        host_ip: str,
        options: DockerOptions,
        limits: resources.Limits,
        name: str,
        networking: Networking,
    ) -> str:
        """Creates and starts a container on networking's networks, publishing ports (none: it
        publishes none) on host ports picked for it, at a web address pinned for it when it has
        ports; returns its id. Made again at others when the start finds one taken."""
        refused: list[int] = []  # host ports a start was refused on
        refused_addresses: list[str] = []  # web addresses a start was refused on (another root's)
        retries = 0
        while True:
            # held until the container exists and has its address: then its ports and address are taken
            with self._ports_lock():
                listed = self.engine.list_containers({}, all_states=True) if ports else []  # for both picks
                picked = host_ports.pick(self.engine, len(ports), refused, listed) if ports else []
                if picked:
                    config["HostConfig"]["PortBindings"] = host_ports.bindings(ports, picked, host_ip)
                container_id = isolation.create_container(
                    self.engine, config, options, limits, self.network, name, networking.initial, networking.aliases
                )
                try:
                    pinned = ports and web_addresses.joins_networks(options.network)
                    address = self._pin_web_address(container_id, listed, refused_addresses) if pinned else ""
                except BaseException:
                    self.engine.remove_container(container_id, force=True)
                    raise
            try:
                self._join(container_id, networking, options)
                self.engine.start_container(container_id)
                return container_id
            except EngineError as error:
                self.engine.remove_container(container_id, force=True)
                address_taken = bool(address) and web_addresses.address_refused(error)
                if not (address_taken or (picked and host_ports.port_refused(error))) or retries >= host_ports.RETRIES:
                    raise
                retries += 1
                if address_taken:
                    refused_addresses.append(address)  # pinned meanwhile by another root's container
                else:
                    refused += picked  # a host process holds one: the next creation picks others
            except BaseException:
                self.engine.remove_container(container_id, force=True)
                raise

    def _pin_web_address(self, container_id: str, listed: list[dict], refused: list[str]) -> str:
        """Joins a created web container to the web network at an address none of listed (every
        container, listed under the ports lock) has; under that lock (runtime/web_addresses.py)."""
        try:
            return self._connect_web(container_id, listed, refused)
        except EngineNotFound:  # the network went (a prune) since this process found it: made again
            self._web_half = None
            return self._connect_web(container_id, listed, refused)

    def _connect_web(self, container_id: str, listed: list[dict], refused: list[str]) -> str:
        if self._web_half is None:
            self._web_half = web_addresses.ensure(self.engine)
        address = web_addresses.pick(listed, self._web_half, refused)
        self.engine.connect_network(web_addresses.NETWORK, container_id, [], address)
        return address

    @contextlib.contextmanager
    def _ports_lock(self) -> Iterator[None]:
        """The lock under which host ports are picked and their container created: this
        process's threads, and (with ports_lock) every minidokku process of the root."""
        with self._ports_threads:
            if self.ports_lock is None:
                yield
                return
            with file_lock(self.ports_lock):
                yield

    def restart(self, container: Container) -> Container:
        """Starts a stopped container again, on the host ports and address it was created with;
        raises PortTaken when another holds one of them."""
        try:
            info = self.engine.inspect_container(container.id)
            holder = web_network.holder_of(self.engine, info)
            if holder is None and web_network.joined(info):
                raise PortTaken(f"{container.name}: the container that held its network namespace is gone")
            if holder is not None and not holder["State"]["Running"]:
                self.engine.start_container(holder["Id"])  # the namespace first: it has the ports
            self.engine.start_container(container.id)
        except EngineError as error:
            if host_ports.port_refused(error) or web_addresses.address_refused(error):
                raise PortTaken(f"{container.name}: {error}") from None
            raise
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
        """Stops the containers, all at once, keeping them (and their logs) for a later start,
        then what holds their network (runtime/web_network.py: restart starts it first)."""

        def stop_one(container: Container) -> None:
            with contextlib.suppress(EngineNotFound):
                info = self.engine.inspect_container(container.id)
                self.engine.stop_container(container.id, timeout=grace)
                holder = web_network.holder_of(self.engine, info)
                if holder is not None:
                    with contextlib.suppress(EngineError):  # left running, it only holds the ports
                        self.engine.stop_container(holder["Id"], timeout=0)

        at_once.each(stop_one, containers)

    def retire(self, container_ids: list[str], grace: int = STOP_GRACE_SECONDS) -> None:
        """Stops (SIGTERM, then SIGKILL after grace seconds) and removes the containers, all at
        once; one the engine removes itself once stopped (a run:detached one) is fine too."""

        def retire_one(container_id: str) -> None:
            try:
                info = self.engine.inspect_container(container_id)
                self.engine.stop_container(container_id, timeout=grace)
                self.engine.remove_container(container_id, force=True)
                web_network.remove_holder_of(self.engine, info)
            except EngineNotFound:
                pass
            except EngineError as error:
                if error.status != CONFLICT:  # 409: its removal is already under way
                    raise

        at_once.each(retire_one, container_ids)

    # -- what checks ask ------------------------------------------------------------------
    def is_running(self, container: Container) -> tuple[bool, Optional[int]]:
        """(running, exit code); a container that restarts after a crash is not running, nor one
        the engine restarted since it was described (a poll can miss the short Restarting state)."""
        try:
            inspected = self.engine.inspect_container(container.id)
        except EngineNotFound:
            return False, None
        state = inspected["State"]
        restarted = (inspected.get("RestartCount") or 0) > container.restarts
        running = state["Running"] and not state.get("Restarting") and not restarted
        return bool(running), state.get("ExitCode")

    def answers_http(self, container: Container) -> bool:
        """True when something answers an HTTP request on the web port with a status line."""
        where = container.reached_at()
        if where is None:
            return False
        try:
            with socket.create_connection(where, timeout=2) as sock:
                # HTTP/1.1: some servers (websockets) refuse 1.0 without a word
                sock.sendall(b"GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
                return sock.recv(5) == b"HTTP/"
        except OSError:
            return False

    def http_get(self, container: Container, path: str, host: str, timeout: int) -> tuple[int, str]:
        """GET path on the container's web port; raises OSError when nothing answers."""
        where = container.reached_at()
        if where is None:
            raise OSError(f"{container.name} serves no web port")
        import requests  # here: only checks need it, and most commands run none

        headers = {"Host": host} if host else {}
        try:
            response = requests.get(
                f"http://{where[0]}:{where[1]}{path}", headers=headers, timeout=timeout, allow_redirects=False
            )
        except requests.RequestException as error:
            raise OSError(str(error)) from None
        return response.status_code, response.text

    def last_logs(self, container_id: str, lines: int = 20) -> str:
        try:
            return "\n".join(self.logs(container_id, follow=False, tail=lines, timestamps=False))
        except EngineError:
            return ""

    def logs(self, container_id: str, follow: bool, tail: Optional[int], timestamps: bool) -> Iterator[str]:
        entries = self.engine.container_logs(container_id, follow=follow, tail=tail, timestamps=timestamps)
        return (line for _stream, line in entries)

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
        networking: Networking = NO_NETWORKING,
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
        container_id = isolation.create_container(
            self.engine, config, options, limits, self.network, initial=networking.initial
        )
        try:
            self._join(container_id, networking, options)
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

    # -- one-off processes ---------------------------------------------------------------
    def run(self, app: str, one_off: OneOff, streams: Streams, at_most: int) -> int:
        """Attached before it starts (no output is lost) and removed after, whatever ends it."""
        attached = {
            "Tty": one_off.tty,
            "OpenStdin": True,
            "StdinOnce": True,  # the process reads end-of-file when our stdin ends
            "AttachStdin": True,
            "AttachStdout": True,
            "AttachStderr": True,
        }
        container_id, _name = self._create_one_off(app, one_off, at_most, attached, {})
        try:
            with self.engine.attach_container(container_id, one_off.tty) as stream:
                self.engine.start_container(container_id)
                terminal.converse(stream, streams, partial(self.engine.resize_container, container_id))
            return self.engine.wait_container(container_id)
        finally:
            self.engine.remove_container(container_id, force=True)

    def run_detached(self, app: str, one_off: OneOff, at_most: int) -> str:
        """Starts a one-off process in the background, removed by the engine when it ends."""
        container_id, name = self._create_one_off(app, one_off, at_most, {}, {"AutoRemove": True})
        try:
            self.engine.start_container(container_id)
        except BaseException:
            self.engine.remove_container(container_id, force=True)
            raise
        return name

    def _create_one_off(self, app: str, one_off: OneOff, at_most: int, settings: dict, host: dict) -> tuple[str, str]:
        """Creates the container (config settings and HostConfig host merged in); returns its id
        and name. Raises AtCapacity (the container removed) when the app runs more than at_most."""
        config = {
            "Image": one_off.image,
            "Cmd": one_off.command,
            "Env": [f"{key}={value}" for key, value in one_off.env.items()],
            "Labels": {
                labels.APP: app,
                labels.ROLE: RUN_ROLE,
                labels.PROCESS_TYPE: "run",
                labels.DYNO: one_off.dyno,
                labels.ACTIVE_DEADLINE: str(one_off.ttl_seconds),
                **({labels.CRON_ID: one_off.cron_id} if one_off.cron_id else {}),
            },
            # as processes: signals reach the command, not a PID 1 that ignores them
            "HostConfig": {"Init": True, **host},
            **settings,
        }
        name = f"{app}.{one_off.dyno}"
        container_id = isolation.create_container(
            self.engine, config, one_off.options, one_off.limits, self.network, name, one_off.networking.initial
        )
        try:
            # counted once this one exists: of two runs racing for the last place, neither gets it
            if len(self._named_for(app, {labels.APP: app, labels.ROLE: RUN_ROLE}, all_states=True)) > at_most:
                raise AtCapacity(f"{app} runs {at_most} one-off containers already")
            self._join(container_id, one_off.networking, one_off.options)
        except BaseException:
            self.engine.remove_container(container_id, force=True)
            raise
        return container_id, name

    def run_containers(self, app: str) -> list[OneOffContainer]:
        """The app's one-off containers (found by their labels), ordered by name."""
        found = self._named_for(app, {labels.APP: app, labels.ROLE: RUN_ROLE}, all_states=True)
        listed = [
            OneOffContainer(
                id=entry["Id"],
                name=(entry.get("Names") or ["/"])[0].lstrip("/"),
                state=entry.get("State", ""),
                command=entry.get("Command", ""),
                created=int(entry.get("Created", 0)),
                ttl_seconds=_whole_number((entry.get("Labels") or {}).get(labels.ACTIVE_DEADLINE, "")),
                cron_id=(entry.get("Labels") or {}).get(labels.CRON_ID, ""),
            )
            for entry in found
        ]
        return sorted(listed, key=lambda c: c.name)

    def inspect(self, containers: list[Container]) -> list[dict]:
        """The engine's whole description of each container (`docker inspect`); gone ones left out."""
        described = []
        for container in containers:
            with contextlib.suppress(EngineNotFound):
                described.append(self.engine.inspect_container(container.id))
        return described

    def enter(self, container: Container, command: list[str], tty: bool, streams: Streams) -> int:
        entrypoint = self.engine.inspect_container(container.id)["Config"]["Entrypoint"] or []
        return self.exec(container.id, [*entrypoint, *command], tty, streams)

    def exec(self, container_id: str, argv: list[str], tty: bool, streams: Streams) -> int:
        exec_id = self.engine.create_exec(container_id, argv, tty)
        with self.engine.start_exec(exec_id, tty) as stream:
            terminal.converse(stream, streams, partial(self.engine.resize_exec, exec_id))
        return self.engine.inspect_exec(exec_id)["ExitCode"]

    def exec_output(self, container_id: str, argv: list[str]) -> tuple[int, str]:
        exec_id = self.engine.create_exec(container_id, argv, tty=False)
        with self.engine.start_exec(exec_id, tty=False) as stream:
            stream.close_stdin()
            output = b"".join(data for _stream, data in stream.output())
        return self.engine.inspect_exec(exec_id)["ExitCode"], output.decode(errors="replace")

    # -- images ---------------------------------------------------------------------------
    def image_exists(self, image: str) -> bool:
        return self.engine.image_exists(image)

    def pull(self, image: str, credentials: Optional[tuple[str, str]] = None) -> None:
        try:
            self.engine.pull(image, registry_auth(registry.reference_host(image), credentials) if credentials else "")
        except EngineError as error:
            raise NotFound(f"the image {image} is not on this machine and cannot be pulled: {error}") from None

    def inspect_image(self, image: str) -> Image:
        info = self.engine.inspect_image(image)
        return Image(id=info["Id"], config=info["Config"] or {})

    def image_files(self, image: str, folder: str, names: Iterable[str]) -> dict[str, str]:
        """Read from a created container of the image, which never runs."""
        container = self.engine.create_container({"Image": image, "Entrypoint": ["/bin/true"], "Cmd": []})
        try:
            return {name: read_text_file(self.engine, container, f"{folder.rstrip('/')}/{name}") for name in names}
        finally:
            self.engine.remove_container(container, force=True)

    def tag_image(self, image: str, repository: str, tag: str) -> None:
        with contextlib.suppress(EngineNotFound):
            self.engine.tag_image(image, repository, tag)

    def push_image(
        self, image: str, repository: str, tags: list[str], credentials: Optional[tuple[str, str]], time_limit: float
    ) -> str:
        auth = registry_auth(registry.reference_host(repository), credentials)
        image_id = self.engine.inspect_image(image)["Id"]
        named = {tag: self._image_named(f"{repository}:{tag}") for tag in tags}
        for tag, other in named.items():
            if other not in (None, image_id):
                # Docker Hub's dokku/APP is also the app's own repository here: a tag `v1` would
                # take the name of its release v1, which would then be lost
                raise EngineError(
                    f"{repository}:{tag} already names another image on this host; push under another tag or repo"
                )
        digests = []
        for tag in tags:
            if named[tag] is None:
                self.engine.tag_image(image_id, repository, tag)
            try:
                digests.append(self.engine.push_image(repository, tag, auth, time_limit))
            finally:
                if named[tag] is None:  # the name was given for the push alone
                    self._untag(image_id, f"{repository}:{tag}")
        return digests[0]

    def _image_named(self, name: str) -> Optional[str]:
        try:
            return self.engine.inspect_image(name)["Id"]
        except EngineNotFound:
            return None

    def _untag(self, image_id: str, name: str) -> None:
        """Removes the name a push gave the image, unless it is the image's only one: removing
        the last name removes the image (a predeploy task's commit has no other yet)."""
        with contextlib.suppress(EngineError):
            if len(self.engine.inspect_image(image_id).get("RepoTags") or []) > 1:
                self.engine.remove_image(name)

    def remove_images(self, tags: list[str], image_ids: Iterable[str], must_go: bool = False) -> None:
        parents = []  # of the images the tags name: a former build base goes with the last image on it
        for tag in tags:
            with contextlib.suppress(EngineNotFound if must_go else EngineError):
                parents.append(self.engine.inspect_image(tag).get("Parent") or "")
                self.engine.remove_image(tag)
        for image_id in image_ids:
            remove_if_unnamed(self.engine, image_id)
        for parent in dict.fromkeys(parents):
            remove_former_base(self.engine, parent)

    # -- services -------------------------------------------------------------------------
    def start_service(self, service: Service) -> str:
        self.ensure_network(service.network, service.network_labels)
        self.engine.create_volume(service.volume, service.labels)
        config = {
            "Image": service.image,
            "Env": [f"{key}={value}" for key, value in service.env.items()],
            "Labels": service.labels,
            "HostConfig": {
                "Binds": [f"{service.volume}:{service.mount}"],
                "RestartPolicy": {"Name": "unless-stopped"},
                "NetworkMode": service.network,
            },
            "NetworkingConfig": {"EndpointsConfig": {service.network: {"Aliases": service.aliases}}},
        }
        container_id = self.engine.create_container(config, name=service.name)
        self.engine.start_container(container_id)
        return container_id

    def service_state(self, service: str) -> Optional[ServiceState]:
        try:
            details = self.engine.inspect_container(service)
        except EngineNotFound:
            return None
        networks = details["NetworkSettings"].get("Networks") or {}
        return ServiceState(
            id=details["Id"],
            status=details["State"]["Status"],
            running=bool(details["State"]["Running"]),
            addresses={network: found.get("IPAddress", "") for network, found in networks.items()},
        )

    def restart_service(self, container_id: str) -> None:
        self.engine.stop_container(container_id)
        self.engine.start_container(container_id)

    def remove_service(self, name: str, volume: str) -> None:
        with contextlib.suppress(EngineNotFound):
            self.engine.remove_container(name, force=True)
        self.engine.remove_volume(volume)

    def ensure_network(self, network: str, labels: dict[str, str]) -> None:
        self.engine.ensure_network(network, labels)

    def connect_service(self, network: str, name: str, aliases: list[str]) -> None:
        """A missing service is left out; one on the network already stays as it is."""
        state = self.service_state(name)
        if state is not None and network not in state.addresses:
            self.engine.connect_network(network, state.id, aliases)

    def disconnect_service(self, network: str, name: str) -> None:
        with contextlib.suppress(EngineNotFound):
            self.engine.disconnect_network(network, name)

    def remove_network(self, network: str) -> None:
        self.engine.remove_network(network)

    # -- networks of network:create -------------------------------------------------------------
    def networks(self) -> list[NetworkInfo]:
        return [_network_info(entry) for entry in self.engine.list_networks()]

    def create_network(self, network: str, labels: dict[str, str]) -> None:
        self.engine.create_network(network, labels)

    def network_members(self, network: str) -> list[str]:
        """The names of the containers on the network: a web namespace's holder (runtime/web_network.py)
        stands for the container in it, and a spare for none."""
        found = self.engine.containers_on_network(network)
        holders = {f"{web_network.JOINED}{entry['Id']}" for entry in found if web_network.is_holder(entry)}
        members = [entry for entry in found if not web_network.is_holder(entry)]
        if holders:
            everyone = self.engine.list_containers({}, all_states=True)
            members += [entry for entry in everyone if (entry.get("HostConfig") or {}).get("NetworkMode") in holders]
        return sorted((entry.get("Names") or ["/"])[0].lstrip("/") for entry in members)

    def joined_networks(self, container: Container) -> list[str]:
        on, created_on = self._networks_of(container)
        return [network for network in on if network != created_on]

    def join_network(self, container: Container, network: str, aliases: tuple[str, ...]) -> Container:
        # The engine's default route goes through the first of a container's networks by name
        # (internal ones aside), and its published ports follow it, to new host ports: so the
        # container is described again.
        if network not in self._networks_of(container)[0]:
            owner = self._namespace_owner(container.id)
            self.engine.connect_network(network, owner, _with_hostnames(owner, aliases))
        return self._describe(container.id) or container

    def leave_network(self, container: Container, network: str) -> Container:
        if network in self._networks_of(container)[0]:
            self.engine.disconnect_network(network, self._namespace_owner(container.id))
        return self._describe(container.id) or container

    def _networks_of(self, container: Container) -> tuple[list[str], str]:
        """The networks the container is on (its holder's, runtime/web_network.py), and the one
        it was created on; none when it is gone."""
        try:
            info = self.engine.inspect_container(container.id)
        except EngineNotFound:
            return [], ""
        info = web_network.holder_of(self.engine, info) or info
        return sorted(info["NetworkSettings"].get("Networks") or {}), info["HostConfig"].get("NetworkMode", "")

    def _namespace_owner(self, container_id: str) -> str:
        """The id of the container whose network namespace the container is in: its holder's
        (runtime/web_network.py), or its own."""
        holder = web_network.holder_of(self.engine, self.engine.inspect_container(container_id))
        return holder["Id"] if holder is not None else container_id

    def _join(self, container_id: str, networking: Networking, options: DockerOptions) -> None:
        """Joins a created container to networking's networks, and to its initial network where
        its options put it on another one (isolation.create_container)."""
        on = options.network or networking.initial
        initial = (networking.initial,) if networking.initial and options.network else ()
        for network in dict.fromkeys((*initial, *networking.joined)):
            if network != on:
                self.engine.connect_network(network, container_id, _with_hostnames(container_id, networking.aliases))

    def _describe(self, container_id: str) -> Optional[Container]:
        try:
            info = self.engine.inspect_container(container_id)
        except EngineNotFound:  # removed while we looked
            return None
        namespace = web_network.holder_of(self.engine, info) or info  # where its ports and address are
        bound = namespace["NetworkSettings"].get("Ports") or {}
        requested = namespace["HostConfig"].get("PortBindings") or {}  # only web publishes ports
        web_endpoint = (namespace["NetworkSettings"].get("Networks") or {}).get(web_addresses.NETWORK)
        published = {
            int(port.split("/")[0]): int(bindings[0]["HostPort"]) for port in requested if (bindings := bound.get(port))
        }
        env = dict(item.partition("=")[::2] for item in info["Config"].get("Env") or [])
        web_port = int(env["PORT"]) if names.is_whole_number(env.get("PORT", "")) else None
        container_labels = info["Config"]["Labels"] or {}
        return Container(
            id=info["Id"],
            name=info["Name"].lstrip("/"),
            process_type=container_labels.get(labels.PROCESS_TYPE, ""),
            host_port=published.get(web_port) if web_port else None,
            running=bool(info["State"]["Running"]),
            release=container_labels.get(labels.RELEASE, ""),
            host_ports=published,
            restarts=info.get("RestartCount") or 0,
            # a namespace lost (its holder gone or started again under it) is as ports moved:
            # the restore deploys the release again (ops/processes.py)
            ports_kept=all(host_ports.kept(bindings) for bindings in requested.values())
            and not web_network.namespace_lost(info, namespace),
            address=web_addresses.pinned(web_endpoint),
            web_port=web_port,
        )


def _log_config(max_size: str) -> dict:
    """The json-file log driver rotating at max_size (as many files as by default), or never."""
    if max_size == UNLIMITED_LOGS:
        return {"Type": "json-file", "Config": {}}
    return {"Type": "json-file", "Config": dict(resources.LOG_CONFIG["Config"], **{"max-size": max_size})}


def _with_hostnames(container_id: str, aliases: tuple[str, ...]) -> list[str]:
    """The aliases, and Dokku's `HOSTNAME.ALIAS` of each (a container's hostname is the start of
    its id), which name one container where the alias names them all."""
    return [*aliases, *(f"{container_id[:12]}.{alias}" for alias in aliases)]


def _network_info(entry: dict) -> NetworkInfo:
    return NetworkInfo(
        id=entry.get("Id", ""),
        name=entry.get("Name", ""),
        driver=entry.get("Driver", ""),
        scope=entry.get("Scope", ""),
        internal=bool(entry.get("Internal")),
        ipv6=bool(entry.get("EnableIPv6")),
        created=entry.get("Created", ""),
        labels=dict(entry.get("Labels") or {}),
    )


def _is_named_for(app: str, entry: dict) -> bool:
    # "/NAME"; a legacy link's alias is "/OTHER/ALIAS"
    return any(name.startswith(f"/{app}.") and name.count("/") == 1 for name in entry.get("Names") or [])


def _whole_number(text: str) -> Optional[int]:
    return int(text) if names.is_whole_number(text) else None


def _started_again_by_nothing(entry: dict) -> bool:
    """A container of a build, task or one-off run, or a retired process: not a stopped app's
    process, which ps:start starts again."""
    role = (entry.get("Labels") or {}).get(labels.ROLE)
    return role != PROCESS_ROLE or any(RETIRING in name for name in entry.get("Names") or [])
