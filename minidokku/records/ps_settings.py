"""The `ps` properties (APP/properties/ps, the global ones in ROOT/properties/ps): Dokku's
restart-policy, restore, stop-timeout-seconds, procfile-path (where the pushed tree's
Procfile is, build/tree.py) and skip-deploy (true: a new build is built but not deployed), and
whether the app should run at all
(`ps:stop` sets RUNNING=false, so `ps:restore` leaves the app stopped).

An app's value wins over the global one, which wins over the default. Each takes effect on the
next deploy (or ps:restart), procfile-path and skip-deploy on the next build; stop-timeout-seconds also on the
next ps:stop and run:stop.
"""

from typing import Optional

from minidokku.build import tree
from minidokku.errors import ValidationError
from minidokku.records import docker_options, names, properties
from minidokku.runtime.scheduler import STOP_GRACE_SECONDS
from minidokku.state import Store

FAMILY = "ps"
RESTART_POLICY, RESTORE, STOP_TIMEOUT = "restart-policy", "restore", "stop-timeout-seconds"
PROCFILE_PATH, SKIP_DEPLOY = "procfile-path", "skip-deploy"
KEYS = (PROCFILE_PATH, RESTART_POLICY, RESTORE, SKIP_DEPLOY, STOP_TIMEOUT)
GLOBAL_KEYS = (PROCFILE_PATH, RESTART_POLICY, SKIP_DEPLOY, STOP_TIMEOUT)  # as Dokku: restore is per app only
DEFAULTS = {
    PROCFILE_PATH: tree.PROCFILE,
    RESTART_POLICY: "on-failure:10",
    RESTORE: "true",
    SKIP_DEPLOY: "false",
    STOP_TIMEOUT: str(STOP_GRACE_SECONDS),
}
MAX_STOP_TIMEOUT = 600  # a stop (ps:stop, run:stop, a retirement) waits at most ten minutes


def get(store: Store, app: Optional[str], key: str) -> str:
    """The value set for the app (app None: the global one); "" when none is."""
    return properties.get(store, app, FAMILY, key)


def computed(store: Store, app: Optional[str], key: str) -> str:
    """What applies to the app (app None: to an app without its own value): its value, else the
    global one, else the default."""
    own = get(store, app, key) if app is not None else ""
    return own or (get(store, None, key) if key in GLOBAL_KEYS else "") or DEFAULTS[key]


def procfile_path(store: Store, app: str) -> str:
    """Where the app's Procfile is in the pushed tree (a path tree_path accepted when set)."""
    return computed(store, app, PROCFILE_PATH)


def skips_deploy(store: Store, app: str) -> bool:
    """Whether a new build of the app (a push, ps:rebuild, git:from-archive|from-image) stops once
    built, leaving what runs as it is."""
    return computed(store, app, SKIP_DEPLOY) == "true"


def restart_policy(store: Store, app: str) -> Optional[dict]:
    """The restart policy as the Engine wants it; None for the default."""
    value = get(store, app, RESTART_POLICY) or get(store, None, RESTART_POLICY)
    return docker_options.parse_restart_policy(value) if value else None


def stop_timeout(store: Store, app: str) -> int:
    """Seconds a stopping container of the app gets between SIGTERM and SIGKILL."""
    return int(computed(store, app, STOP_TIMEOUT))


def restores(store: Store, app: str) -> bool:
    """Whether ps:restore brings the app back: not after ps:stop, nor with `restore false`."""
    return not is_stopped(store, app) and computed(store, app, RESTORE) == "true"


def set_property(store: Store, app: Optional[str], key: str, value: str) -> None:
    """`ps:set APP|--global KEY [VALUE]` (app None: --global); an empty value restores the default."""
    known = KEYS if app is not None else GLOBAL_KEYS
    if key not in known:
        scope = "" if app is not None else "global "
        raise ValidationError(f"unknown {scope}ps property {key!r}; known: {', '.join(known)}")
    if value:
        _validate(key, value)
    properties.put(store, app, FAMILY, key, value)


def _validate(key: str, value: str) -> None:
    if key == PROCFILE_PATH:
        tree.tree_path(value, PROCFILE_PATH)
    elif key == RESTART_POLICY:
        docker_options.parse_restart_policy(value)
    elif key in (RESTORE, SKIP_DEPLOY) and value not in ("true", "false"):
        raise ValidationError(f"{key} must be true or false, not {value[:20]!r}")
    elif key == STOP_TIMEOUT and (not names.is_whole_number(value) or int(value) > MAX_STOP_TIMEOUT):
        raise ValidationError(f"stop-timeout-seconds must be a whole number from 0 to {MAX_STOP_TIMEOUT}")


def is_stopped(store: Store, app: str) -> bool:
    return properties.get(store, app, FAMILY, "running") == "false"


def mark_stopped(store: Store, app: str) -> None:
    properties.put(store, app, FAMILY, "running", "false")


def mark_running(store: Store, app: str) -> None:
    if is_stopped(store, app):
        properties.put(store, app, FAMILY, "running", None)
