"""Per-step timing of a command, shown when it traces (`--trace`, `trace:on`): each step, as it
ends, says how long it took, so that a slow deploy shows where its time goes."""

import time
from collections.abc import Callable
from typing import Optional

from minidokku.output import Output


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
