"""Port mappings (`ports:add APP http:80:5000`, Dokku's format), kept in APP/PORTS.

Without mappings of its own an app gets the default: with domains, http on the machine's HTTP
port (and https on its HTTPS port once it has a certificate); without any domain, http on a port
of its own. The container port defaults to the one the image says (EXPOSE) or 5000.
"""

import re
from collections.abc import Iterable

from minidokku.access import rules
from minidokku.errors import NotFound, ValidationError
from minidokku.routing import listening
from minidokku.routing.nginx import PortMap
from minidokku.state import Store

FILE = "PORTS"
MAPPING = re.compile(r"(http|https):([0-9]{1,5}):([0-9]{1,5})")
FIRST_OWN_PORT = 10000
FIRST_UNPRIVILEGED_PORT = 1024
OWN_PORT_FILE = "PROXY_PORT"


def parse(text: str) -> PortMap:
    match = MAPPING.fullmatch(text.strip())
    if not match:
        raise ValidationError(
            f"invalid port mapping {text[:60]!r}: use SCHEME:HOST_PORT:CONTAINER_PORT, like http:80:5000"
        )
    scheme, host_port, container_port = match.group(1), int(match.group(2)), int(match.group(3))
    if not (1 <= host_port <= 65535 and 1 <= container_port <= 65535):
        raise ValidationError(f"invalid port mapping {text!r}: ports go from 1 to 65535")
    return PortMap(scheme, host_port, container_port)


def explicit(store: Store, app: str) -> list[PortMap]:
    return [parse(line) for line in store.read_lines(app, FILE)]


def set_(store: Store, app: str, mappings: list[str]) -> None:
    _write(store, app, [parse(m) for m in mappings])


def add(store: Store, app: str, mappings: list[str]) -> None:
    _write(store, app, explicit(store, app) + [parse(m) for m in mappings])


def remove(store: Store, app: str, mappings: list[str]) -> None:
    """Removes mappings given whole (http:80:5000) or by host port (80)."""
    current = explicit(store, app)
    kept = [m for m in current if str(m) not in mappings and str(m.host_port) not in mappings]
    if len(kept) == len(current):
        raise NotFound(f"{app} has no port mapping {' '.join(mappings)[:80]}")
    _write(store, app, kept)


def clear(store: Store, app: str) -> None:
    store.remove(app, FILE)


def restore(store: Store, app: str, mappings: list[PortMap]) -> None:
    """Puts back mappings read earlier with explicit() (after a change nginx could not take)."""
    if mappings:
        _write(store, app, mappings)
    else:
        clear(store, app)


def check_listenable(
    store: Store, app: str, mappings: Iterable[PortMap], shared: set[int], nginx_ports: set[int]
) -> None:
    """Refuses a host port nginx could not listen on, and for a tenant app (one granted to a
    user key) a port that is not its own to take. shared: the machine's HTTP and HTTPS ports,
    every app's; nginx_ports: the ports nginx listens on already (so in use by nginx itself)."""
    tenant = rules.is_tenant_app(store, app)
    others = _ports_of_other_apps(store, app)
    in_use = None
    for port in sorted({m.host_port for m in mappings} - shared):
        if tenant and port < FIRST_UNPRIVILEGED_PORT:
            raise ValidationError(
                f"port {port} is privileged: an app of a user key gets the HTTP and HTTPS ports "
                f"({' and '.join(map(str, sorted(shared)))}) or a port from {FIRST_UNPRIVILEGED_PORT}"
            )
        if tenant and port in others:
            raise ValidationError(f"port {port} is a port of app {others[port]}; an app of a user key gets its own")
        in_use = listening.tcp_ports() if in_use is None else in_use
        if port in in_use and port not in nginx_ports:
            raise ValidationError(f"port {port} is in use by another program on this host; nginx cannot listen there")


def _ports_of_other_apps(store: Store, app: str) -> dict[int, str]:
    """Host ports other apps were given (mappings, or a port of their own), by app."""
    owners: dict[int, str] = {}
    for other in store.list_apps():
        if other == app:
            continue
        own = store.read(other, OWN_PORT_FILE)
        for port in [m.host_port for m in explicit(store, other)] + ([int(own)] if own else []):
            owners.setdefault(port, other)
    return owners


def _write(store: Store, app: str, mappings: list[PortMap]) -> None:
    unique = list(dict.fromkeys(mappings))
    taken = [m.host_port for m in unique]
    if len(taken) != len(set(taken)):
        raise ValidationError("two mappings listen on one host port")
    store.write_lines(app, FILE, [str(m) for m in unique])


def effective(
    store: Store, app: str, has_domains: bool, has_certificate: bool, web_port: int, http_port: int, https_port: int
) -> list[PortMap]:
    mappings = explicit(store, app)
    if mappings:
        return mappings
    if not has_domains:
        return [PortMap("http", own_port(store, app), web_port)]
    default = [PortMap("http", http_port, web_port)]
    if has_certificate:
        default.append(PortMap("https", https_port, web_port))
    return default


def own_port(store: Store, app: str) -> int:
    """The port an app without any domain is served on; picked once, then kept (as Dokku): one no
    other app was given and nothing on the host listens on."""
    recorded = store.read(app, OWN_PORT_FILE)
    if recorded:
        return int(recorded)
    taken = set(_ports_of_other_apps(store, app)) | listening.tcp_ports()
    port = FIRST_OWN_PORT
    while port in taken:
        port += 1
    store.write(app, OWN_PORT_FILE, f"{port}\n")
    return port
