"""Small in-memory tarballs: how files travel into containers through the Engine's archive API."""

import io
import tarfile
from pathlib import Path

Entries = dict[str, tuple[bytes, int]]  # path in the tar -> (content, mode); a path ending in / is a folder


def pack(entries: Entries) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        for name, (content, mode) in sorted(entries.items()):
            info = tarfile.TarInfo(name.rstrip("/"))
            info.mode = mode
            if name.endswith("/"):
                info.type = tarfile.DIRTYPE
                tar.addfile(info)
            else:
                info.size = len(content)
                tar.addfile(info, io.BytesIO(content))
    return buffer.getvalue()


def tree_entries(directory: Path, prefix: str, executable_dirs: tuple[str, ...] = ("bin",)) -> Entries:
    """The files of a directory tree, under prefix; files in a `bin/` folder become executable."""
    entries: Entries = {}
    for path in sorted(directory.rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts:
            relative = path.relative_to(directory)
            executable = bool(set(relative.parts[:-1]) & set(executable_dirs)) or path.stat().st_mode & 0o111
            entries[f"{prefix}{relative.as_posix()}"] = (path.read_bytes(), 0o755 if executable else 0o644)
    return entries


def read_member(tar_bytes: bytes, name: str) -> bytes:
    """One regular file's content out of a tar (as the Engine returns it from GET .../archive);
    ValueError when the entry is a link or anything else than a file (never followed)."""
    with tarfile.open(fileobj=io.BytesIO(tar_bytes)) as tar:
        member = tar.getmember(name)
        if not member.isfile():
            raise ValueError(f"{name} is not a regular file")
        return tar.extractfile(member).read()
