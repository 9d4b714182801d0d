"""docker-options:add, remove, clear, report: container options per phase (build, deploy, run)."""

from typing import Optional

import click

from minidokku.context import Context
from minidokku.errors import ValidationError
from minidokku.ops import apps
from minidokku.records import docker_options
from minidokku.records.docker_options import PHASES, validate_phases

RAW = {"ignore_unknown_options": True, "allow_interspersed_args": False}


def register(cli: click.Group) -> None:
    @cli.command("docker-options:add", context_settings=RAW)
    @click.option("--global", "is_global", is_flag=True, help="For every app.")
    @click.argument("args", nargs=-1, type=click.UNPROCESSED)
    @click.pass_obj
    def add(ctx: Context, is_global: bool, args) -> None:
        """Adds an option for phases. Example: dokku docker-options:add catmeow deploy "--memory 512m" """
        app, phases, option = _target(ctx, is_global, args)
        not_for_tenants = docker_options.add(ctx.store, app, phases, option)
        ctx.out.step(f"Added {option!r} to the {','.join(phases)} phase(s) of {app or 'every app'}")
        if not_for_tenants:
            ctx.out.info(f"Apps of user keys do not get {', '.join(not_for_tenants)} (it reaches the host)")

    @cli.command("docker-options:remove", context_settings=RAW)
    @click.option("--global", "is_global", is_flag=True, help="For every app.")
    @click.argument("args", nargs=-1, type=click.UNPROCESSED)
    @click.pass_obj
    def remove(ctx: Context, is_global: bool, args) -> None:
        """Removes an option. Example: dokku docker-options:remove catmeow deploy "--memory 512m" """
        app, phases, option = _target(ctx, is_global, args)
        docker_options.remove(ctx.store, app, phases, option)

    @cli.command("docker-options:clear", context_settings=RAW)
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

    @cli.command("docker-options:report")
    @click.option("--global", "is_global", is_flag=True, help="The options of every app.")
    @click.argument("app", required=False)
    @click.pass_obj
    def report(ctx: Context, is_global: bool, app) -> None:
        """Shows the options per phase. Example: dokku docker-options:report catmeow"""
        if not is_global and not app:
            raise ValidationError("name an app, or use --global")
        target = None if is_global else apps.require(ctx, app)
        ctx.out.section(f"{target or 'global'} docker options information")
        for phase in PHASES:
            click.echo(
                f"       Docker options {phase + ':':<8} {' '.join(docker_options.lines(ctx.store, target, phase))}"
            )


def _target(ctx: Context, is_global: bool, args) -> tuple[Optional[str], list[str], str]:
    """Splits `APP PHASES OPTION` (`PHASES OPTION` with --global)."""
    if len(args) != (2 if is_global else 3):
        usage = ("--global" if is_global else "APP") + " PHASES OPTION"
        raise ValidationError(f'expected {usage}, e.g. build,deploy "--memory 512m"')
    app = None if is_global else apps.require(ctx, args[0])
    return app, validate_phases(args[-2]), args[-1]
