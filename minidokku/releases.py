"""Releases: every deploy or config change is a numbered record of what runs (Heroku's model).

A release names the image, the git sha and the process types; it is what a restart or a
config change redeploys, without building again.
"""

import json
import time
from dataclasses import asdict, dataclass
from typing import Optional

from minidokku.state import Store

FOLDER = "releases"


@dataclass(frozen=True)
class Release:
    number: int
    sha: str
    image_id: str
    processes: dict[str, str]
    description: str
    created: float

    @property
    def name(self) -> str:
        return f"v{self.number}"


def history(store: Store, app: str) -> list[Release]:
    folder = store.app_dir(app) / FOLDER
    if not folder.is_dir():
        return []
    found = []
    for path in folder.glob("v*.json"):
        found.append(Release(**json.loads(path.read_text(encoding="utf-8"))))
    return sorted(found, key=lambda release: release.number)


def current(store: Store, app: str) -> Optional[Release]:
    releases = history(store, app)
    return releases[-1] if releases else None


def prepare(store: Store, app: str, sha: str, image_id: str, processes: dict[str, str], description: str) -> Release:
    """The next release of the app, not yet saved: a release is saved once it serves."""
    previous = current(store, app)
    return Release(
        number=previous.number + 1 if previous else 1,
        sha=sha,
        image_id=image_id,
        processes=dict(processes),
        description=description,
        created=time.time(),
    )


def save(store: Store, app: str, release: Release) -> None:
    store.write(app, f"{FOLDER}/{release.name}.json", json.dumps(asdict(release), indent=2) + "\n")
