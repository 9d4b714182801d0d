"""The network namespace a web container runs in, made before it is needed: a small holder
container has the container's networks, its pinned web address (runtime/web_addresses.py) and its
published host ports (runtime/host_ports.py), and the web container joins it (`container:ID`).

Why: the engine takes 0.3 s to start a container that gets a namespace of its own on two networks
(a namespace, two veth pairs, their iptables rules) and 0.1 s to start one that joins a namespace
already there; every redeploy, rollback and config:set starts its web containers on the user's
path. So once a web container started, a spare holder for its dyno (APP.web.N.network) is made
while the deploy's uptime window only waits (runtime/at_once.py: a deploy holds it back until
traffic moved), and the next start of that dyno takes it:

- A spare is taken only by the dyno it was made for, when it runs on the apps' network and the
  web network alone and was made for what the container needs now (its fit: the container ports
  and the interface they are published on); else it is removed and the container gets a
  namespace of its own, as before. Taken, it is renamed (APP.web.N.network-HEX) and holds that
  one container's namespace for as long as the container lives: it stops with it (ps:stop), and
  goes with it (DockerScheduler.retire, clean_up, remove_app); one a killed command left behind
  goes at the next command that takes the app's lock (remove_orphans).
- Containers whose docker-options name a network or hosts (`--add-host`, which a joined
  namespace refuses) never join one, nor those of an app `network:set` creates on or joins to
  other networks (initial-network, attach-post-create: a spare there would answer to the app's
  alias with nothing behind it); attach-post-deploy networks join the holder after the start.
- Only the app's own process ever joins a holder, one container each: the processes in a
  namespace share its loopback and abstract sockets. A spare runs nothing but sleep, and nothing
  joins it before it is taken.
- A holder (runtime/namespace_holder.py) starts again with the engine (unless-stopped). A
  container that lost its namespace (its holder went, or started again under it: the container's
  namespace has no interface left) counts as one whose ports moved, which the restore
  (ops/processes.py; the cron daemon runs it when the engine restarts) deploys again; one the
  engine could not start, having started it before its holder, the restore starts
  (DockerScheduler.restart: the holder first).
- Gone when idle: the cron daemon (ops/crond.py) removes in its 5-minute pass the spares made
  more than IDLE seconds ago (so 10 to 15 minutes), by name, so one taken meanwhile stays.
"""

import contextlib
import json
import secrets
import time
from collections.abc import Iterable
from typing import Optional

from minidokku.engine.client import Engine
from minidokku.errors import EngineError, EngineNotFound
from minidokku.records.docker_options import DockerOptions
from minidokku.runtime import labels, namespace_holder
from minidokku.runtime.scheduler import Networking

SPARE = ".network"  # after APP.web.N: a spare
TAKEN = ".network-"  # after APP.web.N, before a random suffix: a taken holder
JOINED = "container:"  # a joined container's NetworkMode, before the holder's ID
IDLE = 600  # seconds after its making that a spare nobody took is removed
MAKE_THREAD = "make a spare web network"


def spare_name(app: str, index: int) -> str:
    """The name of the spare made for the app's web.N (app: its name on the engine)."""
    return f"{app}.web.{index}{SPARE}"


def fit(ports: list[str], host_ip: str) -> str:
    """What a holder was made for, as its label says it: a spare is taken for an equal one."""
    return json.dumps({"ports": ports, "host_ip": host_ip}, sort_keys=True)


def may_join(options: DockerOptions, networking: Networking) -> bool:
    """Whether a web container made with options and networking may join a holder (see the module)."""
    return not (options.network or options.extra_hosts or networking.initial or networking.joined)


def joined(info: dict) -> bool:
    """Whether a container (its inspection) was made in another's namespace."""
    return ((info.get("HostConfig") or {}).get("NetworkMode") or "").startswith(JOINED)


def namespace_lost(info: dict, namespace: dict) -> bool:
    """Whether a joined container (its inspection) lost its namespace: namespace, its holder's
    inspection (holder_of; the container's own when there is none), is gone, or it runs and the
    holder is stopped or started after it (a new namespace: the container's has no interface)."""
    if not joined(info):
        return False
    if namespace is info:
        return True
    if not info["State"]["Running"]:
        return False
    return not namespace["State"]["Running"] or _started(namespace) > _started(info)


def holder_config(app: str, image: str, made_for: str, ports: list[str]) -> dict:
    """The create request of a spare for the app (its name on the engine): a namespace holder that
    exposes the container ports and starts again with the engine."""
    config = namespace_holder.config(image, {labels.WEB_NETWORK: app, labels.WEB_NETWORK_FIT: made_for})
    config["ExposedPorts"] = {port: {} for port in ports}
    config["HostConfig"]["RestartPolicy"] = {"Name": "unless-stopped"}
    return config


def take(engine: Engine, app: str, index: int, made_for: str, networks: Iterable[str]) -> Optional[dict]:
    """The inspection of the spare of the app's web.N, renamed as taken, when it runs on networks
    and was made for made_for; None when there is none. One that may not be taken is removed."""
    name = spare_name(app, index)
    found = _ours(engine, name, app)
    if found is None:
        return None
    marked = (found.get("Config") or {}).get("Labels") or {}
    on = set((found.get("NetworkSettings") or {}).get("Networks") or {})
    fits = marked.get(labels.WEB_NETWORK_FIT) == made_for and on == set(networks)
    try:
        if not (fits and (found.get("State") or {}).get("Running")):
            engine.remove_container(name, force=True)  # by name: a holder taken meanwhile stays
            return None
        engine.rename_container(name, f"{app}.web.{index}{TAKEN}{secrets.token_hex(3)}")
    except EngineError:  # removed meanwhile (the cron daemon's pass)
        return None
    return found


def holder_of(engine: Engine, info: dict) -> Optional[dict]:
    """The inspection of the holder whose namespace a container (its inspection) joined, when it
    is one of its app's; else None (the container has a namespace of its own, or the holder went)."""
    mode = (info.get("HostConfig") or {}).get("NetworkMode") or ""
    if not mode.startswith(JOINED):
        return None
    app = ((info.get("Config") or {}).get("Labels") or {}).get(labels.APP, "")
    try:
        holder = engine.inspect_container(mode[len(JOINED) :])
    except EngineNotFound:
        return None
    held_for = ((holder.get("Config") or {}).get("Labels") or {}).get(labels.WEB_NETWORK)
    return holder if app and held_for == app and _taken_name(holder.get("Name", ""), app) else None


def remove_holder_of(engine: Engine, info: dict) -> None:
    """Removes the holder of a container (its inspection, taken before the container went)."""
    holder = holder_of(engine, info)
    if holder is not None:
        with contextlib.suppress(EngineError):  # one left goes at the next command (remove_orphans)
            engine.remove_container(holder["Id"], force=True)


def remove_orphans(engine: Engine, app: str, containers: list[dict]) -> None:
    """Removes the app's taken holders no container joins (their container went and a command
    was killed before its holder did); containers: every container of the app (listed). The
    caller holds the app's lock: under it no start is between taking a spare and joining it."""
    modes = {(entry.get("HostConfig") or {}).get("NetworkMode") for entry in containers}
    if None in modes:  # an engine that does not list them: which holder is joined is not known
        return
    for holder in engine.list_containers({labels.WEB_NETWORK: app}, all_states=True):
        if _taken(holder, app) and f"{JOINED}{holder['Id']}" not in modes:
            with contextlib.suppress(EngineError):  # tried again at the next command
                engine.remove_container(holder["Id"], force=True)


def remove_idle(engine: Engine, now: Optional[float] = None) -> int:
    """Removes the spares on the engine made IDLE seconds ago or more, by name (one taken since
    it was listed is renamed, and stays); returns how many went. Every app's: a spare made as its
    app went (a scale's spare is made in the background) has no app left to be swept with."""
    moment = time.time() if now is None else now
    removed = 0
    for holder in engine.list_containers({labels.WEB_NETWORK: None}, all_states=True):
        app = (holder.get("Labels") or {}).get(labels.WEB_NETWORK, "")
        names = [name.lstrip("/") for name in holder.get("Names") or []]
        spare = next((name for name in names if app and _spare_name(name, app)), None)
        if spare and moment - int(holder.get("Created") or 0) >= IDLE:
            with contextlib.suppress(EngineError):  # gone meanwhile, or tried again at the next pass
                engine.remove_container(spare, force=True)
                removed += 1
    return removed


def remove_app(engine: Engine, app: str) -> None:
    """Removes every holder of the app, with its containers (DockerScheduler.remove_app)."""
    for holder in engine.list_containers({labels.WEB_NETWORK: app}, all_states=True):
        if is_holder(holder):
            with contextlib.suppress(EngineNotFound):
                engine.remove_container(holder["Id"], force=True)


def is_holder(entry: dict) -> bool:
    """Whether a listed container is a holder: marked as its app's, and named as one (a label
    can come from an image, a name only from minidokku)."""
    app = (entry.get("Labels") or {}).get(labels.WEB_NETWORK, "")
    names = [name.lstrip("/") for name in entry.get("Names") or []]
    return bool(app) and any(_spare_name(name, app) or _taken_name(name, app) for name in names)


def _ours(engine: Engine, name: str, app: str) -> Optional[dict]:
    """The inspection of the container of that name when minidokku made it as the app's holder."""
    try:
        found = engine.inspect_container(name)
    except EngineNotFound:
        return None
    marked = (found.get("Config") or {}).get("Labels") or {}
    return found if marked.get(labels.WEB_NETWORK) == app else None


def _started(info: dict) -> tuple[str, str]:
    """When a container (its inspection) last started, comparable: the engine writes RFC 3339
    with as many fraction digits as it needs (`12:00:00.5Z` after `12:00:00.25Z`)."""
    stamp = (info.get("State") or {}).get("StartedAt", "").rstrip("Z")
    whole, _, fraction = stamp.partition(".")
    return whole, fraction.ljust(9, "0")


def _taken(entry: dict, app: str) -> bool:
    return any(_taken_name(name, app) for name in entry.get("Names") or [])


def _taken_name(name: str, app: str) -> bool:
    """APP.web.N.network-HEX (the engine's names start with a slash)."""
    stem, separator, _suffix = name.lstrip("/").rpartition(TAKEN)
    return bool(separator) and _dyno_of(stem, app)


def _spare_name(name: str, app: str) -> bool:
    return name.endswith(SPARE) and _dyno_of(name[: -len(SPARE)], app)


def _dyno_of(stem: str, app: str) -> bool:
    """Whether stem is APP.web.N."""
    prefix = f"{app}.web."
    return stem.startswith(prefix) and stem[len(prefix) :].isdigit()
