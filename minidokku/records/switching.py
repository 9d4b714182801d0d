"""The switch journal, APP/releases/SWITCHING: the new containers of a deploy that traffic may
have moved to before they passed their uptime check (ops/deploy.py's switch).

A deploy writes it before its first route and removes it once it is past the point of going back
(its release recorded, or for a restart its switch done); going back itself removes it once
nginx sends nothing to the new containers and they are gone. A command killed in between (SIGKILL,
OOM, a reboot) leaves it, and the next command taking the app's lock sends traffic back to the
recorded release and removes the containers it names (deploy.finish_interrupted), as the killed
deploy would have done.
"""

import json
from dataclasses import dataclass
from typing import Optional

from minidokku.state import Store

FILE = "releases/SWITCHING"


@dataclass(frozen=True)
class Switch:
    release: str  # the name of the release the deploy ran (the recorded one for a restart)
    containers: tuple[str, ...]  # the scheduler's ids of its new containers


def begin(store: Store, app: str, release: str, container_ids: list[str]) -> None:
    store.write(app, FILE, json.dumps({"release": release, "containers": container_ids}) + "\n")


def unfinished(store: Store, app: str) -> Optional[Switch]:
    """The switch a killed command left, or None."""
    text = store.read(app, FILE)
    if text is None:
        return None
    record = json.loads(text)
    return Switch(record["release"], tuple(record["containers"]))


def end(store: Store, app: str) -> None:
    store.remove(app, FILE)
