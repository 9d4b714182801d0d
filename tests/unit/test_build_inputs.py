"""A buildpack build's inputs travel on its container's stdin (builders/buildpacks._run): a fake
engine on one end of a socket pair stands in for the attached container."""

import socket
import struct
import threading

from minidokku.build.builders import buildpacks
from minidokku.engine.attach import Hijacked
from minidokku.engine.streams import STDOUT
from minidokku.errors import EngineError
from minidokku.output import RecordingOutput

INPUTS = b"x" * (16 * 1024 * 1024)  # far more than the socket pair buffers: a send blocks until read


def frame(payload: bytes) -> bytes:
    return struct.pack(">BxxxL", STDOUT, len(payload)) + payload


class AttachedEngine:
    """The engine calls _run makes; the container behind `ours` does what `container` does with
    the other end, after its start."""

    def __init__(self, container):
        self.ours, self.theirs = socket.socketpair()
        self.container = threading.Thread(target=container, args=(self.theirs,), daemon=True)
        self.stopped = []

    def attach_container(self, container_id: str, tty: bool) -> Hijacked:
        return Hijacked(self.ours, tty, b"")

    def start_container(self, container_id: str) -> None:
        self.container.start()

    def wait_container(self, container_id: str) -> int:
        self.container.join()
        return 0

    def stop_container(self, container_id: str, timeout: int) -> None:
        self.stopped.append(container_id)


def run_at_most(engine: AttachedEngine, out: RecordingOutput, seconds: float = 30) -> buildpacks._Run:
    """_run in a thread, so that a send that never ends fails the test instead of hanging it."""
    found = []
    runner = threading.Thread(target=lambda: found.append(buildpacks._run(engine, "c1", INPUTS, out, 600)))
    runner.daemon = True
    runner.start()
    runner.join(seconds)
    assert found, f"_run still runs after {seconds} s"
    return found[0]


def test_every_input_arrives_and_the_output_is_relayed_line_by_line():
    received = bytearray()

    def container(sock: socket.socket) -> None:
        while chunk := sock.recv(65536):  # until our stdin ends
            received.extend(chunk)
        sock.sendall(frame(b"-----> Python app detected\nunpacked "))
        sock.sendall(frame(str(len(received)).encode() + b" bytes\n"))
        sock.shutdown(socket.SHUT_WR)

    out = RecordingOutput()
    run = run_at_most(AttachedEngine(container), out)
    assert (run.status, run.expired, run.inputs_sent) == (0, False, True)
    assert bytes(received) == INPUTS
    assert out.lines == ["-----> Python app detected", f"unpacked {len(INPUTS)} bytes"]


def test_a_container_that_ends_without_reading_its_inputs_does_not_hold_the_build():
    """The engine half-closes and reads no more: the blocked send ends, and the build, whose
    status says 0, is told its inputs never all arrived (a tar cut short unpacks without error)."""

    def container(sock: socket.socket) -> None:
        sock.sendall(frame(b"ended early\n"))
        sock.shutdown(socket.SHUT_WR)

    out = RecordingOutput()
    run = run_at_most(AttachedEngine(container), out)
    assert (run.status, run.expired, run.inputs_sent) == (0, False, False)
    assert out.lines == ["ended early"]


def test_an_engine_gone_mid_build_never_counts_the_inputs_sent_and_leaves_no_send_waiting():
    """Which of the two threads meets the reset is the kernel's race: the reader gets an
    EngineError, or the sender does and the reader the end of the output; either fails the build."""

    def container(sock: socket.socket) -> None:
        sock.sendall(frame(b"building\n"))
        sock.recv(1, socket.MSG_PEEK)  # the send began
        sock.close()  # with our stdin unread: our end is reset

    try:
        run = buildpacks._run(AttachedEngine(container), "c1", INPUTS, RecordingOutput(), 600)
    except EngineError as error:
        assert "connection to the Docker engine broke" in str(error)
    else:
        assert not run.inputs_sent
    assert not [thread for thread in threading.enumerate() if thread.name == buildpacks.SENDER_THREAD]
