"""cron:list|run|report|set|suspend|resume (Dokku's cron plugin): app.json's scheduled tasks
(records/cron.py, ops/cron.py), and the hidden cron:daemon that starts them (ops/crond.py)."""

import functools
import json
import sys
from typing import Optional

import click

from minidokku.access.rules import Scope
from minidokku.cli.declare import Runs, command
from minidokku.cli.family import FORMATS, Report, Row, global_set_command, report_command
from minidokku.context import Context
from minidokku.errors import Locked, ValidationError
from minidokku.ops import apps, crond, oneoff
from minidokku.ops import cron as cron_ops
from minidokku.output import Output
from minidokku.records import cron

# The command families of this module and their one-line descriptions (`dokku help`, `dokku FAMILY:help`).
FAMILIES = {"cron": "Manage scheduled cron tasks"}
MAINTENANCE_PREFIX = "maintenance."


@command("cron:list", scope=Scope.APP, changes=False)
@click.option("--format", "format_", default="stdout", help="stdout or json.")
@click.argument("app")
@click.pass_obj
def list_tasks(ctx: Context, format_: str, app: str) -> None:
    """Lists the app's scheduled cron tasks (its current release's app.json). Example: dokku cron:list catmeow"""
    if format_ not in FORMATS:
        raise ValidationError("Invalid format specified, supported formats: json, stdout")
    apps.require(ctx, app)
    tasks = cron_ops.tasks(ctx, app)
    if format_ == "json":
        runs = cron.last_runs(ctx.store, app)
        click.echo(json.dumps([_json(task, runs.get(task.id)) for task in tasks], separators=(",", ":")))
        return
    rows = [("ID", "Schedule", "Concurrency", "Maintenance", "Command")]
    rows += [(t.id, t.schedule, t.concurrency_policy, t.maintenance_shown, t.command) for t in tasks]
    widths = [max(len(row[column]) for row in rows) for column in range(4)]
    for row in rows:  # Dokku's columnize: two spaces apart, the last column as it is
        click.echo("  ".join([*(cell.ljust(width) for cell, width in zip(row, widths)), row[4]]))


def _json(task: cron.Task, last_run: Optional[dict]) -> dict:
    """Dokku's keys, and the last scheduled run (null before one): dyno, started, finished, exit_code."""
    return {
        "id": task.id,
        "app": task.app,
        "command": task.command,
        "schedule": task.schedule,
        "concurrency_policy": task.concurrency_policy,
        "app-in-maintenance": task.app_maintenance,
        "task-in-maintenance": task.task_maintenance,
        "maintenance": task.maintenance,
        "last_run": last_run,
    }


@command("cron:run", scope=Scope.APP, changes=True)
@click.option("--detach", is_flag=True, help="Run in the background; prints the container's name.")
@click.option("--ttl-seconds", default=str(oneoff.DEFAULT_TTL_SECONDS), help="How long it may run (run:retire).")
@click.argument("app")
@click.argument("cron_id", required=False, default="")
@click.pass_obj
def run(ctx: Context, detach: bool, ttl_seconds: str, app: str, cron_id: str) -> None:
    """Runs a cron task now, in a one-off container. Example: dokku cron:run catmeow ID --detach"""
    apps.require(ctx, app)
    ttl = oneoff.Extra.parse((), ttl_seconds).ttl_seconds
    task = cron_ops.find(ctx, app, cron_id)
    ctx.out = Output(sys.stderr, ctx.out.quiet)  # stdout is the task's alone
    if detach:
        click.echo(cron_ops.run_now(ctx, task, None, ttl)[1])
        return
    sys.exit(cron_ops.run_now(ctx, task, oneoff.Streams.of_this_process(), ttl)[0])


@command("cron:suspend", scope=Scope.APP, changes=True)
@click.argument("app")
@click.argument("cron_id", required=False, default="")
@click.pass_obj
def suspend(ctx: Context, app: str, cron_id: str) -> None:
    """Holds a cron task off its schedule until cron:resume. Example: dokku cron:suspend catmeow ID"""
    apps.require(ctx, app)
    cron_ops.suspend(ctx, app, cron_id, True)
    ctx.out.step(f"Setting {MAINTENANCE_PREFIX}{cron_id} to true")


@command("cron:resume", scope=Scope.APP, changes=True)
@click.argument("app")
@click.argument("cron_id", required=False, default="")
@click.pass_obj
def resume(ctx: Context, app: str, cron_id: str) -> None:
    """Puts a suspended cron task back on its schedule. Example: dokku cron:resume catmeow ID"""
    apps.require(ctx, app)
    cron_ops.suspend(ctx, app, cron_id, False)
    ctx.out.step(f"Unsetting {MAINTENANCE_PREFIX}{cron_id}")


def _change(ctx: Context, app: Optional[str], key: str, value: str) -> None:
    if key.startswith(MAINTENANCE_PREFIX):
        if app is None:
            raise ValidationError("Task maintenance properties cannot be set globally")
        identifier = key.removeprefix(MAINTENANCE_PREFIX)
        if not identifier:
            raise ValidationError("Invalid task maintenance property, missing ID")
        if identifier not in [task.id for task in cron_ops.tasks(ctx, app)]:
            raise ValidationError(f"Invalid task maintenance property, no matching task ID found: {key}")
        cron_ops.suspend(ctx, app, identifier, value == "true")
        return
    cron.set_property(ctx.store, app, key, value)


set_ = global_set_command(
    "cron:set",
    _change,
    help="Sets or clears a cron property: maintenance (per app or --global), mailto and mailfrom "
    "(--global only), maintenance.ID (one task). Example: dokku cron:set catmeow maintenance true",
)


def _global_rows(ctx: Context, app: Optional[str] = None) -> list[Row]:
    """The computed (for app, or for an app of its own) and the global value of each property,
    in the order of their flags, as Dokku prints them."""
    computed = [
        Row(f"--cron-computed-{key}", f"Cron computed {key}", functools.partial(cron.computed, ctx.store, app, key))
        for key in cron.GLOBAL_KEYS
    ]
    return computed + [
        Row(f"--cron-global-{key}", f"Cron global {key}", functools.partial(cron.own, ctx.store, None, key))
        for key in cron.GLOBAL_KEYS
    ]


def _rows(ctx: Context, app: str) -> list[Row]:
    suspended = [
        Row(f"--cron-maintenance-{i}", f"Cron maintenance {i}", lambda: "true")
        for i in sorted(cron.suspended_ids(ctx.store, app))
    ]
    return [
        *_global_rows(ctx, app),
        Row("--cron-maintenance", "Cron maintenance", functools.partial(cron.own, ctx.store, app, "maintenance")),
        *suspended,
        Row("--cron-task-count", "Cron task count", lambda: str(len(cron_ops.tasks(ctx, app)))),
    ]


report = report_command(
    "cron:report",
    Scope.APP,
    Report("cron", "--cron-", legacy=True, width=31),
    _rows,
    help="Shows an app's cron settings and task count. Example: dokku cron:report catmeow --cron-task-count",
    global_rows=_global_rows,
)


@command("cron:daemon", scope=Scope.ADMIN, changes=False, runs=Runs.INTERNAL, hidden=True)
@click.pass_obj
def daemon(ctx: Context) -> None:
    """Starts the due cron tasks at each minute, for ever (install.sh and ps:restore start it),
    and restores the apps each time the Docker engine answers again (ops/engine_watch.py).
    Another daemon holding the root's lock ends this one with status 0: a restart is no failure."""
    try:
        crond.Daemon(ctx, watch=True).serve()
    except Locked as busy:
        ctx.out.info(str(busy))
