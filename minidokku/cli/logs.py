"""logs: the output of an app's containers, from the Engine's log stream."""

from typing import Optional

import click

from minidokku.access.rules import Scope
from minidokku.cli.declare import command
from minidokku.context import Context
from minidokku.ops import apps, logs

# The command families of this module and their one-line descriptions (`dokku help`, `dokku FAMILY:help`).
FAMILIES = {"logs": "Show an app's logs"}


@command("logs", scope=Scope.APP, changes=False)
@click.argument("app")
@click.option("-t", "--tail", "follow", is_flag=True, help="Follow the log as it grows.")
@click.option("-n", "--num", "lines", type=int, default=100, show_default=True, help="Lines of history per process.")
@click.option("-p", "--ps", "process", help="Only this process type (web) or dyno (web.1).")
@click.option("-q", "--quiet", is_flag=True, help="Only the lines, without timestamp and app[web.1]: prefix.")
@click.pass_obj
def show_logs(ctx: Context, app: str, follow: bool, lines: int, process: Optional[str], quiet: bool) -> None:
    """Shows the app's logs. Example: dokku logs catmeow -t -p web"""
    apps.require(ctx, app)
    for line in logs.lines(ctx, app, follow=follow, history=lines, process=process, quiet=quiet):
        click.echo(line)
