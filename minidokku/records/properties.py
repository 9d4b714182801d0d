"""Per-app settings of one command family (`checks:set`, `ps:set`, as Dokku's properties),
kept in APP/properties/FAMILY (the global ones, app None: in the root) in the env-file format
(`wait-to-retire` is stored as WAIT_TO_RETIRE)."""

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
