"""An app's logs: every process container's output, each line prefixed `app[web.1]:` as Dokku does."""

import queue
import threading
from collections.abc import Iterator

from minidokku.context import Context
from minidokku.scheduler import Container


def lines(ctx: Context, app: str, follow: bool, history: int) -> Iterator[str]:
    containers = ctx.scheduler.running(ctx.docker_name(app))
    if not follow:
        for container in containers:
            yield from _container_lines(ctx, container, follow=False, history=history)
        return
    yield from _merged(ctx, containers, history)


def _container_lines(ctx: Context, container: Container, follow: bool, history: int) -> Iterator[str]:
    dyno = container.name.split(".upcoming-")[0].split(".", 1)[-1]
    for _stream, line in ctx.engine.container_logs(container.id, follow=follow, tail=history, timestamps=True):
        timestamp, _, message = line.partition(" ")
        yield f"{timestamp} app[{dyno}]: {message}"


def _merged(ctx: Context, containers: list[Container], history: int) -> Iterator[str]:
    """Follows several containers at once, yielding lines as they arrive from any of them."""
    arrived: queue.Queue[object] = queue.Queue()
    finished = object()

    def pump(container: Container) -> None:
        try:
            for line in _container_lines(ctx, container, follow=True, history=history):
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
