"""Builds as Dokku 0.38 tracks them: every deploy is recorded with its output
(records/builds.py), and `builds:cancel` stops the one running for an app.

recorded() wraps a deploy (ops/deploy.py): the record is written when it starts, the progress
lines it prints also go to the build's output, and its end is written however it ends. A deploy
inside a recorded one (the release of a build) is part of that one record.

A cancel marks the build, removes the app's build and task containers through the scheduler
(their labels name the app: no other app's are touched) and asks the deploying process to stop
with CANCEL_SIGNAL. The cancel is cooperative, since one process may deploy many apps in turn
(`ps:rebuild --all`, `ps:restore`): the process unwinds (as cli's _unwind does for SIGTERM) only
if the build it records at that moment is the one marked canceled, and ignores the signal
otherwise (that build ended, the next one runs). Unwinding, the new containers go, nginx is
untouched, the old release serves on, and the deploy fails with one line saying it was
canceled. The process is signalled only when its pid still is the process that started the
build (its start time in /proc, checked through a pidfd held on it) and the build's record, read
again then, says it still runs, so a pid the system gave to another process since is never
signalled.
"""

import contextlib
import errno
import os
import signal
import threading
import time
from collections.abc import Iterator
from typing import Optional

import click

from minidokku.access import events
from minidokku.context import Context
from minidokku.errors import BuildFailed, MinidokkuError, NotFound
from minidokku.output import Output
from minidokku.records import builds, releases
from minidokku.records.builds import Build
from minidokku.state import Store

CANCEL_SIGNAL = signal.SIGUSR1  # builds:cancel's request to the deploying process, see _on_cancel
_recording: list[tuple[Store, Build]] = []  # the builds this process records now, the innermost last


class BuildOutput(Output):
    """The deploy's output, each line also appended to the build's output file."""

    def __init__(self, shown: Output, store: Store, build: Build):
        self.shown = shown
        self.quiet = shown.quiet
        self.noticed = shown.noticed  # once per command, with or without the build's record
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
    _listen_for_cancel()  # before the record says which process to signal
    builds.write(ctx.store, build)
    shown, ctx.out = ctx.out, BuildOutput(ctx.out, ctx.store, build)
    _recording.append((ctx.store, build))
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
        _recording.remove((ctx.store, build))
        ctx.out = shown
        prune(ctx.store, app)


def _listen_for_cancel() -> None:
    """Makes this process answer CANCEL_SIGNAL with _on_cancel, for as long as it lives (a
    signal's handler can only be set in the main thread; deploys run there)."""
    if threading.current_thread() is threading.main_thread() and signal.getsignal(CANCEL_SIGNAL) != _on_cancel:
        signal.signal(CANCEL_SIGNAL, _on_cancel)


def _on_cancel(signum: int, _frame) -> None:
    """builds:cancel asks: the deploy unwinds if a build this process records now is marked
    canceled (recorded() then ends it as canceled); else the signal is ignored."""
    if any(builds.is_marked_canceled(store, build) for store, build in _recording):
        raise SystemExit(128 + signum)


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
        _ask_to_stop(ctx.store, build)
    return build


def _ask_to_stop(store: Store, build: Build) -> None:
    """CANCEL_SIGNAL to the build's process, if it still is the one that started the build and
    the build's record, read now, says it still runs."""
    with contextlib.suppress(ProcessLookupError, PermissionError):  # it ended meanwhile, or is not ours
        try:
            handle = os.pidfd_open(build.pid)
        except OSError as error:  # a kernel without pidfds: the start time checked just before
            if error.errno != errno.ENOSYS:
                raise
            if _still_running(store, build):
                os.kill(build.pid, CANCEL_SIGNAL)
            return
        try:
            if _still_running(store, build):  # the pidfd holds that process: its pid cannot be given to another
                signal.pidfd_send_signal(handle, CANCEL_SIGNAL)
        finally:
            os.close(handle)


def _still_running(store: Store, build: Build) -> bool:
    try:
        return is_live(builds.read(store, build.app, build.id))
    except NotFound:  # pruned: it ended
        return False
