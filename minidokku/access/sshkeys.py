"""ssh keys: entries of the dokku user's authorized_keys, each forced into minidokku.

Every entry runs `NAME=... FINGERPRINT=... <program>` whatever the client asks; the client's
request arrives in SSH_ORIGINAL_COMMAND and is parsed by access/ssh.py, never by a shell.
"""

import builtins
import re
import shlex
import subprocess
from dataclasses import dataclass
from pathlib import Path

from minidokku.errors import AlreadyExists, NotFound, ValidationError
from minidokku.records import names
from minidokku.state import atomic_write

# `restrict` turns off every ssh feature, those of future OpenSSH versions too; a terminal
# (`ssh -t dokku@HOST run APP bash`, postgres:connect) is the one thing given back.
RESTRICTIONS = "restrict,pty"
KEY_LINE = re.compile(r"^(ssh-[a-z0-9-]+|ecdsa-sha2-[a-z0-9-]+|sk-[a-z0-9@.-]+) [A-Za-z0-9+/=]+( .*)?$")
ENTRY_NAME = re.compile(r'command="NAME=(\S+) FINGERPRINT=(\S+) ')
# our entry: its forced command (quotes inside escaped), its options, the key
ENTRY_PARTS = re.compile(r'^(command="NAME=(?:[^"\\]|\\.)*"),(\S+) (.*)$')


@dataclass(frozen=True)
class Key:
    name: str
    fingerprint: str


def fingerprint(public_key: str) -> str:
    result = subprocess.run(
        ["ssh-keygen", "-l", "-E", "sha256", "-f", "-"], input=public_key, capture_output=True, text=True, check=False,
        start_new_session=True,  # no terminal for what needs none (access/users.py)
    )  # fmt: skip
    if result.returncode != 0:
        raise ValidationError("not a valid ssh public key")
    return result.stdout.split()[1]


def parse_public_key(text: str) -> str:
    lines = [line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#")]
    if len(lines) != 1 or not KEY_LINE.match(lines[0]):
        raise ValidationError("expected exactly one ssh public key line (like `ssh-ed25519 AAAA... comment`)")
    return lines[0]


def entry(name: str, key_fingerprint: str, public_key: str, program: list[str], root: Path) -> str:
    words = [f"NAME={name}", f"FINGERPRINT={key_fingerprint}", f"DOKKU_ROOT={shlex.quote(str(root))}"]
    words += [shlex.quote(word) for word in program]
    command = " ".join(words).replace("\\", "\\\\").replace('"', '\\"')
    return f'command="{command}",{RESTRICTIONS} {public_key}'


class AuthorizedKeys:
    def __init__(self, path: Path):
        self.path = path

    def _lines(self) -> list[str]:
        return self.path.read_text(encoding="utf-8").splitlines() if self.path.is_file() else []

    def list(self) -> list[Key]:
        found = (ENTRY_NAME.match(line) for line in self._lines())
        return [Key(match.group(1), match.group(2)) for match in found if match]

    def add(self, name: str, key_text: str, program: builtins.list[str], root: Path) -> Key:
        key, public_key = self.checked(name, key_text)
        self.append(key, public_key, program, root)
        return key

    def checked(self, name: str, key_text: str) -> tuple[Key, str]:
        """The key named name, not added yet (by name or by fingerprint), and its public key line."""
        names.validate_key_name(name)
        public_key = parse_public_key(key_text)
        key = Key(name, fingerprint(public_key))
        for existing in self.list():
            if existing.name == name:
                raise AlreadyExists(f"a key named {name} exists already")
            if existing.fingerprint == key.fingerprint:
                raise AlreadyExists(f"this key is already added, as {existing.name}")
        return key, public_key

    def append(self, key: Key, public_key: str, program: builtins.list[str], root: Path) -> None:
        self._write(self._lines() + [entry(key.name, key.fingerprint, public_key, program, root)])

    def restrict_all(self) -> int:
        """Gives every one of our entries today's RESTRICTIONS (entries of older versions lack
        `restrict`); returns how many changed."""
        lines = self._lines()
        updated = [_restricted(line) for line in lines]
        changed = sum(old != new for old, new in zip(lines, updated))
        if changed:
            self._write(updated)
        return changed

    def remove(self, name: str) -> None:
        kept = [line for line in self._lines() if not line.startswith(f'command="NAME={name} ')]
        if len(kept) == len(self._lines()):
            raise NotFound(f"no key named {name}")
        self._write(kept)

    def _write(self, lines: builtins.list[str]) -> None:
        self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        atomic_write(self.path, "".join(line + "\n" for line in lines), mode=0o600)


def _restricted(line: str) -> str:
    parts = ENTRY_PARTS.match(line)
    return f"{parts.group(1)},{RESTRICTIONS} {parts.group(3)}" if parts else line
