"""docker-options:add, remove, clear, list, report: container options per phase (build, deploy, run)."""

import functools
from typing import Optional

import click

from minidokku.access.rules import Scope
from minidokku.cli.declare import command
from minidokku.cli.family import Report, Row, report_command
from minidokku.context import Context
from minidokku.errors import ValidationError
from minidokku.ops import apps
from minidokku.records import docker_options
from minidokku.records.docker_options import PHASES, validate_phases

# The command families of this module and their one-line descriptions (`dokku help`, `dokku FAMILY:help`).
FAMILIES = {"docker-options": "Manage docker options for an app"}

RAW = {"ignore_unknown_options": True, "allow_interspersed_args": False}


@command("docker-options:add", scope=Scope.ADMIN, changes=True, context_settings=RAW)
@click.option("--global", "is_global", is_flag=True, help="For every app.")
@click.argument("args", nargs=-1, type=click.UNPROCESSED)
@click.pass_obj
def add(ctx: Context, is_global: bool, args) -> None:
    """Adds an option for phases. Example: dokku docker-options:add catmeow deploy "--memory 512m" """
    app, phases, option = _target(ctx, is_global, args)
    not_for_tenants = docker_options.add(ctx.store, app, phases, option)
    ctx.out.step(f"Added {option!r} to the {','.join(phases)} phase(s) of {app or 'every app'}")
    if not_for_tenants:
        ctx.out.info(f"Apps of user keys do not get {', '.join(not_for_tenants)} (it reaches the host or other apps)")


@command("docker-options:remove", scope=Scope.ADMIN, changes=True, context_settings=RAW)
@click.option("--global", "is_global", is_flag=True, help="For every app.")
@click.argument("args", nargs=-1, type=click.UNPROCESSED)
@click.pass_obj
def remove(ctx: Context, is_global: bool, args) -> None:
    """Removes an option. Example: dokku docker-options:remove catmeow deploy "--memory 512m" """
    app, phases, option = _target(ctx, is_global, args)
    docker_options.remove(ctx.store, app, phases, option)


@command("docker-options:clear", scope=Scope.ADMIN, changes=True, context_settings=RAW)
@click.option("--global", "is_global", is_flag=True, help="For every app.")
@click.argument("args", nargs=-1, type=click.UNPROCESSED)
@click.pass_obj
def clear(ctx: Context, is_global: bool, args) -> None:
    """Removes all options of phases. Example: dokku docker-options:clear catmeow build"""
    app_args = 0 if is_global else 1
    if len(args) not in (app_args, app_args + 1):
        raise ValidationError("expected " + ("--global" if is_global else "APP") + " [PHASES]")
    app = None if is_global else apps.require(ctx, args[0])
    phases = validate_phases(args[app_args]) if len(args) > app_args else list(PHASES)
    docker_options.clear(ctx.store, app, phases)


@command("docker-options:list", scope=Scope.APP, changes=False)
@click.option("--phase", help="build, deploy or run (required).")
@click.option("--process", help="Not kept here: options are the app's, for every process type.")
@click.argument("app")
@click.pass_obj
def list_(ctx: Context, phase: Optional[str], process: Optional[str], app: str) -> None:
    """Shows the app's options for one phase, one a line. Example: dokku docker-options:list catmeow --phase deploy"""
    apps.require(ctx, app)
    if phase not in PHASES:
        raise ValidationError(f"give --phase with one of {', '.join(PHASES)}")
    if process is not None:
        raise ValidationError("docker options are kept per app (every process type gets them), not per process")
    for line in docker_options.lines(ctx.store, app, phase):
        click.echo(line)


def _report_rows(ctx: Context, app: Optional[str]) -> list[Row]:
    """The options of each phase, of the app or (app None) of every app."""
    return [
        Row(f"--docker-options-{phase}", f"Docker options {phase}", functools.partial(_phase_options, ctx, app, phase))
        for phase in PHASES
    ]


def _phase_options(ctx: Context, app: Optional[str], phase: str) -> str:
    return " ".join(docker_options.lines(ctx.store, app, phase))


report = report_command(
    "docker-options:report",
    Scope.ADMIN,
    Report("docker options", "--docker-options-", legacy=True),
    _report_rows,
    help="Shows the options per phase of one app, every app or --global. Example: dokku docker-options:report catmeow",
    global_rows=lambda ctx: _report_rows(ctx, None),
)


def _target(ctx: Context, is_global: bool, args) -> tuple[Optional[str], list[str], str]:
    """Splits `APP PHASES OPTION` (`PHASES OPTION` with --global)."""
    if len(args) != (2 if is_global else 3):
        usage = ("--global" if is_global else "APP") + " PHASES OPTION"
        raise ValidationError(f'expected {usage}, e.g. build,deploy "--memory 512m"')
    app = None if is_global else apps.require(ctx, args[0])
    return app, validate_phases(args[-2]), args[-1]
