"""What minidokku keeps of each PostgreSQL service: flat files in ROOT/.services/postgres/NAME
(PASSWORD at 0600, IMAGE, LINKS with an `APP VARIABLE` line per linked app), and the names
derived from the service's name: its container, volume, hostname and DSN."""

import re
from dataclasses import dataclass
from typing import Optional

from minidokku.context import Context
from minidokku.errors import NotFound, ValidationError
from minidokku.state import Store

SERVICES_DIR = ".services/postgres"
NAME_PATTERN = re.compile(r"^[a-z0-9][a-z0-9-]{0,47}$")
NETWORK = "minidokku-services"
PORT = 5432
USER = "postgres"
FIRST_LINK_VARIABLE = "DATABASE_URL"
# dokku-postgres names further links DOKKU_POSTGRES_<COLOR>_URL, colors from this list
COLORS = ("AQUA", "BLACK", "BLUE", "FUCHSIA", "GRAY", "GREEN", "LIME", "MAROON",
          "NAVY", "OLIVE", "PURPLE", "RED", "SILVER", "TEAL", "WHITE", "YELLOW")  # fmt: skip


@dataclass(frozen=True)
class Link:
    app: str
    variable: str


def validate_name(name: str) -> str:
    if not NAME_PATTERN.match(name):
        raise ValidationError(
            f"invalid service name {name[:80]!r}: use lowercase letters, digits and dashes, at most 48 characters"
        )
    return name


def folder(name: str) -> str:
    return f"{SERVICES_DIR}/{validate_name(name)}"


def exists(store: Store, name: str) -> bool:
    return store.path(None, f"{folder(name)}/PASSWORD").is_file()


def require(store: Store, name: str) -> str:
    if not exists(store, name):
        raise NotFound(f"Postgres service {name} does not exist")
    return name


def names(store: Store) -> list[str]:
    services = store.root / SERVICES_DIR
    if not services.is_dir():
        return []
    return sorted(path.name for path in services.iterdir() if (path / "PASSWORD").is_file())


def password(store: Store, name: str) -> str:
    return (store.read(None, f"{folder(name)}/PASSWORD") or "").strip()


def image(store: Store, name: str) -> str:
    return (store.read(None, f"{folder(name)}/IMAGE") or "").strip()


def links(store: Store, name: str) -> list[Link]:
    return [Link(*line.split(" ", 1)) for line in store.read_lines(None, f"{folder(name)}/LINKS")]


def write_links(store: Store, name: str, found: list[Link]) -> None:
    store.write_lines(None, f"{folder(name)}/LINKS", [f"{link.app} {link.variable}" for link in found])


def link_of(store: Store, name: str, app: str) -> Optional[Link]:
    return next((link for link in links(store, name) if link.app == app), None)


def services_linked_to(store: Store, app: str) -> list[str]:
    return [name for name in names(store) if link_of(store, name, app)]


def forget_app(store: Store, app: str) -> list[str]:
    """Removes the app's links from every service; returns the services it was linked to."""
    linked = services_linked_to(store, app)
    for name in linked:
        write_links(store, name, [link for link in links(store, name) if link.app != app])
    return linked


def next_variable(config: dict[str, str]) -> str:
    """DATABASE_URL for an app's first database; a DOKKU_POSTGRES_<COLOR>_URL after that."""
    if FIRST_LINK_VARIABLE not in config:
        return FIRST_LINK_VARIABLE
    for color in COLORS:
        variable = f"DOKKU_POSTGRES_{color}_URL"
        if variable not in config:
            return variable
    raise ValidationError(f"the app has {len(COLORS) + 1} database links already")


def database(name: str) -> str:
    return name.replace("-", "_")


def hostname(name: str) -> str:
    """The name linked apps reach the service by, on the services' network."""
    return f"dokku-postgres-{name}"


def dsn(store: Store, name: str, shown_password: Optional[str] = None) -> str:
    secret = password(store, name) if shown_password is None else shown_password
    return f"postgres://{USER}:{secret}@{hostname(name)}:{PORT}/{database(name)}"


def container_name(ctx: Context, name: str) -> str:
    return f"{ctx.settings.namespace}dokku.postgres.{name}"


def volume_name(ctx: Context, name: str) -> str:
    return f"{ctx.settings.namespace}dokku.postgres.{name}"


def network_name(ctx: Context) -> str:
    """The services' own private network (no published port); apps never join it."""
    return f"{ctx.settings.namespace}{NETWORK}"


def link_network_name(ctx: Context, app: str) -> str:
    """The network of one linked app's containers and of the services linked to it: an app meets
    its own databases there, never another app (two apps sharing a service each have their own)."""
    return f"{ctx.settings.namespace}dokku.postgres.links.{app}"
