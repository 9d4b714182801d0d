"""The scheduler family's records (Dokku's `scheduler:*`, and `scheduler-swarm:*`'s settings):
which scheduler runs an app's processes, and where the Swarm scheduler finds its cluster.

`selected` (per app and global): `docker-local` (containers on this host's engine, the default)
or `swarm` (services on a Docker Swarm, runtime/swarm_scheduler.py). The Swarm settings are
global only: `manager-socket`, the unix socket of a manager's engine (default: this host's,
which `scheduler-swarm:initialize` makes a manager), `advertise-addr`, the address the manager
tells other nodes to reach it at (default: the engine picks one), and `node-sockets`, the engine
sockets of other nodes (`HOSTNAME=SOCKET,...`), through which `enter` reaches their tasks.
"""

import ipaddress
import re
from pathlib import PurePosixPath

from minidokku.access import rules
from minidokku.errors import ValidationError
from minidokku.records import properties
from minidokku.records.properties import Setting
from minidokku.state import Store

FAMILY = "scheduler"
SWARM_FAMILY = "scheduler-swarm"
DOCKER_LOCAL = "docker-local"
SWARM = "swarm"
_HOSTNAME = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9.-]{0,252}[A-Za-z0-9])?")
SCHEDULERS = (DOCKER_LOCAL, SWARM)


def _scheduler(value: str) -> str:
    if value not in SCHEDULERS:
        raise ValidationError(f"selected must be one of {', '.join(SCHEDULERS)}, not {value[:40]!r}")
    return value


def _socket(value: str) -> str:
    path = PurePosixPath(value)
    if not path.is_absolute() or ".." in path.parts or any(ord(c) < 32 for c in value) or len(value) > 107:
        raise ValidationError(f"manager-socket must be the absolute path of a unix socket, not {value[:80]!r}")
    return value


def _address(value: str) -> str:
    """An IP address, as `docker swarm init --advertise-addr` takes it (an interface name is not)."""
    try:
        ipaddress.ip_address(value)
    except ValueError:
        raise ValidationError(f"advertise-addr must be an IP address, not {value[:80]!r}") from None
    return value


def _node_sockets(value: str) -> str:
    """`HOSTNAME=SOCKET,...`: the engine of each node `enter` reaches a task on."""
    for entry in value.split(","):
        hostname, equals, socket = entry.partition("=")
        if not equals or not _HOSTNAME.fullmatch(hostname):
            raise ValidationError(f"node-sockets is HOSTNAME=SOCKET[,HOSTNAME=SOCKET...], not {entry[:80]!r}")
        _socket(socket)
    return value


SELECTED = Setting(FAMILY, "selected", DOCKER_LOCAL, _scheduler)
SETTINGS = (SELECTED,)
MANAGER_SOCKET = Setting(SWARM_FAMILY, "manager-socket", "", _socket)
ADVERTISE_ADDR = Setting(SWARM_FAMILY, "advertise-addr", "", _address)
NODE_SOCKETS = Setting(SWARM_FAMILY, "node-sockets", "", _node_sockets)
SWARM_SETTINGS = (ADVERTISE_ADDR, MANAGER_SOCKET, NODE_SOCKETS)
ON_SWARM = "on-swarm"  # an app's record, no setting: it has services on the swarm (mark_on_swarm)


def selected(store: Store, app: str) -> str:
    """The scheduler that runs the app: its own choice, else the global one, else docker-local.
    A user key's app runs on this host whatever is set: a swarm task cannot be denied new
    privileges (setuid) through the Engine API 1.41 minidokku speaks, as a local container is."""
    if rules.is_tenant_app(store, app):
        return DOCKER_LOCAL
    return properties.computed_value(store, app, SELECTED)


def runs_on_swarm(store: Store, app: str) -> bool:
    return selected(store, app) == SWARM


def mark_on_swarm(store: Store, app: str) -> None:
    """Notes that the app has (or may have) services on the swarm, until forget_swarm."""
    if not properties.get(store, app, FAMILY, ON_SWARM):
        properties.put(store, app, FAMILY, ON_SWARM, "true")


def forget_swarm(store: Store, app: str) -> None:
    """The app's last services on the swarm are gone."""
    if properties.get(store, app, FAMILY, ON_SWARM):
        properties.put(store, app, FAMILY, ON_SWARM, None)


def may_be_on_swarm(store: Store, app: str) -> bool:
    """Whether the app runs on the swarm, or had services there it has not yet retired all of."""
    return runs_on_swarm(store, app) or properties.get(store, app, FAMILY, ON_SWARM) == "true"


def node_sockets(store: Store) -> dict[str, str]:
    value = properties.own_value(store, None, NODE_SOCKETS)
    return dict(entry.split("=", 1) for entry in value.split(",")) if value else {}


def manager_socket(store: Store, default: str) -> str:
    """The socket of the swarm manager's engine; default: this host's engine socket."""
    return properties.own_value(store, None, MANAGER_SOCKET) or default
