"""The `network` properties (`network:set`, Dokku's), in APP/properties/network and, for the global
ones, ROOT/properties/network; a value is what the app uses when it has none of its own:

- `attach-post-create`: networks (comma-separated) each container of the app joins once created,
  before it starts: its processes, release tasks and one-off runs;
- `attach-post-deploy`: networks its process containers join once a deploy has moved traffic to
  them (their checks ran without them);
- `initial-network`: the network its containers are created on, instead of the apps' network;
- `bind-all-interfaces`: `true` and web containers publish their ports on every interface of
  the host (a port Docker picks, as Dokku), not only on 127.0.0.1 where nginx reaches them;
- `tld`: the suffix of the name an app's processes are known by on those networks:
  `APP.PROCESS_TYPE.TLD` (without one, `APP.PROCESS_TYPE`).

Network names are the ones users see (`network:create NAME`); ops/network.py gives the engine's
(the platform's NAMESPACE in front) and checks that they exist and who may be put on them. Here
only their form is checked.
"""

import re
from collections.abc import Sequence
from typing import Optional

from minidokku.errors import ValidationError
from minidokku.records import properties
from minidokku.state import Store

FAMILY = "network"
ATTACH_POST_CREATE = "attach-post-create"
ATTACH_POST_DEPLOY = "attach-post-deploy"
BIND_ALL_INTERFACES = "bind-all-interfaces"
INITIAL_NETWORK = "initial-network"
TLD = "tld"
ATTACH_KEYS = (ATTACH_POST_CREATE, ATTACH_POST_DEPLOY)
NETWORK_KEYS = (*ATTACH_KEYS, INITIAL_NETWORK)  # the keys whose values name networks
KEYS = (ATTACH_POST_CREATE, ATTACH_POST_DEPLOY, BIND_ALL_INTERFACES, INITIAL_NETWORK, TLD)
DEFAULTS = {BIND_ALL_INTERFACES: "false"}  # every other key: empty

# A network's name as the engine takes it, short enough never to be read as a network's id.
NAME_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,47}")
# The engine's own networks, which no app is put on by network:set (Dokku refuses host and bridge
# for attach-*; none and host would leave an app without a network nginx reaches).
ENGINE_NETWORKS = ("bridge", "host", "none", "default")
# Names minidokku gives networks of its own (the apps', the services', the postgres link ones):
# network:create never makes one, so no admin's network passes for one of them.
RESERVED_PREFIX = "minidokku-"
RESERVED_PART = "dokku.postgres."
TLD_LABEL = re.compile(r"[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?")
TLD_MAX_LENGTH = 200


def validate_network_name(name: str) -> str:
    if not NAME_PATTERN.fullmatch(name):
        raise ValidationError(
            f"invalid network name {name[:60]!r}: letters, digits, `_`, `.` and `-`, starting with a letter "
            "or digit, at most 48 characters"
        )
    return name


def validate_new_network_name(name: str) -> str:
    """A name network:create may make: not the engine's own nor one of minidokku's."""
    validate_network_name(name)
    if name in ENGINE_NETWORKS or name.startswith(RESERVED_PREFIX) or RESERVED_PART in name:
        raise ValidationError(f"{name} is a name the engine or minidokku gives its own networks")
    return name


def networks_in(value: str) -> list[str]:
    """The network names of a stored attach-* or initial-network value, in order."""
    return [name for name in (part.strip() for part in value.split(",")) if name]


def value_of(key: str, words: Sequence[str]) -> str:
    """The value `network:set APP KEY WORDS...` stores (checked; "" unsets): the attach-* keys
    take networks as several words or comma-separated, as Dokku; the others one word."""
    if key not in KEYS:
        raise ValidationError(f"Invalid property specified, valid properties include: {', '.join(sorted(KEYS))}")
    if key in ATTACH_KEYS:
        names = [name for word in words for name in networks_in(word)]
        for name in names:
            validate_network_name(name)
            if name in ENGINE_NETWORKS:
                raise ValidationError(f"Invalid network name specified for attach: {name}")
        return ",".join(dict.fromkeys(names))
    if len(words) > 1:
        raise ValidationError(f"{key} takes one value")
    value = words[0] if words else ""
    if value and key == INITIAL_NETWORK and validate_network_name(value) in ENGINE_NETWORKS:
        raise ValidationError(f"Invalid network name specified for {INITIAL_NETWORK}: {value}")
    if value and key == BIND_ALL_INTERFACES and value not in ("true", "false"):
        raise ValidationError(f"{BIND_ALL_INTERFACES} is true or false")
    if value and key == TLD:
        validate_tld(value)
    return value


def validate_tld(value: str) -> str:
    """A DNS name's tail (`svc.cluster.local`): lowercase labels of letters, digits and `-`."""
    if len(value) > TLD_MAX_LENGTH or not all(TLD_LABEL.fullmatch(label) for label in value.split(".")):
        raise ValidationError(
            f"invalid tld {value[:60]!r}: lowercase DNS labels (letters, digits, `-`) joined by `.`, "
            f"at most {TLD_MAX_LENGTH} characters"
        )
    return value


def conflict(store: Store, app: Optional[str], key: str, value: str) -> Optional[str]:
    """A network value would give both attach-* keys of app (None: the global values): Dokku's
    refusal names it."""
    if key not in ATTACH_KEYS:
        return None
    other = ATTACH_POST_DEPLOY if key == ATTACH_POST_CREATE else ATTACH_POST_CREATE
    theirs = networks_in(computed(store, app, other))
    return next((name for name in networks_in(value) if name in theirs), None)


def own(store: Store, app: Optional[str], key: str) -> str:
    """The value set for app (None: the global one); "" when none is."""
    return properties.get(store, app, FAMILY, key)


def computed(store: Store, app: Optional[str], key: str) -> str:
    """What app uses (None: an app without values of its own): its value, else the global one,
    else the default."""
    return (own(store, app, key) if app else "") or own(store, None, key) or DEFAULTS.get(key, "")


def put(store: Store, app: Optional[str], key: str, value: str) -> None:
    """Stores a value value_of() gave (app None: the global one); "" unsets it."""
    properties.put(store, app, FAMILY, key, value)


def apps_naming(store: Store, apps: Sequence[str], network: str) -> list[str]:
    """Of apps, those whose own properties name the network, and `--global` when the global ones do."""
    return [
        app if app is not None else "--global"
        for app in (*apps, None)
        if any(network in networks_in(own(store, app, key)) for key in NETWORK_KEYS)
    ]
