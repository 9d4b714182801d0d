"""Downloads over http(s) (`git:from-archive`, `plugin:install URL`), under the tenant rules of
access/urls.py for a tenant app; the one module of build/ that imports requests."""

from typing import Optional
from urllib.parse import urljoin

import requests
from requests.adapters import HTTPAdapter

from minidokku.access import urls
from minidokku.build.archives import MAX_BYTES, MAX_REDIRECTS
from minidokku.errors import NotFound, ValidationError


def fetch(url: str, policy: Optional[urls.Policy]) -> bytes:
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
