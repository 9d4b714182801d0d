"""An in-memory scheduler and proxy, so the flows of ops/ (deploy, config, scale, stop, restore,
rollback, push, sources) run in unit tests without Docker or nginx, on a temp state root.

Both write to one journal, in the order things happen: ("start", name), ("retire", name),
("route", app, [names]), ... so a test can say that old containers retired only after the new
ones passed their checks and the proxy moved to them.

The services part of the Scheduler interface (postgres) is left out but for the link networks
(made, joined, left, removed): no flow test here runs a service, some link an app to one. The
networks of network:create are kept (networks, joined_networks): a container is on the networks
its Networking gave it and those it joined since.
"""

import itertools
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Optional

import pytest

from minidokku.build.builders import BuildResult
from minidokku.context import Context
from minidokku.errors import EngineError, NotFound
from minidokku.ops import app_lifecycle, deploy
from minidokku.output import RecordingOutput
from minidokku.records import resources, scale
from minidokku.records.appjson import AppJson
from minidokku.records.docker_options import DockerOptions
from minidokku.records.releases import Release
from minidokku.runtime import checks, labels, web_addresses
from minidokku.runtime.scheduler import (
    NO_NETWORKING,
    RETIRING,
    STOP_GRACE_SECONDS,
    UPCOMING,
    AtCapacity,
    Container,
    Image,
    NetworkInfo,
    Networking,
    OneOff,
    OneOffContainer,
)
from minidokku.runtime.terminal import Streams
from minidokku.settings import Settings

FIRST_HOST_PORT = 40000


class FakeScheduler:
    def __init__(self, journal: list[tuple]):
        self.journal = journal
        self.live: dict[str, Container] = {}  # id -> container, as the engine has them now
        self.app_of: dict[str, str] = {}  # container id -> app
        self.started: list[Container] = []  # every container ever started, as it started
        self.configs: dict[str, dict[str, str]] = {}  # container id -> the config it started with
        self.log_sizes: dict[str, Optional[str]] = {}  # container id -> the log_max_size it started with
        self.commands: dict[str, Optional[list[str]]] = {}  # container id -> the Cmd it started with
        self.grace: list[int] = []  # the grace of each stop and retire, in order
        self.retired: list[str] = []  # names of the containers retired, in order
        self.failing_releases: set[str] = set()  # their containers exit at once (status 1)
        self.dying_once_routed: set[str] = set()  # theirs exit (status 1) once the proxy routed to them
        self.images: dict[str, Image] = {}
        self.image_texts: dict[tuple[str, str], str] = {}  # (image, path) -> text
        self.pullable: dict[str, Image] = {}  # what a registry would give
        self.tags: dict[str, str] = {}  # `repository:tag` -> image id
        self.tasks: list[tuple[str, list[str], dict[str, str]]] = []  # (image, command, env) of each task
        self.task_status = 0
        self.leftover_tasks: dict[str, str] = {}  # task container id -> app, as a killed deploy leaves them
        self.one_offs: list[OneOff] = []
        self.detached: dict[str, OneOffContainer] = {}  # id -> a run:detached container still there
        self.log_requests: list[tuple[str, bool, Optional[int], bool]] = []  # (id, follow, tail, timestamps)
        self.removed_volumes: list[str] = []
        self.tags_in_use: set[str] = set()  # tags the engine refuses to remove (a container uses them)
        self.dangling_images: dict[str, str] = {}  # image id -> app, untagged images its builds left
        self.networkings: dict[str, Networking] = {}  # container id -> the networking it started with
        self.task_networkings: list[Networking] = []  # the networking of each task, in order
        self.engine_networks: dict[str, NetworkInfo] = {}  # name -> a network made by create_network
        self.joined: dict[str, dict[str, tuple[str, ...]]] = {}  # container id -> network -> its aliases there
        self._ids = itertools.count(1)

    # -- test helpers ---------------------------------------------------------------------
    def add_image(self, image_id: str, config: Optional[dict] = None) -> str:
        self.images[image_id] = Image(image_id, config or {})
        return image_id

    def names(self, app: str) -> list[str]:
        return [c.name for c in self.containers(app)]

    def restart_by_policy(self, container_id: str) -> Container:
        """The engine starting a container again after it exited (its restart policy): its
        restart count goes up and its published ports move, as the engine's may."""
        container = self.live[container_id]
        number = next(self._ids)
        moved = {port: FIRST_HOST_PORT + 10 * number + i for i, port in enumerate(container.host_ports)}
        web_port = next((port for port, bound in container.host_ports.items() if bound == container.host_port), None)
        return self._update(container, restarts=container.restarts + 1, host_ports=moved, host_port=moved.get(web_port))

    # -- the processes of a release -------------------------------------------------------
    def containers(self, app: str) -> list[Container]:
        return sorted((c for c in self.live.values() if self.app_of[c.id] == app), key=lambda c: c.name)

    def running(self, app: str) -> list[Container]:
        return [c for c in self.containers(app) if not c.retiring]

    def web_containers(self, app: str) -> list[Container]:
        return [c for c in self.running(app) if c.process_type == "web" and c.running]

    def start_dynos(
        self,
        app: str,
        release: Release,
        process_type: str,
        count: int,
        options_for,
        restart_policy: Optional[dict] = None,
        extra_ports: tuple[int, ...] = (),
        *,
        credentials=None,
        **settings,
    ) -> list[Container]:
        started: list[Container] = []
        try:
            for index in range(1, count + 1):
                options = options_for(index)
                started.append(
                    self.start(app, release, process_type, index, options, restart_policy, extra_ports, **settings)
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
        number = next(self._ids)
        host_ports = {}
        if process_type == "web":
            host_ports = {
                port: FIRST_HOST_PORT + 10 * number + i for i, port in enumerate((release.web_port, *extra_ports))
            }
        container = Container(
            id=f"c{number}",
            name=f"{app}.{process_type}.{index}{UPCOMING}{number:06x}",
            process_type=process_type,
            host_port=host_ports.get(release.web_port),
            running=True,
            release=release.name,
            host_ports=host_ports,
            address=f"172.30.{128 + number // 256}.{number % 256}" if process_type == "web" else None,
            web_port=release.web_port if process_type == "web" else None,
        )
        self.live[container.id] = container
        self.app_of[container.id] = app
        self.started.append(container)
        self.configs[container.id] = dict(release.config)
        self.log_sizes[container.id] = log_max_size
        self.commands[container.id] = command
        self.networkings[container.id] = networking
        self.joined[container.id] = {network: networking.aliases for network in networking.joined}
        self.journal.append(("start", container.name))
        return container

    def restart(self, container: Container) -> Container:
        return self._update(container, running=True)

    def settle_names(self, containers: list[Container]) -> None:
        for container in containers:
            self._update(container, name=container.plain_name)

    def mark_retiring(self, containers: list[Container]) -> None:
        for container in containers:
            if not container.retiring:
                self._update(container, name=f"{container.plain_name}{RETIRING}{container.id}")

    def retire_earlier_beyond(self, app: str, just_retiring: list[Container], cap: int) -> None:
        retiring = [c for c in self.containers(app) if c.retiring]
        if len(retiring) > cap:
            kept = {c.id for c in just_retiring}
            self.retire([c.id for c in retiring if c.id not in kept])

    def stop(self, containers: list[Container], grace: int = STOP_GRACE_SECONDS) -> None:
        self.grace.append(grace)
        for container in containers:
            if container.id in self.live:
                self._update(container, running=False)
                self.journal.append(("stop", self.live[container.id].name))

    def retire(self, container_ids: list[str], grace: int = STOP_GRACE_SECONDS) -> None:
        self.grace.append(grace)
        for container_id in container_ids:
            if self.detached.pop(container_id, None) is not None:
                self.journal.append(("stop-run", container_id))
                continue
            gone = self.live.pop(container_id, None)
            if gone is not None:
                self.retired.append(gone.name)
                self.journal.append(("retire", gone.name))

    def remove_leftover_tasks(self, app: str) -> None:
        for container_id in [i for i, owner in self.leftover_tasks.items() if owner == app]:
            del self.leftover_tasks[container_id]
            self.journal.append(("remove-task", container_id))

    def remove_abandoned_namespaces(self, app: str) -> None:
        """The fake's containers have namespaces of their own: none is held for them."""

    def remove_app(self, app: str) -> None:
        for container in self.containers(app):
            del self.live[container.id]
        self.journal.append(("remove-app", app))

    def remove_network(self, name: str) -> None:
        """The postgres plugin's post-delete (apps:destroy) and post-app-rename remove the app's
        link network, whether or not it was made."""
        self.engine_networks.pop(name, None)
        self.journal.append(("remove-network", name))

    def networks(self) -> list[NetworkInfo]:
        return list(self.engine_networks.values())

    def create_network(self, network: str, labels: dict[str, str]) -> None:
        number = next(self._ids)
        info = NetworkInfo(f"{number:064x}", network, "bridge", "local", False, False, "2026-01-01T00:00:00Z", labels)
        self.engine_networks[network] = info
        self.journal.append(("create-network", network))

    def network_members(self, network: str) -> list[str]:
        on = [c for c in self.live.values() if network in self.joined.get(c.id, {})]
        on += [c for c in self.live.values() if self.networkings.get(c.id, NO_NETWORKING).initial == network]
        return sorted(c.name for c in on)

    def joined_networks(self, container: Container) -> list[str]:
        return list(self.joined.get(container.id, {}))

    def join_network(self, container: Container, network: str, aliases: tuple[str, ...]) -> Container:
        if network not in self.joined.setdefault(container.id, {}):
            self.joined[container.id][network] = aliases
            self.journal.append(("join", network, self.live[container.id].name))
        return self.live[container.id]

    def leave_network(self, container: Container, network: str) -> Container:
        if self.joined.get(container.id, {}).pop(network, None) is not None:
            self.journal.append(("leave", network, self.live[container.id].name))
        return self.live[container.id]

    def ensure_network(self, network: str, labels: dict[str, str]) -> None:
        self.journal.append(("ensure-network", network))

    def connect_service(self, network: str, name: str, aliases: list[str]) -> None:
        self.journal.append(("connect", network, name))

    def disconnect_service(self, network: str, name: str) -> None:
        self.journal.append(("disconnect", network, name))

    def remove_volume(self, volume: str) -> None:
        self.removed_volumes.append(volume)
        self.journal.append(("remove-volume", volume))

    def clean_up(self, app: str) -> tuple[int, int]:
        finished = [c.id for c in self.containers(app) if c.retiring and not c.running]
        for container_id in finished:
            del self.live[container_id]
        dangling = [image for image, owner in self.dangling_images.items() if owner == app]
        for image in dangling:
            del self.dangling_images[image]
        self.journal.append(("clean-up", app))
        return len(finished), len(dangling)

    def _update(self, container: Container, **changes) -> Container:
        updated = replace(self.live[container.id], **changes)
        self.live[container.id] = updated
        return updated

    # -- what checks ask ------------------------------------------------------------------
    def is_running(self, container: Container) -> tuple[bool, Optional[int]]:
        if container.id not in self.live or container.release in self.failing_releases:
            return False, 1
        if container.release in self.dying_once_routed and any(
            entry[0] == "route" and container.name in entry[2] for entry in self.journal
        ):
            return False, 1
        return self.live[container.id].running, None

    def answers_http(self, container: Container) -> bool:
        return self.is_running(container)[0] and container.host_port is not None

    def http_get(self, container: Container, path: str, host: str, timeout: int) -> tuple[int, str]:
        if not self.answers_http(container):
            raise OSError(f"{container.name} does not answer")
        return 200, f"{container.name} answers {path}"

    def last_logs(self, container_id: str, lines: int = 20) -> str:
        return f"(the last lines of {container_id})"

    # -- tasks and one-offs ---------------------------------------------------------------
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
        self.tasks.append((image, command, env))
        self.task_networkings.append(networking)
        self.journal.append(("task", env.get("DYNO", "")))
        on_line(f"ran {' '.join(command)}")
        if self.task_status != 0 or commit_as is None:
            return self.task_status, None
        committed = self.add_image(f"{image}+{env.get('DYNO', 'task')}", self.images[image].config)
        self.tags[f"{commit_as[0]}:{commit_as[1]}"] = committed
        return 0, committed

    def run(self, app: str, one_off: OneOff, streams: Streams, at_most: int) -> int:
        if len(self.one_offs) >= at_most:
            raise AtCapacity(f"{app} runs {at_most} one-off containers already")
        self.one_offs.append(one_off)
        return 0

    def run_detached(self, app: str, one_off: OneOff, at_most: int) -> str:
        if len([c for c in self.detached.values() if self.app_of[c.id] == app]) >= at_most:
            raise AtCapacity(f"{app} runs {at_most} one-off containers already")
        number = next(self._ids)
        container = OneOffContainer(
            f"r{number}",
            f"{app}.{one_off.dyno}",
            "running",
            " ".join(one_off.command),
            int(time.time()),
            one_off.ttl_seconds,
            one_off.cron_id,
        )
        self.detached[container.id] = container
        self.app_of[container.id] = app
        self.one_offs.append(one_off)
        return container.name

    def run_containers(self, app: str) -> list[OneOffContainer]:
        return sorted((c for c in self.detached.values() if self.app_of[c.id] == app), key=lambda c: c.name)

    def inspect(self, containers: list[Container]) -> list[dict]:
        return [
            {"Id": c.id, "Name": f"/{c.name}", "Config": {"Env": [f"{k}={v}" for k, v in self.configs[c.id].items()]}}
            for c in containers
            if c.id in self.live
        ]

    def logs(self, container_id: str, follow: bool, tail: Optional[int], timestamps: bool) -> Iterator[str]:
        found = self.live.get(container_id) or self.detached[container_id]
        self.log_requests.append((container_id, follow, tail, timestamps))
        return iter([f"2026-01-01T00:00:00Z output of {found.name}"])

    # -- images ---------------------------------------------------------------------------
    def image_exists(self, image: str) -> bool:
        return image in self.images or image in self.tags

    def pull(self, image: str, credentials: Optional[tuple[str, str]] = None) -> None:
        if image not in self.pullable:
            raise NotFound(f"the image {image} is not on this machine and cannot be pulled")
        self.images[image] = self.pullable[image]

    def inspect_image(self, image: str) -> Image:
        return self.images[image]

    def push_image(
        self, image: str, repository: str, tags: list[str], credentials: Optional[tuple[str, str]], time_limit: float
    ) -> str:
        self.journal.append(("push", image, repository, tuple(tags), credentials))
        return "sha256:" + "d" * 64

    def image_files(self, image: str, folder: str, names: Iterable[str]) -> dict[str, str]:
        return {name: self.image_texts.get((image, f"{folder.rstrip('/')}/{name}"), "") for name in names}

    def tag_image(self, image: str, repository: str, tag: str) -> None:
        if image in self.images:
            self.tags[f"{repository}:{tag}"] = image

    def remove_images(self, tags: list[str], image_ids: Iterable[str], must_go: bool = False) -> None:
        for tag in tags:
            if tag in self.tags_in_use:
                if must_go:
                    raise EngineError(f"conflict: unable to remove {tag}: a container uses it")
                continue
            self.tags.pop(tag, None)
        for image_id in image_ids:
            if image_id not in self.tags.values():
                self.images.pop(image_id, None)


class FakeProxy:
    """Records where each app's requests go: the ids of its web containers, [] for a 503."""

    def __init__(self, journal: list[tuple]):
        self.journal = journal
        self.routes: dict[str, list[str]] = {}
        self.backups: dict[str, list[str]] = {}  # the ids of the web containers asked when those fail
        self.removed: list[str] = []

    def route(
        self,
        app: str,
        web_containers: list[Container],
        release: Optional[Release] = None,
        backups: Sequence[Container] = (),
    ) -> None:
        """Journals ("route", app, names) and, with backups, their names as a fourth item."""
        self.routes[app] = [c.id for c in web_containers]
        self.backups[app] = [c.id for c in backups]
        entry = ("route", app, [c.name for c in web_containers])
        self.journal.append((*entry, [c.name for c in backups]) if backups else entry)

    def remove(self, app: str) -> None:
        self.routes.pop(app, None)
        self.removed.append(app)
        self.journal.append(("unroute", app))

    def published_ports(self, app: str, release: Release) -> tuple[int, ...]:
        return (release.web_port,)

    def url(self, app: str) -> str:
        return f"http://{app}.example.test"


@dataclass
class Flow:
    """A Context on a temp state root with the fake scheduler and proxy, and what they recorded."""

    ctx: Context
    scheduler: FakeScheduler
    proxy: FakeProxy
    journal: list[tuple] = field(default_factory=list)

    @property
    def output(self) -> str:
        return "\n".join(self.ctx.out.lines)

    def create_app(self, app: str, env: Optional[dict[str, str]] = None) -> None:
        """A new app running web=1 and worker=1, whose default checks take no time (no 2 s
        uptime) and whose old containers retire right after a switch (no detached `ps:retire`)."""
        app_lifecycle.create(self.ctx, app, None)
        scale.write(self.ctx.store, app, {"web": 1, "worker": 1})
        self.ctx.store.write_env(app, {"DOKKU_DEFAULT_CHECKS_WAIT": "0", **(env or {})})
        checks.set_property(self.ctx.store, app, "wait-to-retire", "0")

    def built(self, image_id: str, processes: Optional[dict[str, str]] = None, **fields) -> BuildResult:
        """What a builder would hand over: an image (now known to the fake) and its process types."""
        self.scheduler.add_image(image_id)
        return BuildResult(image_id, processes or {"web": "serve", "worker": "work"}, fields.pop("app_json", AppJson()),
                           "", **fields)  # fmt: skip

    def deploy(self, app: str, build: BuildResult, sha: str = "a" * 40) -> Release:
        with deploy.exclusive(self.ctx, app):
            return deploy.deploy_build(self.ctx, app, build, self.ctx.store.read_env(app), sha, f"Deploy {sha[:7]}")


def make_flow(root: Path, monkeypatch: pytest.MonkeyPatch, **settings) -> Flow:
    """settings override the machine's (keep_releases=...); `ps:retire` errands run `true`."""
    monkeypatch.setenv("DOKKU_ROOT", str(root))
    root.mkdir(parents=True, exist_ok=True)
    journal: list[tuple] = []
    scheduler, proxy = FakeScheduler(journal), FakeProxy(journal)
    machine = replace(Settings.load(), **{"program": ["true"], "namespace": "", **settings})
    return Flow(Context(machine, RecordingOutput(), scheduler=scheduler, proxy=proxy), scheduler, proxy, journal)


def web_network(subnet: str = "172.30.0.0/16", engines_half: str = "172.30.0.0/17") -> dict:
    """The web network as the engine describes it once minidokku made it (runtime/web_addresses.py)."""
    return {
        "Name": web_addresses.NETWORK,
        "Internal": True,
        "Labels": {labels.NETWORK: "web"},
        "Options": dict(web_addresses.OPTIONS),
        "IPAM": {"Driver": "default", "Config": [{"Subnet": subnet, "IPRange": engines_half}]},
    }
