"""Per-app settings of one command family (`checks:set`, `ps:set`, as Dokku's properties),
kept in APP/properties/FAMILY (the global ones, app None: in the root) in the env-file format
(`wait-to-retire` is stored as WAIT_TO_RETIRE)."""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Optional

from minidokku.records import envfile
from minidokku.state import Store


def _name(family: str) -> str:
    return f"properties/{family}"


def _key(key: str) -> str:
    return key.replace("-", "_").upper()


def read_all(store: Store, app: Optional[str], family: str) -> dict[str, str]:
    return envfile.parse(store.read(app, _name(family)) or "")


def get(store: Store, app: Optional[str], family: str, key: str, default: str = "") -> str:
    return read_all(store, app, family).get(_key(key), default)


def is_set(store: Store, app: Optional[str], family: str, key: str) -> bool:
    """Whether key has a value of its own, an empty one included (see put's keep_empty)."""
    return _key(key) in read_all(store, app, family)


def put(
    store: Store, app: Optional[str], family: str, key: str, value: Optional[str], keep_empty: bool = False
) -> None:
    """Sets key to value; None or an empty value clears it (back to the default), but for
    keep_empty, where an empty value is a setting of its own (git's rev-env-var)."""
    values = read_all(store, app, family)
    if value or (keep_empty and value is not None):
        values[_key(key)] = value
    else:
        values.pop(_key(key), None)
    store.write(app, _name(family), envfile.render(values))


@dataclass(frozen=True)
class Setting:
    """A property Dokku has per app and `--global` (for every app without its own value): its
    family (`builder-dockerfile`), key, default, and the check of a value (which returns it, or
    raises ValidationError)."""

    family: str
    key: str
    default: str
    check: Callable[[str], str]


def own_value(store: Store, app: Optional[str], setting: Setting) -> str:
    """The value set for app (None: the global one), "" where none is."""
    return get(store, app, setting.family, setting.key)


def computed_value(store: Store, app: Optional[str], setting: Setting) -> str:
    """What app uses: its own value, else the global one, else the default."""
    return (own_value(store, app, setting) if app else "") or own_value(store, None, setting) or setting.default


def set_value(store: Store, app: Optional[str], setting: Setting, value: str) -> None:
    """Sets the property of app (None: the global one); an empty value unsets it."""
    put(store, app, setting.family, setting.key, setting.check(value) if value else "")
