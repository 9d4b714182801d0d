"""The `logs` properties (APP/properties/logs, the global ones in ROOT/properties/logs): Dokku's
max-size, the size at which an app's process containers' json-file log rotates (3 files are
kept), taking effect on the next deploy. Dokku's vector-* properties are not kept (no vector).

A user key's app keeps its logs bounded, whoever set its value (DESIGN.md's trust model: a
tenant's container cannot fill the host's disk): it gets at most TENANT_MAX_SIZE, the default
(3 files of 10m: a flooding process keeps at most 30 MB of logs), and a user key's app cannot be
given more, only less.
"""

import re
from typing import Optional

from minidokku.access import rules
from minidokku.errors import ValidationError
from minidokku.records import properties
from minidokku.runtime.scheduler import UNLIMITED_LOGS
from minidokku.state import Store

FAMILY = "logs"
MAX_SIZE = "max-size"
KEYS = (MAX_SIZE,)
DEFAULT_MAX_SIZE = "10m"  # Dokku's
SIZE = re.compile(r"([1-9][0-9]{0,8})([kmg])")  # Dokku's: a whole number and a unit, or `unlimited`
UNIT_BYTES = {"k": 1024, "m": 1024**2, "g": 1024**3}
TENANT_MAX_SIZE = DEFAULT_MAX_SIZE


def get(store: Store, app: Optional[str]) -> str:
    """The max-size set for the app (app None: the global one); "" when none is."""
    return properties.get(store, app, FAMILY, MAX_SIZE)


def computed(store: Store, app: Optional[str]) -> str:
    """What the app's containers get (app None: an app without its own value and granted to no
    user key): its value, else the global one, else the default; for a user key's app never more
    than TENANT_MAX_SIZE."""
    value = (get(store, app) if app is not None else "") or get(store, None) or DEFAULT_MAX_SIZE
    if app is not None and rules.is_tenant_app(store, app) and not _within_tenant_bound(value):
        return TENANT_MAX_SIZE
    return value


def set_property(store: Store, app: Optional[str], key: str, value: str) -> None:
    """`logs:set APP|--global max-size [SIZE]` (app None: --global); no value: the default."""
    if key not in KEYS:
        raise ValidationError(f"unknown logs property {key!r}; known: {', '.join(KEYS)}")
    if value:
        validate_size(value)
        if app is not None and rules.is_tenant_app(store, app) and not _within_tenant_bound(value):
            raise ValidationError(f"{app} is a user key's app: its logs keep a max-size of at most {TENANT_MAX_SIZE}")
    properties.put(store, app, FAMILY, key, value)


def validate_size(value: str) -> str:
    if value != UNLIMITED_LOGS and not SIZE.fullmatch(value):
        raise ValidationError(
            "Invalid max-size value, must be a number followed by a unit of measure [k, m, g], or unlimited"
        )
    return value


def _within_tenant_bound(value: str) -> bool:
    return value != UNLIMITED_LOGS and _bytes(value) <= _bytes(TENANT_MAX_SIZE)


def _bytes(value: str) -> int:
    match = SIZE.fullmatch(value)
    if match is None:
        raise ValidationError(f"invalid max-size {value[:20]!r}")
    return int(match.group(1)) * UNIT_BYTES[match.group(2)]
