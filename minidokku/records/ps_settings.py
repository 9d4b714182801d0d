"""The app's `ps` properties (APP/properties/ps): its restart policy, and whether it should run
at all (`ps:stop` sets RUNNING=false, so `ps:restore` leaves the app stopped)."""

from typing import Optional

from minidokku.errors import ValidationError
from minidokku.records import docker_options, properties
from minidokku.state import Store

FAMILY = "ps"
KEYS = ("restart-policy",)


def restart_policy(store: Store, app: str) -> Optional[dict]:
    """The restart policy as the Engine wants it; None for the default."""
    value = properties.get(store, app, FAMILY, "restart-policy")
    return docker_options.parse_restart_policy(value) if value else None


def set_property(store: Store, app: str, key: str, value: str) -> None:
    """`ps:set APP restart-policy VALUE`; an empty value restores the default."""
    if key not in KEYS:
        raise ValidationError(f"unknown ps property {key!r}; known: {', '.join(KEYS)}")
    if value:
        docker_options.parse_restart_policy(value)
    properties.put(store, app, FAMILY, key, value)


def is_stopped(store: Store, app: str) -> bool:
    return properties.get(store, app, FAMILY, "running") == "false"


def mark_stopped(store: Store, app: str) -> None:
    properties.put(store, app, FAMILY, "running", "false")


def mark_running(store: Store, app: str) -> None:
    if is_stopped(store, app):
        properties.put(store, app, FAMILY, "running", None)
