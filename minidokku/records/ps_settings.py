"""The `ps` properties (APP/properties/ps, the global ones in ROOT/properties/ps): Dokku's
restart-policy, restore, stop-timeout-seconds, procfile-path (where the pushed tree's
Procfile is, build/tree.py), skip-deploy (true: a new build is built but not deployed),
start-cmd and dockerfile-start-cmd (per app only: what every process container of the app runs
instead of its Procfile command, container_command), and whether the app should run at all
(`ps:stop` sets RUNNING=false, so `ps:restore` leaves the app stopped).

An app's value wins over the global one, which wins over the default. Each takes effect on the
next deploy (or ps:restart), procfile-path and skip-deploy on the next build; stop-timeout-seconds also on the
next ps:stop and run:stop.
"""

import shlex
from typing import Optional

from minidokku.build import tree
from minidokku.build.builders import HEROKUISH, command_argv
from minidokku.errors import ValidationError
from minidokku.records import docker_options, names, properties
from minidokku.records.releases import Release
from minidokku.runtime.scheduler import STOP_GRACE_SECONDS
from minidokku.state import Store

FAMILY = "ps"
RESTART_POLICY, RESTORE, STOP_TIMEOUT = "restart-policy", "restore", "stop-timeout-seconds"
PROCFILE_PATH, SKIP_DEPLOY = "procfile-path", "skip-deploy"
START_CMD, DOCKERFILE_START_CMD = "start-cmd", "dockerfile-start-cmd"
KEYS = (DOCKERFILE_START_CMD, PROCFILE_PATH, RESTART_POLICY, RESTORE, SKIP_DEPLOY, START_CMD, STOP_TIMEOUT)
GLOBAL_KEYS = (PROCFILE_PATH, RESTART_POLICY, SKIP_DEPLOY, STOP_TIMEOUT)  # as Dokku: restore is per app only
DEFAULTS = {
    DOCKERFILE_START_CMD: "",
    PROCFILE_PATH: tree.PROCFILE,
    RESTART_POLICY: "on-failure:10",
    RESTORE: "true",
    SKIP_DEPLOY: "false",
    START_CMD: "",
    STOP_TIMEOUT: str(STOP_GRACE_SECONDS),
}
MAX_STOP_TIMEOUT = 600  # a stop (ps:stop, run:stop, a retirement) waits at most ten minutes
MAX_START_CMD = 4096  # characters of a start-cmd or dockerfile-start-cmd


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


def container_command(store: Store, app: str, release: Release, process_type: str) -> Optional[list[str]]:
    """The Cmd a process container of the release runs (None: the image's own). As Dokku's
    docker-local scheduler: a buildpack-built app's start-cmd replaces the Procfile command of
    every process type (run as a Procfile command is, by bash behind /exec); any other app's
    dockerfile-start-cmd, split into words as a shell would (no expansion), replaces the
    Procfile command or the image's CMD of every process type, behind the image's ENTRYPOINT."""
    if release.builder == HEROKUISH:
        start_cmd = get(store, app, START_CMD)
        return command_argv(HEROKUISH, start_cmd) if start_cmd else release.command(process_type)
    dockerfile_start_cmd = get(store, app, DOCKERFILE_START_CMD)
    return shlex.split(dockerfile_start_cmd) if dockerfile_start_cmd else release.command(process_type)


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
    elif key in (START_CMD, DOCKERFILE_START_CMD):
        _validate_command(key, value)


def _validate_command(key: str, value: str) -> None:
    if len(value) > MAX_START_CMD:
        raise ValidationError(f"{key} must be at most {MAX_START_CMD} characters")
    if any(char in value for char in "\0\r\n"):
        raise ValidationError(f"{key} must be one line, without NUL")
    if not value.strip():
        raise ValidationError(f"{key} must have a word; an empty value clears it")
    if key == DOCKERFILE_START_CMD:
        try:
            shlex.split(value)
        except ValueError as error:  # an unclosed quote, a trailing backslash
            raise ValidationError(f"{key} cannot be split into words: {error}") from None


def is_stopped(store: Store, app: str) -> bool:
    return properties.get(store, app, FAMILY, "running") == "false"


def mark_stopped(store: Store, app: str) -> None:
    properties.put(store, app, FAMILY, "running", "false")


def mark_running(store: Store, app: str) -> None:
    if is_stopped(store, app):
        properties.put(store, app, FAMILY, "running", None)
