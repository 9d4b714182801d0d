"""Hijacked Engine connections: a container's attach or an exec's start, then raw bytes both ways.

requests cannot hand over a connection after an HTTP upgrade, so this speaks the little HTTP it
needs on a unix socket of its own: one request with `Connection: Upgrade`, the answer's status line
and headers (101, or 200 from engines that do not upgrade), then the stream. What the caller
writes is the process's stdin; what it reads is its output, multiplexed as in streams.py unless
the process has a TTY, whose output is one raw stream.
"""

import contextlib
import json
import re
import socket
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Optional

from minidokku.engine import streams
from minidokku.errors import EngineError, EngineNotFound

CHUNK = 65536
MAX_HEAD = 65536
HANDSHAKE_TIMEOUT = 60.0
STATUS_LINE = re.compile(r"HTTP/[0-9.]+ ([0-9]{3})(?: |$)")


@dataclass(frozen=True)
class Head:
    status: int
    headers: dict[str, str]  # names in lower case


class Hijacked:
    """The process's stdin (send, close_stdin) and output (output) over one socket."""

    def __init__(self, sock: socket.socket, tty: bool, early: bytes):
        self.sock = sock
        self.tty = tty
        self.early = early  # stream bytes that arrived with the response head

    def send(self, data: bytes) -> None:
        self.sock.sendall(data)

    def close_stdin(self) -> None:
        """Half-closes the connection: the process reads end-of-file, its output still flows."""
        self.sock.shutdown(socket.SHUT_WR)

    def output(self) -> Iterator[tuple[int, bytes]]:
        """Yields (stream id, bytes) as they arrive, until the process's output ends."""
        chunks = self._chunks()
        if self.tty:
            return ((streams.STDOUT, chunk) for chunk in chunks)
        return streams.demultiplex(chunks)

    def shut(self) -> None:
        """Ends the connection both ways: a send blocked in another thread fails at once (a
        close alone may leave it waiting)."""
        with contextlib.suppress(OSError):  # the engine shut it first
            self.sock.shutdown(socket.SHUT_RDWR)

    def close(self) -> None:
        self.sock.close()

    def __enter__(self) -> "Hijacked":
        return self

    def __exit__(self, *_exc) -> None:
        self.close()

    def _chunks(self) -> Iterator[bytes]:
        if self.early:
            yield self.early
        while True:
            try:
                chunk = self.sock.recv(CHUNK)
            except OSError as error:  # the engine reset it (it went away mid-stream)
                raise EngineError(f"the connection to the Docker engine broke: {error}") from None
            if not chunk:
                return
            yield chunk


def hijack(socket_path: str, path: str, body: Optional[dict], tty: bool) -> Hijacked:
    """POSTs to path (with the API version) asking for an upgrade, and returns the taken-over stream."""
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        sock.settimeout(HANDSHAKE_TIMEOUT)
        sock.connect(socket_path)
        sock.sendall(request(path, body))
        head, rest = read_head(sock)
        if head.status not in (101, 200):
            raise error_from(head, read_body(sock, head, rest))
        sock.settimeout(None)
        return Hijacked(sock, tty, rest)
    except OSError as error:
        sock.close()
        raise EngineError(f"the Docker engine does not answer at {socket_path}: {error}") from None
    except BaseException:
        sock.close()
        raise


def request(path: str, body: Optional[dict]) -> bytes:
    payload = json.dumps(body).encode() if body is not None else b""
    head = (
        f"POST {path} HTTP/1.1\r\n"
        "Host: localhost\r\n"
        "Connection: Upgrade\r\n"
        "Upgrade: tcp\r\n"
        "Content-Type: application/json\r\n"
        f"Content-Length: {len(payload)}\r\n"
        "\r\n"
    )
    return head.encode("ascii") + payload


def read_head(sock: socket.socket) -> tuple[Head, bytes]:
    """Reads up to the blank line ending the headers; returns them and the bytes read past it."""
    data = b""
    while b"\r\n\r\n" not in data:
        if len(data) > MAX_HEAD:
            raise EngineError("the Docker engine sent an over-long response head")
        chunk = sock.recv(CHUNK)
        if not chunk:
            raise EngineError("the Docker engine closed the connection before it answered")
        data += chunk
    raw, _, rest = data.partition(b"\r\n\r\n")
    return parse_head(raw), rest


def parse_head(raw: bytes) -> Head:
    status_line, *header_lines = raw.decode("latin-1").split("\r\n")
    match = STATUS_LINE.match(status_line)
    if not match:
        raise EngineError(f"the Docker engine sent a malformed status line: {status_line!r}")
    headers = {}
    for line in header_lines:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return Head(int(match.group(1)), headers)


def read_body(sock: socket.socket, head: Head, rest: bytes) -> bytes:
    """An error's body: Content-Length bytes, or up to the end when the engine sets none."""
    length = int(head.headers["content-length"]) if "content-length" in head.headers else None
    body = rest
    while length is None or len(body) < length:
        chunk = sock.recv(CHUNK)
        if not chunk:
            break
        body += chunk
    return body if length is None else body[:length]


def error_from(head: Head, body: bytes) -> EngineError:
    """The engine answers errors in JSON ({"message": ...}) or, on attach, as plain text."""
    text = body.decode("utf-8", "replace").strip()
    try:
        message = json.loads(text).get("message", text)
    except (ValueError, AttributeError):
        message = text
    message = message.strip() or f"HTTP {head.status}"
    if head.status == 404:
        return EngineNotFound(message, 404)
    return EngineError(f"Docker engine: {message}", head.status)
