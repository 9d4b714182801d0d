"""Work that mostly waits (a container's stop waits out its grace), done for many things at once:
what each waits overlaps, so the longest wait holds the others, not the sum of all of them. A
user key's app may set a grace of 600 s (ps:set stop-timeout-seconds): stopped one after another,
one app's containers would hold an admin's command on every app for that long each."""

import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

AT_MOST = 16  # threads at once: the engine socket's connection pool keeps as many (engine/transport.py)

Item = TypeVar("Item")
Result = TypeVar("Result")


def each(work: Callable[[Item], Result], items: Sequence[Item], at_most: int = AT_MOST) -> list[Result]:
    """work(item) for every item, each in a thread of its own (at_most, at most AT_MOST, at a
    time), in order of items; raises the first item's error once every one has ended."""
    if len(items) <= 1 or at_most <= 1:
        return [work(item) for item in items]
    with ThreadPoolExecutor(max_workers=min(len(items), at_most, AT_MOST)) as pool:
        futures = [pool.submit(work, item) for item in items]
    return [future.result() for future in futures]


def meanwhile(work: Callable[[], None], name: str) -> None:
    """Starts work in a thread of its own and returns: the command goes on without waiting for
    it, and the process waits for it before it exits (not a daemon thread). work must raise
    nothing it expects: what it raises is only printed as the thread's error."""
    threading.Thread(target=work, name=name).start()
