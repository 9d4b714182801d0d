"""The network namespace an app's buildpack builds share: a small container per app
(NAMESPACE+APP.build-network) holds one on the apps' network, and each build of the app joins it
(`container:ID`) instead of getting a namespace of its own.

Why: on a bridge network with inter-container traffic off, the engine takes 0.25-0.3 s to start a
container (a namespace, a veth pair, its iptables rules) but 0.1 s to start one that joins a
namespace already there, and a redeploy's build pays that on the user's path. The holder is
started after a build that found none, once its deploy moved traffic (its start would slow the
new containers'; it runs during the uptime window): that build pays as before, the next ones do not.

- One per app, never shared: the processes in one namespace reach each other's loopback and
  abstract sockets, so no other app's build may be in it. A holder is joined only by the app
  whose folder holds its ID: an app made again under a name (after a destroy, or a rename that
  stopped half-way) has a new ID, and the old holder is replaced, never joined.
- Nothing a build does stays for the next: no process outlives its build, a build has no
  NET_ADMIN (no routes, rules or addresses to change), and the holder's hosts, resolv.conf and
  hostname files, which a joined namespace shares, are mounted read-only in it.
- A build joins only a running holder of the app on the apps' network. A build whose
  docker-options name a network, hosts (`--add-host`, which a joined namespace refuses), a
  restart policy (it could start again in the namespace after its build) or a mount on one of the
  network files gets a namespace of its own, as before.
- Held while used: a build holds the app's LOCK shared from before it looks for the holder until
  its container has ended; what starts a holder or removes an idle one holds it exclusively
  (apps:destroy, which removes it with the app's other containers, holds the app's lock, as every
  build does). No build loses its network half-way: when a holder ends, the interface of every
  container in its namespace goes.
- Gone when idle: the cron daemon (ops/crond.py, which install.sh starts) removes in its 5-minute
  pass a holder no build used for IDLE seconds (so 10 to 15 minutes) (the lock file's time is when the last one ended),
  so an app nobody pushes to costs no memory (a container's shim takes about 15 MB). Removing an
  app's containers (apps:destroy, apps:rename: DockerScheduler.remove_app) removes it too.
"""

import contextlib
import os
import posixpath
import re
import secrets
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Optional

from minidokku.engine.client import Engine
from minidokku.errors import EngineError, EngineNotFound, Locked
from minidokku.records.docker_options import DockerOptions
from minidokku.runtime import at_once, isolation, labels, namespace_holder
from minidokku.state import atomic_write, file_lock

LOCK = ".build-network.lock"  # in the app's folder
ID = ".build-network.id"  # in the app's folder: made with its first build, joined holders carry it
# the holder's files a joined build shares: where the engine keeps each, where the build sees it
NETWORK_FILES = {"HostsPath": "/etc/hosts", "ResolvConfPath": "/etc/resolv.conf", "HostnamePath": "/etc/hostname"}
SUFFIX = ".build-network"
IDLE = 600  # seconds after the app's last build that its holder is removed
START_THREAD = "start the app's build network"
# Tries at a holder's start: the engine has refused one start in a CI run under load ("OCI runtime
# start failed: container process is already dead"), and the next build would pay for it
STARTS = 2
_IDENTITY = re.compile(r"[0-9a-f]{32}")


def holder_name(app: str) -> str:
    """The holder's container name; app is the app's name on the engine (Context.docker_name)."""
    return f"{app}{SUFFIX}"


@contextlib.contextmanager
def joined(
    engine: Engine, app: str, lock: Path, options: DockerOptions, network: str, image: str
) -> Iterator[DockerOptions]:
    """Yields the options to make the app's build container with (app: its name on the engine):
    on the holder's namespace when one runs and the options may join it, else as they are; in
    the second case a holder is started from image for the next build, once the command's hold
    lets go (runtime/at_once.py). The block must last until the build container has ended."""
    if not _may_join(options):
        yield options
        return
    with file_lock(lock, shared=True) as descriptor:
        identity = _identity(lock.with_name(ID))
        holder = _running(engine, app, network, identity)
        placed = _joining(options, holder) if holder else None
        try:
            yield placed or options
        finally:
            os.utime(descriptor)  # the holder's last use: remove_idle counts from it
    if holder is None:
        at_once.meanwhile(lambda: _start(engine, app, lock, network, image, identity), START_THREAD)


def _may_join(options: DockerOptions) -> bool:
    """Whether a build made with options may join a namespace (see the module)."""
    targets = {posixpath.normpath(bind.split(":")[1]) for bind in options.binds if bind.count(":") >= 1}
    return not (options.network or options.extra_hosts or options.restart or targets & set(NETWORK_FILES.values()))


def _joining(options: DockerOptions, holder: dict) -> Optional[DockerOptions]:
    """options on the holder's namespace, its network files read-only (see the module); None
    when the engine does not say where one of them is (the build would get it writable)."""
    if not all(holder.get(kept) for kept in NETWORK_FILES):
        return None
    shared = [f"{holder[kept]}:{seen}:ro" for kept, seen in NETWORK_FILES.items()]
    return replace(options, network=f"container:{holder['Id']}", binds=[*options.binds, *shared])


def _identity(path: Path) -> str:
    """The app's build network ID, made by its first build (the app's folder goes with the app),
    made again in one step if it is not one (a first build killed as it wrote it)."""
    with contextlib.suppress(FileNotFoundError):
        with open(os.open(path, os.O_RDONLY | os.O_NOFOLLOW)) as found:
            identity = found.read().strip()
        if _IDENTITY.fullmatch(identity):
            return identity
    identity = secrets.token_hex(16)
    atomic_write(path, identity + "\n", mode=0o600)
    return identity


def remove_idle(engine: Engine, app: str, lock: Path, now: Optional[float] = None) -> bool:
    """Removes the app's holder when no build has used it for IDLE seconds and none runs now;
    returns whether it did."""
    if _ours(engine, app) is None:
        return False
    try:
        with file_lock(lock, busy_message="a build of the app runs", create=False) as descriptor:
            if (time.time() if now is None else now) - os.fstat(descriptor).st_mtime < IDLE:
                return False
            return remove(engine, app)
    except (Locked, FileNotFoundError):  # a build runs; no build ever made the lock
        return False


def remove(engine: Engine, app: str) -> bool:
    """Removes the app's holder with the rest of the app's containers (DockerScheduler.remove_app:
    no build of it goes on); returns whether there was one."""
    found = _ours(engine, app)
    if found is None:
        return False
    with contextlib.suppress(EngineNotFound):
        engine.remove_container(found["Id"], force=True)
    return True


def _start(engine: Engine, app: str, lock: Path, network: str, image: str, identity: str) -> None:
    """Starts the app's holder unless one runs, in place of one that ended or is not on network
    (made again once, STARTS, when the engine refuses to start it). Skipped while a build of the
    app runs (the lock is held), when the app went meanwhile (its lock is gone with its folder) or
    when the engine keeps refusing: the next build starts it then."""
    try:
        with file_lock(lock, busy_message="a build of the app runs", create=False):
            if _running(engine, app, network, identity):
                return
            for _ in range(STARTS):
                remove(engine, app)
                with contextlib.suppress(EngineError):
                    _create_and_start(engine, app, network, image, identity)
                    return
    except (Locked, FileNotFoundError, EngineError):
        return


def _create_and_start(engine: Engine, app: str, network: str, image: str, identity: str) -> None:
    container = isolation.create_container(
        engine,
        namespace_holder.config(image, {labels.BUILD_NETWORK: app, labels.BUILD_NETWORK_ID: identity}),
        DockerOptions(),
        namespace_holder.LIMITS,
        network,
        name=holder_name(app),
    )
    engine.start_container(container)


def _running(engine: Engine, app: str, network: str, identity: str) -> Optional[dict]:
    """The inspection of the app's holder when it carries identity and runs on network (and on
    nothing else), else None."""
    found = _ours(engine, app)
    if found is None or not (found.get("State") or {}).get("Running"):
        return None
    if ((found.get("Config") or {}).get("Labels") or {}).get(labels.BUILD_NETWORK_ID) != identity:
        return None
    networks = (found.get("NetworkSettings") or {}).get("Networks") or {}
    return found if set(networks) == {network} else None


def _ours(engine: Engine, app: str) -> Optional[dict]:
    """The inspection of the container named as the app's holder when minidokku made it as one."""
    try:
        found = engine.inspect_container(holder_name(app))
    except EngineNotFound:
        return None
    marked = (found.get("Config") or {}).get("Labels") or {}
    return found if marked.get(labels.BUILD_NETWORK) == app else None
