"""The network namespace an app's buildpack builds share: a small container per app (APP.build-network)
holds one on the apps' network, and each build of the app joins it (`container:ID`) instead of
getting a namespace of its own.

Why: on a bridge network with inter-container traffic off, the engine takes 0.25-0.3 s to start a
container (a namespace, a veth pair, its iptables rules) but 0.1 s to start one that joins a
namespace already there, and a redeploy's build pays that on the user's path. The holder is
started after a build that found none, once its deploy moved traffic (its start would slow the
new containers'): that build pays as before, the ones after it do not.

- One per app, never shared: the processes in one namespace reach each other's loopback and
  abstract sockets, so no other app's build may be in it. Its /etc/hosts and resolv.conf are the
  app's builds' too: one build of the app may change what its next ones see there, as it may
  their cache volume.
- A build joins only a running holder of the app on the apps' network. A build whose
  docker-options name a network, or hosts (`--add-host`, which a joined namespace refuses), is
  made on its own namespace as before.
- Held while used: a build holds the app's LOCK shared from before it looks for the holder until
  its container has ended; what starts or removes a holder holds it exclusively. No build loses
  its network half-way (when a holder ends, the interface of every container in its namespace
  goes with it).
- Gone when idle: the cron daemon's 5-minute pass (ops/crond.py) removes a holder no build used
  for IDLE seconds (the lock file's time is when the last one ended), so an app nobody pushes to
  costs no memory (a container's shim takes about 15 MB). Removing an app's containers (apps:destroy,
  apps:rename: DockerScheduler.remove_app) removes it too.
"""

import contextlib
import os
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Optional

from minidokku.engine.client import Engine
from minidokku.errors import EngineError, EngineNotFound, Locked
from minidokku.records import resources
from minidokku.records.docker_options import DockerOptions
from minidokku.runtime import at_once, isolation, labels
from minidokku.state import file_lock

LOCK = ".build-network.lock"  # in the app's folder
SUFFIX = ".build-network"
IDLE = 600  # seconds after the app's last build that its holder is removed
HOLDER_LIMITS = resources.Limits(nano_cpus=100_000_000, memory=16 * resources.MEGABYTE, pids=4)
START_THREAD = "start the app's build network"


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
    if options.network or options.extra_hosts:
        yield options
        return
    with file_lock(lock, shared=True) as descriptor:
        holder = _running(engine, app, network)
        try:
            yield replace(options, network=f"container:{holder}") if holder else options
        finally:
            os.utime(descriptor)  # the holder's last use: remove_idle counts from it
    if holder is None:
        at_once.meanwhile(lambda: _start(engine, app, lock, network, image), START_THREAD)


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


def _start(engine: Engine, app: str, lock: Path, network: str, image: str) -> None:
    """Starts the app's holder unless one runs, in place of one that ended or is not on network.
    Skipped while a build of the app runs (the lock is held), when the app went meanwhile (its
    lock is gone with its folder) or when the engine refuses: the next build starts it then."""
    try:
        with file_lock(lock, busy_message="a build of the app runs", create=False):
            if _running(engine, app, network):
                return
            remove(engine, app)
            container = isolation.create_container(
                engine, _holder_config(app, image), DockerOptions(), HOLDER_LIMITS, network, name=holder_name(app)
            )
            engine.start_container(container)
    except (Locked, FileNotFoundError, EngineError):
        return


def _running(engine: Engine, app: str, network: str) -> Optional[str]:
    """The id of the app's holder when it runs on network (and on nothing else), else None."""
    found = _ours(engine, app)
    if found is None or not (found.get("State") or {}).get("Running"):
        return None
    networks = (found.get("NetworkSettings") or {}).get("Networks") or {}
    return found["Id"] if set(networks) == {network} else None


def _ours(engine: Engine, app: str) -> Optional[dict]:
    """The inspection of the container named as the app's holder when minidokku made it as one."""
    try:
        found = engine.inspect_container(holder_name(app))
    except EngineNotFound:
        return None
    marked = (found.get("Config") or {}).get("Labels") or {}
    return found if marked.get(labels.BUILD_NETWORK) == app else None


def _holder_config(app: str, image: str) -> dict:
    # It only holds the namespace: it sleeps (under the engine's init, which ends it at once on
    # a stop), without capabilities, on a read-only root.
    return {
        "Image": image,
        "Entrypoint": ["sleep"],
        "Cmd": ["infinity"],
        "Labels": {labels.BUILD_NETWORK: app},  # not the app's label: it runs none of the app's code
        "HostConfig": {"Init": True, "ReadonlyRootfs": True, "CapDrop": ["ALL"]},
    }
