"""`report [APP|--all]`: Dokku's whole report, for troubleshooting: minidokku's and the
machine's vitals, the plugins, then every family's report of the app (or of every app)."""

from typing import Optional

import click

from minidokku.access.rules import Scope
from minidokku.cli import all_commands, version_line
from minidokku.cli.declare import command
from minidokku.context import Context
from minidokku.errors import ValidationError
from minidokku.ops import apps, host_report

# The command families of this module and their one-line descriptions (`dokku help`, `dokku FAMILY:help`).
FAMILIES: dict[str, str] = {}


@command("report", scope=Scope.ADMIN, changes=False)
@click.argument("app", required=False)
@click.option("--all", "every_app", is_flag=True, help="Every app's reports after the vitals.")
@click.option("--format", "format_", hidden=True)
@click.pass_context
def report(click_ctx: click.Context, app: Optional[str], every_app: bool, format_: Optional[str]) -> None:
    """Reports dokku vitals for troubleshooting, then the app's reports (--all: every app's).
    Example: dokku report catmeow"""
    ctx: Context = click_ctx.obj
    if format_ is not None:
        raise ValidationError("--format flag not supported on global report")
    names = apps.list_apps(ctx) if every_app else [apps.require(ctx, app)] if app else []
    _show_vitals(click_ctx)
    commands = all_commands()
    for each in names:
        for name in sorted(name for name in commands if name.endswith(":report")):
            click_ctx.invoke(commands[name], app=each)


def _show_vitals(click_ctx: click.Context) -> None:
    ctx: Context = click_ctx.obj
    for vital in host_report.vitals(ctx):
        if vital.problem:
            click.echo(f" !     {vital.problem}", err=True)
            continue
        ctx.out.step(f"{vital.label}: {vital.headline}".rstrip())
        for line in vital.lines:
            ctx.out.info(line)
    ctx.out.step(f"dokku version: {version_line()}")
    ctx.out.step("dokku plugins:")
    click_ctx.invoke(all_commands()["plugin:list"])
