"""logs: the output of an app's containers, from the Engine's log stream; logs:failed, the output
of the last failed deploy; logs:set and logs:report, the size at which containers' logs rotate
(Dokku's max-size; its vector-* properties and commands are not minidokku's)."""

import functools
from typing import Optional

import click

from minidokku.access.rules import Scope
from minidokku.cli.declare import command
from minidokku.cli.family import Report, Row, report_command, set_command
from minidokku.cli.hangup import end_on_hang_up
from minidokku.context import Context
from minidokku.errors import ValidationError
from minidokku.ops import apps, logs
from minidokku.records import log_settings

# The command families of this module and their one-line descriptions (`dokku help`, `dokku FAMILY:help`).
FAMILIES = {"logs": "Show an app's logs"}


@command("logs", scope=Scope.APP, changes=False)
@click.argument("app")
@click.option("-t", "--tail", "follow", is_flag=True, help="Follow the log as it grows.")
@click.option("-n", "--num", "lines", type=int, default=100, show_default=True, help="Lines of history per process.")
@click.option("-p", "--ps", "process", help="Only this process type (web) or dyno (web.1).")
@click.option("-q", "--quiet", is_flag=True, help="Only the lines, without timestamp and app[web.1]: prefix.")
@click.pass_obj
def show_logs(ctx: Context, app: str, follow: bool, lines: int, process: Optional[str], quiet: bool) -> None:
    """Shows the app's logs. Example: dokku logs catmeow -t -p web"""
    apps.require(ctx, app)
    if follow:
        end_on_hang_up()
    for line in logs.lines(ctx, app, follow=follow, history=lines, process=process, quiet=quiet):
        click.echo(line)


@command("logs:failed", scope=Scope.APP, changes=False)
@click.argument("app", required=False)
@click.option("--all", "every", is_flag=True, help="Every app.")
@click.pass_obj
def failed(ctx: Context, app: Optional[str], every: bool) -> None:
    """Shows what the containers of the app's last failed deploy printed. Example: dokku logs:failed catmeow"""
    if bool(app) == every:
        raise ValidationError("give an app name or --all")
    if app:
        apps.require(ctx, app)
        _show_failed(ctx, app)
        return
    for name in apps.list_apps(ctx):
        ctx.out.step(f"Running logs:failed against app {name}")
        _show_failed(ctx, name)


def _show_failed(ctx: Context, app: str) -> None:
    output = logs.failed(ctx, app)
    if output is None:
        click.echo(" !     No failed containers found", err=True)
    else:
        click.echo(output, nl=False)


set_ = set_command(
    "logs:set",
    Scope.APP,
    lambda ctx, app, key, value: log_settings.set_property(ctx.store, app, key, value),
    help="Sets (or, with no value, clears) a logs property: max-size, the size at which the log of each of the "
    "app's containers rotates (10m, unlimited). Example: dokku logs:set catmeow max-size 20m",
    note=lambda ctx, app: "It takes effect on the next deploy or `dokku ps:restart`",
    change_global=lambda ctx, key, value: log_settings.set_property(ctx.store, None, key, value),
)


def _report_rows(ctx: Context, app: Optional[str]) -> list[Row]:
    """max-size's computed, global and (but for app None, --global) app's value."""
    rows = [
        Row(
            "--logs-computed-max-size",
            "Logs computed max size",
            functools.partial(log_settings.computed, ctx.store, app),
        ),
        Row("--logs-global-max-size", "Logs global max size", functools.partial(log_settings.get, ctx.store, None)),
    ]
    if app is not None:
        rows.append(Row("--logs-max-size", "Logs max size", functools.partial(log_settings.get, ctx.store, app)))
    return rows


report = report_command(
    "logs:report",
    Scope.APP,
    Report("logs", "--logs-", legacy=True),
    _report_rows,
    help="Shows the logs properties of one app, or of every app. Example: dokku logs:report catmeow",
    global_rows=lambda ctx: _report_rows(ctx, None),
)
