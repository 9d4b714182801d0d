"""Tarballs from elsewhere (`git:from-archive`, `plugin:install URL`): downloaded with a size
limit, and unpacked with nothing that could land outside the target folder."""

import io
import lzma
import tarfile
import zlib
from pathlib import Path, PurePosixPath

import requests

from minidokku.errors import NotFound, ValidationError

MAX_BYTES = 200 * 1024 * 1024


def check_size(archive: bytes) -> None:
    if len(archive) > MAX_BYTES:
        raise ValidationError(f"the archive is larger than {MAX_BYTES // 2**20} MiB")


def download(url: str) -> bytes:
    """Fetches an archive over http(s), refusing more than MAX_BYTES."""
    if not url.startswith(("https://", "http://")):
        raise ValidationError(f"give an http(s) URL or - for stdin, not {url[:80]!r}")
    try:
        with requests.get(url, stream=True, timeout=60) as response:
            response.raise_for_status()
            data = bytearray()
            for chunk in response.iter_content(chunk_size=1 << 20):
                data += chunk
                if len(data) > MAX_BYTES:
                    raise ValidationError(f"the archive is larger than {MAX_BYTES // 2**20} MiB")
            return bytes(data)
    except requests.RequestException as error:
        raise NotFound(f"could not download {url}: {error}") from None


def _unpack(archive: bytes, target: Path) -> None:
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        members = [m for m in tar.getmembers() if m.isfile() or m.isdir()]
        for member in members:
            path = PurePosixPath(member.name)
            if path.is_absolute() or ".." in path.parts:
                raise ValidationError(f"the archive has an unsafe path: {member.name[:100]!r}")
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
