"""Procfile parsing, following procfile-util's rules (the ones Dokku uses)."""

import re

from minidokku.errors import ValidationError

NAME_PATTERN = re.compile(r"[A-Za-z0-9_-]+")
ENTRY_PATTERN = re.compile(r"^([A-Za-z0-9_-]+)\s*:\s*(.+)$")
# Greedy like procfile-util's: only the last ` #` or ` //` starts the trailing comment.
TRAILING_COMMENT = re.compile(r"^(.*)\s(?:#|//).*$")
MAX_NAME_LENGTH = 63


def validate_process_type(name: str) -> str:
    """Checks a process type named outside the Procfile (ps:scale, app.json); returns it."""
    if not NAME_PATTERN.fullmatch(name) or len(name) > MAX_NAME_LENGTH:
        raise ValidationError(
            f"invalid process type {name[:40]!r}: use letters, digits, - and _ (at most {MAX_NAME_LENGTH})"
        )
    return name


def parse(text: str) -> dict[str, str]:
    """Returns process type -> command, in file order; raises ValidationError on a bad file."""
    processes: dict[str, str] = {}
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#") or line.startswith("//"):
            continue
        match = ENTRY_PATTERN.match(line)
        if not match:
            raise ValidationError(f"Procfile line {number} is not `type: command`: {line[:80]!r}")
        name, command = match.group(1), match.group(2)
        if command.startswith("#") or command.startswith("//"):
            raise ValidationError(f"Procfile line {number}: a comment stands in place of the command of {name!r}")
        comment = TRAILING_COMMENT.match(command)
        command = (comment.group(1) if comment else command).strip()
        if len(name) > MAX_NAME_LENGTH:
            raise ValidationError(
                f"Procfile line {number}: process type {name[:20]!r}... is longer than {MAX_NAME_LENGTH}"
            )
        if not command:
            raise ValidationError(f"Procfile line {number}: process type {name!r} has an empty command")
        if name in processes:
            raise ValidationError(f"Procfile line {number}: process type {name!r} is declared twice")
        processes[name] = command
    if not processes:
        raise ValidationError("Procfile declares no process types")
    return processes
