"""Plugins: what is installed, enabled, and how a plugin gets in, out or updated.

An installed plugin is a folder PLUGIN_PATH/NAME with a manifest, plugin.toml (Dokku's):

    [plugin]
    description = "says hello"
    version = "0.1.0"

and executables named after trigger points (plugins/triggers.py), `commands` among them. A bundled
plugin (postgres) is Python inside minidokku, with the same name, version and switch; its
trigger hooks are functions. PLUGIN_PATH/DISABLED lists the disabled ones. Plugins run in
name order, bundled and installed alike.

Root runs plugins (their install triggers, and every trigger of a command root runs), so they
live where only root can change them: PLUGIN_PATH is ROOT/.plugins when the state root itself
is root's alone (a test root), else /var/lib/minidokku/plugins (as Dokku's /var/lib/dokku/plugins:
on an install.sh machine the dokku user owns /home/dokku and could swap anything in it). What
is installed is made root's, writable by root alone (state.make_root_only), and root runs no
plugin whose folder someone else could change (runnable_by_root).
"""

import functools
import os
import re
import shutil
import tarfile
import tempfile
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

from minidokku import state
from minidokku.build import archives, gitrepo
from minidokku.errors import AlreadyExists, GitError, NotFound, PermissionDenied, ValidationError
from minidokku.state import Store

PLUGINS_DIR = ".plugins"  # inside a state root that is root's alone
SYSTEM_PLUGIN_PATH = Path("/var/lib/minidokku/plugins")
DISABLED_FILE = "DISABLED"
MANIFEST = "plugin.toml"
SOURCE_FILE = ".source"  # inside the plugin's folder: where it came from, for plugin:update
NAME_PATTERN = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")
TARBALL_SUFFIXES = (".tar", ".tar.gz", ".tgz", ".tar.xz", ".tar.bz2")

Hook = Callable[..., Optional[str]]  # hook(ctx, *trigger_args) -> what it prints, for docker-args-*


@dataclass(frozen=True)
class Plugin:
    name: str
    version: str
    description: str
    folder: Optional[Path] = None  # None for a bundled plugin
    hooks: Mapping[str, Hook] = field(default_factory=dict)  # a bundled plugin's triggers
    problem: str = ""  # why its plugin.toml cannot be read: such a plugin never runs

    @property
    def bundled(self) -> bool:
        return self.folder is None

    def executable(self, trigger: str) -> Optional[Path]:
        """The plugin's executable for trigger, if it has one."""
        if self.folder is None:
            return None
        path = self.folder / trigger
        return path if path.is_file() and path.stat().st_mode & 0o111 else None


def bundled() -> list[Plugin]:
    from minidokku.plugins.postgres.hooks import PLUGIN  # here, not at the top: the bundled plugins use the core

    return [PLUGIN]


def plugin_path(store: Store) -> Path:
    """Where installed plugins live: a folder only root can change (see the module's text)."""
    return store.root / PLUGINS_DIR if _roots_alone(store.root) else SYSTEM_PLUGIN_PATH


@functools.lru_cache(maxsize=8)
def _roots_alone(root: Path) -> bool:
    """Cached: who owns the state root does not change while a command runs, and every trigger
    asks (an lstat of each folder above it)."""
    return state.root_only_problem(root) is None


def runnable_by_root(plugin: Plugin) -> None:
    """Raises PermissionDenied when root is running us and someone else could change the
    plugin's folder or anything in it (what root would run, or what the plugin sources)."""
    if plugin.folder is None or not state.running_as_root():
        return
    problem = state.root_only_tree_problem(plugin.folder)
    if problem:
        raise PermissionDenied(f"root does not run plugin {plugin.name}: {problem}; reinstall it with plugin:install")


def installed(store: Store) -> list[Plugin]:
    """Every plugin, bundled and installed, in the order their triggers run."""
    folder = plugin_path(store)
    found = [_installed_plugin(path) for path in folder.iterdir() if _is_plugin(path)] if folder.is_dir() else []
    return sorted(bundled() + found, key=lambda plugin: plugin.name)


def enabled(store: Store) -> list[Plugin]:
    off = set(_disabled(store))
    return [plugin for plugin in installed(store) if plugin.name not in off and not plugin.problem]


def is_enabled(store: Store, name: str) -> bool:
    return any(plugin.name == name for plugin in enabled(store))


def find(store: Store, name: str) -> Plugin:
    for plugin in installed(store):
        if plugin.name == name:
            return plugin
    raise NotFound(f"plugin {name} is not installed; `dokku plugin:list` shows those that are")


def set_enabled(store: Store, name: str, on: bool) -> Plugin:
    plugin = find(store, name)
    off = [line for line in _disabled(store) if line != name]
    state.atomic_write(
        _plugins_dir(store) / DISABLED_FILE, "".join(f"{line}\n" for line in (off if on else [*off, name]))
    )
    return plugin


def _disabled(store: Store) -> list[str]:
    path = plugin_path(store) / DISABLED_FILE
    return path.read_text(encoding="utf-8").split() if path.is_file() else []


def read_manifest(folder: Path) -> Plugin:
    path = folder / MANIFEST
    try:
        manifest = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ValidationError(f"not a plugin: it has no {MANIFEST}") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
        raise ValidationError(f"{MANIFEST} is not valid TOML: {error}") from None
    section = manifest.get("plugin")
    if not isinstance(section, dict) or not all(isinstance(section.get(k), str) for k in ("version", "description")):
        raise ValidationError(f'{MANIFEST} needs a [plugin] table with version = "..." and description = "..."')
    return Plugin(folder.name, section["version"], section["description"], folder=folder)


def name_from_source(source: str) -> str:
    """`https://host/dokku-hello.git` and `/srv/hello-1.0.tar.gz` give the names hello and hello-1.0."""
    base = source.split("#", 1)[0].rstrip("/").rsplit("/", 1)[-1]  # the ref first: it may hold a /
    for suffix in (".git", *TARBALL_SUFFIXES):
        base = base.removesuffix(suffix)
    return base.removeprefix("dokku-")


def validate_name(name: str) -> str:
    if not NAME_PATTERN.match(name):
        raise ValidationError(f"invalid plugin name {name[:80]!r}: use lowercase letters, digits, - and _")
    return name


def fetch(store: Store, source: str, name: str) -> Path:
    """Brings the plugin at source into a scratch folder beside the installed ones (so it can
    be renamed into place) and checks its manifest; the caller moves it in or removes it. Run
    by root, what came is made root's, writable by root alone."""
    validate_name(name)
    scratch = Path(tempfile.mkdtemp(dir=_plugins_dir(store), prefix=f".fetch-{name}-"))
    tree = scratch / name
    try:
        _fetch_tree(source, tree)
        read_manifest(tree)
        (tree / SOURCE_FILE).write_text(_absolute(source) + "\n", encoding="utf-8")
        if state.running_as_root():
            state.make_root_only(tree)
    except BaseException:
        shutil.rmtree(scratch, ignore_errors=True)
        raise
    return tree


def move_in(store: Store, fetched: Path) -> Plugin:
    """Moves a fetched plugin to its place; a name already taken is refused."""
    name = fetched.name
    if any(plugin.name == name for plugin in installed(store)):
        raise AlreadyExists(f"plugin {name} is already installed; use plugin:update {name}, or --name")
    target = _plugins_dir(store) / name
    fetched.rename(target)
    return read_manifest(target)


def discard(fetched: Path) -> None:
    """Removes a scratch folder fetch() made."""
    shutil.rmtree(fetched.parent, ignore_errors=True)


def remove(store: Store, name: str) -> None:
    plugin = find(store, name)
    if plugin.bundled:
        raise ValidationError(f"{name} is bundled with minidokku: disable it with plugin:disable {name}")
    set_enabled(store, name, True)  # forget it was disabled
    shutil.rmtree(plugin.folder)


def source_of(plugin: Plugin) -> str:
    if plugin.bundled:
        raise ValidationError(f"{plugin.name} is bundled with minidokku: it is updated with minidokku itself")
    path = plugin.folder / SOURCE_FILE
    if not path.is_file():
        raise NotFound(f"plugin {plugin.name} does not record where it came from; uninstall and install it again")
    return path.read_text(encoding="utf-8").strip()


def swap(store: Store, fetched: Path) -> Path:
    """Puts a newly fetched version in place of the installed one; returns where the old one
    waits (to be discarded, or put back by restore())."""
    current = _plugins_dir(store) / fetched.name
    kept = fetched.parent / ".previous"  # a dot: no plugin has such a name
    current.rename(kept)
    fetched.rename(current)
    return kept


def restore(store: Store, name: str, kept: Path) -> None:
    """Undoes swap(): the old version of plugin name goes back in place."""
    current = _plugins_dir(store) / name
    shutil.rmtree(current, ignore_errors=True)
    kept.rename(current)
    shutil.rmtree(kept.parent, ignore_errors=True)


def _fetch_tree(source: str, tree: Path) -> None:
    """A tarball (URL or local file), a local folder, or else a git URL or repo (`#ref` allowed)."""
    local = Path(source)
    if source.startswith(("http://", "https://")) and source.endswith(TARBALL_SUFFIXES):
        _unpack_plugin(archives.download(source, policy=None), tree)  # root's choice: trusted
    elif local.is_file() and tarfile.is_tarfile(local):
        _unpack_plugin(local.read_bytes(), tree)
    elif local.is_dir() and not (local / ".git").exists():
        try:
            shutil.copytree(local, tree, symlinks=False)
        except shutil.Error as error:  # a list of (source, target, reason): the first says enough
            source_path, _, reason = error.args[0][0]
            raise ValidationError(f"could not copy the plugin folder: {source_path}: {reason}") from None
    else:
        url, _, ref = source.partition("#")
        try:
            gitrepo.fetch_tree(url, ref, tree)
        except GitError as error:
            raise NotFound(f"could not fetch the plugin {source}: {error}") from None


def _absolute(source: str) -> str:
    """A local path made absolute (keeping a #ref), so plugin:update finds it from any folder."""
    path, hash_, ref = source.partition("#")
    return f"{Path(path).resolve()}{hash_}{ref}" if Path(path).exists() else source


def _unpack_plugin(archive: bytes, tree: Path) -> None:
    archives.check_size(archive)
    unpacked = archives.extract(archive, tree.parent / ".unpacked")  # a dot: no plugin name
    unpacked.rename(tree)


def _installed_plugin(folder: Path) -> Plugin:
    """The plugin in folder; one whose manifest was broken after it was installed is listed with
    its problem (so it can be seen and uninstalled) and runs nothing."""
    try:
        return read_manifest(folder)
    except ValidationError as error:
        return Plugin(folder.name, "-", f"cannot be used: {error}", folder=folder, problem=str(error))


def _is_plugin(path: Path) -> bool:
    return path.is_dir() and not path.name.startswith(".") and (path / MANIFEST).is_file()


def _plugins_dir(store: Store) -> Path:
    """The plugin path, made if missing: 0755, so the dokku user reads and runs the plugins."""
    folder = plugin_path(store)
    if not folder.is_dir():
        folder.mkdir(mode=0o755, parents=True, exist_ok=True)
        os.chmod(folder, 0o755)  # whatever the umask
    return folder
