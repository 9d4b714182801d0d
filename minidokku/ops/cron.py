"""Cron tasks, the use cases: an app's tasks (from its current release's app.json, so a deploy
or a rollback changes them with the release), `cron:run` now, suspend and resume, and a run
started by the daemon (ops/crond.py).

Every run is a one-off container of the current release (ops/oneoff.prepare: the app's config,
the `run` phase's docker options and storage mounts, limits, its network), named `APP.cron.1234`
and labelled with the task's id, so whether a run of a task still goes is asked of the
scheduler, never remembered: it holds across daemon restarts. It counts against the app's
one-off cap and run:retire stops it after its --ttl-seconds (a day by default, as Dokku's).
"""

import os
import subprocess
from pathlib import Path
from typing import Optional

from minidokku.context import Context
from minidokku.errors import Locked, NotFound, ValidationError
from minidokku.ops import oneoff
from minidokku.records import cron, ps_settings, releases
from minidokku.runtime.scheduler import AtCapacity, OneOff, OneOffContainer
from minidokku.runtime.terminal import Streams
from minidokku.state import DEFAULT_ROOT, file_lock

LIVE_STATES = ("created", "running", "restarting", "paused")
ENDED_STATES = ("exited", "dead")
DAEMON_LOCK = ".cron/LOCK"  # under the root: held by the one running daemon


def tasks(ctx: Context, app: str) -> list[cron.Task]:
    """The app's tasks, as its current release has them (none before its first deploy)."""
    release = releases.current(ctx.store, app)
    return cron.tasks_of(ctx.store, app, release.settings.cron if release else [])


def find(ctx: Context, app: str, identifier: str) -> cron.Task:
    if not identifier:
        raise ValidationError(f"Please specify a Cron ID from the output of 'dokku cron:list {app}'")
    for task in tasks(ctx, app):
        if task.id == identifier:
            return task
    raise NotFound(f"No matching Cron ID found. Please specify a Cron ID from the output of 'dokku cron:list {app}'")


def suspend(ctx: Context, app: str, identifier: str, suspended: bool) -> None:
    """cron:suspend (True) and cron:resume (False) of one task of the app."""
    cron.set_suspended(ctx.store, app, find(ctx, app, identifier).id, suspended)


def live_runs(ctx: Context, task: cron.Task) -> list[OneOffContainer]:
    """The task's runs whose container has not ended, found by the task's label."""
    found = ctx.scheduler.run_containers(ctx.docker_name(task.app))
    return [c for c in found if c.cron_id == task.id and c.state in LIVE_STATES]


def make_room(ctx: Context, task: cron.Task) -> bool:
    """Applies the task's concurrency_policy to its runs still going: forbid (the default)
    says no, replace stops them (with the app's stop-timeout-seconds), allow lets both run."""
    going = live_runs(ctx, task)
    if not going or task.concurrency_policy == "allow":
        return True
    if task.concurrency_policy == "forbid":
        return False
    ctx.scheduler.retire([c.id for c in going], grace=ps_settings.stop_timeout(ctx.store, task.app))
    return True


def one_off(ctx: Context, task: cron.Task, ttl_seconds: int = oneoff.DEFAULT_TTL_SECONDS) -> OneOff:
    """The task's container: its command's words as the argv (a Procfile process type as the
    first word runs that process's command, as Dokku's run does)."""
    argv = task.argv
    release = releases.current(ctx.store, task.app)
    if release is not None and argv[0] in release.processes:
        argv = [*(release.command(argv[0]) or [argv[0]]), *argv[1:]]
    return oneoff.prepare(ctx, task.app, argv, False, oneoff.Extra(ttl_seconds=ttl_seconds), task.id)


def run_now(ctx: Context, task: cron.Task, streams: Optional[Streams], ttl_seconds: int) -> tuple[int, str]:
    """cron:run: runs the task at once, attached to streams (its exit status, "") or, with
    streams None, in the background ((0, the container's name))."""
    if not make_room(ctx, task):
        raise ValidationError(f"{task.app} currently has a cron lock in place for {task.id}. Exiting...")
    prepared = one_off(ctx, task, ttl_seconds)
    name = ctx.docker_name(task.app)
    try:
        if streams is None:
            return 0, ctx.scheduler.run_detached(name, prepared, at_most=oneoff.MAX_AT_ONCE)
        return ctx.scheduler.run(name, prepared, streams, at_most=oneoff.MAX_AT_ONCE), ""
    except AtCapacity:
        raise ValidationError(
            f"{task.app} runs {oneoff.MAX_AT_ONCE} one-off containers already; try again when one ends"
        ) from None


def daemon_running(ctx: Context) -> bool:
    """Whether a cron daemon holds the root's lock."""
    try:
        with file_lock(ctx.store.path(None, DAEMON_LOCK), busy_message="held"):
            return False
    except Locked:
        return True


UNIT = Path("/etc/systemd/system/minidokku-cron.service")  # install.sh's, where systemd is
SYSTEMD_RUNNING = Path("/run/systemd/system")  # present while systemd is the init (sd_booted)
KEPT_ENVIRONMENT = ("PATH", "HOME", "LANG", "LC_ALL", "TZ", "DOKKU_ROOT")  # and MINIDOKKU_*


def started_by_systemd(ctx: Context) -> bool:
    """Whether systemd's unit starts (and restarts) the daemon of this root: installed by
    install.sh for the default root, with systemd running; then nothing else starts one."""
    return serves_default_root(ctx) and UNIT.is_file() and SYSTEMD_RUNNING.is_dir()


def serves_default_root(ctx: Context) -> bool:
    """Whether ctx's root is the default one, install.sh's."""
    return ctx.settings.root.resolve() == Path(DEFAULT_ROOT).resolve()


def start_daemon(ctx: Context) -> bool:
    """Starts `dokku cron:daemon` unless one runs or systemd's unit starts it; True if it
    started one. Detached in a session of its own, in the root, with an allow-listed
    environment: started from a key's ssh session or git hook, it keeps nothing of that key's.
    Two started at once: the second finds the lock held and ends."""
    if started_by_systemd(ctx) or daemon_running(ctx):
        return False
    kept = {k: v for k, v in os.environ.items() if k in KEPT_ENVIRONMENT or k.startswith("MINIDOKKU_")}
    subprocess.Popen(  # noqa: S603 - our own program and subcommand, no user value
        [*ctx.settings.program, "cron:daemon"],
        env={**kept, "DOKKU_ROOT": str(ctx.settings.root)},
        cwd=ctx.settings.root,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    return True
