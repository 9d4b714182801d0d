"""Domains: the global ones (ROOT/VHOST) and each app's own (APP/VHOST)."""

import re

from minidokku.errors import ValidationError
from minidokku.state import Store

FILE = "VHOST"
LABEL = r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"
DOMAIN_PATTERN = re.compile(rf"^(\*\.)?{LABEL}(\.{LABEL})*$")


def validate(domain: str) -> str:
    domain = domain.strip().lower()
    if len(domain) > 253 or not DOMAIN_PATTERN.match(domain):
        raise ValidationError(f"invalid domain {domain!r}: use letters, digits, dashes and dots (RFC 1123)")
    return domain


def global_domains(store: Store) -> list[str]:
    return store.read_lines(None, FILE)


def set_global(store: Store, domains: list[str]) -> None:
    store.write_lines(None, FILE, _unique(validate(d) for d in domains))


def add_global(store: Store, domains: list[str]) -> None:
    set_global(store, global_domains(store) + list(domains))


def app_domains(store: Store, app: str) -> list[str]:
    """The app's own domains; when it has none, APP.<each global domain>."""
    own = store.read_lines(app, FILE)
    if own:
        return own
    return [f"{app}.{domain}" for domain in global_domains(store)]


def set_app(store: Store, app: str, domains: list[str]) -> None:
    store.write_lines(app, FILE, _unique(validate(d) for d in domains))


def add_app(store: Store, app: str, domains: list[str]) -> None:
    set_app(store, app, store.read_lines(app, FILE) + list(domains))


def remove_app(store: Store, app: str, domains: list[str]) -> None:
    unwanted = {validate(d) for d in domains}
    set_app(store, app, [d for d in store.read_lines(app, FILE) if d not in unwanted])


def _unique(domains) -> list[str]:
    return list(dict.fromkeys(domains))
