"""`url APP` and `urls APP`: where an app is reached (Dokku's urls plugin)."""

import click

from minidokku.access.rules import Scope
from minidokku.cli.declare import command
from minidokku.context import Context
from minidokku.ops import apps
from minidokku.routing import proxy

# The command families of this module and their one-line descriptions (`dokku help`, `dokku FAMILY:help`).
FAMILIES: dict[str, str] = {}


@command("url", scope=Scope.APP, changes=False)
@click.argument("app")
@click.pass_obj
def url(ctx: Context, app: str) -> None:
    """Shows the first URL for an application. Example: dokku url catmeow"""
    click.echo(proxy.url(ctx, apps.require(ctx, app)))


@command("urls", scope=Scope.APP, changes=False)
@click.argument("app")
@click.pass_obj
def urls(ctx: Context, app: str) -> None:
    """Shows all URLs for an application. Example: dokku urls catmeow"""
    for line in proxy.urls(ctx, apps.require(ctx, app)):
        click.echo(line)
