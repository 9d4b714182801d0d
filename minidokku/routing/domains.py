"""Domains: the global ones (ROOT/VHOST) and each app's own (APP/VHOST), as Dokku's domains plugin.

An app answers at its own domains or, when it has none, at APP.<each global domain> (Dokku's
default vhosts; a global IP address gives no default name). `domains:disable` keeps the list
but takes the names away, so the app is served on a port of its own until `domains:enable`.
One domain names one app: what an app has or would have by default is refused to any other.
"""

import contextlib
import ipaddress
from collections.abc import Iterable, Iterator
from typing import Optional

from minidokku.errors import ValidationError
from minidokku.records import properties
from minidokku.state import Store, file_lock

FILE = "VHOST"
FAMILY = "domains"
DISABLED_KEY = "no-vhost"  # stored as NO_VHOST=1, Dokku's name for it
LOCK = ".domains.lock"  # serialises domain changes of every app, so two apps never take one name
WILDCARD = "*."
MAX_LENGTH = 253
MAX_LABEL = 63
LABEL_CHARACTERS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789-")


# -- validation ----------------------------------------------------------------------------
def validate(domain: str) -> str:
    """The domain trimmed and lowercased: an RFC 1123 host name, one preceded by `*.` (a wildcard
    as nginx's server_name takes it), or an IPv4 address (nginx matches it against Host)."""
    name = domain.strip().lower()
    host = name.removeprefix(WILDCARD)
    problem = _hostname_problem(host) if len(name) <= MAX_LENGTH else f"longer than {MAX_LENGTH} characters"
    if problem is None and host != name and _is_ip(host):
        problem = "a wildcard must precede a host name, not an IP address"
    if problem:
        raise ValidationError(
            f"invalid domain {name!r}: {problem}; use letters, digits, dashes and dots (RFC 1123), "
            "optionally after '*.'"
        )
    return name


def validate_global(domain: str) -> str:
    """A global domain: as validate(), but no wildcard (apps would answer at APP.*.example.com)."""
    name = validate(domain)
    if name.startswith(WILDCARD):
        raise ValidationError(f"invalid global domain {name!r}: apps answer at APP.DOMAIN, so no wildcard")
    return name


def normalise(domains: Iterable[str], is_global: bool = False) -> list[str]:
    """Every domain validated, duplicates dropped, in the order given."""
    check = validate_global if is_global else validate
    return list(dict.fromkeys(check(domain) for domain in domains))


def _hostname_problem(host: str) -> Optional[str]:
    if _is_ip(host):
        return None
    labels = host.split(".")
    for label in labels:
        if not label or len(label) > MAX_LABEL:
            return f"each dot-separated label has 1 to {MAX_LABEL} characters"
        if not set(label) <= LABEL_CHARACTERS:
            return "only letters, digits and dashes between dots"
        if label.startswith("-") or label.endswith("-"):
            return "a label cannot start or end with a dash"
    if labels[-1].isdigit():
        return "the last label cannot be all digits unless the whole is an IPv4 address"
    return None


def _is_ip(host: str) -> bool:
    try:
        ipaddress.IPv4Address(host)
    except ValueError:
        return False
    return True


# -- reading -------------------------------------------------------------------------------
def global_domains(store: Store) -> list[str]:
    return store.read_lines(None, FILE)


def own_domains(store: Store, app: str) -> list[str]:
    """The domains given to the app itself (domains:add/set), whether or not it is enabled."""
    return store.read_lines(app, FILE)


def default_domains(store: Store, app: str, global_names: Optional[list[str]] = None) -> list[str]:
    """APP.<each global domain> (Dokku's default vhosts), skipping global IP addresses."""
    names = global_domains(store) if global_names is None else global_names
    return [f"{app}.{name}" for name in names if not _is_ip(name) and not name.startswith(WILDCARD)]


def configured_domains(store: Store, app: str) -> list[str]:
    """The names the app answers at when enabled: its own, or when it has none, the defaults."""
    return own_domains(store, app) or default_domains(store, app)


def app_domains(store: Store, app: str) -> list[str]:
    """The names nginx serves the app at; none (a port of its own) when disabled or when it
    has neither own domains nor a global domain."""
    return configured_domains(store, app) if is_enabled(store, app) else []


def is_enabled(store: Store, app: str) -> bool:
    return properties.get(store, app, FAMILY, DISABLED_KEY) != "1"


# -- one domain, one app -------------------------------------------------------------------
def check_free(store: Store, app: str, domains: Iterable[str]) -> None:
    """Refuses a domain another app has (its own, or its default), enabled or not."""
    owners: dict[str, str] = {}
    for other in store.list_apps():
        if other != app:
            owners.update(dict.fromkeys(configured_domains(store, other), other))
    for domain in domains:
        if domain in owners:
            raise ValidationError(f"{domain} is already a domain of app {owners[domain]}")


def check_claimable(store: Store, app: str, domains: Iterable[str]) -> None:
    """What a user key may claim for its app: names nobody else owns or covers. Not another
    app's name, nor one under it, nor a wildcard over it; not a global domain, nor a wildcard
    over one, nor a name under one but the app's own default name (APP.GLOBAL) and names under
    that, since every other name there is another app's, now or once it is created."""
    others: dict[str, str] = {}
    for other in store.list_apps():
        if other != app:
            others.update(dict.fromkeys(configured_domains(store, other), other))
    global_names = global_domains(store)
    for domain in domains:
        problem = _claim_problem(domain, app, global_names, others)
        if problem:
            raise ValidationError(f"{domain} {problem}; a user key claims only names no other app has or covers")


def _claim_problem(domain: str, app: str, global_names: list[str], others: dict[str, str]) -> Optional[str]:
    host, wildcard = domain.removeprefix(WILDCARD), domain.startswith(WILDCARD)
    for name in global_names:
        if host == name or wildcard and _under(name, host):
            return f"{'covers' if wildcard else 'is'} the global domain {name}"
    for taken, owner in others.items():
        taken_host = taken.removeprefix(WILDCARD)
        if domain == taken:
            return f"is a domain of app {owner}"
        if host == taken_host:
            return f"{'covers the names under' if wildcard else 'overlaps'} app {owner}'s domain {taken}"
        if _under(host, taken_host):
            return f"is under app {owner}'s domain {taken}"
        if wildcard and _under(taken_host, host):
            return f"covers app {owner}'s domain {taken}"
    for name in global_names:
        default = f"{app}.{name}"
        if _under(host, name) and host != default and not _under(host, default):
            return f"is under the global domain {name}, where {app} has {default} and names under it"
    return None


def _under(name: str, parent: str) -> bool:
    return name.endswith("." + parent)


def _check_globals_free(store: Store, global_names: list[str]) -> None:
    """Refuses global domains that would give an app without domains of its own a default name
    another app has as its own. (Defaults never collide: each starts with a distinct app name.)"""
    apps = store.list_apps()
    owners = {domain: app for app in apps for domain in own_domains(store, app)}
    for app in apps:
        if own_domains(store, app):
            continue
        for domain in default_domains(store, app, global_names):
            if domain in owners:
                raise ValidationError(
                    f"{domain.removeprefix(app + '.')} as a global domain would give app {app} "
                    f"the domain {domain}, which is already a domain of app {owners[domain]}"
                )


def _locked(store: Store):
    return file_lock(store.root / LOCK)


@contextlib.contextmanager
def new_app_names(store: Store, app: str, by_user_key: bool = False) -> Iterator[None]:
    """Holds the domains lock while a new app is made, once its default names (APP.GLOBAL) are
    checked free: an app named after another app's own domain would take its traffic (nginx
    serves the first of two server blocks with one name). A user key's new app is held to what
    a user key may claim (check_claimable)."""
    with _locked(store):
        (check_claimable if by_user_key else check_free)(store, app, default_domains(store, app))
        yield


# -- an app's own domains ------------------------------------------------------------------
def set_app(store: Store, app: str, domains: list[str], by_user_key: bool = False) -> None:
    """Replaces the app's own domains (an empty list: back to the defaults). A user key's new
    names must be claimable (check_claimable); admins may give any name no other app has."""
    wanted = normalise(domains)
    with _locked(store):
        if by_user_key:
            check_claimable(store, app, [d for d in wanted if d not in own_domains(store, app)])
        _write_app(store, app, wanted)


def add_app(store: Store, app: str, domains: list[str], by_user_key: bool = False) -> None:
    wanted = normalise(domains)
    with _locked(store):
        if by_user_key:
            check_claimable(store, app, [d for d in wanted if d not in own_domains(store, app)])
        _write_app(store, app, list(dict.fromkeys(own_domains(store, app) + wanted)))


def remove_app(store: Store, app: str, domains: list[str]) -> None:
    unwanted = set(normalise(domains))
    with _locked(store):
        _write_app(store, app, [d for d in own_domains(store, app) if d not in unwanted])


def clear_app(store: Store, app: str) -> None:
    """Drops the app's own domains: it answers at the defaults again."""
    set_app(store, app, [])


def _write_app(store: Store, app: str, domains: list[str]) -> None:
    check_free(store, app, domains or default_domains(store, app))
    if domains:
        store.write_lines(app, FILE, domains)
    else:
        store.remove(app, FILE)


def enable(store: Store, app: str) -> None:
    properties.put(store, app, FAMILY, DISABLED_KEY, None)


def disable(store: Store, app: str) -> None:
    properties.put(store, app, FAMILY, DISABLED_KEY, "1")


# -- global domains ------------------------------------------------------------------------
def set_global(store: Store, domains: list[str]) -> None:
    wanted = normalise(domains, is_global=True)
    with _locked(store):
        _write_global(store, wanted)


def add_global(store: Store, domains: list[str]) -> None:
    wanted = normalise(domains, is_global=True)
    with _locked(store):
        _write_global(store, list(dict.fromkeys(global_domains(store) + wanted)))


def remove_global(store: Store, domains: list[str]) -> None:
    unwanted = set(normalise(domains))
    with _locked(store):
        _write_global(store, [d for d in global_domains(store) if d not in unwanted])


def clear_global(store: Store) -> None:
    set_global(store, [])


def _write_global(store: Store, domains: list[str]) -> None:
    _check_globals_free(store, domains)
    store.write_lines(None, FILE, domains)
