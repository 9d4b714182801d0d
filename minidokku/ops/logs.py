"""An app's logs: every process container's output, each line prefixed `app[web.1]:` as Dokku
does, after what its scheduled cron runs printed (APP/cron/OUTPUT, `app[cron.1234]:`); its one-off
containers' (`run:logs`); and the output of the last failed deploy's new
containers (`logs:failed`), kept in APP/FAILED_LOGS since the containers themselves are removed
when a deploy fails (the old release keeps serving)."""

import queue
import threading
from collections.abc import Iterator
from typing import Optional

from minidokku.context import Context
from minidokku.errors import NotFound
from minidokku.ops import oneoff
from minidokku.records import cron
from minidokku.runtime.scheduler import Container, Scheduler

FAILED_FILE = "FAILED_LOGS"
FAILED_LINES = 200  # the last lines kept of each failed container
FAILED_LINE_CHARACTERS = 4096  # a longer line is cut: one endless line cannot grow the file without end


def lines(
    ctx: Context, app: str, follow: bool, history: int, process: Optional[str] = None, quiet: bool = False
) -> Iterator[str]:
    """process keeps one process type's containers (`web`) or one dyno's (`web.1`); quiet drops
    the timestamp and the `app[web.1]:` prefix."""
    scheduler = ctx.scheduler_for(app)
    containers = scheduler.running(ctx.docker_name(app))
    if process:
        chosen = [c for c in containers if process in (c.process_type, c.dyno)]
        if not chosen:
            dynos = ", ".join(sorted({c.dyno for c in containers})) or "none"
            raise NotFound(f"{app} has no process {process!r}; its processes: {dynos}")
        containers = chosen
    else:  # what scheduled cron runs printed (their containers are gone), then the processes'
        yield from cron.recorded_output(ctx.store, app, history, quiet)
    yield from _read(scheduler, [(c.id, c.dyno) for c in containers], follow, history, quiet)


def run_lines(
    ctx: Context, app: str, name: Optional[str], follow: bool, history: int, quiet: bool = False
) -> Iterator[str]:
    """The output of the app's one-off container named name (oneoff.find_run_container), or of
    every one of them, prefixed `app[run.1234]:` unless quiet."""
    chosen = [oneoff.find_run_container(ctx, app, name)] if name else oneoff.run_containers(ctx, app)
    prefix = f"{ctx.docker_name(app)}."
    yield from _read(ctx.scheduler, [(c.id, c.name.removeprefix(prefix)) for c in chosen], follow, history, quiet)


def _read(
    scheduler: Scheduler, sources: list[tuple[str, str]], follow: bool, history: int, quiet: bool
) -> Iterator[str]:
    """The lines of each (container id, dyno), one container after the other, or with follow
    merged as they arrive."""
    if not follow:
        for container_id, dyno in sources:
            yield from _container_lines(scheduler, container_id, dyno, follow=False, history=history, quiet=quiet)
        return
    yield from _merged(scheduler, sources, history, quiet)


def _container_lines(
    scheduler: Scheduler, container_id: str, dyno: str, follow: bool, history: int, quiet: bool
) -> Iterator[str]:
    for line in scheduler.logs(container_id, follow=follow, tail=history, timestamps=not quiet):
        if quiet:
            yield line
        else:
            timestamp, _, message = line.partition(" ")
            yield f"{timestamp} app[{dyno}]: {message}"


def _merged(scheduler: Scheduler, sources: list[tuple[str, str]], history: int, quiet: bool) -> Iterator[str]:
    """Follows several containers at once, yielding lines as they arrive from any of them."""
    arrived: queue.Queue[object] = queue.Queue()
    finished = object()

    def pump(container_id: str, dyno: str) -> None:
        try:
            for line in _container_lines(scheduler, container_id, dyno, follow=True, history=history, quiet=quiet):
                arrived.put(line)
        finally:
            arrived.put(finished)

    for source in sources:
        threading.Thread(target=pump, args=source, daemon=True).start()
    remaining = len(sources)
    while remaining:
        item = arrived.get()
        if item is finished:
            remaining -= 1
        else:
            yield item


def record_failed(ctx: Context, app: str, containers: list[Container]) -> None:
    """Keeps the last output of a failed deploy's new containers (before they are removed), in
    place of the previous failed deploy's."""
    kept = []
    for container in containers:
        output = ctx.scheduler_for(app).last_logs(container.id, FAILED_LINES)
        kept += [line[:FAILED_LINE_CHARACTERS] for line in output.splitlines()]
    ctx.store.write(app, FAILED_FILE, "".join(f"{line}\n" for line in kept))


def failed(ctx: Context, app: str) -> Optional[str]:
    """What the last failed deploy's containers printed; None when no deploy failed."""
    return ctx.store.read(app, FAILED_FILE)
