"""stack:build: makes the base image builds and apps start from (needs root without a registry)."""

import click

from minidokku.access.rules import Scope
from minidokku.build import stack
from minidokku.cli.declare import Runs, command
from minidokku.context import Context

# The command families of this module and their one-line descriptions (`dokku help`, `dokku FAMILY:help`).
FAMILIES = {"stack": "Manage the stack image apps are built on (minidokku's own)"}


@command("stack:build", scope=Scope.ADMIN, changes=True, runs=Runs.AS_CALLER)
@click.option("--force", is_flag=True, help="Build again even if the image exists.")
@click.pass_obj
def build(ctx: Context, force: bool) -> None:
    """Builds the stack image minidokku/stack:latest. Example: sudo dokku stack:build"""
    stack.build(ctx.engine, ctx.out, force=force)
