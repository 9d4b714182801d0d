"""Small in-memory tarballs: how files travel into containers through the Engine's archive API."""

import io
import os
import stat
import tarfile
from pathlib import Path
from typing import Optional

# path in the tar -> (content, mode); a path ending in / is a folder; a mode with stat.S_IFLNK is a
# symbolic link whose content is its target
Entries = dict[str, tuple[bytes, int]]
LINK = stat.S_IFLNK | 0o777


def pack(entries: Entries, onto: bytes = b"") -> bytes:
    """A tar of entries; with onto (a tar), one holding onto's members first, copied as they are
    (one archive for the Engine to unpack: each unpacking costs it a mount of the container)."""
    buffer = io.BytesIO()
    buffer.write(onto[: _end_of_members(onto)] if onto else b"")
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        for name, (content, mode) in sorted(entries.items()):
            info = tarfile.TarInfo(name.rstrip("/"))
            info.mode = mode
            if name.endswith("/"):
                info.type = tarfile.DIRTYPE
                tar.addfile(info)
            elif stat.S_ISLNK(mode):
                info.type, info.linkname, info.mode = tarfile.SYMTYPE, content.decode(), 0o777
                tar.addfile(info)
            else:
                info.size = len(content)
                tar.addfile(info, io.BytesIO(content))
    return buffer.getvalue()


def _end_of_members(tar_bytes: bytes) -> int:
    """Where the tar's end-of-archive blocks start (after its last member's content)."""
    with tarfile.open(fileobj=io.BytesIO(tar_bytes)) as tar:
        tar.getmembers()
        return tar.offset


def tree_entries(directory: Path, prefix: str, executable_dirs: tuple[str, ...] = ("bin",)) -> Entries:
    """The files of a directory tree, under prefix; files in a `bin/` folder become executable.
    A symbolic link is packed as a link, never followed: it resolves where the tar is unpacked
    (inside a container), so a fetched `bin/compile -> /home/dokku/APP/ENV` reads nothing of
    this machine. Anything else than files, folders and links (a fifo, a device) is left out."""
    entries: Entries = {}
    for parent, folders, files in os.walk(directory):  # os.walk does not enter linked folders
        folders[:] = sorted(name for name in folders if name != "__pycache__")
        for name in sorted(files) + [name for name in folders if os.path.islink(os.path.join(parent, name))]:
            path = Path(parent, name)
            relative = path.relative_to(directory)
            mode = path.lstat().st_mode
            if stat.S_ISLNK(mode):
                entries[f"{prefix}{relative.as_posix()}"] = (os.readlink(path).encode(), LINK)
            elif stat.S_ISREG(mode):
                executable = bool(set(relative.parts[:-1]) & set(executable_dirs)) or mode & 0o111
                entries[f"{prefix}{relative.as_posix()}"] = (_read_regular(path), 0o755 if executable else 0o644)
    return entries


def _read_regular(path: Path) -> bytes:
    """The content of path, which must still be the regular file it was (not swapped for a link)."""
    descriptor = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    with os.fdopen(descriptor, "rb") as file:
        if not stat.S_ISREG(os.fstat(file.fileno()).st_mode):
            raise OSError(f"{path} is no longer a regular file")
        return file.read()


def read_member(tar_bytes: bytes, name: str) -> bytes:
    """One regular file's content out of a tar (as the Engine returns it from GET .../archive);
    ValueError when the entry is a link or anything else than a file (never followed)."""
    with tarfile.open(fileobj=io.BytesIO(tar_bytes)) as tar:
        member = tar.getmember(name)
        if not member.isfile():
            raise ValueError(f"{name} is not a regular file")
        return tar.extractfile(member).read()


def top_files(tar_bytes: bytes, folder: str) -> dict[str, Optional[bytes]]:
    """The entries right under folder in a tar (as the Engine returns a folder from GET
    .../archive), by name: a regular file's content, None for anything else (a link, a folder).
    Deeper entries are left out."""
    found: dict[str, Optional[bytes]] = {}
    with tarfile.open(fileobj=io.BytesIO(tar_bytes)) as tar:
        for member in tar:
            parent, _, name = member.name.rstrip("/").rpartition("/")
            if parent == folder and name:
                found[name] = tar.extractfile(member).read() if member.isfile() else None
    return found


def subtree(tar_bytes: bytes, folder: str, prefix: str) -> bytes:
    """The members of a tar under folder (`web`, its first level `web/`), moved to prefix (`app/`
    or ""): `web/Procfile` becomes `app/Procfile`. Links are kept as links, never followed (they
    resolve where the tar is unpacked, inside a container or the engine's build context). A
    folder the tar lacks, or that is a link or a file in it, is a ValueError."""
    head = folder.rstrip("/") + "/"
    buffer = io.BytesIO()
    found = False
    with tarfile.open(fileobj=io.BytesIO(tar_bytes)) as source, tarfile.open(fileobj=buffer, mode="w") as target:
        for member in source:
            if not member.name.startswith(head) and member.name.rstrip("/") + "/" != head:
                continue
            rest = member.name[len(head) :]
            if not rest and not member.isdir():
                raise ValueError(f"{folder} is a link or a file, not a folder")
            found = True
            if not rest and not prefix:
                continue  # the folder itself is the top of a context without prefix
            member.name = (prefix + rest).rstrip("/") if rest else prefix.rstrip("/")
            target.addfile(member, source.extractfile(member) if member.isfile() else None)
    if not found:
        raise ValueError(f"{folder} is not a folder of the tree")
    return buffer.getvalue()


def links(tar_bytes: bytes, names: list[str]) -> list[str]:
    """Those of names that the tar holds as a link (symbolic or hard), in the order given."""
    wanted = set(names)
    with tarfile.open(fileobj=io.BytesIO(tar_bytes)) as tar:
        linked = {member.name for member in tar if member.name in wanted and (member.issym() or member.islnk())}
    return [name for name in names if name in linked]


def replace_file(tar_bytes: bytes, name: str, content: Optional[bytes]) -> bytes:
    """The tar with its entry name (a file, link or folder, and what is under it) replaced by a
    regular file holding content, or left out where content is None."""
    head = name + "/"
    buffer = io.BytesIO()
    with tarfile.open(fileobj=io.BytesIO(tar_bytes)) as source, tarfile.open(fileobj=buffer, mode="w") as target:
        for member in source:
            if member.name.rstrip("/") != name and not member.name.startswith(head):
                target.addfile(member, source.extractfile(member) if member.isfile() else None)
        if content is not None:
            info = tarfile.TarInfo(name)
            info.mode, info.size = 0o644, len(content)
            target.addfile(info, io.BytesIO(content))
    return buffer.getvalue()
