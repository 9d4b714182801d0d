"""Builders turn a pushed tree into an app image: `herokuish` (Heroku buildpacks inside the stack
image, builders/buildpacks.py) or `dockerfile` (the Engine's image build, builders/dockerfile.py).
What both leave behind is a BuildResult; how its processes start depends on the builder."""

import contextlib
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

from minidokku.build import tarball
from minidokku.build.tree import SettingsFiles
from minidokku.engine.client import Engine
from minidokku.errors import EngineError, EngineNotFound, ValidationError
from minidokku.records import appjson
from minidokku.records.appjson import AppJson
from minidokku.runtime import labels

HEROKUISH = "herokuish"
DOCKERFILE = "dockerfile"
NAMES = (HEROKUISH, DOCKERFILE)
DEFAULT_WEB_PORT = 5000


@dataclass(frozen=True)
class BuildResult:
    image_id: str
    processes: dict[str, str]  # process type -> command ("" for the image's own CMD)
    app_json: AppJson  # the deploy settings of the app's app.json
    checks_file: str  # the legacy CHECKS file, "" when there is none
    builder: str = HEROKUISH
    web_port: int = DEFAULT_WEB_PORT  # the port web listens on (PORT): the image's EXPOSE, or 5000
    nginx_template: Optional[str] = None  # the pushed tree's nginx.conf.template (build/tree.py), None: none


def image_repository(app: str) -> str:
    return f"dokku/{app}"


def command_argv(builder: str, command: str) -> Optional[list[str]]:
    """The container Cmd of a Procfile command: buildpack images run it with bash behind /exec
    (which sources the profile); other images with /bin/sh behind their own ENTRYPOINT, and an
    empty command keeps the image's CMD (None)."""
    if builder == HEROKUISH:
        return ["bash", "-c", command]
    return ["/bin/sh", "-c", command] if command else None


def read_text_file(engine: Engine, container: str, path: str) -> str:
    """A file of a (created or stopped) container, "" when it has none."""
    try:
        archive = engine.get_archive(container, path)
    except EngineNotFound:
        return ""
    try:
        return tarball.read_member(archive, Path(path).name).decode("utf-8", "replace")
    except ValueError:
        raise ValidationError(f"{Path(path).name} must be a file, not a link: commit the file itself") from None


def exposed_web_port(image_config: dict) -> int:
    """The lowest TCP port the image EXPOSEs, else 5000 (as Dokku)."""
    ports = [int(spec.split("/")[0]) for spec in (image_config.get("ExposedPorts") or {}) if spec.endswith("/tcp")]
    return min(ports) if ports else DEFAULT_WEB_PORT


def image_processes(declared: dict[str, str], image_config: dict) -> dict[str, str]:
    """The Procfile's types of an image not built by buildpacks: without a `web` type, web runs
    the image's own CMD/ENTRYPOINT (when it has one)."""
    if "web" not in declared and (image_config.get("Cmd") or image_config.get("Entrypoint")):
        return {"web": "", **declared}
    return dict(declared)


def remove_if_unnamed(engine: Engine, image_id: str) -> None:
    """Removes an image no tag names any more (removing by id would also drop a last tag, such
    as the user's own name of an image deployed with git:from-image), then its parent when that
    is a former build base (remove_former_base). Gone or in use: left."""
    with contextlib.suppress(EngineError):
        inspected = engine.inspect_image(image_id)
        if not inspected.get("RepoTags"):
            engine.remove_image(image_id)
            remove_former_base(engine, inspected.get("Parent") or "")


def remove_former_base(engine: Engine, image_id: str) -> None:
    """Removes image_id if it is a buildpack build's image (builders/build_base.py) that no tag
    names: a former build base, which the engine keeps after the last image built on it went.
    One that other images still build on is refused by the engine, and left."""
    if not image_id:
        return
    with contextlib.suppress(EngineError):
        inspected = engine.inspect_image(image_id)
        built_by_buildpacks = labels.BUILDPACKS_DIGEST in ((inspected.get("Config") or {}).get("Labels") or {})
        if built_by_buildpacks and not inspected.get("RepoTags"):
            engine.remove_image(image_id)


def image_result(image_id: str, processes: dict[str, str], files: SettingsFiles, config: dict) -> BuildResult:
    """What an image the engine built or was given (no buildpacks) yields: its settings files
    (app.json, CHECKS) and web on its lowest EXPOSEd port."""
    return BuildResult(
        image_id=image_id,
        processes=processes,
        app_json=appjson.parse(files.app_json),
        checks_file=files.checks,
        builder=DOCKERFILE,
        web_port=exposed_web_port(config),
    )
