"""The ENV file format: `export KEY='value'` lines, as Dokku writes them.

Values are single-quoted shell words, so the file can be sourced by a shell and any value
(spaces, quotes, `=`, newlines) round-trips exactly through render() and parse().
"""

import re
import shlex

from minidokku.errors import ValidationError

KEY_PATTERN = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def validate_key(key: str) -> str:
    if not KEY_PATTERN.fullmatch(key):
        raise ValidationError(f"invalid config key {key!r}: use letters, digits and _, not starting with a digit")
    return key


def quote(value: str) -> str:
    """Single-quotes a value for a shell, always (shlex.quote leaves plain words bare)."""
    return "'" + value.replace("'", "'\"'\"'") + "'"


def render(env: dict[str, str]) -> str:
    return "".join(f"export {key}={quote(value)}\n" for key, value in sorted(env.items()))


def parse(text: str) -> dict[str, str]:
    env: dict[str, str] = {}
    for word in shlex.split(text, comments=True, posix=True):
        if word == "export":
            continue
        key, sep, value = word.partition("=")
        if not sep:
            raise ValidationError(f"malformed environment entry {word!r}")
        env[validate_key(key)] = value
    return env


def parse_assignment(pair: str) -> "tuple[str, str]":
    """Splits a command-line `KEY=VALUE` into its parts, validating the key."""
    key, sep, value = pair.partition("=")
    if not sep:
        raise ValidationError(f"expected KEY=VALUE, got {pair!r}")
    return validate_key(key), value
