"""How long steps take, shown two ways.

- Per-step timing of a command, shown when it traces (`--trace`, `trace:on`): each step, as it
  ends, says how long it took, so that a slow deploy shows where its time goes (StepTimer).
- Progress a person can follow: a long step says what it waits for while it waits (waiting), and
  a long build its stages with the time since it began (Stopwatch).
"""

import contextlib
import threading
import time
from collections.abc import Callable, Iterator
from typing import Optional

from minidokku.output import Output

WAIT_SHOWN_AFTER = 5.0  # seconds a step waits quietly before it says what for
WAIT_REPEATED_EVERY = 15.0  # then again, every so many seconds, with the time waited so far


class StepTimer:
    """Laps: done(step) reports the seconds since the previous done() (or since the timer was
    made) as one line on out; without out it does nothing (the command does not trace)."""

    def __init__(self, out: Optional[Output] = None, clock: Callable[[], float] = time.monotonic):
        self.out = out
        self.clock = clock
        self.last = clock()

    def done(self, step: str) -> None:
        if self.out is None:
            return
        now = self.clock()
        self.out.timing(step, now - self.last)
        self.last = now


class Stopwatch:
    """The time since it was made, as a person reads it: `12 s`, `1 min 05 s`."""

    def __init__(self, clock: Callable[[], float] = time.monotonic):
        self.clock = clock
        self.started = clock()

    def __str__(self) -> str:
        seconds = int(self.clock() - self.started)
        return f"{seconds} s" if seconds < 60 else f"{seconds // 60} min {seconds % 60:02d} s"


@contextlib.contextmanager
def waiting(
    out: Output, what: str, after: float = WAIT_SHOWN_AFTER, every: float = WAIT_REPEATED_EVERY
) -> Iterator[None]:
    """While the block runs: once it has run `after` seconds, and every `every` seconds from then,
    a line `Waiting for WHAT (N s so far)`. A thread writes them: the block itself prints nothing
    meanwhile (a step that only waits: checks, a window, an Engine call)."""
    finished = threading.Event()
    stopwatch = Stopwatch()

    def tell() -> None:
        delay = after
        while not finished.wait(delay):
            try:
                out.info(f"Waiting for {what} ({stopwatch} so far)")
            except OSError:  # the terminal went (EIO, a broken pipe): the block goes on, unseen
                return
            delay = every

    teller = threading.Thread(target=tell, name="minidokku-waiting", daemon=True)
    teller.start()
    try:
        yield
    finally:
        finished.set()
        teller.join()
