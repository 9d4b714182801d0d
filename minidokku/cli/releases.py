"""releases, releases:rollback (Heroku's; Dokku has none)."""

import time

import click

from minidokku.access import events
from minidokku.access.rules import Scope
from minidokku.cli.declare import command
from minidokku.context import Context
from minidokku.ops import apps, deploy
from minidokku.records import releases

# The command families of this module and their one-line descriptions (`dokku help`, `dokku FAMILY:help`).
FAMILIES = {"releases": "Manage an app's releases (minidokku's own)"}


@command("releases", scope=Scope.APP, changes=False)
@click.argument("app")
@click.pass_obj
def list_releases(ctx: Context, app: str) -> None:
    """Lists the app's releases, newest first. Example: dokku releases catmeow"""
    apps.require(ctx, app)
    ctx.out.section(f"{app} releases")
    for release in reversed(releases.history(ctx.store, app)):
        created = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(release.created))
        image = release.image_id.split(":")[-1][:12]
        click.echo(f"{release.name:<6}{created}  {release.sha[:7]}  {image}  {release.description}")


@command("releases:rollback", scope=Scope.APP, changes=True)
@click.argument("app")
@click.argument("release", required=False, default="")
@click.pass_obj
def rollback(ctx: Context, app: str, release: str) -> None:
    """Runs an earlier release (default: the one before) again as a new release.

    Example: dokku releases:rollback catmeow v1"""
    apps.require(ctx, app)
    click.get_current_context().meta[events.DETAIL] = f"to {release or 'the release before'}"
    with deploy.exclusive(ctx, app):
        done = deploy.rollback(ctx, app, release)
    ctx.out.step(f"Rollback done: {done.name} ({done.description})")
