"""ps:scale, ps:inspect, ps:start|stop|restart|rebuild [--all], ps:report, ps:set, ps:restore (Dokku's ps plugin)."""

import functools
import json
import os
from collections.abc import Callable
from typing import Optional

import click

from minidokku.access import events
from minidokku.access.rules import Scope
from minidokku.cli.declare import Runs, command
from minidokku.cli.family import Report, Row, report_command, set_command
from minidokku.context import Context
from minidokku.errors import DeployFailed, MinidokkuError, ValidationError
from minidokku.ops import apps, cron, processes, push, retirement
from minidokku.records import ps_settings, releases
from minidokku.runtime import at_once
from minidokku.runtime.scheduler import STOP_GRACE_SECONDS, Container

# The command families of this module and their one-line descriptions (`dokku help`, `dokku FAMILY:help`).
FAMILIES = {"ps": "Manage app processes"}
PS_REPORT_WIDTH = 35  # its longest label, `Ps computed stop timeout seconds:`, and two spaces


@command("ps:scale", scope=Scope.APP, changes=True)
@click.option("--skip-deploy", is_flag=True, help="Only record the counts: the next deploy runs them.")
@click.option("--format", "format_", type=click.Choice(["stdout", "json"]), default="stdout", help="stdout or json.")
@click.argument("app")
@click.argument("pairs", nargs=-1)
@click.pass_obj
def scale(ctx: Context, skip_deploy: bool, format_: str, app: str, pairs) -> None:
    """Shows or sets how many containers of each process type run. Example: dokku ps:scale catmeow web=2 worker=1"""
    if pairs:
        click.get_current_context().meta[events.DETAIL] = " ".join(pairs)
        ctx.out.step(f"Scaling {app} processes: {' '.join(pairs)}")
        processes.set_scale(ctx, app, list(pairs), skip_deploy)
        return
    apps.require(ctx, app)
    counts = processes.counts(ctx, app)
    if format_ == "json":
        formations = [{"process_type": name, "quantity": count} for name, count in sorted(counts.items())]
        click.echo(json.dumps(formations, separators=(",", ":")))
        return
    ctx.out.step(f"Scaling for {app}")
    ctx.out.heading("proctype: qty")
    ctx.out.heading("--------: ---")
    for name, count in counts.items():
        click.echo(f"{name + ':':<5} {count}")  # Dokku's `web:  1`, which scripts parse


@command("ps:inspect", scope=Scope.APP, changes=False)
@click.argument("app")
@click.pass_obj
def inspect(ctx: Context, app: str) -> None:
    """Shows the engine's description of the app's containers, config values masked.
    Example: dokku ps:inspect catmeow"""
    click.echo(json.dumps(processes.inspect(ctx, app), sort_keys=True, indent=4))


PARALLEL_AT_MOST = at_once.AT_MOST  # --parallel N: 1..this, or -1 for the number of CPUs


def _parallel(value: Optional[int]) -> Optional[int]:
    """--parallel's N as a number of apps at once (None: not given)."""
    if value is None:
        return None
    if value == -1:
        return min(os.cpu_count() or 1, PARALLEL_AT_MOST)
    if not 1 <= value <= PARALLEL_AT_MOST:
        raise ValidationError(f"--parallel takes 1 to {PARALLEL_AT_MOST} apps at once, or -1 for one per CPU")
    return value


def _for_app_or_all(
    name: str,
    action: Callable[..., object],
    help: str,
    all_at_once: bool = False,
    with_process: bool = False,
):
    """`NAME [--parallel N] APP|--all` (with_process: `APP [PROCESS_NAME]`, passed on as
    process_type); with --all every app is tried, --parallel N of them at once (by default one
    after another, or, all_at_once, each in a thread of its own, so that one app's
    stop-timeout-seconds holds no other), and the failures listed."""

    @click.pass_obj
    def act(ctx: Context, app: Optional[str], every: bool, parallel: Optional[int], process_types: str = "") -> None:
        if with_process and every and app and not process_types:  # `--all PROCESS_NAME`: the one word is a process type
            app, process_types = None, app
        if bool(app) == every:
            raise ValidationError("give an app name or --all")
        at_most = _parallel(parallel)
        if app:
            if at_most is not None:
                raise ValidationError("--parallel goes with --all")
            if with_process:
                action(ctx, app, process_types)
            else:
                action(ctx, app)
            return
        if process_types:
            raise ValidationError("a process type goes with an app name, not --all")

        def attempt(each: str) -> bool:
            try:
                action(ctx, each)
            except MinidokkuError as error:
                ctx.out.step(f"{each}: {error}")
                return False
            return True

        every_app = apps.list_apps(ctx)
        done = at_once.each(attempt, every_app, at_most or (at_once.AT_MOST if all_at_once else 1))
        failed = [each for each, ok in zip(every_app, done) if not ok]
        if failed:
            raise DeployFailed(f"failed for {', '.join(failed)}")

    if with_process:  # the innermost decorator: the argument after APP
        act = click.argument("process_types", required=False, default="")(act)
    act = click.option("--parallel", type=int, default=None, help="With --all: N apps at once (-1: one per CPU).")(act)
    act = click.option("--all", "every", is_flag=True, help="Every app.")(act)
    act = click.argument("app", required=False)(act)
    return command(name, scope=Scope.APP, changes=True, help=help)(act)


start = _for_app_or_all("ps:start", processes.start, "Starts the app's processes. Example: dokku ps:start catmeow")
restart = _for_app_or_all(
    "ps:restart",
    processes.restart,
    "Restarts the app's processes (or those of one process type) without downtime. "
    "Example: dokku ps:restart catmeow worker",
    with_process=True,
)
rebuild = _for_app_or_all(
    "ps:rebuild", push.rebuild, "Builds the last pushed commit again and deploys it. Example: dokku ps:rebuild catmeow"
)
stop = _for_app_or_all(
    "ps:stop",
    processes.stop,
    "Stops the app's processes; nginx answers 503. Example: dokku ps:stop catmeow",
    all_at_once=True,
)
set_ = set_command(
    "ps:set",
    Scope.APP,
    lambda ctx, app, key, value: ps_settings.set_property(ctx.store, app, key, value),
    help="Sets (or, with no value, clears) a ps property. Example: dokku ps:set catmeow restart-policy always",
    note=lambda ctx, app: (
        "It takes effect on the next deploy or `dokku ps:restart`" if releases.current(ctx.store, app) else ""
    ),
    change_global=lambda ctx, key, value: ps_settings.set_property(ctx.store, None, key, value),
)


def _report_rows(ctx: Context, app: str) -> list[Row]:
    current = releases.current(ctx.store, app)

    @functools.cache
    def containers() -> list[Container]:
        return ctx.scheduler_for(app).running(ctx.docker_name(app)) if current else []

    def running() -> str:
        return "false" if ps_settings.is_stopped(ctx.store, app) else _bool(any(c.running for c in containers()))

    rows = [
        Row("--deployed", "Deployed", lambda: _bool(current is not None)),
        Row("--ps-release", "Release", lambda: f"{current.name} ({current.sha[:7]})" if current else "", empty="-"),
        Row("--processes", "Processes", lambda: str(len(containers()))),
        Row("--ps-can-scale", "Ps can scale", lambda: "true"),
        Row("--ps-scale", "Scale", lambda: " ".join(f"{k}={v}" for k, v in processes.counts(ctx, app).items()), "-"),
        *_property_rows(ctx, app),
        Row("--running", "Running", running),
        Row("--restore", "Restore", lambda: _bool(ps_settings.restores(ctx.store, app))),
    ]
    return rows + [Row(f"--status-{c.dyno}", f"Status {c.dyno}", functools.partial(_status, c)) for c in containers()]


def _property_rows(ctx: Context, app: Optional[str]) -> list[Row]:
    """The computed, global and (but for app None, --global) app's value of each property with a
    global one, then an app's start commands, as Dokku reports them."""
    rows = []
    for key in ps_settings.GLOBAL_KEYS:
        label = key.replace("-", " ")
        rows += [
            Row(
                f"--ps-computed-{key}",
                f"Ps computed {label}",
                functools.partial(ps_settings.computed, ctx.store, app, key),
            ),
            Row(f"--ps-global-{key}", f"Ps global {label}", functools.partial(ps_settings.get, ctx.store, None, key)),
        ]
        if app is not None:
            rows.append(Row(f"--ps-{key}", f"Ps {label}", functools.partial(ps_settings.get, ctx.store, app, key)))
    if app is not None:  # as Dokku, the start commands are per app only, and computed is the app's own
        for key in (ps_settings.DOCKERFILE_START_CMD, ps_settings.START_CMD):
            label, value = key.replace("-", " "), functools.partial(ps_settings.get, ctx.store, app, key)
            rows += [
                Row(f"--ps-computed-{key}", f"Ps computed {label}", value),
                Row(f"--ps-{key}", f"Ps {label}", value),
            ]
    return rows


def _status(container: Container) -> str:
    port = f", port {container.host_port}" if container.host_port else ""
    return f"{'running' if container.running else 'stopped'} (CID: {container.id[:12]}{port})"


def _bool(value: bool) -> str:
    return "true" if value else "false"


report = report_command(
    "ps:report",
    Scope.APP,
    Report("ps", "--ps-", legacy=True, width=PS_REPORT_WIDTH),
    _report_rows,
    help="Shows the processes of one app, or of every app. Example: dokku ps:report catmeow",
    global_rows=lambda ctx: _property_rows(ctx, None),
)


@command("ps:restore", scope=Scope.ADMIN, changes=True)
@click.argument("app", required=False)
@click.pass_obj
def restore(ctx: Context, app: Optional[str]) -> None:
    """Brings back every app that should run (at boot, after an engine restart), and the cron
    daemon when it does not run. Example: dokku ps:restore"""
    failed = []
    for name in apps.one_or_all(ctx, app):
        try:
            done = processes.restore(ctx, name)
        except MinidokkuError as error:
            ctx.out.step(f"Restoring {name} failed: {error}")
            failed.append(name)
            continue
        if done:
            ctx.out.step(f"Restored {name} ({done})")
    if cron.start_daemon(ctx):
        ctx.out.step("Started the cron daemon")
    if failed:
        raise DeployFailed(f"could not restore {', '.join(failed)}")


@command("ps:retire", scope=Scope.ADMIN, changes=False, runs=Runs.INTERNAL, hidden=True)
@click.option("--wait", type=int, default=0)
@click.option("--grace", type=int, default=STOP_GRACE_SECONDS)
@click.option("--for-app", "owner", default="", help="The app whose scheduler runs them.")
@click.argument("container_ids", nargs=-1)
@click.pass_obj
def retire(ctx: Context, wait: int, grace: int, owner: str, container_ids) -> None:
    """Stops and removes an app's containers after a wait (run detached by a deploy)."""
    retirement.retire_after(ctx, owner, list(container_ids), wait, grace)
