"""The hijacked Engine connection without Docker: a fake engine on a unix socket in a temp dir."""

import json
import socket
import struct
import threading

import pytest

from minidokku.engine import attach
from minidokku.engine.attach import Head, Hijacked
from minidokku.engine.streams import STDERR, STDOUT
from minidokku.errors import EngineError, EngineNotFound

UPGRADED = b"HTTP/1.1 101 UPGRADED\r\nContent-Type: application/vnd.docker.raw-stream\r\nUpgrade: tcp\r\n\r\n"


def frame(stream_id: int, payload: bytes) -> bytes:
    return struct.pack(">BxxxL", stream_id, len(payload)) + payload


class FakeEngine:
    """Accepts one connection, records the request head, sends `answer`, then runs `then(conn)`."""

    def __init__(self, path: str, answer: bytes, then=None):
        self.path = path
        self.request = b""
        self.server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.server.bind(path)
        self.server.listen(1)
        self.thread = threading.Thread(target=self._serve, args=(answer, then), daemon=True)
        self.thread.start()

    def _serve(self, answer: bytes, then) -> None:
        conn, _ = self.server.accept()
        with conn:
            while b"\r\n\r\n" not in self.request:
                self.request += conn.recv(4096)
            length = int(self.request.split(b"Content-Length: ")[1].split(b"\r\n")[0])
            while len(self.request.partition(b"\r\n\r\n")[2]) < length:
                self.request += conn.recv(4096)
            conn.sendall(answer)
            if then:
                then(conn)
        self.server.close()


@pytest.fixture
def socket_path(tmp_path):
    return str(tmp_path / "engine.sock")


def test_the_request_asks_for_an_upgrade_and_carries_the_json_body():
    raw = attach.request("/v1.41/exec/abc/start", {"Detach": False, "Tty": True})
    head, _, body = raw.partition(b"\r\n\r\n")
    lines = head.decode().split("\r\n")
    assert lines[0] == "POST /v1.41/exec/abc/start HTTP/1.1"
    assert {"Connection: Upgrade", "Upgrade: tcp", f"Content-Length: {len(body)}"} <= set(lines)
    assert json.loads(body) == {"Detach": False, "Tty": True}


def test_parse_head_reads_the_status_and_lower_cases_header_names():
    head = attach.parse_head(b"HTTP/1.1 404 Not Found\r\nContent-Type: application/json\r\nContent-Length: 42")
    assert head == Head(404, {"content-type": "application/json", "content-length": "42"})


MALFORMED = [b"", b"garbage", b"HTTP/1.1 abc OK", "HTTP/1.1 1²1 OK".encode(), b"HTTP/1.1 2000", b"SSH-2.0-OpenSSH"]


@pytest.mark.parametrize("status_line", MALFORMED)
def test_a_malformed_status_line_is_an_engine_error(status_line):
    with pytest.raises(EngineError, match="malformed status line"):
        attach.parse_head(status_line)


def test_stream_bytes_that_arrive_with_the_head_are_not_lost(socket_path):
    early = frame(STDOUT, b"first\n")
    FakeEngine(socket_path, UPGRADED + early, then=lambda conn: conn.sendall(frame(STDERR, b"second\n")))
    with attach.hijack(socket_path, "/v1.41/containers/c/attach", None, tty=False) as stream:
        assert list(stream.output()) == [(STDOUT, b"first\n"), (STDERR, b"second\n")]


def test_a_tty_stream_is_raw_bytes(socket_path):
    FakeEngine(socket_path, UPGRADED + b"\x01\x00raw", then=lambda conn: conn.sendall(b" bytes\r\n"))
    with attach.hijack(socket_path, "/v1.41/exec/e/start", {"Detach": False, "Tty": True}, tty=True) as stream:
        assert b"".join(data for _stream, data in stream.output()) == b"\x01\x00raw bytes\r\n"


def test_stdin_reaches_the_engine_and_a_half_close_ends_it_while_output_still_flows(socket_path):
    def echo_until_eof(conn):
        received = b""
        while chunk := conn.recv(4096):
            received += chunk
        conn.sendall(frame(STDOUT, received))

    engine = FakeEngine(socket_path, UPGRADED, then=echo_until_eof)
    with attach.hijack(socket_path, "/v1.41/containers/c/attach", None, tty=False) as stream:
        stream.send(b"hi\n")
        stream.close_stdin()
        assert list(stream.output()) == [(STDOUT, b"hi\n")]
    assert engine.request.startswith(b"POST /v1.41/containers/c/attach HTTP/1.1\r\n")


def test_an_error_with_a_json_body_is_read_to_its_length_on_a_connection_kept_open(socket_path):
    body = b'{"message":"No such exec instance: nope"}\n'
    answer = b"HTTP/1.1 404 Not Found\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n" % len(body)
    released = threading.Event()
    FakeEngine(socket_path, answer + body, then=lambda conn: released.wait(5))  # keeps the connection open
    with pytest.raises(EngineNotFound, match="^No such exec instance: nope$"):
        attach.hijack(socket_path, "/v1.41/exec/nope/start", {"Detach": False, "Tty": False}, tty=False)
    released.set()


def test_an_error_with_a_text_body_and_no_length_is_read_to_the_end(socket_path):
    answer = b"HTTP/1.1 409 Conflict\r\nContent-Type: application/vnd.docker.raw-stream\r\n\r\n"
    FakeEngine(socket_path, answer + b"container is not running\r\n")
    with pytest.raises(EngineError, match="^Docker engine: container is not running$") as raised:
        attach.hijack(socket_path, "/v1.41/containers/c/attach", None, tty=False)
    assert raised.value.status == 409


def test_an_engine_that_closes_before_answering_is_an_engine_error(socket_path):
    FakeEngine(socket_path, b"HTTP/1.1 101 UPGR")
    with pytest.raises(EngineError, match="closed the connection before it answered"):
        attach.hijack(socket_path, "/v1.41/containers/c/attach", None, tty=False)


def test_no_engine_at_the_socket_is_an_engine_error(socket_path):
    with pytest.raises(EngineError, match="does not answer at"):
        attach.hijack(socket_path, "/v1.41/containers/c/attach", None, tty=False)


def test_output_of_a_stream_cut_mid_frame_ends_with_the_whole_frames():
    ours, theirs = socket.socketpair()
    theirs.sendall(frame(STDOUT, b"whole") + frame(STDERR, b"cut off")[:-3])
    theirs.close()
    with Hijacked(ours, tty=False, early=b"") as stream:
        assert list(stream.output()) == [(STDOUT, b"whole")]


def test_a_connection_the_engine_resets_mid_stream_is_an_engine_error():
    """A unix socket closed with data it never read resets its peer's reads (ECONNRESET): an
    engine gone mid-build gets the build's one-line error, not a traceback."""
    ours, theirs = socket.socketpair()
    ours.sendall(b"stdin the engine never reads")
    theirs.sendall(frame(STDOUT, b"started\n"))
    theirs.close()
    with Hijacked(ours, tty=False, early=b"") as stream:
        output = stream.output()
        with pytest.raises(EngineError, match="^the connection to the Docker engine broke: "):
            list(output)
