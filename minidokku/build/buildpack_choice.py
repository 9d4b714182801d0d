"""Which buildpacks build an app (Dokku's buildpacks plugin), first match wins:
1. the app's own list (`buildpacks:add|set|remove|clear`, kept in APP/BUILDPACKS);
2. the BUILDPACK_URL config var (Heroku's, one buildpack);
3. a `.buildpacks` file in the pushed tree (one buildpack a line);
4. else ours, tried in the order of buildpacks/ORDER; the first that detects builds the app.
A named buildpack runs whether or not others would detect, but must detect the app itself.

A buildpack is one of ours by name (`python`, or Heroku's shorthand `heroku/python`) or a git
URL, optionally with `#ref` (a branch, tag or commit), fetched once for the app and kept in
APP/cache/buildpacks: a push never waits for a buildpack it has fetched before. A tenant app's
buildpacks, from any of the three sources, follow the tenant rules of access/urls.py.

The cache is per app, not shared: a branch moves, and the snapshot an app builds with is the one
taken when that app first needed it. A shared cache would let one tenant choose when another
app's snapshot is taken (before a fix lands, during a brief compromise), or fill it first under
the rules of another mode. Pinning by commit would cost a lookup of the remote on every push. The
cache goes with the app (apps:destroy), and a URL fetched under the tenant rules is kept apart
from the same URL fetched as trusted (an app an admin later grants to a user key fetches again).
"""

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

from minidokku.access import urls
from minidokku.build import gitrepo
from minidokku.build.builders.buildpacks import BuildpackPlan, bundled_buildpacks_dir, default_order
from minidokku.errors import BuildFailed, GitError, NotFound, ValidationError
from minidokku.state import Store

FILE = "BUILDPACKS"
CACHE = "cache/buildpacks"  # in the app's folder
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
        """A short name for folders and messages: the URL's last part, in safe characters."""
        last = self.url.rstrip("/").split("/")[-1].removesuffix(".git")
        return self.bundled or re.sub(r"[^A-Za-z0-9._-]", "-", last)[:40].strip(".") or "buildpack"


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


def check(store: Store, app: str, text: str, where: str) -> Buildpack:
    """Reads one buildpack as parse() does, and holds a tenant app's to the tenant rules (their
    form only: the address is checked when it is fetched). `where` names the source in errors."""
    buildpack = parse(text)
    if buildpack.url and urls.policy_for(store, app):
        try:
            urls.check_form(buildpack.url)
        except ValidationError as error:
            raise ValidationError(f"{where}: {error}") from None
    return buildpack


# -- the app's list --------------------------------------------------------------------------
def app_list(store: Store, app: str) -> list[str]:
    return store.read_lines(app, FILE)


def add(store: Store, app: str, text: str, index: Optional[int] = None) -> None:
    """Adds a buildpack at the end, or at the 1-based index."""
    check(store, app, text, "buildpacks:add")
    current = app_list(store, app)
    if text in current:
        raise ValidationError(f"{app} already uses the buildpack {text}")
    position = len(current) if index is None else _index(index, len(current) + 1)
    current.insert(position, text)
    store.write_lines(app, FILE, current)


def set_(store: Store, app: str, text: str, index: Optional[int] = None) -> None:
    """Replaces the buildpack at the 1-based index (default: the first)."""
    check(store, app, text, "buildpacks:set")
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
        return [check(store, app, line, "buildpacks:set") for line in listed], "buildpacks:set"
    if env.get("BUILDPACK_URL", "").strip():
        return [check(store, app, env["BUILDPACK_URL"], "BUILDPACK_URL")], "BUILDPACK_URL"
    lines = [line.strip() for line in dot_buildpacks.splitlines()]
    lines = [line for line in lines if line and not line.startswith("#")]
    if lines:
        return [check(store, app, line, ".buildpacks") for line in lines], ".buildpacks"
    return [], "detection"


def plan(store: Store, app: str, chosen: list[Buildpack]) -> BuildpackPlan:
    """The folders to build with: ours, or git URLs fetched into the app's cache (once)."""
    if not chosen:
        return BuildpackPlan([(name, bundled_buildpacks_dir() / name) for name in default_order()])
    policy = urls.policy_for(store, app)
    return BuildpackPlan([(bp.label, _folder(store, app, bp, policy)) for bp in chosen], selection="given")


def _folder(store: Store, app: str, buildpack: Buildpack, policy: Optional[urls.Policy]) -> Path:
    if buildpack.bundled:
        return bundled_buildpacks_dir() / buildpack.bundled
    rules = "tenant" if policy else "trusted"
    key = hashlib.sha256(f"{rules} {buildpack.name}".encode()).hexdigest()[:16]
    folder = store.app_dir(app) / CACHE / f"{buildpack.label}-{key}"
    if not folder.is_dir():
        try:
            pinned = urls.destination(buildpack.url, policy) if policy else None
            gitrepo.fetch_tree(buildpack.url, buildpack.ref, folder, pinned)
        except (GitError, ValidationError) as error:
            raise BuildFailed(f"could not fetch the buildpack {buildpack.name[:120]}: {error}") from None
    for script in ("bin/detect", "bin/compile"):
        if not _file_inside(folder, script):
            raise BuildFailed(f"{buildpack.name[:120]} is not a buildpack: {script} is missing or links out of it")
    return folder


def _file_inside(folder: Path, relative: str) -> bool:
    """A file of folder, or a link to one inside folder (a link out of it counts as missing)."""
    try:
        path = (folder / relative).resolve(strict=True)
    except (OSError, RuntimeError):  # missing, or a loop of links
        return False
    return path.is_relative_to(folder.resolve()) and path.is_file()
