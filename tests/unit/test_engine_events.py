"""Engine.events against a socket that speaks as dockerd does: its chunked JSON lines come as
they are sent, and the stream ends (without an error) when the engine closes the connection, as a
stopping engine does, even in the middle of a chunk."""

import socket
import threading

import pytest

from minidokku.engine.client import Engine
from minidokku.errors import EngineError

HEAD = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"


def chunk(data: bytes) -> bytes:
    return b"%x\r\n%s\r\n" % (len(data), data)


def serve_once(path: str, reply: bytes) -> threading.Thread:
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(path)
    server.listen(1)

    def answer() -> None:
        connection, _ = server.accept()
        with connection, server:
            connection.recv(65536)  # the request
            connection.sendall(reply)

    thread = threading.Thread(target=answer, daemon=True)
    thread.start()
    return thread


@pytest.mark.parametrize("ending", [b"0\r\n\r\n", b'40\r\n{"Type":'], ids=["closed", "broken off"])
def test_events_come_as_sent_and_end_when_the_engine_goes(tmp_path, ending):
    path = str(tmp_path / "docker.sock")
    events = [b'{"Type":"container","Action":"start"}\n', b'{"Type":"container","Action":"die"}\n']
    serve_once(path, HEAD + b"".join(chunk(e) for e in events) + ending)
    assert [e["Action"] for e in Engine(path).events()] == ["start", "die"]


def test_an_engine_that_does_not_answer_raises(tmp_path):
    with pytest.raises(EngineError, match="does not answer"):
        Engine(str(tmp_path / "nothing.sock")).events()


def test_an_engine_that_takes_the_connection_and_answers_nothing_is_an_engine_error(tmp_path):
    """As dockerd does while it starts again: its socket takes connections before it answers.
    Engine.ping says False then (a test's wait for the engine to come back failed on it)."""
    path = str(tmp_path / "docker.sock")
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(path)
    server.listen(1)
    with server, pytest.raises(EngineError, match="does not answer at .*timed out"):
        Engine(path)._request("GET", "/_ping", timeout=0.2)
