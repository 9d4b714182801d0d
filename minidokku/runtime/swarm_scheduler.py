"""The Docker Swarm scheduler (runtime/scheduler.py's second implementation): an app's processes
are Swarm services on a cluster whose manager's engine it talks to; what is built, and every
image, stays on this host's engine (the local scheduler's).

A deploy makes one service per process type, its replicas the process type's scale, running
the release's image by digest from a registry (ops/registry.py pushes it). The new services
start beside the old ones; the deploy checks their tasks from this host, moves nginx to them,
then retires the old services after the app's wait: the same zero-downtime path as a local
deploy (ops/deploy.py), with a task in the part of a container.

- A task is reached where its node publishes its ports (host mode, a port the node picks):
  Swarm's routing mesh and virtual IPs need IPVS, which many kernels (and these machines) lack.
- A task's Container.id is SWARM_ID + `SERVICE/TASK`; ids without it are the app's local
  containers (left from before the app moved to the swarm), which the local scheduler retires.
  An app moving back to this host has a SwarmScheduler that starts_here: its new containers
  start on this host, and its tasks are the old ones its deploy retires.
- What a service is doing in a deploy is its label STATE: upcoming, serving or retiring;
  a task's name (`APP.web.2`, `APP.web.2.upcoming-ab12cd`) says it as a container's does.
"""

import contextlib
import ipaddress
import secrets
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import replace
from typing import Optional

from minidokku.engine.client import Engine, registry_auth
from minidokku.errors import EngineError, EngineNotFound, NotSupported
from minidokku.records import registry, resources
from minidokku.records.docker_options import DockerOptions
from minidokku.records.releases import Release
from minidokku.runtime import isolation, labels
from minidokku.runtime.docker_scheduler import DEFAULT_RESTART_POLICY, PROCESS_ROLE, DockerScheduler
from minidokku.runtime.scheduler import (
    NO_NETWORKING,
    RETIRING,
    STOP_GRACE_SECONDS,
    UNLIMITED_LOGS,
    UPCOMING,
    Container,
    Networking,
)
from minidokku.runtime.terminal import Streams

SWARM_ID = "swarm:"
STATE = "com.minidokku.swarm-state"  # a process service's part in a deploy: one of the three below
UPCOMING_STATE, SERVING_STATE, RETIRING_STATE = "upcoming", "serving", "retiring"
TOKEN = "com.minidokku.deploy-token"  # the hex that sets a deploy's services (and names) apart
WEB_PORT = "com.minidokku.web-port"
TASK_LABEL = "com.docker.swarm.task.id"  # what the swarm labels a task's container with
MAX_SERVICE_NAME = 63
START_WITHIN = 180.0  # seconds a new service's tasks have to run (their nodes pull the image first)
POLL_EVERY = 0.25
FAILED_TASK_STATES = ("failed", "rejected")
NETWORK_REMOVAL_WITHIN = 30.0  # seconds the removed services' tasks have to leave the app's network
NANOSECONDS = 1_000_000_000


class SwarmScheduler:
    def __init__(
        self,
        manager: Engine,
        local: DockerScheduler,
        sleep: Callable[[float], None] = time.sleep,
        starts_here: bool = False,
        node_sockets: Optional[dict[str, str]] = None,
    ):
        self.manager = manager
        self.local = local  # builds and images, and the app's containers from before the swarm
        self.sleep = sleep
        # an app leaving the swarm: its new processes start on this host, its tasks are old ones
        self.starts_here = starts_here
        self.node_sockets = node_sockets or {}  # a node's hostname -> its engine's socket (enter)

    # -- finding --------------------------------------------------------------------------
    def containers(self, app: str) -> list[Container]:
        """The tasks the swarm runs for the app, then its local containers left from before. An
        app leaving the swarm whose manager does not answer has its local containers alone: its
        services there are asked for again at its next deploy."""
        try:
            addresses = self._node_addresses()
            tasks = [c for service in self._services(app) for c in self._tasks_of(service, addresses)]
        except EngineError:
            if not self.starts_here:
                raise
            tasks = []
        return sorted(tasks, key=lambda c: c.name) + self.local.containers(app)

    def running(self, app: str) -> list[Container]:
        return [c for c in self.containers(app) if not c.retiring]

    def web_containers(self, app: str) -> list[Container]:
        return [c for c in self.running(app) if c.process_type == "web" and c.running]

    def _services(self, app: str) -> list[dict]:
        return self.manager.list_services({labels.APP: app, labels.ROLE: PROCESS_ROLE})

    def _node_addresses(self) -> dict[str, str]:
        return {node["ID"]: node_address(node) for node in self.manager.nodes()}

    def _tasks_of(self, service: dict, addresses: dict[str, str]) -> list[Container]:
        """The service's tasks, one per slot: the one the swarm wants running, else (a process
        that ended for good: exited 0, out of restarts) the last one, not running, so that a
        deploy retires its service too."""
        found = self.manager.list_tasks({"service": [service["ID"]]})
        chosen: dict[int, dict] = {}
        for task in sorted(found, key=lambda t: (t.get("DesiredState") == "running", t.get("CreatedAt", ""))):
            chosen[task.get("Slot", 0)] = task
        return [self._container(service, task, addresses) for _slot, task in sorted(chosen.items())]

    def _container(self, service: dict, task: dict, addresses: dict[str, str]) -> Container:
        service_labels = (service.get("Spec") or {}).get("Labels") or {}
        process_type = service_labels.get(labels.PROCESS_TYPE, "")
        web_port = int(service_labels[WEB_PORT]) if service_labels.get(WEB_PORT, "").isdigit() else None
        published: dict[int, int] = {}
        for port in ((task.get("Status") or {}).get("PortStatus") or {}).get("Ports") or []:
            published.setdefault(port.get("TargetPort"), port.get("PublishedPort"))  # listed for IPv4 and IPv6
        host = addresses.get(task.get("NodeID", ""), "")
        state = service_labels.get(STATE, SERVING_STATE)
        token = service_labels.get(TOKEN, "")
        suffix = {UPCOMING_STATE: f"{UPCOMING}{token}", RETIRING_STATE: f"{RETIRING}{token}"}.get(state, "")
        return Container(
            id=f"{SWARM_ID}{service['ID']}/{task['ID']}",
            name=f"{service_labels.get(labels.APP, '')}.{process_type}.{task.get('Slot', 0)}{suffix}",
            process_type=process_type,
            host_port=published.get(web_port) if web_port else None,
            # a task on a node with no address nginx can use is no task to send requests to
            running=(
                task.get("DesiredState") == "running"
                and (task.get("Status") or {}).get("State") == "running"
                and bool(host or not web_port)
            ),
            release=service_labels.get(labels.RELEASE, ""),
            host_ports=published,
            web_port=web_port,
            host=host,
        )

    def inspect(self, containers: list[Container]) -> list[dict]:
        """Each task as `docker inspect` describes a container (what ps:inspect masks is where
        it looks for it: Config.Env), with the node it runs on."""
        described = []
        for container in containers:
            if not container.id.startswith(SWARM_ID):
                described += self.local.inspect([container])
                continue
            with contextlib.suppress(EngineNotFound):
                task = self.manager.inspect_task(_task_id(container.id))
                spec = (task.get("Spec") or {}).get("ContainerSpec") or {}
                status = task.get("Status") or {}
                described.append(
                    {
                        "Id": task["ID"],
                        "Name": container.name,
                        "Config": {"Image": spec.get("Image"), "Env": spec.get("Env") or [], "Cmd": spec.get("Args")},
                        "State": {"Status": status.get("State"), "Running": status.get("State") == "running"},
                        "Node": {"ID": task.get("NodeID"), "Addr": container.host},
                        "Service": _service_id(container.id),
                    }
                )
        return described

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
        """One new service of count replicas running release.image_id (a registry reference,
        pulled with credentials); returns its tasks once all run. A task that fails to start
        (its image cannot be pulled, its node refuses it) removes the service and raises
        EngineError with the node's reason."""
        if self.starts_here:
            return self.local.start_dynos(
                app,
                release,
                process_type,
                count,
                options_for,
                restart_policy,
                extra_ports,
                limits=limits,
                log_max_size=log_max_size,
                command=command,
                networking=networking,
            )
        if count < 1:
            return []
        if networking.initial or networking.joined:  # networks of this host's engine
            raise NotSupported("network:set networks are not available on the swarm scheduler yet")
        options = options_for(1)
        _refuse_unmapped(options)
        token = secrets.token_hex(3)
        network = app_network(app)
        self.manager.ensure_network(network, {labels.APP: app, labels.NETWORK: "swarm"}, driver="overlay")
        spec = _service_spec(app, release, process_type, count, options, restart_policy, extra_ports, limits, command)
        spec["TaskTemplate"]["Networks"] = [{"Target": network}]
        spec["TaskTemplate"]["LogDriver"] = _log_driver(log_max_size)
        spec["Name"] = _service_name(app, process_type, token)
        spec["Labels"][TOKEN] = token
        auth = registry_auth(registry.reference_host(release.image_id), credentials) if credentials else ""
        service_id = self.manager.create_service(spec, auth)
        try:
            return self._wait_running(service_id, count)
        except BaseException:
            self.manager.remove_service(service_id)
            raise

    def _wait_running(self, service_id: str, count: int) -> list[Container]:
        deadline = time.monotonic() + START_WITHIN
        while True:
            service = self.manager.inspect_service(service_id)
            tasks = self.manager.list_tasks({"service": [service_id]})
            failed = [t for t in tasks if (t.get("Status") or {}).get("State") in FAILED_TASK_STATES]
            if failed:
                status = failed[0].get("Status") or {}
                raise EngineError(
                    f"the swarm could not start {service['Spec']['Name']}: {status.get('Err') or status.get('Message')}"
                )
            found = self._tasks_of(service, self._node_addresses())
            if len(found) == count and all(c.running for c in found):
                return found
            if time.monotonic() > deadline:
                states = ", ".join(sorted((t.get("Status") or {}).get("State", "?") for t in tasks))
                raise EngineError(f"{service['Spec']['Name']}'s tasks did not run within {START_WITHIN:g} s ({states})")
            self.sleep(POLL_EVERY)

    def restart(self, container: Container) -> Container:
        """A task that is not running is the swarm's to start again (or to replace): as it is."""
        return container if container.id.startswith(SWARM_ID) else self.local.restart(container)

    def settle_names(self, containers: list[Container]) -> None:
        self._label_services(containers, SERVING_STATE)
        self.local.settle_names([c for c in containers if not c.id.startswith(SWARM_ID)])

    def mark_retiring(self, containers: list[Container]) -> None:
        self._label_services([c for c in containers if not c.retiring], RETIRING_STATE)
        self.local.mark_retiring([c for c in containers if not c.id.startswith(SWARM_ID)])

    def _whole_services(self, container_ids: list[str]) -> list[str]:
        """The services all of whose tasks are among container_ids: a service goes (or is marked)
        whole, never for one of its tasks while others of it are kept (ps:restore's strays)."""
        given = {_task_id(i) for i in container_ids if i.startswith(SWARM_ID)}
        whole = []
        for service_id in dict.fromkeys(_service_id(i) for i in container_ids if i.startswith(SWARM_ID)):
            tasks = self.manager.list_tasks({"service": [service_id]})  # the ended ones too
            # by slot: a task the swarm replaced since it was listed is still the one given
            slots = {task.get("Slot") for task in tasks if task["ID"] in given}
            if all(task.get("Slot") in slots for task in tasks if task.get("DesiredState") == "running"):
                whole.append(service_id)
        return whole

    def _label_services(self, containers: list[Container], state: str) -> None:
        for service_id in self._whole_services([c.id for c in containers]):
            with contextlib.suppress(EngineNotFound):
                service = self.manager.inspect_service(service_id)
                spec = service["Spec"]
                if (spec.get("Labels") or {}).get(STATE) != state:
                    spec["Labels"] = dict(spec.get("Labels") or {}, **{STATE: state})
                    self.manager.update_service(service_id, service["Version"]["Index"], spec)

    def retire_earlier_beyond(self, app: str, just_retiring: list[Container], cap: int) -> None:
        retiring = [c for c in self.containers(app) if c.retiring]
        if len(retiring) > cap:
            kept = {c.id for c in just_retiring}
            self.retire([c.id for c in retiring if c.id not in kept])

    def stop(self, containers: list[Container], grace: int = STOP_GRACE_SECONDS) -> None:
        """A swarm keeps no stopped task to start again: the services go (ps:start deploys anew)."""
        self.retire([c.id for c in containers], grace)

    def retire(self, container_ids: list[str], grace: int = STOP_GRACE_SECONDS) -> None:
        """Removes the services of these tasks (each task stops within the service's stop grace
        period); the local containers among them go as the local scheduler retires them."""
        for service_id in self._whole_services(container_ids):
            self.manager.remove_service(service_id)
        self.local.retire([i for i in container_ids if not i.startswith(SWARM_ID)], grace)

    def remove_leftover_tasks(self, app: str) -> None:
        self.local.remove_leftover_tasks(app)

    def remove_abandoned_namespaces(self, app: str) -> None:
        self.local.remove_abandoned_namespaces(app)

    def remove_app(self, app: str) -> None:
        """Removes every service of the app, its network and its local containers. An app
        leaving the swarm whose manager does not answer loses its local containers alone."""
        try:
            for service in self.manager.list_services({labels.APP: app}):
                self.manager.remove_service(service["ID"])
            self._remove_network(app)
        except EngineError:
            if not self.starts_here:
                raise
        self.local.remove_app(app)

    def _remove_network(self, app: str) -> None:
        """The app's overlay network, once its tasks left it (their removal takes a moment); one
        still in use after NETWORK_REMOVAL_WITHIN (a task on a lost node) is left: it holds
        nothing but its name."""
        deadline = time.monotonic() + NETWORK_REMOVAL_WITHIN
        while True:
            try:
                self.manager.remove_network(app_network(app))
                return
            except EngineError as error:
                if not error.status:  # the manager does not answer
                    raise
                if time.monotonic() > deadline:
                    return
                self.sleep(POLL_EVERY)

    def clean_up(self, app: str) -> tuple[int, int]:
        return self.local.clean_up(app)

    def remove_volume(self, volume: str) -> None:
        self.local.remove_volume(volume)

    # -- what checks ask ------------------------------------------------------------------
    def is_running(self, container: Container) -> tuple[bool, Optional[int]]:
        """A task that stopped is not started again: the swarm replaces it by another task."""
        if not container.id.startswith(SWARM_ID):
            return self.local.is_running(container)
        try:
            task = self.manager.inspect_task(_task_id(container.id))
        except EngineNotFound:
            return False, None
        status = task.get("Status") or {}
        exit_code = (status.get("ContainerStatus") or {}).get("ExitCode")
        return status.get("State") == "running" and task.get("DesiredState") == "running", exit_code

    def answers_http(self, container: Container) -> bool:
        return self.local.answers_http(container)  # both ask where Container.reached_at says

    def http_get(self, container: Container, path: str, host: str, timeout: int) -> tuple[int, str]:
        return self.local.http_get(container, path, host, timeout)

    def last_logs(self, container_id: str, lines: int = 20) -> str:
        try:
            return "\n".join(self.logs(container_id, follow=False, tail=lines, timestamps=False))
        except EngineError:
            return ""

    def logs(self, container_id: str, follow: bool, tail: Optional[int], timestamps: bool) -> Iterator[str]:
        if not container_id.startswith(SWARM_ID):
            return self.local.logs(container_id, follow, tail, timestamps)
        entries = self.manager.task_logs(_task_id(container_id), follow=follow, tail=tail, timestamps=timestamps)
        return (line for _stream, line in entries)

    # -- networks: this host's engine's, which the swarm's tasks are on none of ----------------------
    def joined_networks(self, container: Container) -> list[str]:
        return [] if container.id.startswith(SWARM_ID) else self.local.joined_networks(container)

    def join_network(self, container: Container, network: str, aliases: tuple[str, ...]) -> Container:
        if container.id.startswith(SWARM_ID):
            raise NotSupported("network:set networks are not available on the swarm scheduler yet")
        return self.local.join_network(container, network, aliases)

    def leave_network(self, container: Container, network: str) -> Container:
        return container if container.id.startswith(SWARM_ID) else self.local.leave_network(container, network)

    # -- entering a task: on its node's engine -------------------------------------------------
    def enter(self, container: Container, command: list[str], tty: bool, streams: Streams) -> int:
        """Runs command in the task's container, through the engine of the node it runs on: the
        manager's own, or one that node_sockets names (by the node's hostname)."""
        if not container.id.startswith(SWARM_ID):
            return self.local.enter(container, command, tty, streams)
        task = self.manager.inspect_task(_task_id(container.id))
        container_id = ((task.get("Status") or {}).get("ContainerStatus") or {}).get("ContainerID", "")
        node = self.manager.inspect_node(task.get("NodeID", ""))
        hostname = (node.get("Description") or {}).get("Hostname", "")
        if not container_id or task.get("DesiredState") != "running":
            raise NotSupported(f"{container.name} is not running")
        if (self.manager.info().get("Swarm") or {}).get("NodeID") == node.get("ID"):
            engine = self.manager
        elif hostname in self.node_sockets:
            engine = Engine(self.node_sockets[hostname])
        else:
            raise NotSupported(
                f"{container.name} runs on the node {hostname}, whose engine minidokku cannot reach: "
                f"scheduler-swarm:set --global node-sockets {hostname}=SOCKET"
            )
        if engine is not self.manager:
            # the container that engine has under that id must be this task's (node-sockets names
            # nodes by the hostname each reports: a mistaken or duplicate name is caught here)
            found = engine.inspect_container(container_id)
            if ((found.get("Config") or {}).get("Labels") or {}).get(TASK_LABEL) != task["ID"]:
                raise NotSupported(f"the engine node-sockets names for {hostname} does not run {container.name}")
        on_node = replace(container, id=container_id)
        return DockerScheduler(engine, network="").enter(on_node, command, tty, streams)

    # -- what stays on this host: one-offs, images -----------------------------------------------

    def image_exists(self, image: str) -> bool:
        return self.local.image_exists(image)

    def tag_image(self, image: str, repository: str, tag: str) -> None:
        self.local.tag_image(image, repository, tag)

    def remove_images(self, tags: list[str], image_ids: Iterable[str], must_go: bool = False) -> None:
        self.local.remove_images(tags, image_ids, must_go)


def node_address(node: dict) -> str:
    """The IPv4 address a node's published ports are reached at: its own, else (a manager that
    reports 0.0.0.0) the one it manages at; "" when it has none (nginx takes no IPv6 here)."""
    address = (node.get("Status") or {}).get("Addr", "")
    if address in ("", "0.0.0.0"):
        address = ((node.get("ManagerStatus") or {}).get("Addr") or "").rsplit(":", 1)[0]
    try:
        return str(ipaddress.IPv4Address(address))
    except ValueError:
        return ""


def app_network(app: str) -> str:
    """The app's overlay network: its tasks reach each other there, and no other app's."""
    return f"{app}-swarm"


def _log_driver(log_max_size: Optional[str]) -> dict:
    """json-file, rotated at the app's size (or never, UNLIMITED_LOGS) as a local container's."""
    options = dict(resources.LOG_CONFIG["Config"])
    if log_max_size == UNLIMITED_LOGS:
        options = {}
    elif log_max_size:
        options["max-size"] = log_max_size
    return {"Name": "json-file", "Options": options}


def _task_id(container_id: str) -> str:
    return container_id.removeprefix(SWARM_ID).partition("/")[2]


def _service_id(container_id: str) -> str:
    return container_id.removeprefix(SWARM_ID).partition("/")[0]


def _service_name(app: str, process_type: str, token: str) -> str:
    """`APP-TYPE-TOKEN`, cut to the 63 characters Swarm allows (the labels say whose it is)."""
    head = f"{app}-{process_type}"[: MAX_SERVICE_NAME - len(token) - 1].rstrip("-_")
    return f"{head}-{token}"


def _refuse_unmapped(options: DockerOptions) -> None:
    """docker-options that would mean something else on another node are refused, not dropped."""
    if options.binds:
        raise NotSupported("docker-options -v (a host folder) cannot follow a process onto the swarm's nodes")
    if options.network:
        raise NotSupported("docker-options --network is not available on the swarm scheduler")


def _template_safe(value: str) -> str:
    """Swarm expands Go templates ({{.Task.Slot}}) in a service's environment: a config value's
    own braces are given as text."""
    return value.replace("{{", '{{"{{"}}')


def _service_spec(
    app: str,
    release: Release,
    process_type: str,
    count: int,
    options: DockerOptions,
    restart_policy: Optional[dict],
    extra_ports: tuple[int, ...],
    limits: resources.Limits,
    command: Optional[list[str]],
) -> dict:
    environment = {key: _template_safe(value) for key, value in release.config.items()}
    environment["DYNO"] = f"{process_type}.{{{{.Task.Slot}}}}"
    service_labels = {
        labels.APP: app,
        labels.PROCESS_TYPE: process_type,
        labels.RELEASE: release.name,
        labels.ROLE: PROCESS_ROLE,
        STATE: UPCOMING_STATE,
    }
    ports: list[int] = []
    if process_type == "web":
        environment["PORT"] = str(release.web_port)
        service_labels[WEB_PORT] = str(release.web_port)
        ports = list(dict.fromkeys((release.web_port, *extra_ports)))
    container = {
        "Image": release.image_id,
        "Env": [f"{key}={value}" for key, value in environment.items()] + options.env,
        "Labels": {**options.labels, **{k: v for k, v in service_labels.items() if k != STATE}},
        "Init": True,  # as a local container's: SIGTERM reaches the app
        "StopGracePeriod": STOP_GRACE_SECONDS * NANOSECONDS,
        "CapabilityDrop": list(isolation.DROPPED_CAPABILITIES),  # no raw sockets on the node's networks
    }
    if command:
        container["Args"] = command
    if options.extra_hosts:  # `HOST:IP` as docker run takes it; Swarm's `IP HOST`
        container["Hosts"] = [" ".join(reversed(entry.split(":", 1))) for entry in options.extra_hosts]
    policy = restart_policy or DEFAULT_RESTART_POLICY
    spec = {
        "Labels": service_labels,
        "TaskTemplate": {
            "ContainerSpec": container,
            "Resources": {"Limits": _limits(limits, options)},
            "RestartPolicy": _restart_policy(policy),
        },
        "Mode": {"Replicated": {"Replicas": count}},
        # an update Swarm makes itself (`docker service update`) starts each new task first
        "UpdateConfig": {"Parallelism": 1, "Order": "start-first", "FailureAction": "rollback"},
        "RollbackConfig": {"Parallelism": 1, "Order": "start-first"},
        "EndpointSpec": {
            "Mode": "dnsrr",  # no virtual IP: it needs IPVS
            "Ports": [{"Protocol": "tcp", "TargetPort": port, "PublishMode": "host"} for port in ports],
        },
    }
    return spec


def _restart_policy(policy: dict) -> dict:
    """Docker's restart policy (ps:set restart-policy) as a swarm task's: `no` never (it parses
    to no name), `on-failure[:N]` at most N times (0: without end), `always` and `unless-stopped`
    whatever ended it."""
    name = policy.get("Name") or "no"
    condition = {"no": "none", "on-failure": "on-failure"}.get(str(name), "any")
    found = {"Condition": condition, "Delay": NANOSECONDS}
    if condition == "on-failure" and policy.get("MaximumRetryCount"):
        found["MaxAttempts"] = int(policy["MaximumRetryCount"])
    return found


def _limits(limits: resources.Limits, options: DockerOptions) -> dict:
    memory = options.memory if options.memory is not None else limits.memory
    nano_cpus = options.nano_cpus if options.nano_cpus is not None else limits.nano_cpus
    found = {"MemoryBytes": memory, "NanoCPUs": nano_cpus}
    if limits.pids:
        found["Pids"] = limits.pids
    return {key: value for key, value in found.items() if value}
