"""events, events:list|on|off: the audit trail of who did what to which app, and the trigger
points events:on adds to it (see minidokku/access/events.py)."""

import click

from minidokku.access import events
from minidokku.access.rules import Scope
from minidokku.cli.declare import command
from minidokku.cli.hangup import end_on_hang_up
from minidokku.context import Context
from minidokku.plugins import triggers

# The command families of this module and their one-line descriptions (`dokku help`, `dokku FAMILY:help`).
FAMILIES = {"events": "Manage event logging: who did what to which app, and with events:on each trigger point"}


@command("events", scope=Scope.ADMIN, changes=False)
@click.option("-t", "--tail", "follow", is_flag=True, help="Keep printing new events as they come.")
@click.pass_obj
def show(ctx: Context, follow: bool) -> None:
    """Lists who did what to which app, and when. Example: dokku events -t"""
    for line in events.lines(ctx.store):
        click.echo(line)
    if follow:
        end_on_hang_up()
        for line in events.follow(ctx.store):
            click.echo(line)


# Run per plugin (plugin:install|update|uninstall, a plugin's commands), not at a trigger point.
NOT_AT_A_POINT = ("commands", "update", "uninstall")


@command("events:list", scope=Scope.ADMIN, changes=False)
@click.pass_obj
def list_events(ctx: Context) -> None:
    """List logged events: the trigger points events:on logs. Example: dokku events:list"""
    if not events.logs_triggers(ctx.store):
        click.echo(" !     Events logger disabled", err=True)
        return
    ctx.out.section("Events currently logged")
    for name in sorted(name for name in triggers.TRIGGERS if name not in NOT_AT_A_POINT):
        click.echo(name)


@command("events:on", scope=Scope.ADMIN, changes=True)
@click.pass_obj
def events_on(ctx: Context) -> None:
    """Enable events logger: each trigger point reached gets a line in `dokku events`. Example: dokku events:on"""
    click.echo("Enabling dokku events logger")
    events.log_triggers(ctx.store, True)


@command("events:off", scope=Scope.ADMIN, changes=True)
@click.pass_obj
def events_off(ctx: Context) -> None:
    """Disable events logger (the commands' lines stay). Example: dokku events:off"""
    click.echo("Disabling dokku events logger")
    events.log_triggers(ctx.store, False)
