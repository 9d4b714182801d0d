"""The swarm the swarm scheduler runs apps on (`scheduler-swarm:*`): made, joined, looked at and
pruned through its manager's engine (records/scheduler.py: manager-socket, advertise-addr)."""

from dataclasses import dataclass
from typing import Optional

from minidokku.context import Context
from minidokku.errors import EngineError, NotFound, ValidationError
from minidokku.records import properties
from minidokku.records import scheduler as selection
from minidokku.runtime import labels

ROLES = ("worker", "manager")
SWARM_PORT = 2377


@dataclass(frozen=True)
class Node:
    id: str
    hostname: str
    role: str  # worker or manager
    status: str  # ready, down, unknown, disconnected
    availability: str  # active, pause, drain
    address: str
    leader: bool


def manages(ctx: Context) -> bool:
    """Whether the manager-socket's engine manages a swarm."""
    return ctx.swarm_manager.swarm() is not None


def initialize(ctx: Context) -> Optional[str]:
    """Makes the manager-socket's engine the manager of a new swarm; returns its node id, None
    when it manages one already (nothing is changed then)."""
    if manages(ctx):
        return None
    address = properties.own_value(ctx.store, None, selection.ADVERTISE_ADDR)
    try:
        return ctx.swarm_manager.init_swarm(address)
    except EngineError as error:
        raise ValidationError(f"the engine at {ctx.swarm_manager.socket_path} did not start a swarm: {error}") from None


def join_command(ctx: Context, role: str) -> str:
    """The `docker swarm join` command another host's engine runs to join as role."""
    if role not in ROLES:
        raise ValidationError(f"the role is {' or '.join(ROLES)}, not {role[:40]!r}")
    swarm = _swarm(ctx)
    token = (swarm.get("JoinTokens") or {}).get(role.capitalize(), "")
    managers = [node for node in nodes(ctx) if node.role == "manager" and node.address]
    address = next((node.address for node in managers if node.leader), managers[0].address if managers else "")
    return f"docker swarm join --token {token} {address}:{SWARM_PORT}"


def nodes(ctx: Context) -> list[Node]:
    _swarm(ctx)
    found = []
    for entry in ctx.swarm_manager.nodes():
        spec, status = entry.get("Spec") or {}, entry.get("Status") or {}
        manager = entry.get("ManagerStatus") or {}
        address = status.get("Addr", "")
        if manager.get("Addr") and address in ("", "0.0.0.0"):
            address = manager["Addr"].rsplit(":", 1)[0]
        found.append(
            Node(
                id=entry["ID"],
                hostname=(entry.get("Description") or {}).get("Hostname", ""),
                role=spec.get("Role", ""),
                status=status.get("State", ""),
                availability=spec.get("Availability", ""),
                address=address,
                leader=bool(manager.get("Leader")),
            )
        )
    return sorted(found, key=lambda node: (node.role != "manager", node.hostname, node.id))


def remove_node(ctx: Context, name: str, force: bool) -> Node:
    """Removes a node (its id, a unique prefix of it, or its hostname) from the swarm; one that
    is still up is removed with force only (its tasks then run elsewhere)."""
    found = [node for node in nodes(ctx) if name in (node.id, node.hostname) or node.id.startswith(name)]
    if not name or not found:
        raise NotFound(f"no node {name!r} in the swarm (scheduler-swarm:nodes lists them)")
    if len(found) > 1:
        raise ValidationError(f"{name!r} names {len(found)} nodes: give its id")
    node = found[0]
    if node.role == "manager":
        raise ValidationError(f"{node.hostname} is a manager: demote it first (docker node demote)")
    if node.status == "ready" and not force:
        raise ValidationError(f"{node.hostname} is up: drain it first, or remove it with --force")
    try:
        ctx.swarm_manager.remove_node(node.id, force=force)
    except EngineError as error:
        raise ValidationError(f"the swarm did not remove {node.hostname}: {error}") from None
    return node


def services_of(ctx: Context, app: str) -> list[str]:
    """The names of the services the swarm has of the app, whatever they do; EngineError when
    its manager does not answer."""
    return [service["Spec"]["Name"] for service in ctx.swarm_manager.list_services({labels.APP: ctx.docker_name(app)})]


def _swarm(ctx: Context) -> dict:
    swarm = ctx.swarm_manager.swarm()
    if swarm is None:
        raise NotFound(
            f"the engine at {ctx.swarm_manager.socket_path} manages no swarm: "
            "`dokku scheduler-swarm:initialize`, or set manager-socket"
        )
    return swarm
