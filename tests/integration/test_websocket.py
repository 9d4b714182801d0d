"""A websocket through nginx to an app's web container: the upgrade is proxied and frames flow both ways.

The client is written here with the standard library (RFC 6455: the HTTP/1.1 Upgrade handshake, masked
frames from the client, unmasked ones from the server), so minidokku needs no websocket package.
"""

import base64
import hashlib
import os
import socket
import struct
import time

from helpers import APPS, make_git_repo, wait_until_serving

HOST = "wsecho.example.test"
PAGE = "wsecho: websocket echo on /ws"  # tests/apps/wsecho/app.py answers it to plain HTTP
WEBSOCKET_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
TEXT, CLOSE = 0x1, 0x8


class WebSocket:
    """A websocket client connection over a plain socket: text messages and a clean close."""

    def __init__(self, port: int, host: str, path: str):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=10)
        key = base64.b64encode(os.urandom(16)).decode()
        self.sock.sendall(
            f"GET {path} HTTP/1.1\r\nHost: {host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n".encode()
        )
        self.buffer = b""
        while b"\r\n\r\n" not in self.buffer:
            self.buffer += self._recv()
        head, self.buffer = self.buffer.split(b"\r\n\r\n", 1)
        status, *lines = head.decode("latin-1").split("\r\n")
        self.status = status
        self.headers = {name.strip().lower(): value.strip() for name, value in (line.split(":", 1) for line in lines)}
        expected = base64.b64encode(hashlib.sha1((key + WEBSOCKET_GUID).encode()).digest()).decode()  # noqa: S324
        self.accepted = status.startswith("HTTP/1.1 101 ") and self.headers.get("sec-websocket-accept") == expected

    def send(self, opcode: int, payload: bytes) -> None:
        """One final frame; a client masks every frame it sends."""
        mask = os.urandom(4)
        length = len(payload)
        if length < 126:
            header = struct.pack("!BB", 0x80 | opcode, 0x80 | length)
        elif length < 1 << 16:
            header = struct.pack("!BBH", 0x80 | opcode, 0x80 | 126, length)
        else:
            header = struct.pack("!BBQ", 0x80 | opcode, 0x80 | 127, length)
        self.sock.sendall(header + mask + bytes(byte ^ mask[i % 4] for i, byte in enumerate(payload)))

    def receive(self) -> tuple[int, bytes]:
        """(opcode, payload) of the next frame, which the server must send final and unmasked."""
        first, second = self._take(2)
        assert first & 0x80 and not second & 0x80, f"a fragmented or masked server frame: {first:#x} {second:#x}"
        length = second & 0x7F
        if length == 126:
            (length,) = struct.unpack("!H", self._take(2))
        elif length == 127:
            (length,) = struct.unpack("!Q", self._take(8))
        return first & 0x0F, self._take(length)

    def send_text(self, text: str) -> None:
        self.send(TEXT, text.encode())

    def receive_text(self) -> str:
        opcode, payload = self.receive()
        assert opcode == TEXT, f"frame opcode {opcode:#x}, not a text frame"
        return payload.decode()

    def close(self) -> int:
        """Sends a close frame (1000, normal) and returns the status code of the server's close frame."""
        self.send(CLOSE, struct.pack("!H", 1000))
        opcode, payload = self.receive()
        self.sock.close()
        assert opcode == CLOSE, f"frame opcode {opcode:#x}, not a close frame"
        return struct.unpack("!H", payload[:2])[0]

    def _take(self, count: int) -> bytes:
        while len(self.buffer) < count:
            self.buffer += self._recv()
        taken, self.buffer = self.buffer[:count], self.buffer[count:]
        return taken

    def _recv(self) -> bytes:
        data = self.sock.recv(65536)
        if not data:
            raise ConnectionError(f"the connection closed; received so far: {self.buffer[:300]!r}")
        return data


def open_websocket(platform, host: str, path: str, timeout: float = 5) -> WebSocket:
    """A websocket through nginx. Right after a reload, old workers (without the app's site) still accept
    connections for a few tens of milliseconds beside the new ones, even after a page has served once:
    their 404 is asked again until timeout; any other refusal is returned as it is."""
    deadline = time.monotonic() + timeout
    while True:
        client = WebSocket(platform.http_port, host, path)
        if client.accepted or not client.status.startswith("HTTP/1.1 404 ") or time.monotonic() > deadline:
            return client
        client.sock.close()
        time.sleep(0.05)


def test_websocket_messages_are_echoed_through_nginx(platform, tmp_path):
    repo = make_git_repo(tmp_path / "wsecho", APPS / "wsecho")
    pushed = platform.push(repo, "wsecho")
    assert pushed.returncode == 0, pushed.stderr
    wait_until_serving(platform, HOST, PAGE)

    client = open_websocket(platform, HOST, "/ws")
    try:
        assert client.accepted, f"no websocket upgrade through nginx: {client.status} {client.headers}"
        assert client.headers.get("upgrade", "").lower() == "websocket"
        long_message = "miaou " * 50  # over 125 bytes: a frame with a 16-bit length, both ways
        client.send_text("hello through nginx")
        client.send_text(long_message)
        assert client.receive_text() == "hello through nginx"
        assert client.receive_text() == long_message
        assert client.close() == 1000
    finally:
        client.sock.close()
