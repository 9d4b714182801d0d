"""The pushed tree's settings files (Dockerfile, Procfile, app.json, CHECKS, .buildpacks,
nginx.conf.template), read from git once per build, by one git command once the commit's size
is checked, and carried in the build result and the release from there.

Whether the tree has a Dockerfile picks the builder; its text is not kept: the Dockerfile builder
reads the one in the build context (what the engine builds, which a .gitattributes `export-subst`
can make differ from the committed file). The nginx template is kept to one character more than
routing accepts, so that a push cannot make every release record as large as its tree, and
routing still refuses it as too long (where an admin allowed the app a template at all).
"""

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

from minidokku.build import gitrepo

DOCKERFILE = "Dockerfile"
NGINX_TEMPLATE = "nginx.conf.template"
MAX_NGINX_TEMPLATE_CHARACTERS = 64 * 1024  # routing refuses a longer template
NAMES = (DOCKERFILE, "Procfile", "app.json", "CHECKS", ".buildpacks", NGINX_TEMPLATE)


@dataclass(frozen=True)
class SettingsFiles:
    """The settings files of a pushed tree, or of a ready image's WORKDIR ("" where it has none)."""

    procfile: str = ""
    app_json: str = ""
    checks: str = ""  # the legacy CHECKS file
    buildpacks: str = ""  # .buildpacks
    nginx_template: Optional[str] = None  # None where there is none
    has_dockerfile: bool = False


def read(repo: Path, sha: str) -> SettingsFiles:
    """The settings files of commit sha (40 hex) of repo. A commit too large to build is refused
    before any file is read (a file of zeros packs to a thousandth of its size)."""
    gitrepo.check_tree_size(repo, sha)
    return settings_files(gitrepo.read_files(repo, sha, NAMES))


def settings_files(texts: Mapping[str, Optional[str]]) -> SettingsFiles:
    """The settings files in texts (file name -> text; None or left out where there is none)."""
    template = texts.get(NGINX_TEMPLATE)
    return SettingsFiles(
        procfile=texts.get("Procfile") or "",
        app_json=texts.get("app.json") or "",
        checks=texts.get("CHECKS") or "",
        buildpacks=texts.get(".buildpacks") or "",
        nginx_template=None if template is None else template[: MAX_NGINX_TEMPLATE_CHARACTERS + 1],
        has_dockerfile=texts.get(DOCKERFILE) is not None,
    )
