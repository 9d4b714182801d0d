"""Work that mostly waits (a container's stop waits out its grace), done for many things at once:
what each waits overlaps, so the longest wait holds the others, not the sum of all of them. A
user key's app may set a grace of 600 s (ps:set stop-timeout-seconds): stopped one after another,
one app's containers would hold an admin's command on every app for that long each."""

import contextlib
import threading
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Optional, TypeVar

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


class _Hold:
    """The threads meanwhile() made while a hold was on, not yet started."""

    def __init__(self) -> None:
        self.threads: list[threading.Thread] = []
        self.let_go = False


_hold: Optional[_Hold] = None  # the command's hold, while one is on (holding_back)
_hold_lock = threading.Lock()


def meanwhile(work: Callable[[], None], name: str) -> None:
    """Starts work in a thread of its own and returns: the command goes on without waiting for
    it, and the process waits for it before it exits (not a daemon thread). work must raise
    nothing it expects: what it raises is only printed as the thread's error. Under a hold
    (holding_back), the thread starts when the hold lets go."""
    thread = threading.Thread(target=work, name=name)
    with _hold_lock:
        if _hold is not None and not _hold.let_go:
            _hold.threads.append(thread)
            return
    thread.start()


@contextlib.contextmanager
def holding_back() -> Iterator[None]:
    """Within the block, the work given to meanwhile() waits until let_go() is called, or the
    block ends, before it starts; the block's end waits for the work it held. A deploy holds its
    build's clean-up back until traffic moved: the engine's walk over the build container's
    files, started at once, made the new container's start take 1 s instead of 0.35 s. A hold
    within a hold adds nothing: the outer one governs."""
    global _hold
    with _hold_lock:
        if _hold is not None:
            outer = True
        else:
            outer, _hold = False, _Hold()
    if outer:
        yield
        return
    try:
        yield
    finally:
        let_go()
        with _hold_lock:
            held, _hold = _hold, None
        for thread in held.threads:
            thread.join()


def let_go() -> None:
    """Starts the work the command's hold keeps back (none: nothing to do); from here on,
    meanwhile() starts work at once again."""
    with _hold_lock:
        if _hold is None or _hold.let_go:
            return
        _hold.let_go = True
        threads = list(_hold.threads)
    for thread in threads:
        thread.start()
