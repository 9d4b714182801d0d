"""`nginx:set APP KEY VALUE` (Dokku's property names), validated so that no value can break out of
the one nginx directive it fills: sizes, times, on/off switches and plain absolute paths only."""

import re

from minidokku.errors import ValidationError
from minidokku.records import properties
from minidokku.state import Store

FAMILY = "nginx"
SIZE = re.compile(r"[0-9]+[kKmMgG]?")
TIME = re.compile(r"[0-9]+(ms|s|m|h|d)?")
BUFFERS = re.compile(r"[0-9]+ [0-9]+[kKmM]?")
LOG_PATH = re.compile(r"off|/[A-Za-z0-9._/-]+")
BOOLEAN = re.compile(r"true|false")
WHOLE = re.compile(r"[0-9]+")
ALLOW_TEMPLATE = "allow-custom-template"

# Dokku's name -> (what a value must look like, the default)
PROPERTIES = {
    "client-max-body-size": (SIZE, "1m"),
    "proxy-read-timeout": (TIME, "60s"),
    "proxy-connect-timeout": (TIME, "60s"),
    "proxy-send-timeout": (TIME, "60s"),
    "proxy-buffer-size": (SIZE, "4k"),
    "proxy-buffering": (re.compile(r"on|off"), "on"),
    "proxy-buffers": (BUFFERS, "8 4k"),
    "proxy-busy-buffers-size": (SIZE, "8k"),
    "access-log-path": (LOG_PATH, ""),  # "" : LOG_DIR/APP-access.log
    "error-log-path": (LOG_PATH, ""),
    "hsts": (BOOLEAN, "true"),
    "hsts-include-subdomains": (BOOLEAN, "true"),
    "hsts-max-age": (WHOLE, "15724800"),
    "hsts-preload": (BOOLEAN, "false"),
    # an nginx.conf.template in the pushed tree is used only where an admin allowed it (nginx:set
    # is for admin keys), and even then only its checked directives (routing/nginx_check.py)
    ALLOW_TEMPLATE: (BOOLEAN, "false"),
}


def validate(key: str, value: str) -> str:
    if key not in PROPERTIES:
        raise ValidationError(f"unknown nginx property {key!r}; known: {', '.join(PROPERTIES)}")
    pattern, _default = PROPERTIES[key]
    if value and not pattern.fullmatch(value):
        raise ValidationError(f"invalid value for {key}: {value[:60]!r}")
    return value


def put(store: Store, app: str, key: str, value: str) -> None:
    """Sets a property; an empty value restores the default."""
    properties.put(store, app, FAMILY, key, validate(key, value))


def stored(store: Store, app: str, key: str) -> str:
    """The value set for the app, "" when it has the default."""
    return properties.get(store, app, FAMILY, key)


def effective(store: Store, app: str) -> dict[str, str]:
    """Every property with its value for the app (set, else the default)."""
    return {key: properties.get(store, app, FAMILY, key) or default for key, (_, default) in PROPERTIES.items()}


def allows_template(store: Store, app: str) -> bool:
    return stored(store, app, ALLOW_TEMPLATE) == "true"
