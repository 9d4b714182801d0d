"""Builds as Dokku 0.38 tracks them: every deploy is recorded with its output
(records/builds.py), and `builds:cancel` stops the one running for an app.

recorded() wraps a deploy (ops/deploy.py): the record is written when it starts, the progress
lines it prints also go to the build's output, and its end is written however it ends. A deploy
inside a recorded one (the release of a build) is part of that one record.

A cancel marks the build, removes the app's build and task containers through the scheduler
(their labels name the app: no other app's are touched) and ends the deploying process with
SIGTERM, which unwinds it (cli's _unwind): the new containers go, nginx is untouched, the old
release serves on, and the deploy fails with one line saying it was canceled. The process is
signalled only when its pid still is the process that started the build (its start time in
/proc, checked through a pidfd held on it), so a pid the system gave to another process since
is never signalled.
"""

import contextlib
import errno
import os
import signal
import time
from collections.abc import Iterator
from typing import Optional

import click

from minidokku.access import events
from minidokku.context import Context
from minidokku.errors import BuildFailed, MinidokkuError
from minidokku.output import Output
from minidokku.records import builds, releases
from minidokku.records.builds import Build
from minidokku.state import Store


class BuildOutput(Output):
    """The deploy's output, each line also appended to the build's output file."""

    def __init__(self, shown: Output, store: Store, build: Build):
        self.shown = shown
        self.quiet = shown.quiet
        self.store = store
        self.build = build
        self.written = 0

    def line(self, text: str) -> None:
        self.shown.line(text)
        for part in text.rstrip("\n").split("\n"):
            self.written = builds.append_output(self.store, self.build, part, self.written)


def process_start(pid: int) -> str:
    """When the kernel started process pid (clock ticks since boot), "" when there is none."""
    try:
        with open(f"/proc/{int(pid)}/stat", "rb") as handle:
            stat = handle.read().decode("ascii", "replace")
    except OSError:
        return ""
    # the command's name (field 2) is in parentheses and may hold spaces: count after the last one
    return stat.rsplit(")", 1)[-1].split()[19]


def is_live(build: Build) -> bool:
    """Whether the process that started the build still runs it."""
    return (
        build.status == builds.RUNNING and bool(build.process_start) and process_start(build.pid) == build.process_start
    )


def shown_status(build: Build) -> str:
    """Its status, `abandoned` for a running one whose process is gone (Dokku's display status)."""
    return builds.ABANDONED if build.status == builds.RUNNING and not is_live(build) else build.status


def running(store: Store, app: str) -> Optional[Build]:
    """The app's build in progress, if any."""
    return next((build for build in builds.history(store, app) if is_live(build)), None)


def _source() -> str:
    """The command that started the deploy (Dokku's source: `git-hook`, `ps:rebuild`...)."""
    click_context = click.get_current_context(silent=True)
    return (click_context.command.name if click_context and click_context.command.name else "") or "unknown"


@contextlib.contextmanager
def recorded(ctx: Context, app: str, kind: str, commit: str = "") -> Iterator[None]:
    """Records the deploy the block runs, of kind builds.BUILD (a new image) or builds.DEPLOY
    (one that ran before); the caller holds the app's lock. A build still `running` then is one
    a killed command left: it is written as failed first."""
    if isinstance(ctx.out, BuildOutput) and ctx.out.build.app == app:
        yield  # part of the build being recorded
        return
    _end_abandoned(ctx.store, app)
    pid = os.getpid()
    start = process_start(pid)
    build = Build(builds.new_id(), app, kind, _source(), events.actor(), pid, start, time.time(), commit=commit)
    builds.write(ctx.store, build)
    shown, ctx.out = ctx.out, BuildOutput(ctx.out, ctx.store, build)
    try:
        yield
    except BaseException as error:
        canceled = builds.is_marked_canceled(ctx.store, build)
        status = builds.CANCELED if canceled else builds.FAILED
        builds.finish(ctx.store, build, status, *_outcome(error))
        if canceled:
            current = releases.current(ctx.store, app)
            serving = f"{current.name} serves on" if current else "nothing was deployed before it"
            raise BuildFailed(f"the deploy of {app} was canceled (builds:cancel); {serving}") from None
        raise
    else:
        current = releases.current(ctx.store, app)
        found = {"image": current.image_id, "release": current.name} if current else {}
        builds.finish(ctx.store, build, builds.SUCCEEDED, 0, **found)
    finally:
        ctx.out = shown
        prune(ctx.store, app)


def _outcome(error: BaseException) -> tuple[int, str]:
    """The exit code and the one-line reason of a deploy that ended with error."""
    if isinstance(error, SystemExit):
        code = error.code if isinstance(error.code, int) else 1
        return code, f"ended with exit code {code}"
    if isinstance(error, MinidokkuError):
        return error.exit_code, str(error).split("\n", 1)[0]
    return 1, type(error).__name__


def _end_abandoned(store: Store, app: str) -> None:
    for build in builds.history(store, app):
        if build.status == builds.RUNNING and not is_live(build):
            builds.finish(store, build, builds.FAILED, -1, "its process ended before the build did")


def prune(store: Store, app: str) -> list[str]:
    """Removes the app's finished builds beyond its retention (`builds:set`); a build in
    progress stays."""
    return builds.prune(
        store, app, builds.retention(store, app), {b.id for b in builds.history(store, app) if is_live(b)}
    )


def cancel(ctx: Context, app: str) -> Optional[Build]:
    """Stops the app's build in progress (see the module's docstring); None when there is none."""
    build = running(ctx.store, app)
    if build is None:
        return None
    builds.mark_canceled(ctx.store, build)
    ctx.scheduler.remove_leftover_tasks(ctx.docker_name(app))
    if build.pid != os.getpid():  # (a test may run a deploy and its cancel in one process)
        _terminate(build)
    return build


def _terminate(build: Build) -> None:
    """SIGTERM to the build's process, if it still is the one that started the build."""
    with contextlib.suppress(ProcessLookupError, PermissionError):  # it ended meanwhile, or is not ours
        try:
            handle = os.pidfd_open(build.pid)
        except OSError as error:  # a kernel without pidfds: the start time checked just before
            if error.errno != errno.ENOSYS:
                raise
            if is_live(build):
                os.kill(build.pid, signal.SIGTERM)
            return
        try:
            if is_live(build):  # the pidfd holds that process: its pid cannot be given to another
                signal.pidfd_send_signal(handle, signal.SIGTERM)
        finally:
            os.close(handle)
