"""Config vars as text: the ENV files, what `config:import` reads and what `config:export` and
`config:bundle` print.

ENV files (APP/ENV, and ROOT/ENV: the global config every app's containers get, under the app's
own) are `export KEY='value'` lines, as Dokku writes them. Values are single-quoted shell words
(a quote inside is `'\\''`), so a shell can source the file and any value (spaces, quotes, `=`,
newlines) round-trips exactly through render() and parse().

parse() also reads the dotenv files users import (Dokku reads them with godotenv): `export` is
optional, `#` starts a comment, an unquoted value runs to the end of its line, a double-quoted one
knows `\\n`, `\\r` and `\\` before any other character. Unlike godotenv, `$NAME` is not expanded
and a key must be a shell identifier. No error message shows a value: they are secrets.
"""

import base64
import binascii
import io
import json
import re
import tarfile
from collections.abc import Callable
from typing import TYPE_CHECKING

from minidokku.errors import ValidationError

if TYPE_CHECKING:
    from minidokku.state import Store

KEY_PATTERN = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
# a mistyped key is named in its error; anything else before an `=` may be a pasted secret
_SHOWN_KEY = re.compile(r"[A-Za-z0-9_.-]{1,64}")
_BLANKS = " \t\v\f\r"  # \r: a line may end in \r\n (never taken from inside quotes)
_LINE_BREAKS = str.maketrans({"\n": "\\n", "\r": "\\r"})


def validate_key(key: str, where: str = "") -> str:
    if KEY_PATTERN.fullmatch(key):
        return key
    shown = f" {key!r}" if _SHOWN_KEY.fullmatch(key) else ""
    prefix = f"{where}: " if where else ""
    raise ValidationError(f"{prefix}invalid config key{shown}: use letters, digits and _, not starting with a digit")


def validate_value(key: str, value: str) -> str:
    if "\0" in value:
        raise ValidationError(f"the value of {key} holds a NUL byte, which no environment variable can")
    return value


def quote(value: str) -> str:
    """Single-quotes a value for a shell, always (shlex.quote leaves plain words bare)."""
    return "'" + value.replace("'", "'\\''") + "'"


def render(env: dict[str, str]) -> str:
    return "".join(f"export {key}={quote(value)}\n" for key, value in sorted(env.items()))


def with_global(store: "Store", env: dict[str, str]) -> dict[str, str]:
    """What an app's containers get: the global config (ROOT/ENV), the app's env on top."""
    return {**store.read_env(None), **env}


# -- reading --------------------------------------------------------------------------------
def parse(text: str) -> dict[str, str]:
    """The config vars of an ENV or dotenv file; ValidationError naming the line when one is
    not `KEY=VALUE`."""
    return _Parser(text).entries()


class _Parser:
    def __init__(self, text: str):
        self.text = text
        self.pos = 0

    def entries(self) -> dict[str, str]:
        env: dict[str, str] = {}
        while self._next_entry():
            where = f"line {self.text.count(chr(10), 0, self.pos) + 1}"
            key = self._key(where)
            env[key] = validate_value(key, self._value(where))
        return env

    def _next_entry(self) -> bool:
        """Skips blank lines and comments; False at the end."""
        while True:
            match = re.compile(r"\s*").match(self.text, self.pos)
            self.pos = match.end()
            if self.pos >= len(self.text):
                return False
            if self.text[self.pos] != "#":
                return True
            self._skip_line()

    def _skip_line(self) -> None:
        end = self.text.find("\n", self.pos)
        self.pos = len(self.text) if end < 0 else end

    def _key(self, where: str) -> str:
        match = re.compile(r"(?:export[ \t]+)?([^=\n]*)=").match(self.text, self.pos)
        if match is None:
            raise ValidationError(f"{where}: expected KEY=VALUE")
        self.pos = match.end()
        return validate_key(match.group(1).strip(_BLANKS), where)

    def _value(self, where: str) -> str:
        while self.pos < len(self.text) and self.text[self.pos] in _BLANKS:
            self.pos += 1
        if self.text[self.pos : self.pos + 1] in ("'", '"'):
            value = self._quoted_word(where)
            self._end_of_line(where)
            return value
        end = self.text.find("\n", self.pos)
        line = self.text[self.pos : len(self.text) if end < 0 else end]
        self.pos += len(line)
        comment = re.search(r"[ \t]#", line)
        return (line[: comment.start()] if comment else line).strip(_BLANKS)

    def _quoted_word(self, where: str) -> str:
        """A shell word that starts with a quote: quoted parts, `\\X` and plain characters, up to a
        blank or the end of the line (`'it'\\''s'` is it's)."""
        parts = []
        while self.pos < len(self.text) and self.text[self.pos] not in _BLANKS + "\n":
            char = self.text[self.pos]
            if char == "'":
                end = self.text.find("'", self.pos + 1)
                if end < 0:
                    raise ValidationError(f"{where}: a quote is never closed")
                parts.append(self.text[self.pos + 1 : end])
                self.pos = end + 1
            elif char == '"':
                match = re.compile(r'"((?:[^"\\]|\\.)*)"', re.DOTALL).match(self.text, self.pos)
                if match is None:
                    raise ValidationError(f"{where}: a quote is never closed")
                parts.append(_unescape(match.group(1)))
                self.pos = match.end()
            elif char == "\\" and self.pos + 1 < len(self.text):
                parts.append(self.text[self.pos + 1])
                self.pos += 2
            else:
                parts.append(char)
                self.pos += 1
        return "".join(parts)

    def _end_of_line(self, where: str) -> None:
        rest = re.compile(r"[ \t\v\f\r]*(#[^\n]*)?(\n|$)").match(self.text, self.pos)
        if rest is None:
            raise ValidationError(f"{where}: unexpected text after a quoted value")
        self.pos = rest.end()


def _unescape(text: str) -> str:
    """A double-quoted dotenv value: `\\n` and `\\r` are line breaks, `\\X` is X."""
    return re.sub(
        r"\\(.)", lambda match: {"n": "\n", "r": "\r"}.get(match.group(1), match.group(1)), text, flags=re.DOTALL
    )


def parse_assignment(pair: str, encoded: bool = False) -> "tuple[str, str]":
    """Splits a command-line `KEY=VALUE` into its parts, validating the key; encoded: the value
    is base64 (`config:set --encoded`). The pair is never shown: it may be a value alone."""
    key, sep, value = pair.partition("=")
    if not sep:
        raise ValidationError("invalid env pair: an argument has no `=` (expected KEY=VALUE)")
    validate_key(key)
    return key, validate_value(key, decode_base64(key, value) if encoded else value)


def decode_base64(key: str, value: str) -> str:
    try:
        return base64.b64decode(value, validate=True).decode("utf-8")
    except binascii.Error as error:
        raise ValidationError(f"invalid base64 for key '{key}': {error}") from None
    except UnicodeDecodeError:
        raise ValidationError(f"the decoded value of {key} is not UTF-8 text") from None


def parse_json(text: str) -> dict[str, str]:
    """A JSON object of string values (`config:import --format json`)."""
    try:
        found = json.loads(text)
    except json.JSONDecodeError as error:
        raise ValidationError(f"not JSON: {error}") from None
    if not isinstance(found, dict):
        raise ValidationError('expected a JSON object of config vars, like {"KEY": "value"}')
    for key, value in found.items():
        validate_key(key)
        if not isinstance(value, str):
            raise ValidationError(f"the value of {key} is not a JSON string")
        validate_value(key, value)
    return found


# -- printing: the formats of Dokku's config:export -----------------------------------------
def _shell_words(env: dict[str, str], prefix: str) -> list[str]:
    return [f"{prefix}{key}={quote(value)}" for key, value in sorted(env.items())]


def _envfile(env: dict[str, str]) -> str:
    """godotenv's: `KEY="value"` (`\\`, `"`, `!`, `$` and backquotes escaped, line breaks as
    `\\n` and `\\r`), a whole number bare; sorted by line."""
    lines = []
    for key, value in env.items():
        if re.fullmatch(r"-?(0|[1-9][0-9]*)", value):
            lines.append(f"{key}={value}")
        else:
            escaped = re.sub(r'[\\"!$`]', lambda match: "\\" + match.group(0), value)
            lines.append(f'{key}="{escaped.translate(_LINE_BREAKS)}"')
    return "\n".join(sorted(lines))


def _json(value: object) -> str:
    """Go's json.Marshal: compact, keys sorted, <, > and & escaped."""
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"), sort_keys=True)
    for char, escape in (
        ("<", "\\u003c"),
        (">", "\\u003e"),
        ("&", "\\u0026"),
        ("\u2028", "\\u2028"),
        ("\u2029", "\\u2029"),
    ):
        text = text.replace(char, escape)
    return text


def pretty(env: dict[str, str]) -> str:
    """`KEY:  value` lines, the values lined up (config:show)."""
    width = max((len(key) for key in env), default=0) + 1
    return "\n".join(f"{key + ':':<{width}}  {value.strip()}" for key, value in sorted(env.items()))


EXPORT_FORMATS: dict[str, Callable[[dict[str, str]], str]] = {
    "exports": lambda env: "\n".join(_shell_words(env, "export ")) + "\n",
    "envfile": lambda env: _envfile(env) + "\n",
    "docker-args": lambda env: " ".join(_shell_words(env, "--env=")) + "\n",
    "docker-args-keys": lambda env: " ".join(f"--env={key}" for key in sorted(env)) + "\n",
    "pack-keys": lambda env: " ".join(f"--env {key}" for key in sorted(env)) + "\n",
    "shell": lambda env: " ".join(_shell_words(env, "")) + " ",
    "pretty": lambda env: pretty(env) + "\n",
    "json": lambda env: _json(env) + "\n",
    "json-list": lambda env: _json([{"name": k, "value": v} for k, v in sorted(env.items())] or None) + "\n",
}


def export(env: dict[str, str], format_name: str) -> str:
    """The env as `config:export --format NAME` prints it."""
    if format_name not in EXPORT_FORMATS:
        raise ValidationError(f"Unknown export format: {format_name} (known: {', '.join(EXPORT_FORMATS)})")
    return EXPORT_FORMATS[format_name](env)


def bundle(env: dict[str, str]) -> bytes:
    """A tar of one file per key, named as the key, holding its value (mode 0600): config:bundle."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as archive:
        for key, value in sorted(env.items()):
            data = value.encode("utf-8")
            member = tarfile.TarInfo(key)
            member.size, member.mode = len(data), 0o600
            archive.addfile(member, io.BytesIO(data))
    return buffer.getvalue()
