"""Tarballs from elsewhere (`git:from-archive`, `plugin:install URL`): downloaded with a size
limit (under the tenant rules of access/urls.py for a tenant app), and unpacked with nothing that could
land outside the target folder."""

import io
import lzma
import tarfile
import zlib
from pathlib import Path, PurePosixPath
from typing import Optional
from urllib.parse import urljoin

import requests
from requests.adapters import HTTPAdapter

from minidokku.access import urls
from minidokku.errors import NotFound, ValidationError

MAX_BYTES = 200 * 1024 * 1024
MAX_UNPACKED_BYTES = 1024 * 1024 * 1024  # a small gzip of zeros must not fill the disk
MAX_REDIRECTS = 5


def check_size(archive: bytes) -> None:
    if len(archive) > MAX_BYTES:
        raise ValidationError(f"the archive is larger than {MAX_BYTES // 2**20} MiB")


def download(url: str, policy: Optional[urls.Policy]) -> bytes:
    """Fetches an archive over http(s), refusing more than MAX_BYTES. Redirects are followed
    here, up to MAX_REDIRECTS, so that under a policy (a tenant app's) each one is checked as a
    new URL; each request then goes to the address the policy checked (see _get)."""
    for _hop in range(MAX_REDIRECTS + 1):
        if not url.startswith(("https://", "http://")):
            raise ValidationError(f"give an http(s) URL or - for stdin, not {url[:80]!r}")
        with requests.Session() as session:
            try:
                with _get(session, url, policy) as response:
                    if response.is_redirect:
                        url = urljoin(url, response.headers["location"])
                        continue
                    response.raise_for_status()
                    return _read_limited(response)
            except requests.RequestException as error:
                raise NotFound(f"could not download {url[:200]}: {error}") from None
    raise NotFound(f"could not download {url[:200]}: more than {MAX_REDIRECTS} redirects")


def _get(session: requests.Session, url: str, policy: Optional[urls.Policy]) -> requests.Response:
    if policy is None:
        return session.get(url, stream=True, timeout=60, allow_redirects=False)
    destination = urls.destination(url, policy)
    session.trust_env = False  # no proxy that would look the name up again, no ~/.netrc credentials
    if destination.scheme == "https":
        session.mount("https://", _NamedTLS(destination.host))
    return session.get(
        destination.with_address(),
        headers={"Host": destination.netloc},
        stream=True,
        timeout=60,
        allow_redirects=False,
    )


class _NamedTLS(HTTPAdapter):
    """Connects to an address while TLS sends and verifies the host name the URL had."""

    def __init__(self, host: str):
        self._host = host
        super().__init__()

    def init_poolmanager(self, *args, **kwargs) -> None:
        super().init_poolmanager(*args, server_hostname=self._host, assert_hostname=self._host, **kwargs)


def _read_limited(response: requests.Response) -> bytes:
    data = bytearray()
    for chunk in response.iter_content(chunk_size=1 << 20):
        data += chunk
        if len(data) > MAX_BYTES:
            raise ValidationError(f"the archive is larger than {MAX_BYTES // 2**20} MiB")
    return bytes(data)


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
