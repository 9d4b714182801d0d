"""The state store: flat, human-readable files under one root (default /home/dokku).

Layout (as Dokku's, so `cat` explains an app):
    ROOT/SETTINGS                    machine settings (env-file format), see settings.py
    ROOT/VHOST                       global domains, one a line
    ROOT/EVENTS                      the audit trail (`dokku events`), appended to only
    ROOT/ENV                         global config vars, which every app's containers get
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
import errno
import fcntl
import os
import pwd
import shutil
import stat
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Optional

from minidokku.errors import Locked, PermissionDenied
from minidokku.records import envfile

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
        commands running at once never interleave; never through a link (_open_no_link)."""
        path = self.path(app, name)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = _open_no_link(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o640)
        try:
            if running_as_root() and os.fstat(fd).st_nlink > 1:
                raise PermissionDenied(f"{path} has other hard links: root does not write to it")
            _give_to_root_owner(fd, self.root)
            os.write(fd, (line.rstrip("\n") + "\n").encode("utf-8"))
        finally:
            os.close(fd)

    def read_env(self, app: Optional[str]) -> dict[str, str]:
        """The app's config vars (APP/ENV); app None: the global ones (ROOT/ENV)."""
        return envfile.parse(self.read(app, "ENV") or "")

    def write_env(self, app: Optional[str], env: dict[str, str]) -> None:
        # 0600: values are secrets; only the dokku user reads them.
        self.write(app, "ENV", envfile.render(env), mode=0o600)

    def remove(self, app: Optional[str], name: str) -> None:
        with contextlib.suppress(FileNotFoundError):
            self.path(app, name).unlink()

    def remove_folder(self, app: Optional[str], name: str) -> None:
        shutil.rmtree(self.path(app, name), ignore_errors=True)

    def remove_app(self, app: str) -> None:
        shutil.rmtree(self.app_dir(app), ignore_errors=True)

    def move_app(self, old: str, new: str) -> None:
        """Renames the app's folder in one step (the same file system): every file of it is the
        old app's or the new one's, never some of each."""
        os.rename(self.app_dir(old), self.app_dir(new))

    def create_app_dir(self, app: str) -> Path:
        """The app's new folder, 0700: the repo, ENV and keys are the dokku user's alone."""
        folder = self.app_dir(app)
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        os.chmod(folder, 0o700)  # whatever the umask
        return folder

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
def file_lock(
    path: Path, busy_message: Optional[str] = None, shared: bool = False, create: bool = True
) -> Iterator[int]:
    """A flock on path for the block, exclusive unless shared; yields the file's descriptor.
    With busy_message, a held lock raises Locked at once instead of waiting. Without create, a
    missing file raises FileNotFoundError (and no folder is made for it)."""
    if create:
        path.parent.mkdir(parents=True, exist_ok=True)
    flags = os.O_WRONLY | os.O_APPEND | (os.O_CREAT if create else 0)
    with os.fdopen(_open_no_link(path, flags), "a") as handle:
        try:
            fcntl.flock(handle, (fcntl.LOCK_SH if shared else fcntl.LOCK_EX) | (fcntl.LOCK_NB if busy_message else 0))
        except BlockingIOError:
            raise Locked(busy_message) from None
        try:
            yield handle.fileno()
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _open_no_link(path: Path, flags: int, mode: int = 0o644) -> int:
    """os.open that refuses a link as the last part of path: a link the root's owner put there
    would make root create, write or act on the file it points to."""
    try:
        return os.open(path, flags | os.O_NOFOLLOW, mode)
    except OSError as error:
        if error.errno != errno.ELOOP:
            raise
        raise PermissionDenied(f"{path} is a symbolic link, which is not followed") from None


def running_as_root() -> bool:
    return os.geteuid() == 0


def read_trusted(path: Path) -> Optional[str]:
    """The text of a machine file that steers what runs (SETTINGS, .sshcommand), None when there
    is none. Read by root, the file must be root's own, writable by nobody else and not a link:
    else PermissionDenied, since whoever could write it (the dokku user owns the state root)
    would steer root."""
    if not running_as_root():
        try:
            return path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return None
    try:
        fd = _open_no_link(path, os.O_RDONLY)
    except FileNotFoundError:
        return None
    with os.fdopen(fd, encoding="utf-8") as handle:
        problem = _not_roots_alone(path, os.fstat(fd))
        if problem:
            raise PermissionDenied(
                f"{problem}: root does not act on it (if its content is yours: chown root: {path}; chmod go-w {path})"
            )
        return handle.read()


def root_only_problem(path: Path) -> Optional[str]:
    """Why someone other than root could change what path holds, or None: path and every folder
    above it must be root's and writable by no one else (a sticky folder like /tmp is fine above
    it: others cannot move what root put there), and none of them a link."""
    path = Path(os.path.abspath(path))
    for part in [*reversed(path.parents), path]:
        try:
            info = os.lstat(part)
        except FileNotFoundError:
            return f"{part} does not exist"
        if stat.S_ISLNK(info.st_mode):
            return f"{part} is a symbolic link"
        sticky_folder_above = part != path and stat.S_ISDIR(info.st_mode) and info.st_mode & stat.S_ISVTX
        problem = _not_roots_alone(part, info, allow_others_to_write=bool(sticky_folder_above))
        if problem:
            return problem
    return None


def root_only_tree_problem(folder: Path) -> Optional[str]:
    """root_only_problem for folder, then for everything in it: each file and folder root's and
    writable by no one else; a link only to a place root_only_problem accepts."""
    problem = root_only_problem(folder)
    if problem:
        return problem
    for parent, folders, files in os.walk(folder):
        for name in [*folders, *files]:
            path = Path(parent) / name
            info = os.lstat(path)
            if stat.S_ISLNK(info.st_mode):
                problem = root_only_problem(Path(os.path.realpath(path)))
                problem = problem and f"{path} links to a place others can change ({problem})"
            else:
                problem = _not_roots_alone(path, info)
            if problem:
                return problem
    return None


def make_root_only(folder: Path) -> None:
    """Makes folder and everything in it root's, readable by all and writable by root alone:
    folders and executables 0755, other files 0644 (no set-id bits, whatever an archive or a
    checkout brought)."""
    for parent, folders, files in os.walk(folder):
        for path in [Path(parent), *(Path(parent) / name for name in [*folders, *files])]:
            info = os.lstat(path)
            os.lchown(path, 0, 0)
            if not stat.S_ISLNK(info.st_mode):
                runnable = stat.S_ISDIR(info.st_mode) or info.st_mode & stat.S_IXUSR
                os.chmod(path, 0o755 if runnable else 0o644)


def _not_roots_alone(path: Path, info: os.stat_result, allow_others_to_write: bool = False) -> Optional[str]:
    if info.st_uid != 0:
        return f"{path} belongs to {_user_name(info.st_uid)}, not root"
    if info.st_mode & 0o022 and not allow_others_to_write:
        return f"{path} is writable by others than root (mode {stat.S_IMODE(info.st_mode):04o})"
    if stat.S_ISREG(info.st_mode) and info.st_nlink > 1:
        return f"{path} has other hard links"
    return None


def _user_name(uid: int) -> str:
    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:
        return f"uid {uid}"
