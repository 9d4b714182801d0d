"""An app's logs: every process container's output, each line prefixed `app[web.1]:` as Dokku does."""

import queue
import threading
from collections.abc import Iterator
from typing import Optional

from minidokku.context import Context
from minidokku.errors import NotFound
from minidokku.runtime.scheduler import Container


def lines(
    ctx: Context, app: str, follow: bool, history: int, process: Optional[str] = None, quiet: bool = False
) -> Iterator[str]:
    """process keeps one process type's containers (`web`) or one dyno's (`web.1`); quiet drops
    the timestamp and the `app[web.1]:` prefix."""
    containers = ctx.scheduler.running(ctx.docker_name(app))
    if process:
        chosen = [c for c in containers if process in (c.process_type, c.dyno)]
        if not chosen:
            dynos = ", ".join(sorted({c.dyno for c in containers})) or "none"
            raise NotFound(f"{app} has no process {process!r}; its processes: {dynos}")
        containers = chosen
    if not follow:
        for container in containers:
            yield from _container_lines(ctx, container, follow=False, history=history, quiet=quiet)
        return
    yield from _merged(ctx, containers, history, quiet)


def _container_lines(ctx: Context, container: Container, follow: bool, history: int, quiet: bool) -> Iterator[str]:
    for line in ctx.scheduler.logs(container.id, follow=follow, tail=history, timestamps=not quiet):
        if quiet:
            yield line
        else:
            timestamp, _, message = line.partition(" ")
            yield f"{timestamp} app[{container.dyno}]: {message}"


def _merged(ctx: Context, containers: list[Container], history: int, quiet: bool) -> Iterator[str]:
    """Follows several containers at once, yielding lines as they arrive from any of them."""
    arrived: queue.Queue[object] = queue.Queue()
    finished = object()

    def pump(container: Container) -> None:
        try:
            for line in _container_lines(ctx, container, follow=True, history=history, quiet=quiet):
                arrived.put(line)
        finally:
            arrived.put(finished)

    for container in containers:
        threading.Thread(target=pump, args=(container,), daemon=True).start()
    remaining = len(containers)
    while remaining:
        item = arrived.get()
        if item is finished:
            remaining -= 1
        else:
            yield item
