"""Who may do what over ssh. A key is an admin (everything, as Dokku's keys are) or a user, who
may push to and run app-scoped commands on the apps granted to it (`acl:add APP USER`) and
create apps up to a quota; the apps it creates are granted to it. Nothing global is open to a
user: no other app, no docker-options, buildpack URLs, images or archives from anywhere, keys,
or ACLs. Commands run on the host itself (root or the dokku user) carry no key and are not
restricted.

Roles live in ROOT/.ssh/ROLES, a `NAME ROLE` line for every key, admins too: a key without one
is a user (roles fail closed). Grants live in APP/ACL (one user a line). A key and its role come
and go together under the keys' lock (add_key, remove_key). Keys added before every key had a
line were admins: `ssh-keys:migrate` (install.sh runs it) writes their line once.
"""

import enum
import os
from pathlib import Path
from typing import Optional

from minidokku.access.sshkeys import AuthorizedKeys, Key
from minidokku.errors import AppNotGranted, PermissionDenied, ValidationError
from minidokku.records import names
from minidokku.state import Store, file_lock

ROLES_FILE = ".ssh/ROLES"
KEYS_LOCK = ".ssh/.keys.lock"
# The first line of a ROLES file whose keys were migrated (or that never had old keys).
ROLES_HEADER = "# minidokku roles 2: every key has a line; a key without one is a user"
ACL_FILE = "ACL"
ACL_LOCK = ".acl.lock"
ADMIN, USER = "admin", "user"
ROLES = (ADMIN, USER)


class Scope(enum.Enum):
    """Who may run a command with a key; every command declares its own (minidokku/cli/declare.py).
    On the host, without a key, every command may run."""

    FREE = "free"  # any key
    NEW_APP = "new app"  # any key; a user key up to its quota of apps (apps:create)
    APP = "app"  # a user key on an app granted to it; without an app, admin keys only
    ADMIN = "admin"  # admin keys only


def ssh_key() -> Optional[str]:
    """The name of the ssh key this command came through (its forced command sets NAME)."""
    return os.environ.get("NAME") or None


def role(store: Store, key: str) -> str:
    """The key's role; USER for a key without a line (fail closed)."""
    return _roles(store).get(key, USER)


def set_role(store: Store, key: str, new_role: str) -> None:
    _check_role(new_role)
    store.write_lines(None, ROLES_FILE, [*_role_lines_but(store, key), f"{key} {new_role}"])


def add_key(
    store: Store, keys: AuthorizedKeys, name: str, key_text: str, new_role: str, program: list[str], root: Path
) -> Key:
    """Adds a key and its role as one change. Under the keys' lock, so that two adds at once
    both land; the role line first, so that a crash before the key lands leaves a line nothing
    logs in with (the next add of that name writes it again). Grants an earlier key of that name
    left behind (a crash in remove_key) go: a new key starts with none."""
    _check_role(new_role)
    with _keys_lock(store):
        key, public_key = keys.checked(name, key_text)
        _revoke_everywhere(store, name)
        set_role(store, name, new_role)
        keys.append(key, public_key, program, root)
    return key


def remove_key(store: Store, keys: AuthorizedKeys, name: str) -> None:
    """Removes a key, then its grants and role: a crash between leaves no way in."""
    with _keys_lock(store):
        keys.remove(name)
        _revoke_everywhere(store, name)
        store.write_lines(None, ROLES_FILE, _role_lines_but(store, name))


def migrate(store: Store, keys: AuthorizedKeys) -> Optional[list[str]]:
    """Once per state root: the keys without a role line, added when such a key was an admin,
    get an admin line, and ROLES gets its header (after which nothing is ever promoted again).
    Returns their names; None when ROLES had its header already."""
    with _keys_lock(store):
        lines = store.read_lines(None, ROLES_FILE)
        if _migrated(lines):
            return None
        roles = _roles(store)
        promoted = [key.name for key in keys.list() if key.name not in roles]
        store.write_lines(None, ROLES_FILE, [ROLES_HEADER, *lines, *(f"{name} {ADMIN}" for name in promoted)])
    return promoted


def _keys_lock(store: Store):
    """The keys' lock, in ROOT/.ssh, made 0700 first if missing (sshd's StrictModes, and the
    names and roles of the keys are no one else's)."""
    store.path(None, ".ssh").mkdir(mode=0o700, parents=True, exist_ok=True)
    return file_lock(store.path(None, KEYS_LOCK))


def _role_lines_but(store: Store, key: str) -> list[str]:
    return [line for line in store.read_lines(None, ROLES_FILE) if line.partition(" ")[0] != key]


def _roles(store: Store) -> dict[str, str]:
    found = {}
    for line in store.read_lines(None, ROLES_FILE):
        name, _, given = line.partition(" ")
        if not line.startswith("#"):
            found[name] = given.strip()
    return found


def _unmigrated_hint(store: Store, key: str) -> str:
    """For a key without a role line in a root never migrated: an admin of an older minidokku."""
    if key in _roles(store) or _migrated(store.read_lines(None, ROLES_FILE)):
        return ""
    return " (no role line: if it was added by an older minidokku, run `dokku ssh-keys:migrate` on the host)"


def _migrated(roles_lines: list[str]) -> bool:
    return roles_lines[:1] == [ROLES_HEADER]


def _check_role(given: str) -> None:
    if given not in ROLES:
        raise ValidationError(f"unknown role {given!r}; known: {', '.join(ROLES)}")


def _revoke_everywhere(store: Store, key: str) -> None:
    for app in store.list_apps():
        if key in granted(store, app):
            revoke(store, app, key)


def granted(store: Store, app: str) -> list[str]:
    return store.read_lines(app, ACL_FILE)


def is_tenant_app(store: Store, app: str) -> bool:
    """An app granted to a user key: what it runs, fetches and serves is a tenant's, whoever
    triggers it, so the rules that keep tenants off the host apply to it."""
    return bool(granted(store, app))


def grant(store: Store, app: str, user: str) -> None:
    with _acl_lock(store):
        if user not in granted(store, app):
            store.write_lines(app, ACL_FILE, [*granted(store, app), user])


def revoke(store: Store, app: str, user: str) -> None:
    with _acl_lock(store):
        store.write_lines(app, ACL_FILE, [name for name in granted(store, app) if name != user])


def _acl_lock(store: Store):
    """Grants change one at a time: an acl:add read before an acl:remove wrote would put the
    removed grant back. Taken last, under no other lock of its own (the keys' or app_lifecycle.create's
    may be held)."""
    return file_lock(store.path(None, ACL_LOCK))


def visible_apps(store: Store, key: Optional[str], apps: list[str]) -> list[str]:
    if key is None or role(store, key) == ADMIN:
        return apps
    return [app for app in apps if key in granted(store, app)]


def authorize(store: Store, key: Optional[str], command: str, scope: Scope, app: Optional[str], quota: int) -> None:
    """Raises PermissionDenied unless this key may run command, declared with scope (on app)."""
    if key is None or role(store, key) == ADMIN or scope is Scope.FREE:
        return
    if scope is Scope.NEW_APP:
        check_quota(store, key, quota)  # early; app_lifecycle.create checks again under its lock
        return
    if scope is not Scope.APP or not app:
        raise PermissionDenied(f"{command} is for admin keys only; {key} is a user key{_unmigrated_hint(store, key)}")
    # before any file of it is read: `victim/HEAD` or `mine/../victim` names no app's folder
    names.validate_app_name(app)
    if key not in granted(store, app):  # an app that does not exist is not granted either
        raise AppNotGranted(app)


def may_read_server_files(store: Store, key: Optional[str]) -> bool:
    """Paths in arguments name files on the server: only the host and admin keys may use them."""
    return key is None or role(store, key) == ADMIN


def authorize_push(store: Store, key: Optional[str], app: str, creating: bool, quota: int) -> None:
    """A push (or a fetch) of app's repo: a user key needs a grant, or quota for a new app."""
    if key is None or role(store, key) == ADMIN:
        return
    if creating:
        check_quota(store, key, quota)  # early; app_lifecycle.create checks again under its lock
    elif key not in granted(store, app):
        raise PermissionDenied(f"{key} has no access to {app}; an admin can grant it with acl:add {app} {key}")


def after_create(store: Store, key: Optional[str], app: str) -> None:
    """A user key gets the app it created."""
    if key is not None and role(store, key) == USER:
        grant(store, app, key)


def check_quota(store: Store, key: Optional[str], quota: int) -> None:
    """Raises PermissionDenied when key is a user key that has quota apps already. Counting and
    creating are one step only under app_lifecycle.create's lock: two creates at once cannot both pass."""
    if key is None or role(store, key) == ADMIN:
        return
    owned = sum(key in granted(store, app) for app in store.list_apps())
    if owned >= quota:
        raise PermissionDenied(f"{key} has {owned} apps, its quota; an admin can create more or grant them")
