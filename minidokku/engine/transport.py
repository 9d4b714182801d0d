"""A requests transport adapter that speaks HTTP over a unix socket.

Knows sockets, not Docker: mount it on a session and `http+unix://%2Fpath%2Fto.sock/...` URLs
go through that socket (the requests-unixsocket idea).
"""

import socket
from urllib.parse import unquote, urlparse

import requests
import urllib3
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection
from urllib3.connectionpool import HTTPConnectionPool

SCHEME = "http+unix://"
# What a request may raise besides an HTTP status, as requests and urllib3 name it: the socket
# does not answer (nobody listens, or an engine that is starting takes the connection and answers
# nothing within the timeout); a streamed response breaks off.
CONNECTION_ERRORS = (requests.ConnectionError, requests.Timeout)
STREAM_ERRORS = (requests.RequestException, urllib3.exceptions.HTTPError)


class UnixHTTPConnection(HTTPConnection):
    def __init__(self, socket_path: str, timeout: float):
        super().__init__("localhost", timeout=timeout)
        self.socket_path = socket_path

    def connect(self) -> None:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(self.timeout)
        sock.connect(self.socket_path)
        self.sock = sock


POOL_SIZE = 16  # connections kept for requests made at once (runtime/at_once.py); more are made and closed


class UnixHTTPConnectionPool(HTTPConnectionPool):
    def __init__(self, socket_path: str, timeout: float):
        super().__init__("localhost", timeout=timeout, maxsize=POOL_SIZE)
        self.socket_path = socket_path
        self.socket_timeout = timeout

    def _new_conn(self) -> UnixHTTPConnection:
        return UnixHTTPConnection(self.socket_path, self.socket_timeout)


class UnixSocketAdapter(HTTPAdapter):
    """Routes every request to the socket named in the URL's host part (percent-encoded)."""

    def __init__(self, timeout: float = 60.0):
        super().__init__()
        self.timeout = timeout
        self.pools = {}

    def get_connection_with_tls_context(self, request, verify, proxies=None, cert=None):
        return self._pool(request.url)

    def get_connection(self, url, proxies=None):
        return self._pool(url)

    def _pool(self, url: str) -> UnixHTTPConnectionPool:
        socket_path = unquote(urlparse(url).netloc)
        if socket_path not in self.pools:
            self.pools[socket_path] = UnixHTTPConnectionPool(socket_path, self.timeout)
        return self.pools[socket_path]

    def request_url(self, request, proxies):
        return request.path_url

    def close(self) -> None:
        for pool in self.pools.values():
            pool.close()
        self.pools.clear()
        super().close()


def session_for(socket_path: str, timeout: float = 60.0) -> "tuple[requests.Session, str]":
    """Returns a session with the adapter mounted, and the base URL for that socket."""
    session = requests.Session()
    session.mount(SCHEME, UnixSocketAdapter(timeout))
    return session, SCHEME + socket_path.replace("/", "%2F")
