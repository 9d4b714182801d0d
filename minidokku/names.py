"""Validation of the names and numbers users give: apps, ssh key names, counts."""

import re

from minidokku.errors import ValidationError

APP_PATTERN = re.compile(r"^[a-z0-9][a-z0-9-]*$")
APP_MAX_LENGTH = 48
# Names that would collide with files or folders of the state root, or confuse a reader.
RESERVED_APP_NAMES = frozenset({"tls", "plugins", "settings", "vhost", "ssh", "cache", "git", "home"})
KEY_NAME_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.@-]{0,63}$")
WHOLE_NUMBER = re.compile(r"[0-9]{1,18}")  # fits 64 bits: int() and sleep() take it


def validate_app_name(name: str) -> str:
    if not APP_PATTERN.fullmatch(name) or len(name) > APP_MAX_LENGTH:
        raise ValidationError(
            f"invalid app name {name!r}: use lowercase letters, digits and dashes, "
            f"starting with a letter or digit, at most {APP_MAX_LENGTH} characters"
        )
    if name in RESERVED_APP_NAMES:
        raise ValidationError(f"invalid app name {name!r}: the name is reserved")
    return name


def validate_key_name(name: str) -> str:
    if not KEY_NAME_PATTERN.fullmatch(name):
        raise ValidationError(f"invalid key name {name!r}: use letters, digits and . _ @ -, at most 64 characters")
    return name


def is_whole_number(text: str) -> bool:
    """ASCII digits only, at most 18: str.isdigit() also accepts '²', which int() then refuses, and
    a value of thousands of digits (a config var's to choose) overflows what takes it."""
    return bool(WHOLE_NUMBER.fullmatch(text))
