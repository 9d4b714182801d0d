"""An app's build base: the image of its last buildpack build that started from the stack image,
which its next builds start from instead (tagged `dokku/APP:build-base`).

Why: the python buildpack keeps the app's virtualenv in the cache volume and copies it into /app
at every build, and the commit then saves the copy again: on a push that changes only code, these
two took about a third of the build. On the base, the virtualenv from the last install is already
in /app/.heroku/venv, in a layer the new image shares; the buildpack reuses it when its
dependencies key matches (buildpacks/python/bin/compile), and the commit holds the code alone.
The build driver deletes everything else the base has in /app before it moves the pushed tree in,
and the kept virtualenv too when no buildpack reused it (scripts/build).

A build becomes the base only when it changed nothing outside /app (and the driver's own
/tmp/build-outcome, /exec and /cache mount point): code run at build time (a setup.py, npm scripts,
collectstatic) runs as root in the container, and what it left elsewhere in the image would
otherwise run in every later build and release. What it leaves in the virtualenv is what the
cache volume already carried from build to build before.

A build starts from the base only when every buildpack is one of ours (they know a virtualenv may
be there from before), with the same buildpacks and driver as the base's build (the digest label),
on the stack image the base was built on (its parent). A pushed tree with a .heroku of its own
drops the kept one (scripts/build). A build from the base that did not reuse its virtualenv as it
was (other dependencies, another language) drops the base: built on, the chain of layers would grow
at each such build; the next build starts from the stack image and becomes the base.

The base belongs to the app's build cache: repo:purge-cache drops it, apps:destroy removes it.
"""

import contextlib
import hashlib
from typing import Optional

from minidokku.build import tarball
from minidokku.build.builders import image_repository, remove_if_unnamed
from minidokku.engine.client import Engine
from minidokku.errors import EngineNotFound
from minidokku.runtime import labels

TAG = "build-base"
# What a build changes besides /app/...: the folders it writes in, what the driver records for
# minidokku to read (scripts/build), /exec and the cache volume's mount point.
OUTCOME = "/tmp/build-outcome"
OWN_PATHS = frozenset({"/app", "/tmp", OUTCOME, "/exec", "/cache"})


def name(app: str) -> str:
    return f"{image_repository(app)}:{TAG}"


def digest(entries: tarball.Entries) -> str:
    """What a base must have been built with: the buildpacks' and the driver's files."""
    hashed = hashlib.sha256()
    for path in sorted(entries):
        content, mode = entries[path]
        hashed.update(f"{path}\0{mode}\0{len(content)}\0".encode())
        hashed.update(content)
    return hashed.hexdigest()


def usable(engine: Engine, app: str, stack_image_id: str, built_with: str) -> Optional[str]:
    """The id of the app's base when this build may start from it (see the module), else None."""
    try:
        base = engine.inspect_image(name(app))
    except EngineNotFound:
        return None
    if base.get("Parent") != stack_image_id:
        return None
    if ((base.get("Config") or {}).get("Labels") or {}).get(labels.BUILDPACKS_DIGEST) != built_with:
        return None
    return base["Id"]


def after_build(
    engine: Engine, app: str, container: str, image_id: str, key: str, base: Optional[str], reused: bool
) -> None:
    """Keeps the base up to date after container (stopped) was committed as image_id, whose
    virtualenv has key ("" for none), started from base (None: from the stack image), whose
    virtualenv the build reused as it was or not. Dropping the base removes container first:
    the engine keeps an image tag that a container's image is named by."""
    if base is None:
        if key and only_app_changed(engine.container_changes(container)):
            _make(engine, app, image_id)
        else:
            forget(engine, app)
    elif not reused:
        engine.remove_container(container, force=True)
        forget(engine, app)


def only_app_changed(paths: list[str]) -> bool:
    """Whether a build container's changes are all its /app and the driver's own files."""
    return all(path in OWN_PATHS or path.startswith(("/app/", OUTCOME + "/")) for path in paths)


def _make(engine: Engine, app: str, image_id: str) -> None:
    earlier = _current(engine, app)
    engine.tag_image(image_id, image_repository(app), TAG)
    if earlier and earlier != image_id:
        remove_if_unnamed(engine, earlier)


def forget(engine: Engine, app: str) -> None:
    """Drops the app's base: its tag, and the image when nothing else names or builds on it.
    Forced: without, the engine keeps the tag of an image a container uses (the retiring
    containers of the base's own release); with, the image still stays while a running container
    uses it or images build on it (only the tag goes)."""
    earlier = _current(engine, app)
    if earlier is None:
        return
    with contextlib.suppress(EngineNotFound):
        engine.remove_image(name(app), force=True)
    remove_if_unnamed(engine, earlier)


def _current(engine: Engine, app: str) -> Optional[str]:
    try:
        return engine.inspect_image(name(app))["Id"]
    except EngineNotFound:
        return None
