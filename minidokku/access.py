"""Who may do what over ssh. A key is an admin (everything, as Dokku's keys are) or a user, who
may push to and run app-scoped commands on the apps granted to it (`acl:add APP USER`) and
create apps up to a quota; the apps it creates are granted to it. Nothing global is open to a
user: no other app, no docker-options, buildpack URLs, images or archives from anywhere, keys,
or ACLs. Commands run on the host itself (root or the dokku user) carry no key and are not
restricted.

Roles live in ROOT/.ssh/ROLES (`NAME ROLE` lines; a key without one is an admin), grants in
APP/ACL (one user a line).
"""

import os
from typing import Optional

from minidokku.errors import PermissionDenied, ValidationError
from minidokku.state import Store

ROLES_FILE = ".ssh/ROLES"
ACL_FILE = "ACL"
ADMIN, USER = "admin", "user"
ROLES = (ADMIN, USER)

# What a user key may run on an app granted to it.
APP_COMMANDS = frozenset(
    {
        "apps:destroy", "apps:lock", "apps:locked", "apps:report", "apps:unlock",
        "builder:report", "buildpacks:list", "buildpacks:report",
        "certs:add", "certs:generate", "certs:remove", "certs:report", "certs:update",
        "checks:disable", "checks:enable", "checks:report", "checks:run", "checks:set", "checks:skip",
        "config:export", "config:get", "config:set", "config:show", "config:unset",
        "domains:add", "domains:clear", "domains:disable", "domains:enable", "domains:remove", "domains:report",
        "domains:set",
        "enter", "git-hook", "logs", "nginx:report", "ports:list", "ports:report", "proxy:report",
        "ps:rebuild", "ps:report", "ps:restart", "ps:scale", "ps:set", "ps:start", "ps:stop",
        "releases", "releases:rollback", "run",
    }
)  # fmt: skip
# What a user key may run without naming an app.
FREE_COMMANDS = frozenset({"apps:list", "help", "version"})


def ssh_key() -> Optional[str]:
    """The name of the ssh key this command came through (its forced command sets NAME)."""
    return os.environ.get("NAME") or None


def role(store: Store, key: str) -> str:
    for line in store.read_lines(None, ROLES_FILE):
        name, _, given = line.partition(" ")
        if name == key:
            return given.strip()
    return ADMIN


def set_role(store: Store, key: str, new_role: str) -> None:
    if new_role not in ROLES:
        raise ValidationError(f"unknown role {new_role!r}; known: {', '.join(ROLES)}")
    lines = [line for line in store.read_lines(None, ROLES_FILE) if line.partition(" ")[0] != key]
    if new_role != ADMIN:
        lines.append(f"{key} {new_role}")
    store.write_lines(None, ROLES_FILE, lines)


def forget(store: Store, key: str) -> None:
    """A removed key loses its role and its grants."""
    set_role(store, key, ADMIN)
    for app in store.list_apps():
        if key in granted(store, app):
            revoke(store, app, key)


def granted(store: Store, app: str) -> list[str]:
    return store.read_lines(app, ACL_FILE)


def grant(store: Store, app: str, user: str) -> None:
    if user not in granted(store, app):
        store.write_lines(app, ACL_FILE, [*granted(store, app), user])


def revoke(store: Store, app: str, user: str) -> None:
    store.write_lines(app, ACL_FILE, [name for name in granted(store, app) if name != user])


def visible_apps(store: Store, key: Optional[str], apps: list[str]) -> list[str]:
    if key is None or role(store, key) == ADMIN:
        return apps
    return [app for app in apps if key in granted(store, app)]


def authorize(store: Store, key: Optional[str], command: str, app: Optional[str], quota: int) -> None:
    """Raises PermissionDenied unless this key may run command (on app)."""
    if key is None or role(store, key) == ADMIN:
        return
    if command in FREE_COMMANDS:
        return
    if command == "apps:create":
        _within_quota(store, key, quota)
        return
    if command not in APP_COMMANDS or not app:
        raise PermissionDenied(f"{command} is for admin keys only; {key} is a user key")
    if key not in granted(store, app):  # an app that does not exist is not granted either
        raise PermissionDenied(f"{key} has no access to {app}; an admin can grant it with acl:add {app} {key}")


def may_read_server_files(store: Store, key: Optional[str]) -> bool:
    """Paths in arguments name files on the server: only the host and admin keys may use them."""
    return key is None or role(store, key) == ADMIN


def authorize_push(store: Store, key: Optional[str], app: str, creating: bool, quota: int) -> None:
    """A push (or a fetch) of app's repo: a user key needs a grant, or quota for a new app."""
    if key is None or role(store, key) == ADMIN:
        return
    if creating:
        _within_quota(store, key, quota)
    elif key not in granted(store, app):
        raise PermissionDenied(f"{key} has no access to {app}; an admin can grant it with acl:add {app} {key}")


def after_create(store: Store, key: Optional[str], app: str) -> None:
    """A user key gets the app it created."""
    if key is not None and role(store, key) == USER:
        grant(store, app, key)


def _within_quota(store: Store, key: str, quota: int) -> None:
    owned = sum(key in granted(store, app) for app in store.list_apps())
    if owned >= quota:
        raise PermissionDenied(f"{key} has {owned} apps, its quota; an admin can create more or grant them")
