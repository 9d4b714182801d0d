"""The local ends of a one-off process (`run`, `enter`, `postgres:connect`): the caller's stdin,
stdout and stderr, copied to and from the process's attached stream."""

import os
import sys
import termios
import threading
from collections.abc import Callable
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
from tty import setraw
from typing import BinaryIO

from minidokku.engine.attach import Hijacked
from minidokku.engine.streams import STDERR
from minidokku.errors import EngineError

CHUNK = 65536


@dataclass(frozen=True)
class Streams:
    """The local ends of a one-off process: binary stdin, stdout and stderr."""

    stdin: BinaryIO
    stdout: BinaryIO
    stderr: BinaryIO

    @classmethod
    def of_this_process(cls) -> "Streams":
        return cls(sys.stdin.buffer, sys.stdout.buffer, sys.stderr.buffer)


def converse(stream: Hijacked, streams: Streams, resize: Callable[[int, int], None]) -> None:
    """Copies stdin to the process and its output back, until the output ends. With a TTY the
    local terminal is raw, so keys such as ^C reach the process, and its size is passed on."""
    with _raw(streams.stdin) if stream.tty else nullcontext():
        if stream.tty:
            _resize(resize, streams.stdout)
        threading.Thread(target=_pump_stdin, args=(streams.stdin, stream), daemon=True).start()
        for stream_id, data in stream.output():
            local = streams.stderr if stream_id == STDERR else streams.stdout
            local.write(data)
            local.flush()


def _pump_stdin(stdin: BinaryIO, stream: Hijacked) -> None:
    """Runs in its own thread, so a process that reads no input never blocks its output."""
    try:
        while True:
            data = os.read(stdin.fileno(), CHUNK)
            if not data:
                break
            stream.send(data)
        stream.close_stdin()
    except OSError:  # the process ended first, and its connection with it
        pass


def _resize(resize: Callable[[int, int], None], stdout: BinaryIO) -> None:
    size = os.get_terminal_size(stdout.fileno())
    try:
        resize(size.lines, size.columns)
    except EngineError:  # a process that has ended already has no terminal to resize
        pass


@contextmanager
def _raw(stdin: BinaryIO):
    saved = termios.tcgetattr(stdin.fileno())
    setraw(stdin.fileno())
    try:
        yield
    finally:
        termios.tcsetattr(stdin.fileno(), termios.TCSADRAIN, saved)
