"""The pushed tree's settings files (Dockerfile, Procfile, app.json, CHECKS, .buildpacks,
nginx.conf.template), read from git once per build, by one git command once the commit's size
is checked, and carried in the build result and the release from there.

The Dockerfile, app.json and Procfile may be elsewhere in the tree (`builder-dockerfile:set APP
dockerfile-path`, `app-json:set APP appjson-path`, `ps:set APP procfile-path`, which a user key
sets on its own apps): such a
path is a relative path inside the tree (tree_path), and it is read from git's tree, never from
a file system, so no link in the tree leads out of it (git resolves `COMMIT:PATH` through the
tree's own folders; a link in the way makes the file missing).

Whether the tree has a Dockerfile picks the builder; its text is not kept: the Dockerfile builder
reads the one in the build context (what the engine builds, which a .gitattributes `export-subst`
can make differ from the committed file). The nginx template is kept to one character more than
routing accepts, so that a push cannot make every release record as large as its tree, and
routing still refuses it as too long (where an admin allowed the app a template at all).
"""

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

from minidokku.build import gitrepo
from minidokku.errors import ValidationError

DOCKERFILE = "Dockerfile"
NGINX_TEMPLATE = "nginx.conf.template"
MAX_NGINX_TEMPLATE_CHARACTERS = 64 * 1024  # routing refuses a longer template
APP_JSON = "app.json"
PROCFILE = "Procfile"
NAMES = (DOCKERFILE, PROCFILE, APP_JSON, "CHECKS", ".buildpacks", NGINX_TEMPLATE)
MAX_PATH_CHARACTERS = 255
# what a path of the tree may hold: no control character (a NUL or a line break would end the
# request to git), no backslash, and a part never starts with a dash
PATH_PART = re.compile(r"[^\x00-\x1f\x7f\\-][^\x00-\x1f\x7f\\]*")


@dataclass(frozen=True)
class SettingsFiles:
    """The settings files of a pushed tree, or of a ready image's WORKDIR ("" where it has none)."""

    procfile: str = ""
    app_json: str = ""
    checks: str = ""  # the legacy CHECKS file
    buildpacks: str = ""  # .buildpacks
    nginx_template: Optional[str] = None  # None where there is none
    has_dockerfile: bool = False


def tree_path(path: str, what: str) -> str:
    """path (a setting's value, what names it) if it is a path relative to the tree's top: parts
    joined by `/`, none of them empty, `.` or `..` or starting with a dash, no control character
    or backslash; else ValidationError."""
    parts = path.split("/")
    if len(path) > MAX_PATH_CHARACTERS or not all(PATH_PART.fullmatch(p) and p not in (".", "..") for p in parts):
        raise ValidationError(
            f"{what} must be a relative path inside the repository (no leading /, no empty, . or .. part, "
            "no part starting with -, no control character or backslash)"
        )
    return path


def paths(dockerfile: str = DOCKERFILE, app_json: str = APP_JSON, procfile: str = PROCFILE) -> list[str]:
    """The settings files' paths in the tree (in the order of NAMES), the Dockerfile, app.json and
    Procfile where their settings say."""
    given = {
        DOCKERFILE: tree_path(dockerfile, "dockerfile-path"),
        APP_JSON: tree_path(app_json, "appjson-path"),
        PROCFILE: tree_path(procfile, "procfile-path"),
    }
    return [given.get(name, name) for name in NAMES]


def read(
    repo: Path,
    sha: str,
    dockerfile: str = DOCKERFILE,
    app_json: str = APP_JSON,
    build_dir: str = "",
    procfile: str = PROCFILE,
) -> SettingsFiles:
    """The settings files of commit sha (40 hex) of repo, the Dockerfile, app.json and Procfile
    at the paths given, every one in the folder build_dir ("": the top; tree_path checks them again).
    A commit too large to build is refused before any file is read (a file of zeros packs to a
    thousandth of its size)."""
    gitrepo.check_tree_size(repo, sha)
    under = f"{tree_path(build_dir, 'build-dir')}/" if build_dir else ""
    wanted = [under + path for path in paths(dockerfile, app_json, procfile)]
    texts = gitrepo.read_files(repo, sha, list(dict.fromkeys(wanted)))
    return settings_files({name: texts[path] for name, path in zip(NAMES, wanted)})


def settings_files(texts: Mapping[str, Optional[str]]) -> SettingsFiles:
    """The settings files in texts (file name -> text; None or left out where there is none)."""
    template = texts.get(NGINX_TEMPLATE)
    return SettingsFiles(
        procfile=texts.get(PROCFILE) or "",
        app_json=texts.get(APP_JSON) or "",
        checks=texts.get("CHECKS") or "",
        buildpacks=texts.get(".buildpacks") or "",
        nginx_template=None if template is None else template[: MAX_NGINX_TEMPLATE_CHARACTERS + 1],
        has_dockerfile=texts.get(DOCKERFILE) is not None,
    )
