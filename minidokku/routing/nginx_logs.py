"""`nginx:access-logs|error-logs APP [-t]`: the end of the file nginx writes an app's log to, then
(following) what nginx adds, across a rotation. A user key reads only the app's own file in the
log folder: a path an admin set (`nginx:set APP access-log-path ...`) may name any file."""

import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Optional

from minidokku.errors import NotFound, PermissionDenied, ValidationError
from minidokku.routing import nginx, nginx_settings
from minidokku.state import Store

KINDS = ("access", "error")
LAST_LINES = 20  # as Dokku's `tail -n 20`
BLOCK = 64 * 1024
MAX_BACKLOG = 1 << 20  # the last lines are looked for in at most this many final bytes
POLL_SECONDS = 0.5


def log_path(store: Store, app: str, kind: str, log_dir: str) -> str:
    """The file nginx writes the app's access or error log to; "off" when it writes none."""
    return nginx.log_path(nginx_settings.effective(store, app), log_dir, app, kind)


def readable_path(store: Store, app: str, kind: str, log_dir: str, by_user_key: bool) -> Path:
    path = log_path(store, app, kind, log_dir)
    if path == "off":
        raise ValidationError(f"{app}'s nginx {kind} log is off (nginx:set {app} {kind}-log-path)")
    if by_user_key and path != nginx.log_path({}, log_dir, app, kind):
        raise PermissionDenied(f"{app}'s nginx {kind} log is at a path an admin set: only admin keys read it")
    return Path(path)


def last_lines(path: Path, by_user_key: bool, count: int = LAST_LINES) -> tuple[bytes, Optional[tuple[int, int]]]:
    """The file's last lines, and where they end ((inode, offset), for following)."""
    with _open(path, by_user_key) as file:
        size = os.fstat(file.fileno()).st_size
        start = size
        data = b""
        while start > 0 and data.count(b"\n") <= count and size - start < MAX_BACKLOG:
            start = max(0, start - BLOCK)
            file.seek(start)
            data = file.read(size - start)
        lines = data.splitlines(keepends=True)
        return b"".join(lines[-count:]), (os.fstat(file.fileno()).st_ino, size)


def follow(path: Path, by_user_key: bool, position: tuple[int, int]) -> Iterator[bytes]:
    """What nginx writes to the file from the position on, reopened when the file is rotated."""
    inode, offset = position
    while True:
        try:
            with _open(path, by_user_key) as file:
                status = os.fstat(file.fileno())
                if status.st_ino != inode or status.st_size < offset:
                    inode, offset = status.st_ino, 0
                file.seek(offset)
                data = file.read(BLOCK)
                offset += len(data)
        except NotFound:
            data = b""
        if data:
            yield data
        else:
            time.sleep(POLL_SECONDS)


def _open(path: Path, by_user_key: bool):
    """The log, opened for reading; for a user key never through a symbolic link."""
    flags = os.O_RDONLY | (os.O_NOFOLLOW if by_user_key else 0)
    try:
        return os.fdopen(os.open(path, flags), "rb")
    except FileNotFoundError:
        raise NotFound(f"no nginx log at {path} yet") from None
    except OSError as error:
        raise ValidationError(f"cannot read {path}: {error.strerror}") from None
