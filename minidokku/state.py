"""The state store: flat, human-readable files under one root (default /home/dokku).

Layout (as Dokku's, so `cat` explains an app):
    ROOT/SETTINGS                    machine settings (env-file format), see settings.py
    ROOT/VHOST                       global domains, one a line
    ROOT/EVENTS                      the audit trail (`dokku events`), appended to only
    ROOT/DOCKER_OPTIONS_{BUILD,DEPLOY,RUN}   global docker options, one a line
    ROOT/APP/                        the app's bare git repository, plus:
    ROOT/APP/ENV                     config vars
    ROOT/APP/VHOST                   the app's own domains
    ROOT/APP/DOCKER_OPTIONS_*        the app's docker options
    ROOT/APP/nginx.conf              the app's server block (included by nginx)
    ROOT/APP/releases/vN.json        one file per release
Every write is atomic (write a temp file, fsync, rename); commands on one app are serialised by
a lock file, and different apps never wait on each other.
"""

import contextlib
import fcntl
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Optional

from minidokku import envfile
from minidokku.errors import Locked

DEFAULT_ROOT = "/home/dokku"


def root_from_environment() -> Path:
    return Path(os.environ.get("DOKKU_ROOT") or DEFAULT_ROOT)


def atomic_write(path: Path, text: str, mode: int = 0o644) -> None:
    """Replaces path with text so that a reader sees the old or the new file, never a part."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


class Store:
    """Reads and writes the flat files of the machine and of each app."""

    def __init__(self, root: Path):
        self.root = root

    def app_dir(self, app: str) -> Path:
        return self.root / app

    def app_exists(self, app: str) -> bool:
        return (self.app_dir(app) / "HEAD").is_file()

    def list_apps(self) -> list[str]:
        if not self.root.is_dir():
            return []
        return sorted(
            entry.name for entry in self.root.iterdir() if not entry.name.startswith(".") and (entry / "HEAD").is_file()
        )

    def path(self, app: Optional[str], name: str) -> Path:
        """The file `name` of an app, or of the machine when app is None."""
        return (self.app_dir(app) if app else self.root) / name

    def read(self, app: Optional[str], name: str) -> Optional[str]:
        try:
            return self.path(app, name).read_text(encoding="utf-8")
        except FileNotFoundError:
            return None

    def read_lines(self, app: Optional[str], name: str) -> list[str]:
        text = self.read(app, name) or ""
        return [line.strip() for line in text.splitlines() if line.strip()]

    def write(self, app: Optional[str], name: str, text: str, mode: int = 0o644) -> None:
        atomic_write(self.path(app, name), text, mode)

    def write_lines(self, app: Optional[str], name: str, lines: list[str]) -> None:
        self.write(app, name, "".join(line + "\n" for line in lines))

    def append_line(self, app: Optional[str], name: str, line: str) -> None:
        """Appends one line in a single write to a file opened for appending, so lines from
        commands running at once never interleave."""
        path = self.path(app, name)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o640)
        try:
            _give_to_root_owner(fd, self.root)
            os.write(fd, (line.rstrip("\n") + "\n").encode("utf-8"))
        finally:
            os.close(fd)

    def read_env(self, app: str) -> dict[str, str]:
        """The app's config vars (APP/ENV)."""
        return envfile.parse(self.read(app, "ENV") or "")

    def write_env(self, app: str, env: dict[str, str]) -> None:
        # 0600: values are secrets; only the dokku user reads them.
        self.write(app, "ENV", envfile.render(env), mode=0o600)

    def remove(self, app: Optional[str], name: str) -> None:
        with contextlib.suppress(FileNotFoundError):
            self.path(app, name).unlink()

    def remove_folder(self, app: Optional[str], name: str) -> None:
        shutil.rmtree(self.path(app, name), ignore_errors=True)

    def remove_app(self, app: str) -> None:
        shutil.rmtree(self.app_dir(app), ignore_errors=True)

    def lock(self, app: str):
        """Holds the app's lock for the block; fails at once if another command holds it."""
        message = f"{app} is locked by another deploy or command; try again when it ends"
        return file_lock(self.app_dir(app) / ".lock", busy_message=message)


def _give_to_root_owner(fd: int, root: Path) -> None:
    """A file root creates (stack:build runs as root) must stay writable by the commands that
    run as the root's owner, the dokku user."""
    if os.geteuid() != 0:
        return
    owner = root.stat()
    if os.fstat(fd).st_uid != owner.st_uid:
        os.fchown(fd, owner.st_uid, owner.st_gid)


@contextlib.contextmanager
def file_lock(path: Path, busy_message: Optional[str] = None) -> Iterator[None]:
    """An exclusive flock on path for the block. With busy_message, a held lock raises Locked
    at once instead of waiting."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | (fcntl.LOCK_NB if busy_message else 0))
        except BlockingIOError:
            raise Locked(busy_message) from None
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
