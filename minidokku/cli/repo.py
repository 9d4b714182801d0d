"""repo:gc and repo:purge-cache (Dokku's repo plugin)."""

import click

from minidokku.access.rules import Scope
from minidokku.cli.declare import command
from minidokku.context import Context
from minidokku.ops import repo

# The command families of this module and their one-line descriptions (`dokku help`, `dokku FAMILY:help`).
FAMILIES = {"repo": "Manage the app's repo"}


@command("repo:gc", scope=Scope.APP, changes=True)
@click.argument("app")
@click.pass_obj
def gc(ctx: Context, app: str) -> None:
    """Runs 'git gc' against the application's repo (--aggressive unless a user key's app).
    Example: dokku repo:gc catmeow"""
    repo.collect_garbage(ctx, app)
    ctx.out.step(f"Collected the garbage of the repo of {app}")


@command("repo:purge-cache", scope=Scope.APP, changes=True)
@click.argument("app")
@click.pass_obj
def purge_cache(ctx: Context, app: str) -> None:
    """Deletes the contents of the build cache stored for the app. Example: dokku repo:purge-cache catmeow"""
    repo.purge_cache(ctx, app)
    ctx.out.step(f"Purged the build cache of {app}: its next build starts from scratch")
