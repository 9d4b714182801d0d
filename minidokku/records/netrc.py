"""The dokku user's ~/.netrc (ROOT/.netrc, mode 0600): the credentials git uses for an admin's
https repositories (`git:auth`), one `machine HOST login USER password PASSWORD` line a host.

It is never read for a tenant app's fetch (build/gitrepo.py gives those an empty home). Values
are single netrc words: no blanks, quotes, backslashes or control characters, so that none can
end its field or start another entry.
"""

import re
from pathlib import Path
from typing import Optional

from minidokku.errors import ValidationError
from minidokku.state import atomic_write

NAME = ".netrc"
_WORD = re.compile(r"[^\s\"'\\\x00-\x1f\x7f]{1,512}")


def path(root: Path) -> Path:
    return root / NAME


def read(root: Path) -> dict[str, tuple[str, str]]:
    """host -> (login, password), for each `machine` entry that has both."""
    file = path(root)
    words = file.read_text(encoding="utf-8").split() if file.is_file() else []
    entries: dict[str, tuple[str, str]] = {}
    host, fields = None, {}
    for name, value in zip(words[::2], words[1::2]):
        if name in ("machine", "default"):
            _keep(entries, host, fields)
            host, fields = (value if name == "machine" else None), {}
        elif name in ("login", "password"):
            fields[name] = value
    _keep(entries, host, fields)
    return entries


def _keep(entries: dict[str, tuple[str, str]], host: Optional[str], fields: dict[str, str]) -> None:
    if host is not None and {"login", "password"} <= fields.keys():
        entries[host] = (fields["login"], fields["password"])


def set_entry(root: Path, host: str, login: str, password: str) -> None:
    """Gives host the credentials login and password (replacing any it had)."""
    for what, value in (("host", host), ("user name", login), ("password", password)):
        if not _WORD.fullmatch(value):
            raise ValidationError(f"the {what} must be one word: no blanks, quotes, backslashes or control characters")
    entries = read(root)
    entries[host] = (login, password)
    _write(root, entries)


def remove_entry(root: Path, host: str) -> None:
    """Removes host's credentials (none: nothing changes)."""
    entries = read(root)
    if entries.pop(host, None) is not None:
        _write(root, entries)


def _write(root: Path, entries: dict[str, tuple[str, str]]) -> None:
    lines = [f"machine {host} login {login} password {password}\n" for host, (login, password) in entries.items()]
    atomic_write(path(root), "".join(lines), mode=0o600)
