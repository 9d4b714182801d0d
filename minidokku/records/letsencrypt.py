"""The letsencrypt family's settings and files (as dokku-letsencrypt's properties).

- Properties (`letsencrypt:set APP|--global KEY VALUE`) in APP/properties/letsencrypt and
  ROOT/properties/letsencrypt: email, server, graceperiod, lego-args, dns-provider and the
  dns-provider-* credentials lego's DNS provider reads from its environment; `ca-bundle` is
  global only. `autorenew` (global, `letsencrypt:cron-job --add`) and the last failure of an
  app (`failed-at`, `failure`) are kept there too, but are not keys `letsencrypt:set` takes.
- APP/letsencrypt/ (inside the app's 0700 folder): lego's --path for revoke (certificates/, the
  live files of the installed certificate, and accounts, a link to ROOT/.letsencrypt/accounts:
  the account keys, one per server and e-mail, kept by disable), staging/ (lego's --path while it
  orders, the same shape), DOMAINS (the names of the certificate lego issued last) and previous/
  (the certificate the app had before letsencrypt:enable, put back by disable).
- In the app's properties too: `enabled` (a certificate installed, not disabled or revoked since)
  and `orders` (the epochs of its orders this week: a user key's budget).
- The app's challenge webroot, ACME_WEBROOT/APP (SETTINGS, default /var/lib/minidokku/letsencrypt):
  nginx's workers read it, so it lies outside the dokku user's 0750 home; only the dokku user
  writes it, and no container mounts it. Its OWNER_FILE names the state root that made it:
  only that root's nginx site serves it and only that root removes it.
"""

import datetime
import re
import secrets
import shlex
from pathlib import Path
from typing import Optional

from minidokku.access import rules
from minidokku.errors import ValidationError
from minidokku.records import properties
from minidokku.state import Store, atomic_write

FAMILY = "letsencrypt"
LEGO_DIR = "letsencrypt"
PREVIOUS_DIR = f"{LEGO_DIR}/previous"
DOMAINS_FILE = f"{LEGO_DIR}/DOMAINS"
STAGING_DIR = f"{LEGO_DIR}/staging"  # lego's --path while it orders: the live files change only after an install
SHARED_DIR = ".letsencrypt"  # under the root (no app's name starts with a dot)
ACCOUNTS_DIR = f"{SHARED_DIR}/accounts"  # lego's accounts, one per server and email, kept by disable
MARKER_FILE = f"{SHARED_DIR}/MARKER"  # the value of nginx's MARKER_HEADER on the challenge location
MARKER_HEADER = "X-Minidokku-Acme"

SERVERS = {
    "default": "https://acme-v02.api.letsencrypt.org/directory",
    "staging": "https://acme-staging-v02.api.letsencrypt.org/directory",
}
DEFAULT_GRACE_PERIOD = 60 * 60 * 24 * 30  # seconds before expiry a certificate is renewed (the plugin's)
MAX_TENANT_GRACE_PERIOD = 60 * 60 * 24 * 60  # a user key's app: renewed at most 60 days before expiry
GRACE_PERIOD = re.compile(r"[0-9]{1,10}")
TENANT_ORDERS = 5  # orders a user key may make for an app within ORDERS_WINDOW
ORDERS_WINDOW = 7 * 86400
# Set by an admin for an app, or globally: the global value applies to apps no user key is granted.
HOST_SIDE_KEYS = ("server", "lego-args", "dns-provider")
APP_KEYS = ("dns-provider", "email", "graceperiod", "server", "lego-args")
GLOBAL_ONLY_KEYS = ("ca-bundle",)
DNS_PROVIDER_PREFIX = "dns-provider-"
# What a user key may set on its own app: nothing that changes what the host fetches or runs.
USER_KEYS = ("email", "graceperiod")
AUTORENEW = "autorenew"
FAILED_AT, FAILURE = "failed-at", "failure"
ENABLED = "enabled"  # "true" from a first successful install until disable or revoke
ORDERS = "orders"  # the epochs of the app's orders within ORDERS_WINDOW
OWNER_FILE = ".minidokku-root"  # in an app's webroot: the state root it belongs to (nginx never serves it)
# lego's global options an admin may add with lego-args: none runs a program, names a file or
# folder to write, or changes where lego talks to (those are server, ca-bundle and dns-provider).
LEGO_OPTIONS_WITH_VALUE = ("--key-type", "--http-timeout", "--dns-timeout", "--cert.timeout", "--dns.resolvers")
LEGO_SWITCHES = ("--dns.disable-cp",)
EMAIL = re.compile(r"[A-Za-z0-9][A-Za-z0-9._%+'=-]*@[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?")
DNS_PROVIDER = re.compile(r"[a-z0-9][a-z0-9._-]{0,63}")
ENV_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]{0,127}")
MAX_VALUE = 1024


def check(key: str, value: str, is_global: bool) -> str:
    """The value, once it is one that key takes (ValidationError otherwise)."""
    if key in GLOBAL_ONLY_KEYS and not is_global:
        raise ValidationError(f"{key} can only be set with --global")
    if len(value) > MAX_VALUE or any(not c.isprintable() for c in value):
        raise ValidationError(f"the {key} value is one line of at most {MAX_VALUE} characters")
    if key == "email":
        if not EMAIL.fullmatch(value):
            raise ValidationError(f"invalid email {value!r}: expected one address, like admin@example.com")
    elif key == "graceperiod":
        if not GRACE_PERIOD.fullmatch(value) or int(value) < 1:
            raise ValidationError("graceperiod is a number of seconds, like 2592000 (30 days)")
    elif key == "server":
        if value not in SERVERS and not re.fullmatch(r"https://[^\s/?#@]+(/\S*)?", value):
            raise ValidationError(f"invalid server {value!r}: default, staging or an https:// ACME directory URL")
    elif key == "lego-args":
        lego_args(value)
    elif key == "dns-provider":
        if not DNS_PROVIDER.fullmatch(value):
            raise ValidationError(f"invalid dns-provider {value!r}: a lego provider name, like cloudflare")
    elif key == "ca-bundle":
        if not value.startswith("/") or not Path(value).is_file():
            raise ValidationError(f"ca-bundle {value!r} is not a file: give the absolute path of a PEM CA file")
    elif key.startswith(DNS_PROVIDER_PREFIX):
        if not ENV_NAME.fullmatch(key.removeprefix(DNS_PROVIDER_PREFIX)):
            raise ValidationError(f"invalid key {key!r}: dns-provider-NAME, NAME as lego's environment variable")
    else:
        valid = ", ".join(["dns-provider", "dns-provider-*", "email", "graceperiod", "server", "lego-args"])
        if key == "lego-docker-options":
            raise ValidationError("lego runs on the host, not in a container: lego-docker-options does not apply")
        raise ValidationError(f"Invalid key specified, valid keys include: {valid}, ca-bundle (--global)")
    return value


def lego_args(value: str) -> list[str]:
    """lego-args as words, once each is an option of LEGO_OPTIONS_WITH_VALUE (with its value, as
    `--key-type rsa2048` or `--key-type=rsa2048`) or of LEGO_SWITCHES."""
    try:
        words = shlex.split(value)
    except ValueError as error:
        raise ValidationError(f"lego-args: {error}") from None
    checked, rest = [], iter(words)
    for word in rest:
        name, has_value, _ = word.partition("=")
        if name in LEGO_SWITCHES and not has_value:
            checked.append(word)
        elif name in LEGO_OPTIONS_WITH_VALUE:
            given = word if has_value else f"{word}={next(rest, '')}"
            if given.endswith("=") or "\n" in given:
                raise ValidationError(f"lego-args: {name} needs a value")
            checked.append(given)
        else:
            allowed = ", ".join(LEGO_OPTIONS_WITH_VALUE + LEGO_SWITCHES)
            raise ValidationError(f"lego-args: {word!r} is not allowed; allowed: {allowed}")
    return checked


def own(store: Store, app: Optional[str], key: str) -> str:
    return properties.get(store, app, FAMILY, key)


def computed(store: Store, app: Optional[str], key: str) -> str:
    """The app's own value, else the global one; but a host-side key (server, lego-args,
    dns-provider) of an app granted to a user key is only what an admin set for that app."""
    if app and key in HOST_SIDE_KEYS and rules.is_tenant_app(store, app):
        return own(store, app, key)
    return (own(store, app, key) if app else "") or own(store, None, key)


def not_applied(store: Store, app: str) -> list[str]:
    """The global host-side keys set that do not apply to app (a user key's app)."""
    if not rules.is_tenant_app(store, app):
        return []
    keys = [key for key in HOST_SIDE_KEYS if own(store, None, key) and not own(store, app, key)]
    if _credentials(store, None):
        keys.append("dns-provider-*")
    return keys


def server(store: Store, app: Optional[str]) -> str:
    value = computed(store, app, "server") or "default"
    return SERVERS.get(value, value)


def grace_period(store: Store, app: Optional[str]) -> int:
    """Seconds before expiry the app's certificate is renewed (a user key's app: at most 60 days)."""
    value = computed(store, app, "graceperiod")
    seconds = int(value) if GRACE_PERIOD.fullmatch(value) else DEFAULT_GRACE_PERIOD
    if app and rules.is_tenant_app(store, app):
        return min(seconds, MAX_TENANT_GRACE_PERIOD)
    return seconds


def put(store: Store, app: Optional[str], key: str, value: str) -> None:
    properties.put(store, app, FAMILY, key, value)


def dns_credentials(store: Store, app: str) -> dict[str, str]:
    """The dns-provider-NAME values (global, then the app's over them) as lego's environment;
    an app granted to a user key gets only the ones an admin set for it."""
    owners = (app,) if rules.is_tenant_app(store, app) else (None, app)
    found: dict[str, str] = {}
    for owner in owners:
        found.update(_credentials(store, owner))
    return found


def _credentials(store: Store, owner: Optional[str]) -> dict[str, str]:
    return {
        key.removeprefix("DNS_PROVIDER_"): value
        for key, value in properties.read_all(store, owner, FAMILY).items()
        if key.startswith("DNS_PROVIDER_") and key != "DNS_PROVIDER"
    }


def is_enabled(store: Store, app: str) -> bool:
    """letsencrypt manages the app's certificate: a certificate was installed, not disabled or revoked since."""
    return own(store, app, ENABLED) == "true"


def set_enabled(store: Store, app: str, on: bool) -> None:
    put(store, app, ENABLED, "true" if on else "")


def orders(store: Store, app: str, now: float) -> list[int]:
    """The epochs of the app's orders within ORDERS_WINDOW before now."""
    recorded = [int(word) for word in own(store, app, ORDERS).split() if word.isdigit()]
    return [when for when in recorded if now - when < ORDERS_WINDOW]


def count_order(store: Store, app: str, now: float) -> None:
    put(store, app, ORDERS, " ".join(str(when) for when in [*orders(store, app, now), int(now)]))


def marker(store: Store) -> str:
    """The root's value of MARKER_HEADER (made once): what nginx's challenge location adds to its
    answers and an app's container does not know."""
    path = store.path(None, MARKER_FILE)
    if not path.is_file():
        path.parent.mkdir(mode=0o700, exist_ok=True)
        atomic_write(path, secrets.token_hex(16) + "\n", mode=0o600)
    return path.read_text(encoding="utf-8").strip()


def autorenew(store: Store) -> bool:
    return own(store, None, AUTORENEW) == "true"


def set_autorenew(store: Store, on: bool) -> None:
    put(store, None, AUTORENEW, "true" if on else "")


def record_failure(store: Store, app: str, when: int, message: str) -> None:
    put(store, app, FAILED_AT, str(when))
    put(store, app, FAILURE, printable(message))


def printable(message: str) -> str:
    """One line of printable characters (an error may carry what lego or a server sent)."""
    return " ".join("".join(c if c.isprintable() else " " for c in message).split())[:MAX_VALUE]


def clear_failure(store: Store, app: str) -> None:
    put(store, app, FAILED_AT, "")
    put(store, app, FAILURE, "")


def failure(store: Store, app: str) -> Optional[tuple[int, str]]:
    """(when, message) of the app's last failed issue or renewal since its last success."""
    when = own(store, app, FAILED_AT)
    return (int(when), own(store, app, FAILURE)) if when.isdigit() else None


def failure_text(store: Store, app: str) -> str:
    """`YYYY-MM-DD HH:MM:SS: message` (local time) of the app's last failure, "" for none."""
    failed = failure(store, app)
    if failed is None:
        return ""
    return f"{datetime.datetime.fromtimestamp(failed[0]).strftime('%Y-%m-%d %H:%M:%S')}: {failed[1]}"


def webroot(base: str, app: str) -> Path:
    """The app's challenge webroot (nginx's root for /.well-known/acme-challenge/)."""
    return Path(base) / app


def webroot_owner(folder: Path) -> Optional[str]:
    """The state root that made a webroot folder (its OWNER_FILE); None for a new or empty one."""
    marker = folder / OWNER_FILE
    if folder.is_symlink() or marker.is_symlink() or not marker.is_file():
        return None
    return marker.read_text(encoding="utf-8").strip()


def own_webroot(base: str, app: str, root: Path) -> Optional[Path]:
    """The app's webroot when the state root made it (the same app name in a test root, or in
    another install on the machine, is another app)."""
    folder = webroot(base, app)
    return folder if folder.is_dir() and webroot_owner(folder) == str(root) else None
