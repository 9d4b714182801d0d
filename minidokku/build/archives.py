"""Tarballs from elsewhere (`git:from-archive`, `plugin:install URL`): downloaded with a size
limit (under the tenant rules of access/urls.py for a tenant app), and unpacked with nothing that could
land outside the target folder."""

import io
import lzma
import tarfile
import zlib
from pathlib import Path, PurePosixPath
from typing import Optional

from minidokku.access import urls
from minidokku.errors import ValidationError

MAX_BYTES = 200 * 1024 * 1024
MAX_UNPACKED_BYTES = 1024 * 1024 * 1024  # a small gzip of zeros must not fill the disk
MAX_REDIRECTS = 5


def check_size(archive: bytes) -> None:
    if len(archive) > MAX_BYTES:
        raise ValidationError(f"the archive is larger than {MAX_BYTES // 2**20} MiB")


def download(url: str, policy: Optional[urls.Policy]) -> bytes:
    """Fetches an archive over http(s), refusing more than MAX_BYTES (build/downloads.py). Its
    module, and requests with it, is loaded only by a command that downloads."""
    from minidokku.build import downloads

    return downloads.fetch(url, policy)


def _unpack(archive: bytes, target: Path) -> None:
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        members = [m for m in tar.getmembers() if m.isfile() or m.isdir()]
        for member in members:
            path = PurePosixPath(member.name)
            if path.is_absolute() or ".." in path.parts:
                raise ValidationError(f"the archive has an unsafe path: {member.name[:100]!r}")
        if sum(member.size for member in members if member.isfile()) > MAX_UNPACKED_BYTES:
            raise ValidationError(f"the archive unpacks to more than {MAX_UNPACKED_BYTES // 2**20} MiB")
        target.mkdir(parents=True)
        for member in members:
            destination = target.joinpath(*PurePosixPath(member.name).parts)
            if member.isdir():
                destination.mkdir(parents=True, exist_ok=True)
                continue
            destination.parent.mkdir(parents=True, exist_ok=True)
            destination.write_bytes(tar.extractfile(member).read())
            destination.chmod(0o755 if member.mode & 0o111 else 0o644)


def extract(archive: bytes, target: Path) -> Path:
    """Unpacks regular files and folders (no links, devices, absolute or `..` paths); a single
    top-level folder (as GitHub's tarballs have) is taken as the root. Returns the root."""
    try:
        _unpack(archive, target)
    except (tarfile.TarError, EOFError, OSError, zlib.error, lzma.LZMAError) as error:
        # a cut-off download, or paths that clash (a file and a folder of one name)
        raise ValidationError(f"the archive cannot be unpacked: {error}") from None
    entries = list(target.iterdir())
    if not entries:
        raise ValidationError("the archive holds no files")
    return entries[0] if len(entries) == 1 and entries[0].is_dir() else target
