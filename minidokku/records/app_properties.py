"""Dokku's apps properties (`apps:set`, `apps:report`), in APP/properties/apps and, for the
global one, ROOT/properties/apps.

`disable-autocreation` (global only): `true` and a push no longer creates a missing app.

`deploy-source` and `deploy-source-metadata`: where the app's last deploy came from, recorded by
the deploys that bring new code with Dokku's values (and settable, as in Dokku):

| deploy                | deploy-source          | metadata                |
|-----------------------|------------------------|-------------------------|
| git push              | git-push               | the pushed commit       |
| git:sync --build      | git-sync               | URL#commit              |
| git:from-image        | docker-image           | the image               |
| git:from-archive      | tar or tar.gz          | the archive's URL, or - |

A deploy also records git's `source-image` (records/git_settings.py): the image, or none after
any other deploy (as Dokku's git plugin answers its deploy-source-set trigger).
"""

import re
from typing import Optional

from minidokku.errors import ValidationError
from minidokku.records import git_settings, properties
from minidokku.state import Store

FAMILY = "apps"
SOURCE = "deploy-source"
METADATA = "deploy-source-metadata"
DISABLE_AUTOCREATION = "disable-autocreation"
APP_PROPERTIES = (SOURCE, METADATA)
GLOBAL_PROPERTIES = (DISABLE_AUTOCREATION,)
MAX_VALUE_LENGTH = 1024
# control characters (C0, DEL, C1) and the marks that turn text around (bidi): a value is shown in reports
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")
GIT_PUSH, GIT_SYNC, DOCKER_IMAGE = "git-push", "git-sync", "docker-image"


def record(store: Store, app: str, source: str, metadata: str) -> None:
    properties.put(store, app, FAMILY, SOURCE, source)
    properties.put(store, app, FAMILY, METADATA, metadata)
    git_settings.record_source_image(store, app, metadata if source == DOCKER_IMAGE else "")


def get(store: Store, app: Optional[str], key: str) -> str:
    return properties.get(store, app, FAMILY, key)


def set_property(store: Store, app: Optional[str], key: str, value: str) -> None:
    """`apps:set APP|--global KEY [VALUE]` (app None: --global); no value unsets the key. Keys
    and messages as Dokku's."""
    if app is None and key not in GLOBAL_PROPERTIES:
        raise ValidationError("Property cannot be specified globally")
    if app is not None and key in GLOBAL_PROPERTIES:
        raise ValidationError("Property can only be specified globally")
    if not key:
        raise ValidationError("No property specified")
    if key not in APP_PROPERTIES + GLOBAL_PROPERTIES:
        valid = ", ".join(sorted(APP_PROPERTIES + GLOBAL_PROPERTIES))
        raise ValidationError(f"Invalid property specified, valid properties include: {valid}")
    if len(value) > MAX_VALUE_LENGTH or _CONTROL.search(value):
        raise ValidationError(f"a {key} value is one line of at most {MAX_VALUE_LENGTH} characters")
    if key == DISABLE_AUTOCREATION and value not in ("", "true", "false"):
        raise ValidationError(f"{key} is true or false")
    properties.put(store, app, FAMILY, key, value)


def autocreation_disabled(store: Store) -> bool:
    return get(store, None, DISABLE_AUTOCREATION) == "true"
