"""The host ports web containers publish on: minidokku picks each one and sets it in the
container's PortBindings, instead of letting the engine pick.

Why: a port the engine picks is picked again at each start, from the kernel's ephemeral range,
so after the engine restarts, the port nginx still names for one app may be handed to another
app's container, and that app's page is served on the first app's domain. A port set at
creation stays the container's across every start, by the engine's restart policy too, so a
container comes back where nginx points, and nothing else is ever given that port:

- Ports come from RANGE, below the kernel's ephemeral range (/proc/sys/net/ipv4/
  ip_local_port_range), where the engine's own picks and outgoing connections land; a part of
  RANGE inside a host's ephemeral range is left out.
- A port is never one any container on the engine (running or stopped, any app, anyone's) has in
  its PortBindings; the pick and the container's creation happen under one lock (the scheduler's),
  so two deploys never pick the same one.
- A host process may hold a port of RANGE: the engine's start then fails, and the scheduler
  creates the container again on other ports (port_refused).
"""

import random
from collections.abc import Iterable
from pathlib import Path
from typing import Optional

from minidokku.errors import EngineError
from minidokku.runtime import labels

RANGE = range(16000, 20000)  # below the usual ephemeral range (32768-60999) and tests' free ports (20000-32000)
EPHEMERAL = Path("/proc/sys/net/ipv4/ip_local_port_range")
RETRIES = 4  # creations of a container again on other ports (or address), after its start was refused for one
# the engine's words when a start cannot bind a port: held by another container, or by a host process
REFUSALS = ("port is already allocated", "address already in use")


def ephemeral_range() -> range:
    """The kernel's ephemeral ports (Linux's default when the file cannot be read)."""
    try:
        first, last = (int(word) for word in EPHEMERAL.read_text().split())
    except (OSError, ValueError):
        first, last = 32768, 60999
    return range(first, last + 1)


def taken(engine, listed: Optional[list[dict]] = None) -> set[int]:
    """Every host port some container on the engine publishes or has in its PortBindings: a
    running one's from the engine's list (listed: that list, when the caller has it), a stopped
    one's from its description, but a build container's: it has none (docker-options take no
    ports), and a deploy's own is busy for the engine while its changes are listed (its build
    base, build_base.py), so asking for its description waited for that (0.5 s of a first deploy)."""
    found = set()
    for entry in engine.list_containers({}, all_states=True) if listed is None else listed:
        found |= {port["PublicPort"] for port in entry.get("Ports") or [] if port.get("PublicPort")}
        if entry.get("State") != "running" and (entry.get("Labels") or {}).get(labels.ROLE) != labels.BUILD_ROLE:
            try:
                bindings = engine.inspect_container(entry["Id"])["HostConfig"].get("PortBindings") or {}
            except EngineError:  # removed while we looked
                continue
            found |= {int(b["HostPort"]) for bound in bindings.values() for b in bound or [] if _port(b)}
    return found


def pick(engine, count: int, refused: Iterable[int] = (), listed: Optional[list[dict]] = None) -> list[int]:
    """count free ports of RANGE, at random (so that roots sharing an engine seldom race for
    one); refused: ports a start was just refused on; listed: as for taken. Call under the
    scheduler's lock."""
    ephemeral = ephemeral_range()
    unusable = taken(engine, listed) | set(refused)
    free = [port for port in RANGE if port not in ephemeral and port not in unusable]
    if len(free) < count:
        raise EngineError(f"no free host port left in {RANGE.start}-{RANGE.stop - 1} for a web container")
    return random.sample(free, count)


def bindings(container_ports: list[str], picked: list[int], host_ip: str) -> dict:
    """PortBindings publishing each container port (`5000/tcp`) on its picked host port."""
    return {port: [{"HostIp": host_ip, "HostPort": str(host)}] for port, host in zip(container_ports, picked)}


def port_refused(error: EngineError) -> bool:
    """Whether the engine refused a start because a host port it binds is taken."""
    return any(words in str(error) for words in REFUSALS)


def kept(bindings: list[dict]) -> bool:
    """Whether a container port's bindings name their host ports (set at creation, so kept
    across starts), rather than leave them to the engine (a container made before minidokku
    picked them)."""
    return all(_port(binding) for binding in bindings or [])


def _port(binding: dict) -> bool:
    return str(binding.get("HostPort") or "").isdigit()
