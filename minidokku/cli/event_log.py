"""events: the audit trail of who did what to which app (see minidokku/access/events.py)."""

import click

from minidokku.access import events
from minidokku.access.rules import Scope
from minidokku.cli.declare import command
from minidokku.context import Context

# The command families of this module and their one-line descriptions (`dokku help`, `dokku FAMILY:help`).
FAMILIES = {"events": "Show who did what to which app (minidokku's audit trail)"}


@command("events", scope=Scope.ADMIN, changes=False)
@click.option("-t", "--tail", "follow", is_flag=True, help="Keep printing new events as they come.")
@click.pass_obj
def show(ctx: Context, follow: bool) -> None:
    """Lists who did what to which app, and when. Example: dokku events -t"""
    for line in events.lines(ctx.store):
        click.echo(line)
    if follow:
        for line in events.follow(ctx.store):
            click.echo(line)
