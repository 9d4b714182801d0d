#!/usr/bin/env python3
"""Turns a Python app's dependency file into the requirement lines pip installs.

    python3 locked_requirements.py uv.lock|poetry.lock|Pipfile.lock|pyproject.toml

The file's name says its format. A lock file gives its main dependencies pinned (`name==version`,
`; marker` where the lock has one), dev groups left out; a pyproject.toml without a lock gives its
[project] dependencies as declared. The project itself is never listed: the app runs from /app.
Local directories are listed editable (`-e /abs/path`), so a code-only push needs no reinstall;
a lock's extra package indexes become `--extra-index-url` lines. Errors: one ` !     ` line on
stderr, exit status 1. Needs Python 3.11 (tomllib), nothing else.
"""

import json
import re
import sys
import tomllib
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

PYPI_INDEXES = {"https://pypi.org/simple", "https://pypi.python.org/simple"}
ARCHIVES = (".whl", ".tar.gz", ".zip", ".tar.bz2")
PEP508_NAME = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)\s*(\[([^\]]*)\])?")


class LockError(Exception):
    """The file cannot be turned into requirements; the message says why, in one line."""


def normalize(name: str) -> str:
    """A project name as PyPI compares them (PEP 503)."""
    return re.sub(r"[-_.]+", "-", name).lower()


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print("usage: locked_requirements.py uv.lock|poetry.lock|Pipfile.lock|pyproject.toml", file=sys.stderr)
        return 2
    try:
        lines = requirements(Path(argv[1]))
    except LockError as error:
        print(f" !     {error}", file=sys.stderr)
        return 1
    print("\n".join(lines))
    return 0


def requirements(path: Path) -> list[str]:
    readers = {"uv.lock": uv_lock, "poetry.lock": poetry_lock, "Pipfile.lock": pipfile_lock}
    if path.name == "pyproject.toml":
        return pyproject_dependencies(read_toml(path))
    if path.name not in readers:
        raise LockError(f"{path.name}: not a lock file this buildpack reads (uv.lock, poetry.lock, Pipfile.lock)")
    return readers[path.name](path)


def read_toml(path: Path) -> dict:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as error:
        raise LockError(f"{path.name} cannot be read: {error}") from error


# --- pyproject.toml without a lock ---------------------------------------------------------------


def pyproject_dependencies(pyproject: dict) -> list[str]:
    project = pyproject.get("project")
    if project is None:
        if "poetry" in pyproject.get("tool", {}):
            raise LockError("a Poetry project needs its poetry.lock: run `poetry lock` and commit poetry.lock")
        raise LockError("pyproject.toml has no [project] table listing dependencies (PEP 621)")
    if "dependencies" in project.get("dynamic", []):
        raise LockError("pyproject.toml's dependencies are dynamic: list them in requirements.txt instead")
    return list(project.get("dependencies", []))


# --- the dependency graph both uv.lock and old poetry.lock files need walking ------------------


def reachable(roots: list[tuple], follow) -> dict[str, set[frozenset]]:
    """Walks a lock's dependency graph from the root edges.

    roots and follow(key, extras) yield edges (key, extras, marker or None). Returns, for each key
    reached, the conditions under which it is needed: a set of marker conjunctions (frozensets),
    one per way of reaching it; the empty conjunction means always.
    """
    conditions: dict[str, set[frozenset]] = {}
    seen = set()
    pending = [(key, frozenset(extras), frozenset([marker] if marker else [])) for key, extras, marker in roots]
    while pending:
        state = pending.pop()
        if state in seen:
            continue
        seen.add(state)
        key, extras, markers = state
        conditions.setdefault(key, set()).add(markers)
        for child, child_extras, marker in follow(key, extras):
            child_markers = markers | {marker} if marker else markers
            pending.append((child, frozenset(child_extras), child_markers))
    return conditions


def combined_marker(conjunctions: set[frozenset]) -> str:
    """One PEP 508 marker for `any of these conjunctions holds` ("" when one of them is empty)."""
    kept = [c for c in conjunctions if not any(other < c for other in conjunctions)]
    if not kept or frozenset() in kept:
        return ""
    terms = sorted(" and ".join(f"({m})" if len(c) > 1 else m for m in sorted(c)) for c in kept)
    return terms[0] if len(terms) == 1 else " or ".join(f"({term})" for term in terms)


def with_marker(requirement: str, marker: str) -> str:
    """pip takes no marker after an editable path: those are local code, wanted everywhere."""
    if not marker or not requirement or requirement.startswith("-e "):
        return requirement
    return f"{requirement} ; {marker}"


def index_options(urls) -> list[str]:
    extra = sorted({url.rstrip("/") for url in urls if url and url.rstrip("/") not in PYPI_INDEXES})
    return [f"--extra-index-url {url}" for url in extra]


def local_path(lock_dir: Path, path: str) -> str:
    return str((lock_dir / path).resolve())


# --- uv.lock ---------------------------------------------------------------------------------------


def uv_lock(path: Path) -> list[str]:
    lock = read_toml(path)
    if lock.get("version") != 1:
        raise LockError(f"uv.lock version {lock.get('version')} is not supported (version 1 is)")
    packages = {uv_key(p): p for p in lock.get("package", [])}
    project = [p for p in packages.values() if p.get("source") in ({"virtual": "."}, {"editable": "."})]
    if not project:
        raise LockError('uv.lock has no entry for the project itself (source = { virtual = "." })')

    def edges(dependencies):
        for dependency in dependencies:
            yield uv_target(packages, dependency), dependency.get("extra", []), dependency.get("marker")

    def follow(key, extras):
        package = packages[key]
        yield from edges(package.get("dependencies", []))
        for extra in extras:
            yield from edges(package.get("optional-dependencies", {}).get(extra, []))

    needed = reachable(list(edges(project[0].get("dependencies", []))), follow)
    lines = [with_marker(uv_requirement(packages[key], path.parent), combined_marker(c)) for key, c in needed.items()]
    lines = [line for line in lines if line]
    indexes = [p.get("source", {}).get("registry") for p in packages.values() if uv_key(p) in needed]
    return index_options(indexes) + sorted(lines, key=str.lower)


def uv_key(package: dict) -> str:
    return f"{normalize(package['name'])}=={package.get('version', '')}"


def uv_target(packages: dict, dependency: dict) -> str:
    """The package a dependency edge points at: by name, and by version when uv locked several."""
    name = normalize(dependency["name"])
    candidates = [key for key in packages if key.split("==")[0] == name]
    if "version" in dependency:
        candidates = [key for key in candidates if key == f"{name}=={dependency['version']}"]
    if not candidates:
        raise LockError(f"uv.lock names {dependency['name']} as a dependency but has no entry for it")
    return candidates[0]


def uv_requirement(package: dict, lock_dir: Path) -> str:
    """The line for one locked package; empty for a virtual workspace member (only its
    dependencies are installed)."""
    name, version, source = package["name"], package.get("version"), package.get("source", {})
    if "git" in source:
        return f"{name} @ {git_url(source['git'])}"
    if "url" in source:
        return f"{name} @ {source['url']}"
    if "path" in source:
        return f"{name} @ {Path(local_path(lock_dir, source['path'])).as_uri()}"
    for kind in ("editable", "directory"):
        if kind in source:
            return f"-e {local_path(lock_dir, source[kind])}"
    return "" if "virtual" in source else f"{name}=={version}"


def git_url(locked: str) -> str:
    """uv's `https://host/repo?rev=main&subdirectory=x#<commit>` as pip's `git+https://host/repo@<commit>`."""
    parts = urlsplit(locked)
    query = dict(pair.split("=", 1) for pair in parts.query.split("&") if "=" in pair)
    url = urlunsplit((parts.scheme, parts.netloc, parts.path, "", ""))
    commit = parts.fragment or query.get("rev") or query.get("tag") or query.get("branch")
    pinned = f"git+{url}@{commit}" if commit else f"git+{url}"
    return f"{pinned}#subdirectory={query['subdirectory']}" if "subdirectory" in query else pinned


# --- poetry.lock -----------------------------------------------------------------------------------


def poetry_lock(path: Path) -> list[str]:
    """Poetry 2 locks (lock-version 2.1) say each package's groups and markers; older ones do not,
    so their main dependencies are found by walking from pyproject.toml's."""
    lock = read_toml(path)
    packages = lock.get("package", [])
    if any("groups" in package for package in packages):
        chosen = [
            (p, poetry_main_marker(p)) for p in packages if "main" in p.get("groups", []) and not p.get("optional")
        ]
    else:
        chosen = poetry_walk(packages, path.parent / "pyproject.toml")
    lines = [with_marker(poetry_requirement(package, path.parent), marker) for package, marker in chosen]
    indexes = [p["source"]["url"] for p, _ in chosen if p.get("source", {}).get("type") == "legacy"]
    return index_options(indexes) + sorted(lines, key=str.lower)


def poetry_main_marker(package: dict) -> str:
    markers = package.get("markers", "")
    return markers.get("main", "") if isinstance(markers, dict) else markers


def poetry_walk(packages: list[dict], pyproject_path: Path) -> list[tuple]:
    if not pyproject_path.is_file():
        raise LockError("this poetry.lock has no groups (Poetry < 2): its pyproject.toml is needed beside it")
    by_name = {normalize(p["name"]): p for p in packages}

    def follow(key, extras):
        package = by_name[key]
        optional = [r for extra in extras for r in package.get("extras", {}).get(extra, [])]
        wanted = {pep508_edge(requirement)[0] for requirement in optional}
        for name, spec in package.get("dependencies", {}).items():
            for constraint in spec if isinstance(spec, list) else [spec]:
                details = constraint if isinstance(constraint, dict) else {}
                if details.get("optional") and normalize(name) not in wanted:
                    continue
                if normalize(name) in by_name:
                    yield normalize(name), details.get("extras", []), details.get("markers")

    roots = [edge for edge in poetry_main_dependencies(read_toml(pyproject_path)) if edge[0] in by_name]
    return [(by_name[key], combined_marker(c)) for key, c in reachable(roots, follow).items()]


def poetry_main_dependencies(pyproject: dict) -> list[tuple]:
    """(name, extras, marker) of the main dependencies: [project] dependencies, else Poetry's table."""
    if "dependencies" in pyproject.get("project", {}):
        return [pep508_edge(requirement) for requirement in pyproject["project"]["dependencies"]]
    table = pyproject.get("tool", {}).get("poetry", {}).get("dependencies", {})
    edges = []
    for name, spec in table.items():
        for constraint in spec if isinstance(spec, list) else [spec]:
            details = constraint if isinstance(constraint, dict) else {}
            if name != "python" and not details.get("optional"):
                edges.append((normalize(name), details.get("extras", []), details.get("markers")))
    return edges


def pep508_edge(requirement: str) -> tuple:
    match = PEP508_NAME.match(requirement)
    if not match:
        raise LockError(f"pyproject.toml: cannot read the dependency {requirement!r}")
    extras = [e.strip() for e in (match.group(3) or "").split(",") if e.strip()]
    marker = requirement.split(";", 1)[1].strip() if ";" in requirement else None
    return normalize(match.group(1)), extras, marker


def poetry_requirement(package: dict, lock_dir: Path) -> str:
    name, version, source = package["name"], package["version"], package.get("source", {})
    kind = source.get("type")
    if kind == "git":
        pinned = f"{name} @ git+{source['url']}@{source.get('resolved_reference') or source.get('reference')}"
        return f"{pinned}#subdirectory={source['subdirectory']}" if source.get("subdirectory") else pinned
    if kind == "url":
        return f"{name} @ {source['url']}"
    if kind == "file":
        return f"{name} @ {Path(local_path(lock_dir, source['url'])).as_uri()}"
    if kind == "directory":
        return f"-e {local_path(lock_dir, source['url'])}"
    return f"{name}=={version}"


# --- Pipfile.lock ----------------------------------------------------------------------------------


def pipfile_lock(path: Path) -> list[str]:
    try:
        lock = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise LockError(f"Pipfile.lock cannot be read: {error}") from error
    if not isinstance(lock.get("default"), dict):
        raise LockError('Pipfile.lock has no "default" section: run `pipenv lock` again')
    lines = [pipenv_requirement(name, entry, path.parent) for name, entry in lock["default"].items()]
    indexes = [source.get("url") for source in lock.get("_meta", {}).get("sources", [])]
    return index_options(indexes) + sorted(lines, key=str.lower)


def pipenv_requirement(name: str, entry: dict, lock_dir: Path) -> str:
    extras = f"[{','.join(entry['extras'])}]" if entry.get("extras") else ""
    if "git" in entry:
        ref = f"@{entry['ref']}" if entry.get("ref") else ""
        requirement = f"{name}{extras} @ git+{entry['git'].removeprefix('git+')}{ref}"
    elif "path" in entry and not entry["path"].endswith(ARCHIVES):
        return f"-e {local_path(lock_dir, entry['path'])}"
    elif "path" in entry:
        requirement = f"{name}{extras} @ {Path(local_path(lock_dir, entry['path'])).as_uri()}"
    elif "file" in entry:
        requirement = f"{name}{extras} @ {entry['file']}"
    else:
        version = entry.get("version", "*")
        requirement = f"{name}{extras}{'' if version == '*' else version}"
    return with_marker(requirement, entry.get("markers", ""))


if __name__ == "__main__":
    sys.exit(main(sys.argv))
