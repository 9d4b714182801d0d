"""storage:* (Dokku's storage plugin, docker-local): entries (named host directories) and the
apps' mounts of them; records/storage.py keeps them, records/docker_options.for_phase hands the
mounts to the app's containers.

What root would do with sudo in Dokku (chown, chmod, removing a directory's contents) runs in a
short container of the stack image, as root, with the entry's directory alone mounted at /data
and no network: a link a container planted in the directory resolves inside that throwaway
container, never on the host, and only the directory itself is changed (no recursive chown).
The same container gives the directory to the uid the app's containers run as, Docker's user
namespace remapping included.

Who may do what: admin keys and the host, everything. A user key creates entries only at the
default directory (never a PATH), at most MAX_ENTRIES_PER_USER_KEY of them, owned by that very
key (created_by and its fingerprint); it reads, sets, destroys (its directory too) and mounts
only its own entries, on its own apps; an admin grants one of its apps another entry by
mounting it there (the key may then unmount it, not change it). storage:exec is for admin keys.
"""

import os
import secrets
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Optional

from minidokku.access import rules
from minidokku.context import Context
from minidokku.errors import AlreadyExists, NotFound, PermissionDenied, ValidationError
from minidokku.records import resources, storage
from minidokku.records.docker_options import DockerOptions
from minidokku.records.storage import Entry, Mount
from minidokku.runtime.scheduler import OneOff
from minidokku.runtime.terminal import Streams

MAX_ENTRIES_PER_USER_KEY = 10
CONTAINER_DIR = "/data"  # where a helper container (and storage:exec's) sees the entry
HELPER_PREFIX = "storage_"  # the helpers' Docker name: never an app's (app names have no `_`)
HELPER_LIMITS = resources.PROCESS_DEFAULTS
SHELL = "bash"
HIDDEN = "(not applied)"  # a user key's view of the host path of an entry its app does not get


def _user_key(ctx: Context, key: Optional[str]) -> Optional[str]:
    """The key when it is a user key (a tenant), else None (an admin key or the host)."""
    return key if key is not None and rules.role(ctx.store, key) == rules.USER else None


def _fingerprint() -> str:
    """The fingerprint of the key this command came through (its forced command sets it)."""
    return os.environ.get("FINGERPRINT", "")


def _owns(entry: Entry, user: str) -> bool:
    """Created by this very key: a later key given the same name (ssh-keys:remove, then add) is
    another key and owns none of the earlier one's entries."""
    return entry.created_by == user and entry.creator_fingerprint == _fingerprint()


def owned(ctx: Context, name: str, key: Optional[str]) -> Entry:
    """The entry, when key may act on it: any for admins and the host, its own for a user key."""
    entry = storage.load(ctx.store, storage.validate_name(name, legacy_allowed=True))
    user = _user_key(ctx, key)
    if user is not None and not _owns(entry, user):
        raise PermissionDenied(f"storage entry {name} is not {user}'s: a user key acts only on the entries it created")
    return entry


# -- entries -------------------------------------------------------------------------------------
def create(
    ctx: Context, name: str, path: str, chown: Optional[str], mode: str, reclaim_policy: str, key: Optional[str]
) -> Entry:
    """Registers the entry and makes its directory (default: STORAGE_ROOT/NAME), then gives it
    mode and owner (chown default: root, the uid our containers run as). Again on an entry of
    the same place: its directory is made and set again (Dokku's converging create)."""
    storage.validate_name(name)
    user = _user_key(ctx, key)
    if path and user is not None:
        raise PermissionDenied("a custom PATH is for admin keys only: a user key's entries live in the storage root")
    host_path = storage.validate_host_path(path) if path else storage.default_path(ctx.store, name)
    default = host_path == storage.default_path(ctx.store, name)
    chown = (storage.DEFAULT_CHOWN if default else "") if chown is None else chown
    policy = storage.validate_reclaim_policy(reclaim_policy)
    wanted = Entry(name, host_path, chown, storage.normalize_mode(mode), policy)
    storage.chown_uid(wanted.chown)
    _only_at_default(wanted, default)
    with storage.lock(ctx.store):
        existing = storage.find(ctx.store, name)
        if existing is not None:
            wanted = _again(ctx, existing, wanted, user)
        else:
            _check_quota(ctx, user)
            _check_unclaimed(ctx, wanted.host_path, user)
            wanted.created_by, wanted.creator_fingerprint = (user, _fingerprint()) if user else ("", "")
        _make_directory(ctx, wanted, fresh=user is not None and existing is None)
        storage.save(ctx.store, wanted)
    ctx.out.step(f"Storage entry {name} created")
    return wanted


def _again(ctx: Context, existing: Entry, wanted: Entry, user: Optional[str]) -> Entry:
    if user is not None and not _owns(existing, user):
        raise AlreadyExists(f'storage entry "{existing.name}" already exists')
    if user is None and existing.created_by:
        raise AlreadyExists(
            f'storage entry "{existing.name}" was created by user key {existing.created_by}; an admin app never '
            "adopts a user key's entry: choose another name"
        )
    if existing.host_path != wanted.host_path:
        raise AlreadyExists(
            f'storage entry "{existing.name}" already exists at {existing.host_path}; storage:destroy it first'
        )
    ctx.out.step(f"Storage entry {existing.name} already exists, leaving in place")
    return replace(wanted, created_by=existing.created_by, creator_fingerprint=existing.creator_fingerprint)


def _check_unclaimed(ctx: Context, host_path: str, user: Optional[str]) -> None:
    """A new entry never shares (or sits inside) a user key's entry's directory; a user key's
    never holds any entry's directory (an admin's legacy mount of that path or of one inside it,
    say: a link the key planted there would point the admin's bind anywhere)."""
    theirs = storage.user_entry_at(ctx.store, host_path)
    if theirs is not None:
        raise AlreadyExists(
            f"{host_path} is in storage entry {theirs.name}'s directory, user key {theirs.created_by}'s"
        )
    folder = Path(host_path)
    held = (
        entry
        for entry in storage.entries(ctx.store)
        if folder in (Path(entry.host_path), *Path(entry.host_path).parents)
    )
    taken = next(held, None)
    if user is not None and taken is not None:
        raise AlreadyExists(f"{host_path} holds storage entry {taken.name}'s directory ({taken.host_path})")


def _check_quota(ctx: Context, user: Optional[str]) -> None:
    if user is None:
        return
    count = sum(_owns(entry, user) for entry in storage.entries(ctx.store))
    if count >= MAX_ENTRIES_PER_USER_KEY:
        raise PermissionDenied(f"{user} has {count} storage entries, its quota; destroy one first")


def _only_at_default(entry: Entry, default: bool) -> None:
    """Dokku's rule: --chown, --mode and a Delete reclaim policy manage the default directory only."""
    for flag, given in (("--chown", storage.chown_uid(entry.chown) is not None), ("--mode", entry.mode)):
        if given and not default:
            raise ValidationError(
                f"{flag} is only supported when the storage entry uses the default host path; omit {flag} "
                f"and manage {entry.host_path} manually"
            )
    if entry.reclaim_policy == "Delete" and not default:
        raise ValidationError(f"storage entry {entry.name!r} only accepts --reclaim-policy Delete on the default path")


def _make_directory(ctx: Context, entry: Entry, fresh: bool) -> None:
    """The entry's directory, made if missing (never through a link), then its mode and owner.
    fresh (a user key's new entry): made here or refused, never one already there (a destroyed
    entry's retained data, a directory put there by hand). An admin's entry takes a directory
    already there, as Dokku's does: admins are trusted with the host's directories."""
    if not entry.host_path.startswith("/"):
        return  # a Docker volume: the engine has it
    if storage.at_default_path(ctx.store, entry):
        storage.storage_root(ctx.store).mkdir(mode=0o700, parents=True, exist_ok=True)
    if fresh:
        try:
            os.mkdir(entry.host_path, mode=0o755)
        except FileExistsError:
            raise AlreadyExists(
                f"a directory is already at {entry.host_path}; an admin must remove or register it"
            ) from None
        ctx.out.info(f"Created {entry.host_path}")
    elif os.path.lexists(entry.host_path):
        storage.check_directory(entry.host_path, entry.name)
    else:
        os.makedirs(entry.host_path, mode=0o755)
        ctx.out.info(f"Created {entry.host_path}")
    _apply_mode_and_owner(ctx, entry)


def _apply_mode_and_owner(ctx: Context, entry: Entry) -> None:
    uid = storage.chown_uid(entry.chown)
    if entry.mode or uid is not None:
        storage.check_directory(entry.host_path, entry.name)
    if entry.mode:
        ctx.out.info(f"Setting directory mode to {entry.mode}")
        _in_helper(ctx, entry, ["chmod", entry.mode, CONTAINER_DIR])
    if uid is not None:
        ctx.out.info(f"Setting directory ownership to {uid}:{uid}")
        _in_helper(ctx, entry, ["chown", "--no-dereference", f"{uid}:{uid}", CONTAINER_DIR])


def _in_helper(ctx: Context, entry: Entry, argv: list[str]) -> None:
    """Runs argv as root in a container of the stack image where the entry's directory (checked
    to be one, not a link) is /data and nothing else of the host is; raises on failure."""
    storage.check_directory(entry.host_path, entry.name)
    image = ctx.settings.stack_image
    if not ctx.scheduler.image_exists(image):
        raise NotFound(f"the stack image {image} is missing: run `dokku stack:build` first")
    output: list[str] = []
    options = DockerOptions(binds=[f"{entry.host_path}:{CONTAINER_DIR}"], network="none")
    status, _ = ctx.scheduler.run_task(
        _helper_name(ctx, entry.name), image, argv, {}, options, output.append, limits=HELPER_LIMITS
    )
    if status != 0:
        raise ValidationError(f"{argv[0]} of {entry.host_path} failed (status {status}): {' '.join(output)[:200]}")


def _helper_name(ctx: Context, name: str) -> str:
    return f"{ctx.settings.namespace}{HELPER_PREFIX}{name}"


SETTABLE = ("chown", "mode", "reclaim-policy")


def set_property(ctx: Context, name: str, prop: str, value: str, key: Optional[str]) -> None:
    """storage:set NAME PROPERTY [VALUE]: an empty value unsets it; chown and mode apply to the
    directory at once."""
    if not prop:
        raise ValidationError("No property specified")
    if prop not in SETTABLE:
        raise ValidationError(f"Invalid property specified, valid properties include: {', '.join(SETTABLE)}")
    with storage.lock(ctx.store):
        entry = owned(ctx, name, key)
        if prop == "chown":
            storage.chown_uid(value)
            entry.chown = value
        elif prop == "mode":
            entry.mode = storage.normalize_mode(value)
        else:
            entry.reclaim_policy = storage.validate_reclaim_policy(value)
        _only_at_default(entry, storage.at_default_path(ctx.store, entry))
        if prop in ("chown", "mode"):
            _apply_mode_and_owner(ctx, entry)
        storage.save(ctx.store, entry)
    ctx.out.step(f"Storage entry {name} updated")


def destroy(ctx: Context, name: str, destroy_host_dir: bool, key: Optional[str]) -> None:
    """Unregisters the entry (refused while an app mounts it); its directory goes too with
    destroy_host_dir or a Delete reclaim policy (only the default directory: its contents are
    removed in a helper container, which follows no link out of it)."""
    with storage.lock(ctx.store):
        entry = owned(ctx, name, key)
        using = storage.apps_using(ctx.store, name)
        if using:
            raise ValidationError(f'storage entry "{name}" is still mounted by app(s): {", ".join(using)}')
        remove_dir = destroy_host_dir or entry.reclaim_policy == "Delete"
        if remove_dir and not storage.at_default_path(ctx.store, entry):
            if destroy_host_dir:
                raise ValidationError(
                    f"--destroy-host-dir is only supported when the storage entry uses the default host path; "
                    f"remove {entry.host_path} manually"
                )
            ctx.out.info(f"Leaving {entry.host_path} in place; reclaim policy Delete only removes the default path")
            remove_dir = False
        if remove_dir and os.path.lexists(entry.host_path):
            _in_helper(ctx, entry, ["find", CONTAINER_DIR, "-xdev", "-mindepth", "1", "-delete"])
            try:
                os.rmdir(entry.host_path)
            except OSError as error:  # written to again (a container still running with it), say
                raise ValidationError(
                    f"could not remove {entry.host_path} ({error.strerror}); storage entry {name} kept: "
                    "stop what writes there and run storage:destroy again"
                ) from None
            ctx.out.info(f"Removed {entry.host_path}")
        storage.delete(ctx.store, name)
    ctx.out.step(f"Storage entry {name} destroyed")


def visible_entries(ctx: Context, key: Optional[str]) -> list[Entry]:
    """Every entry for admins and the host; a user key's own for it."""
    user = _user_key(ctx, key)
    return [entry for entry in storage.entries(ctx.store) if user is None or _owns(entry, user)]


def exec_in(ctx: Context, name: str, command: list[str], tty: bool, streams: Streams) -> int:
    """storage:exec: command (none: bash) in a container of the stack image with the entry at
    /data, removed after; returns its exit status."""
    entry = storage.load(ctx.store, storage.validate_name(name, legacy_allowed=True))
    if entry.host_path.startswith("/"):
        storage.check_directory(entry.host_path, entry.name)
    options = DockerOptions(binds=[f"{entry.host_path}:{CONTAINER_DIR}"])
    dyno = f"exec.{secrets.randbelow(9000) + 1000}"
    one_off = OneOff(
        dyno, ctx.settings.stack_image, command or [SHELL], {}, options, HELPER_LIMITS, tty, ttl_seconds=86400
    )
    return ctx.scheduler.run(_helper_name(ctx, name), one_off, streams, at_most=1)


# -- mounts --------------------------------------------------------------------------------------
def mount(
    ctx: Context,
    app: str,
    name_or_path: str,
    container_dir: str,
    process_type: str,
    readonly: bool,
    phases: list[str],
    key: Optional[str],
) -> str:
    """Mounts an entry (or, with HOST:CONTAINER[:ro], Dokku's legacy form) into the app's
    containers from its next deploy or restart; returns what was done, in Dokku's words."""
    with storage.lock(ctx.store):
        if ":" in name_or_path:
            entry, wanted = _legacy(ctx, name_or_path, key)
            if _same_mount(ctx, app, wanted) is not None:
                raise AlreadyExists("Mount path already exists.")
        else:
            if not container_dir:
                raise ValidationError("--container-dir is required when mounting a named storage entry")
            entry = _mountable(ctx, name_or_path, key)
            wanted = Mount(
                entry.name,
                storage.validate_container_path(container_dir),
                storage.validate_phases(phases),
                storage.validate_process_type(process_type),
                readonly,
            )
        if rules.is_tenant_app(ctx.store, app) and not storage.at_default_path(ctx.store, entry):
            raise PermissionDenied(
                f"{app} is a user key's app: it mounts only entries in the storage root, not {entry.host_path}"
            )
        if entry.created_by and entry.created_by not in rules.granted(ctx.store, app):
            raise PermissionDenied(
                f"storage entry {entry.name} is user key {entry.created_by}'s: it mounts only on apps granted to it"
            )
        _check_free(ctx, app, wanted)
        if storage.find(ctx.store, entry.name) is None:
            storage.save(ctx.store, entry)  # a legacy form's new entry
        current = storage.mounts(ctx.store, app)
        updated = any(_same(m, wanted) for m in current)
        changed = [wanted if _same(m, wanted) else m for m in current]
        storage.save_mounts(ctx.store, app, changed if updated else [*current, wanted])
    if updated:
        return f"Storage entry {entry.name} mount at {wanted.container_path} on {app} updated"
    return f"Storage entry {entry.name} mounted at {wanted.container_path} on {app}"


def _mountable(ctx: Context, name: str, key: Optional[str]) -> Entry:
    storage.validate_name(name, legacy_allowed=True)
    if storage.find(ctx.store, name) is None:
        raise NotFound(f'storage entry "{name}" does not exist; create it first with `dokku storage:create`')
    return owned(ctx, name, key)


def _legacy(ctx: Context, given: str, key: Optional[str]) -> tuple[Entry, Mount]:
    """The entry and mount of a `HOST:CONTAINER[:ro]`. An admin's: the legacy-HASH entry of HOST,
    as Dokku's migration names it (new ones not saved yet), never in a user key's entry's
    directory. A user key's: its own entry whose directory HOST is, nothing else."""
    host, _, rest = given.partition(":")
    container, _, options = rest.partition(":")
    if not host or not container.startswith("/"):
        raise ValidationError("Storage path must be two valid paths divided by colon.")
    if options not in ("", storage.READ_ONLY, "rw"):
        raise ValidationError(f"mount options {options[:40]!r}: only ro (read-only) or rw")
    host = storage.validate_host_path(host)
    wanted = Mount("", storage.validate_container_path(container), readonly=options == storage.READ_ONLY)
    user = _user_key(ctx, key)
    if user is not None:
        entry = next((e for e in visible_entries(ctx, key) if e.host_path == host), None)
        if entry is None:
            raise PermissionDenied(
                "a user key mounts only storage entries it created (dokku storage:create NAME), never another host path"
            )
    else:
        theirs = storage.user_entry_at(ctx.store, host)
        if theirs is not None:
            raise PermissionDenied(
                f"{host} is in storage entry {theirs.name}'s directory, user key {theirs.created_by}'s: "
                "an admin app never mounts it"
            )
        entry = storage.find(ctx.store, storage.legacy_name(host)) or Entry(storage.legacy_name(host), host)
    return entry, replace(wanted, entry_name=entry.name)


def _same(one: Mount, other: Mount) -> bool:
    return (one.entry_name, one.container_path, one.process_type) == (
        other.entry_name,
        other.container_path,
        other.process_type,
    )


def _same_mount(ctx: Context, app: str, wanted: Mount) -> Optional[Mount]:
    return next((m for m in storage.mounts(ctx.store, app) if _same(m, wanted)), None)


def _check_free(ctx: Context, app: str, wanted: Mount) -> None:
    """Two mounts at one container path of one container would fail its start, and one inside
    another would have Docker make its mount point in the outer entry's directory: refused now
    (updating a mount in place is not another one)."""
    for other in storage.mounts(ctx.store, app):
        overlapping = storage.DEFAULT_PROCESS_TYPE in (other.process_type, wanted.process_type) or (
            other.process_type == wanted.process_type
        )
        if _same(other, wanted) or not overlapping:
            continue
        if other.container_path == wanted.container_path:
            raise AlreadyExists(f"{app} has storage entry {other.entry_name} mounted at {other.container_path}")
        one, two = sorted((other.container_path, wanted.container_path))
        if two.startswith(one + "/"):
            raise ValidationError(
                f"{app} has storage entry {other.entry_name} mounted at {other.container_path}: "
                f"{wanted.container_path} would nest with it"
            )


def unmount(ctx: Context, app: str, name_or_path: str, container_dir: str, key: Optional[str]) -> None:
    """Removes a mount (a user key may remove any of its app's, an admin's too)."""
    with storage.lock(ctx.store):
        current = storage.mounts(ctx.store, app)
        if ":" in name_or_path:
            host, wanted = _legacy_lookup(name_or_path)
            matches = [
                m
                for m in current
                if m.container_path == wanted and storage.load(ctx.store, m.entry_name).host_path == host
            ]
            if not matches:
                raise NotFound("Mount path does not exist.")
        else:
            storage.validate_name(name_or_path, legacy_allowed=True)
            path = storage.validate_container_path(container_dir) if container_dir else ""
            matches = [m for m in current if m.entry_name == name_or_path and path in ("", m.container_path)]
            _one_match(app, name_or_path, path, matches)
        storage.save_mounts(ctx.store, app, [m for m in current if m not in matches])


def _legacy_lookup(given: str) -> tuple[str, str]:
    """The host path and container path a legacy `HOST:CONTAINER[:ro]` unmount names."""
    host, _, rest = given.partition(":")
    container = rest.partition(":")[0]
    if not host or not container.startswith("/"):
        raise ValidationError("Storage path must be two valid paths divided by colon.")
    return storage.validate_host_path(host), storage.validate_container_path(container)


def _one_match(app: str, name: str, path: str, matches: list[Mount]) -> None:
    if not matches:
        where = f" at {path!r}" if path else ""
        raise NotFound(f'storage entry "{name}" is not mounted{where} on app "{app}"')
    if len(matches) > 1 and not path:
        paths = ", ".join(sorted(m.container_path for m in matches))
        raise ValidationError(
            f'storage entry "{name}" is mounted at multiple paths on app "{app}" ({paths}); '
            "pass --container-dir to disambiguate"
        )


def mounted(ctx: Context, app: str, phase: str, key: Optional[str]) -> list[tuple[Entry, Mount]]:
    """The app's mounts of a phase with their entries (as key may see them), ordered as Dokku
    lists them."""
    chosen = [each for each in all_mounts(ctx, app, key) if phase in each[1].phases]
    return sorted(chosen, key=lambda pair: (pair[1].entry_name, pair[1].container_path))


def all_mounts(ctx: Context, app: str, key: Optional[str]) -> Iterator[tuple[Entry, Mount]]:
    """The app's mounts with their entries; to a user key, the host path of an entry the app's
    containers do not get (storage.left_out: an admin's custom path, say) is HIDDEN."""
    user = _user_key(ctx, key)
    for each in storage.mounts(ctx.store, app):
        entry = storage.load(ctx.store, each.entry_name)
        if user is not None and storage.left_out(ctx.store, app, entry):
            entry = replace(entry, host_path=HIDDEN)
        yield entry, each
