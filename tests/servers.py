"""Small real servers on loopback addresses for the fetch tests: an HTTP server that records every
request it gets (and serves a folder, or redirects), and git's own daemon."""

import functools
import socket
import subprocess
import threading
import time
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Optional

from helpers import free_port, git


class RecordingServer:
    """An HTTP server on address (any of 127/8): `requests` lists each request as
    "METHOD PATH HOST", `connections` counts every connection (HTTP or not), `authorizations` the
    Authorization headers sent; it serves the files of `folder`, or answers every request with a
    302 to `redirect_to`, or (challenge) with a 401 asking for a password, or with a 404."""

    def __init__(
        self, address: str = "127.0.0.1", folder: Optional[Path] = None, redirect_to: str = "", challenge: bool = False
    ):
        self.requests: list[str] = []
        self.authorizations: list[str] = []
        self.connections = 0
        recorded, target, server = self.requests, redirect_to, self

        class Handler(SimpleHTTPRequestHandler):
            def setup(self):
                server.connections += 1
                super().setup()

            def do_GET(self):
                recorded.append(f"GET {self.path} {self.headers.get('Host')}")
                if self.headers.get("Authorization"):
                    server.authorizations.append(self.headers["Authorization"])
                if challenge:
                    self.send_response(401)
                    self.send_header("WWW-Authenticate", 'Basic realm="private"')
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                elif target:
                    self.send_response(302)
                    self.send_header("Location", target)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                elif folder is None:
                    self.send_error(404)
                else:
                    super().do_GET()

            def log_message(self, *args):
                pass

        handler = functools.partial(Handler, directory=str(folder)) if folder else Handler
        self._server = ThreadingHTTPServer((address, 0), handler)
        self.address, self.port = address, self._server.server_address[1]

    def url(self, path: str = "/", host: str = "") -> str:
        return f"http://{host or self.address}:{self.port}{path}"

    def __enter__(self) -> "RecordingServer":
        threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True).start()
        return self

    def __exit__(self, *_exc) -> None:
        self._server.shutdown()
        self._server.server_close()


def served_over_dumb_http(repo: Path) -> Path:
    """A bare clone of repo that a plain file server can serve to git (its `info/refs` written)."""
    bare = repo.parent / f"{repo.name}.git"
    git(repo.parent, "clone", "-q", "--bare", str(repo), str(bare))
    git(bare, "update-server-info")
    return bare


class GitDaemon:
    """`git daemon` on address, exporting every repository under base (git://ADDRESS:PORT/NAME)."""

    def __init__(self, base: Path, address: str = "127.0.0.1"):
        self.address, self.port, self.base = address, free_port(), base

    def __enter__(self) -> "GitDaemon":
        self._process = subprocess.Popen(
            ["git", "daemon", "--export-all", "--reuseaddr", f"--base-path={self.base}",
             f"--listen={self.address}", f"--port={self.port}", str(self.base)],
            stderr=subprocess.DEVNULL,
        )  # fmt: skip
        self._wait_until_listening()
        return self

    def _wait_until_listening(self) -> None:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                socket.create_connection((self.address, self.port), timeout=1).close()
                return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError(f"git daemon does not listen on {self.address}:{self.port}")

    def __exit__(self, *_exc) -> None:
        self._process.terminate()
        self._process.wait(timeout=10)
