"""Releases: every deploy, config change or rollback is a numbered record of what runs (Heroku's
model): the git sha, the image, the process types, app.json's deploy settings, the config and the
pushed tree's nginx template.

A release is what a restart, a scale change or a rollback runs again, without building. Files
are APP/releases/vN.json, readable by the dokku user only (they hold the config's values).
"""

import json
import time
from dataclasses import asdict, dataclass, field, replace
from typing import Optional

from minidokku.build.builders import DEFAULT_WEB_PORT, HEROKUISH, BuildResult, command_argv
from minidokku.errors import NotFound, ValidationError
from minidokku.records import names
from minidokku.records.appjson import AppJson
from minidokku.state import Store

FOLDER = "releases"
RECORDING = f"{FOLDER}/RECORDING"  # names the release being recorded, until its record is complete


@dataclass(frozen=True)
class Release:
    number: int
    sha: str
    image_id: str
    processes: dict[str, str]
    description: str
    created: float
    config: dict[str, str] = field(default_factory=dict)
    app_json: dict = field(default_factory=dict)  # an AppJson as a dict
    checks_file: str = ""  # the legacy CHECKS file's text
    builder: str = HEROKUISH
    web_port: int = DEFAULT_WEB_PORT
    nginx_template: Optional[str] = None  # the pushed tree's nginx.conf.template (build/tree.py), None: none
    # False in a release recorded before releases kept nginx_template: routing reads it from git at sha
    nginx_template_recorded: bool = False

    def command(self, process_type: str) -> Optional[list[str]]:
        """The container Cmd of a process type (None: the image's own)."""
        return command_argv(self.builder, self.processes[process_type])

    @property
    def name(self) -> str:
        return f"v{self.number}"

    @property
    def settings(self) -> AppJson:
        return AppJson(**self.app_json)


def history(store: Store, app: str) -> list[Release]:
    folder = store.app_dir(app) / FOLDER
    if not folder.is_dir():
        return []
    found = [Release(**json.loads(path.read_text(encoding="utf-8"))) for path in folder.glob("v*.json")]
    return sorted(found, key=lambda release: release.number)


def current(store: Store, app: str) -> Optional[Release]:
    releases = history(store, app)
    return releases[-1] if releases else None


def find(store: Store, app: str, name: str) -> Release:
    """The release named `vN` (or `N`); NotFound when there is none."""
    number = name[1:] if name.startswith("v") else name
    if not names.is_whole_number(number):
        raise ValidationError(f"expected a release like v3, got {name[:20]!r}")
    for release in history(store, app):
        if release.number == int(number):
            return release
    raise NotFound(f"{app} has no release v{int(number)}")


def prepare(
    store: Store,
    app: str,
    sha: str,
    image_id: str,
    description: str,
    config: dict[str, str],
    build: BuildResult,
) -> Release:
    """The next release of the app, not yet saved: a release is saved once it serves."""
    return Release(
        number=_next_number(store, app),
        sha=sha,
        image_id=image_id,
        processes=dict(build.processes),
        description=description,
        created=time.time(),
        config=dict(config),
        app_json=asdict(build.app_json),
        checks_file=build.checks_file,
        builder=build.builder,
        web_port=build.web_port,
        nginx_template=build.nginx_template,
        nginx_template_recorded=True,
    )


def successor(store: Store, app: str, base: Release, description: str, config: dict[str, str]) -> Release:
    """A new release running base's image with this config (a config change or a rollback)."""
    return replace(
        base,
        number=_next_number(store, app),
        description=description,
        created=time.time(),
        config=dict(config),
        app_json=asdict(base.settings),  # a release of an older minidokku gets every field
    )


def _next_number(store: Store, app: str) -> int:
    previous = current(store, app)
    return previous.number + 1 if previous else 1


def save(store: Store, app: str, release: Release) -> None:
    store.write(app, f"{FOLDER}/{release.name}.json", json.dumps(asdict(release), indent=2) + "\n", mode=0o600)


def begin_record(store: Store, app: str, release: Release) -> None:
    """Saves the release that now serves and makes ENV its config. Two files change, so the
    RECORDING journal names the release first; end_record removes it once the record is whole,
    and until then unfinished_record hands the release to whoever takes the app's lock next."""
    store.write(app, RECORDING, release.name + "\n")
    save(store, app, release)
    store.write_env(app, release.config)


def end_record(store: Store, app: str) -> None:
    store.remove(app, RECORDING)


def unfinished_record(store: Store, app: str) -> Optional[Release]:
    """The release a killed command saved but may not have finished recording (ENV may still be
    the previous config), or None. A journal naming a release that was never saved is dropped:
    that release never served, and ENV was not touched."""
    name = (store.read(app, RECORDING) or "").strip()
    if not name:
        return None
    try:
        return find(store, app, name)
    except (NotFound, ValidationError):
        end_record(store, app)
        return None


def beyond_kept(history_: list[Release], keep: int) -> list[Release]:
    """The releases older than the last `keep`."""
    return history_[: max(len(history_) - max(keep, 1), 0)]


def images_beyond(history_: list[Release], keep: int) -> set[str]:
    """Image ids only releases older than the last `keep` use: the ones a prune may remove."""
    old = beyond_kept(history_, keep)
    kept_images = {release.image_id for release in history_[len(old) :]}
    return {release.image_id for release in old} - kept_images
