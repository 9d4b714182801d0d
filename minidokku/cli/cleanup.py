"""`cleanup [APP]`: Dokku's removal of exited containers and dangling images, for minidokku's apps."""

from typing import Optional

import click

from minidokku.access.rules import Scope
from minidokku.cli.declare import command
from minidokku.context import Context
from minidokku.ops import cleanup as cleaning

# The command families of this module and their one-line descriptions (`dokku help`, `dokku FAMILY:help`).
FAMILIES: dict[str, str] = {}


@command("cleanup", scope=Scope.APP, changes=True)
@click.argument("app", required=False)
@click.pass_obj
def cleanup(ctx: Context, app: Optional[str]) -> None:
    """Cleans up exited/dead Docker containers and removes dangling images (of the app, or of every app).
    Example: dokku cleanup catmeow"""
    done = cleaning.clean_up(ctx, app)
    ctx.out.step("Cleaning up...")
    for cleaned in done:
        if cleaned.busy:
            click.echo(f" !     Skipped {cleaned.app}: {cleaned.busy}", err=True)
        elif cleaned.containers or cleaned.images:
            ctx.out.info(
                f"{cleaned.app}: removed {cleaned.containers} container(s), {cleaned.images} dangling image(s)"
            )
