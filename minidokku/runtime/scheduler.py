"""The scheduler interface: everything above engine/ that runs an app's containers asks it.

ops/ deploys, scales, stops, restores, runs one-offs and tasks, reads logs and removes apps
through these methods only, so another scheduler (Docker Swarm) runs the same deploy code.
`runtime/docker_scheduler.py` is the local Docker one. A scheduler speaks of an app by its
Docker name (Context.docker_name) and of a container by the Container record it returned:
`Container.id` is the scheduler's own handle, which ops pass back and never look into.

A container's name tells its part in a deploy: `app.web.1.upcoming-ab12cd` while it is checked,
`app.web.1` while it serves, `app.web.1.retiring-ab12cd` during its grace period after a switch.
"""

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Optional, Protocol

from minidokku.errors import MinidokkuError
from minidokku.records import resources
from minidokku.records.docker_options import DockerOptions
from minidokku.records.releases import Release
from minidokku.runtime.terminal import Streams

UPCOMING = ".upcoming-"
RETIRING = ".retiring-"
STOP_GRACE_SECONDS = 10
UNLIMITED_LOGS = "unlimited"  # a log_max_size: the container's log never rotates
LOOPBACK = "127.0.0.1"  # where web containers publish their ports


@dataclass(frozen=True)
class Container:
    """The scheduler's record of one process container of an app."""

    id: str  # the scheduler's handle: ops pass it back, never look into it
    name: str
    process_type: str
    host_port: Optional[int]  # where its PORT is published (web only)
    running: bool = True
    release: str = ""
    host_ports: dict[int, int] = field(default_factory=dict)  # every published container port -> host port
    restarts: int = 0  # how often the engine had restarted it (its restart policy) when it was described
    ports_kept: bool = True  # its host ports were set at its creation: every start binds them again
    address: Optional[str] = None  # its pinned address on the web network (runtime/web_addresses.py)
    web_port: Optional[int] = None  # its PORT (web only)
    host: str = LOOPBACK  # the address its host ports are on (a swarm task's: its node's)

    def reached_at(self, container_port: Optional[int] = None) -> Optional[tuple[str, int]]:
        """(host, port) where nginx and the checks reach one of its ports (None: its PORT): at its
        pinned address, else (a swarm task, or a container made before addresses were pinned)
        where it publishes it; None when it serves no such port."""
        port = self.web_port if container_port is None else container_port
        if port not in self.host_ports:
            return None
        return (self.address, port) if self.address else (self.host, self.host_ports[port])

    @property
    def elsewhere(self) -> bool:
        """Whether it runs on another machine (a swarm node), reached over the network."""
        return self.host != LOOPBACK

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


@dataclass(frozen=True)
class Networking:
    """The networks an app's container gets from `network:set` (ops/network.py), by their names
    on the engine: created on initial instead of the apps' network ("": not; where its options
    name a network, joined right after its creation instead), joined to each of joined after its
    creation and before its start, and known on those networks by each of aliases (a process's
    `APP.web`; the scheduler adds Dokku's `HOSTNAME.APP.web` where it joins). A web container
    publishes its ports on every interface with all_interfaces (bind-all-interfaces), else on
    127.0.0.1 only, where nginx reaches them."""

    initial: str = ""
    joined: tuple[str, ...] = ()
    aliases: tuple[str, ...] = ()
    all_interfaces: bool = False


NO_NETWORKING = Networking()


@dataclass(frozen=True)
class NetworkInfo:
    """A network on the engine, as `network:list` and `network:info` show it."""

    id: str
    name: str  # its name on the engine
    driver: str
    scope: str
    internal: bool
    ipv6: bool
    created: str  # RFC 3339, as the engine says it
    labels: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class OneOff:
    """A `run` process: a new container of a release's image, wired to the caller's streams."""

    dyno: str  # `run.1234`
    image: str
    command: list[str]
    env: dict[str, str]
    options: DockerOptions
    limits: resources.Limits
    tty: bool
    ttl_seconds: int  # how long it may run before run:retire stops it
    networking: Networking = NO_NETWORKING
    cron_id: str = ""  # a scheduled cron task's run: its id (labels.CRON_ID)


@dataclass(frozen=True)
class OneOffContainer:
    """A one-off container of an app (`run`, `run:detached`), as `run:list` shows it."""

    id: str  # the scheduler's handle
    name: str  # `app.run.1234`
    state: str  # created, running, exited, ...
    command: str  # what the engine runs, the image's entrypoint included
    created: int  # when, in seconds since the epoch
    ttl_seconds: Optional[int] = None  # how long it may run (None: for ever)
    cron_id: str = ""  # the cron task it runs, if any

    def expired(self, now: float) -> bool:
        return self.ttl_seconds is not None and now > self.created + self.ttl_seconds


@dataclass(frozen=True)
class Image:
    id: str
    config: dict  # the image's configuration (Cmd, Entrypoint, WorkingDir, ExposedPorts, ...)


@dataclass(frozen=True)
class Service:
    """A long-running service container (a postgres server) with its data in a named volume,
    reached on its own network under its aliases, restarted with the engine."""

    name: str
    image: str
    env: dict[str, str]
    labels: dict[str, str]  # on the container and its volume
    volume: str
    mount: str  # where the volume is mounted
    network: str
    network_labels: dict[str, str]
    aliases: list[str]


@dataclass(frozen=True)
class ServiceState:
    id: str
    status: str  # running, exited, restarting, ...
    running: bool
    addresses: dict[str, str]  # network name -> the service's address on it


class AtCapacity(MinidokkuError):
    """An app runs as many one-off processes as it may already."""


class PortTaken(MinidokkuError):
    """A stopped container cannot start again: something else holds a host port it publishes."""


class Scheduler(Protocol):
    # -- the processes of a release -----------------------------------------------------------
    def containers(self, app: str) -> list[Container]:
        """Every process container of the app, in any state, ordered by name."""

    def running(self, app: str) -> list[Container]:
        """The app's containers that serve or are being checked (not the retiring ones)."""

    def web_containers(self, app: str) -> list[Container]:
        """The running web containers: their host_ports are the addresses that serve the app."""

    def inspect(self, containers: list[Container]) -> list[dict]:
        """The engine's whole description of each container (`docker inspect`); gone ones left out."""

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
        """Starts dynos `process_type.1` to `process_type.count` of the release under upcoming
        names (options_for(index): the docker-options of each); a failure leaves none of them.
        Web publishes its PORT (and extra_ports) where the proxy reaches it. log_max_size: the
        size at which a log rotates (`20m`, or UNLIMITED_LOGS), None for the scheduler's
        default. command: the Cmd (ps_settings.container_command), None for the image's own.
        networking: the app's network:set networks. credentials: what a scheduler that pulls
        release.image_id from its registry logs in with."""

    def restart(self, container: Container) -> Container:
        """Starts a stopped container again, on the host ports it had; raises PortTaken when
        something else holds one of them now."""

    def settle_names(self, containers: list[Container]) -> None:
        """Gives new containers their plain names (app.web.1) once the old ones moved aside."""

    def mark_retiring(self, containers: list[Container]) -> None:
        """Renames serving containers aside, freeing their plain names."""

    def retire_earlier_beyond(self, app: str, just_retiring: list[Container], cap: int) -> None:
        """Keeps the app's retiring containers at most cap, retiring the earlier ones now."""

    def stop(self, containers: list[Container], grace: int = STOP_GRACE_SECONDS) -> None:
        """Stops the containers, keeping them (and their logs) for a later start."""

    def retire(self, container_ids: list[str], grace: int = STOP_GRACE_SECONDS) -> None:
        """Stops (after grace seconds, by force) and removes the containers; gone ones are fine."""

    def remove_leftover_tasks(self, app: str) -> None:
        """Removes the build and task containers a killed deploy left behind."""

    def remove_abandoned_namespaces(self, app: str) -> None:
        """Removes what held the network of a process container that went (a command was killed
        between the two removals); the caller holds the app's lock."""

    def remove_app(self, app: str) -> None:
        """Removes every container of the app, whatever its role."""

    def clean_up(self, app: str) -> tuple[int, int]:
        """`dokku cleanup`: removes the app's exited or dead containers nothing starts again (its
        builds, tasks, one-off runs and retired processes; a stopped app's processes stay for
        ps:start) and its dangling images (an image in use stays). Returns how many of each went."""

    def remove_volume(self, volume: str) -> None:
        """Removes a volume of the app (its build cache); one already gone is fine."""

    # -- what checks ask (runtime/checks.py's Prober) --------------------------------------------
    def is_running(self, container: Container) -> tuple[bool, Optional[int]]:
        """(running, exit code); a container that restarts after a crash is not running."""

    def answers_http(self, container: Container) -> bool:
        """True when something answers an HTTP request on the web port with a status line."""

    def http_get(self, container: Container, path: str, host: str, timeout: int) -> tuple[int, str]:
        """GET path on the container's web port; raises OSError when nothing answers."""

    def last_logs(self, container_id: str, lines: int = 20) -> str:
        """The container's last output lines, "" when there are none to read."""

    # -- deployment tasks and one-off processes ----------------------------------------------------
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
        """Runs command once in a new container of image, streaming its output to on_line;
        returns (exit status, the image committed as commit_as=(repository, tag) or None)."""

    def run(self, app: str, one_off: OneOff, streams: Streams, at_most: int) -> int:
        """Runs a one-off process attached to streams and removes it after; returns its exit
        status. Raises AtCapacity when the app runs more than at_most one-offs with it."""

    def run_detached(self, app: str, one_off: OneOff, at_most: int) -> str:
        """Starts a one-off process without a terminal, removed when it ends; returns its
        container's name. Raises AtCapacity as run does."""

    def run_containers(self, app: str) -> list[OneOffContainer]:
        """The app's one-off containers (found by the app's label, never by their name)."""

    def enter(self, container: Container, command: list[str], tty: bool, streams: Streams) -> int:
        """Runs command (behind the image's entrypoint) in a running container; returns its status."""

    def exec(self, container_id: str, argv: list[str], tty: bool, streams: Streams) -> int:
        """Runs argv as it is in a running container (a process's or a service's)."""

    def exec_output(self, container_id: str, argv: list[str]) -> tuple[int, str]:
        """Runs argv in a running container with no input; returns its status and output."""

    def logs(self, container_id: str, follow: bool, tail: Optional[int], timestamps: bool) -> Iterator[str]:
        """The container's output lines (with follow, until it ends)."""

    # -- images a deploy runs ----------------------------------------------------------------------
    def image_exists(self, image: str) -> bool:
        """True when the image can be run here."""

    def pull(self, image: str, credentials: Optional[tuple[str, str]] = None) -> None:
        """Fetches the image from its registry, logged in with credentials (username, password;
        None: none); NotFound when it cannot be had."""

    def inspect_image(self, image: str) -> Image:
        """The image's id and configuration."""

    def image_files(self, image: str, folder: str, names: Iterable[str]) -> dict[str, str]:
        """The text of these files in the image's folder ("" for a missing one), by name."""

    def tag_image(self, image: str, repository: str, tag: str) -> None:
        """Names the image repository:tag; an image that is gone is left unnamed."""

    def push_image(
        self, image: str, repository: str, tags: list[str], credentials: Optional[tuple[str, str]], time_limit: float
    ) -> str:
        """Pushes the image to its registry as repository:TAG for each of tags, logged in with
        credentials (username, password; None: none), within time_limit seconds each; returns
        the digest the registry keeps it under. No local name is left behind. EngineError when
        the registry refuses it or cannot be reached."""

    def remove_images(self, tags: list[str], image_ids: Iterable[str], must_go: bool = False) -> None:
        """Removes these tags, then the images of image_ids no tag names any more (an image
        deployed with git:from-image keeps its own name). A tag already gone is fine; one that
        cannot go (a container uses it, the engine fails) is left for a later prune, or raises
        EngineError with must_go (apps:destroy: an app's name must not be freed while its tags
        stay, or a new app of that name could build FROM them)."""

    # -- services (plugins/postgres) ---------------------------------------------------------------
    def start_service(self, service: Service) -> str:
        """Creates the service's network, volume and container and starts it; returns its id."""

    def service_state(self, service: str) -> Optional[ServiceState]:
        """What the service (its name, or the id start_service returned) is doing; None when
        its container is missing."""

    def restart_service(self, container_id: str) -> None:
        """Stops the service's container and starts it again."""

    def remove_service(self, name: str, volume: str) -> None:
        """Removes the service's container and its volume (its data); gone ones are fine."""

    def ensure_network(self, network: str, labels: dict[str, str]) -> None:
        """Creates a private network unless it is there."""

    def connect_service(self, network: str, name: str, aliases: list[str]) -> None:
        """Puts the service named name on the network as well, reached there by aliases."""

    def disconnect_service(self, network: str, name: str) -> None:
        """Takes the service off the network; a missing one is fine."""

    def remove_network(self, network: str) -> None:
        """Removes the network; a missing one is fine."""

    # -- networks of network:create (ops/network.py) -----------------------------------------------
    def networks(self) -> list[NetworkInfo]:
        """Every network on the engine."""

    def create_network(self, network: str, labels: dict[str, str]) -> None:
        """Creates a bridge network whose containers reach each other."""

    def network_members(self, network: str) -> list[str]:
        """The names of the containers attached to the network, stopped ones too."""

    def joined_networks(self, container: Container) -> list[str]:
        """The networks the container joined once created (not the one it was created on)."""

    def join_network(self, container: Container, network: str, aliases: tuple[str, ...]) -> Container:
        """Attaches the container to one more network, known there by aliases (and Dokku's
        `HOSTNAME.ALIAS` of each); one on it already stays as it is. Returns the container as
        it is now: joining a running container may move where its ports are published."""

    def leave_network(self, container: Container, network: str) -> Container:
        """Detaches the container from the network (one not on it is fine); returns it as join_network."""
