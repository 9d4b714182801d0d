"""Which buildpacks build an app (Dokku's buildpacks plugin), first match wins:
1. the app's own list (`buildpacks:add|set|remove|clear`, kept in APP/BUILDPACKS);
2. the BUILDPACK_URL config var (Heroku's, one buildpack);
3. a `.buildpacks` file in the pushed tree (one buildpack a line);
4. else ours, tried in the order of buildpacks/ORDER; the first that detects builds the app.
A named buildpack runs whether or not others would detect, but must detect the app itself.

A buildpack is one of ours by name (`python`, or Heroku's shorthand `heroku/python`) or a git
URL, optionally with `#ref` (a branch, tag or commit), fetched once on this machine and kept
under ROOT/.cache/buildpacks: a push never waits for a buildpack it has fetched before.
"""

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

from minidokku import gitrepo
from minidokku.builders.buildpacks import BuildpackPlan, bundled_buildpacks_dir, default_order
from minidokku.errors import BuildFailed, GitError, NotFound, ValidationError
from minidokku.state import Store

FILE = "BUILDPACKS"
CACHE = ".cache/buildpacks"
URL_PATTERN = re.compile(r"^(https?|git|ssh|file)://[^\s#]+(#[A-Za-z0-9._/][A-Za-z0-9._/-]*)?$")  # no ref starts with -
MAX_LENGTH = 500


@dataclass(frozen=True)
class Buildpack:
    name: str  # as the user wrote it
    url: str = ""  # a git URL, or "" for one of ours
    ref: str = ""  # the part after `#`
    bundled: str = ""  # the name of one of ours

    @property
    def label(self) -> str:
        return self.bundled or self.url.rstrip("/").split("/")[-1].removesuffix(".git") or "buildpack"


def parse(text: str) -> Buildpack:
    """Reads one buildpack name or URL; raises ValidationError naming what is accepted."""
    text = text.strip()
    shorthand = text.removeprefix("heroku/")
    if shorthand in default_order():
        return Buildpack(name=text, bundled=shorthand)
    if len(text) <= MAX_LENGTH and URL_PATTERN.match(text):
        url, _, ref = text.partition("#")
        return Buildpack(name=text, url=url, ref=ref)
    raise ValidationError(
        f"unknown buildpack {text[:80]!r}: give a git URL (https://, git://, ssh://, file://, with an optional "
        f"#ref) or one of ours: {', '.join(default_order())}"
    )


# -- the app's list --------------------------------------------------------------------------
def app_list(store: Store, app: str) -> list[str]:
    return store.read_lines(app, FILE)


def add(store: Store, app: str, text: str, index: Optional[int] = None) -> None:
    """Adds a buildpack at the end, or at the 1-based index."""
    parse(text)
    current = app_list(store, app)
    if text in current:
        raise ValidationError(f"{app} already uses the buildpack {text}")
    position = len(current) if index is None else _index(index, len(current) + 1)
    current.insert(position, text)
    store.write_lines(app, FILE, current)


def set_(store: Store, app: str, text: str, index: Optional[int] = None) -> None:
    """Replaces the buildpack at the 1-based index (default: the first)."""
    parse(text)
    current = app_list(store, app)
    position = _index(1 if index is None else index, max(len(current), 1))
    if position < len(current):
        current[position] = text
    else:
        current.append(text)
    store.write_lines(app, FILE, current)


def remove(store: Store, app: str, text: str = "", index: Optional[int] = None) -> None:
    current = app_list(store, app)
    if index is not None:
        del current[_index(index, len(current))]
    elif text in current:
        current.remove(text)
    else:
        raise NotFound(f"{app} does not use the buildpack {text[:80]}")
    store.write_lines(app, FILE, current)


def clear(store: Store, app: str) -> None:
    store.remove(app, FILE)


def _index(index: int, size: int) -> int:
    if not 1 <= index <= size:
        raise ValidationError(f"--index must be from 1 to {size}")
    return index - 1


# -- choosing and fetching -------------------------------------------------------------------
def choose(store: Store, app: str, env: dict[str, str], dot_buildpacks: str) -> tuple[list[Buildpack], str]:
    """The buildpacks the app names and where that came from; ([], "detection") for ours."""
    listed = app_list(store, app)
    if listed:
        return [parse(line) for line in listed], "buildpacks:set"
    if env.get("BUILDPACK_URL", "").strip():
        return [parse(env["BUILDPACK_URL"])], "BUILDPACK_URL"
    lines = [line.strip() for line in dot_buildpacks.splitlines()]
    lines = [line for line in lines if line and not line.startswith("#")]
    if lines:
        return [parse(line) for line in lines], ".buildpacks"
    return [], "detection"


def plan(root: Path, chosen: list[Buildpack]) -> BuildpackPlan:
    """The folders to build with: ours, or git URLs fetched into the cache (once)."""
    if not chosen:
        return BuildpackPlan([(name, bundled_buildpacks_dir() / name) for name in default_order()])
    return BuildpackPlan([(bp.label, _folder(root, bp)) for bp in chosen], selection="given")


def _folder(root: Path, buildpack: Buildpack) -> Path:
    if buildpack.bundled:
        return bundled_buildpacks_dir() / buildpack.bundled
    key = hashlib.sha256(buildpack.name.encode()).hexdigest()[:16]
    folder = root / CACHE / f"{buildpack.label}-{key}"
    if not folder.is_dir():
        try:
            gitrepo.fetch_tree(buildpack.url, buildpack.ref, folder)
        except GitError as error:
            where = buildpack.url + (f"#{buildpack.ref}" if buildpack.ref else "")
            raise BuildFailed(f"could not fetch the buildpack {where}: {error}") from None
    if not (folder / "bin" / "compile").is_file() or not (folder / "bin" / "detect").is_file():
        raise BuildFailed(f"{buildpack.name} is not a buildpack: it has no bin/detect and bin/compile")
    return folder
