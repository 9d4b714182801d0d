"""run and enter: one-off commands, in a new container or in a running one. Each exits with the
command's own exit status."""

import sys
from typing import Optional

import click

from minidokku.access.rules import Scope
from minidokku.cli.declare import command
from minidokku.context import Context
from minidokku.ops import apps, oneoff
from minidokku.output import Output

# The command families of this module and their one-line descriptions (`dokku help`, `dokku FAMILY:help`).
FAMILIES = {"run": "Run a one-off process inside a container", "enter": "Enter running app containers"}

# Everything after APP belongs to the command, options included (`dokku run app python -c ...`).
COMMAND_SETTINGS = {"ignore_unknown_options": True, "allow_interspersed_args": False}
NO_TTY_HELP = "Never give the command a terminal (one is given when stdin and stdout are terminals)."


@command("run", scope=Scope.APP, changes=True, context_settings=COMMAND_SETTINGS)
@click.option("--no-tty", is_flag=True, help=NO_TTY_HELP)
@click.argument("app")
@click.argument("command", nargs=-1, type=click.UNPROCESSED)
@click.pass_obj
def run(ctx: Context, no_tty: bool, app: str, command: tuple[str, ...]) -> None:
    """Runs a command (default bash) in a new container of the app; one quoted word is a bash
    command line. Example: dokku run catmeow python manage.py migrate"""
    apps.require(ctx, app)
    ctx.out = Output(sys.stderr, ctx.out.quiet)  # the command's stdout is the process's alone (plugins report too)
    sys.exit(oneoff.run(ctx, app, list(command), _tty(no_tty), oneoff.Streams.of_this_process()))


@command("enter", scope=Scope.APP, changes=True, context_settings=COMMAND_SETTINGS)
@click.option("--no-tty", is_flag=True, help=NO_TTY_HELP)
@click.argument("app")
@click.argument("target", required=False)
@click.argument("command", nargs=-1, type=click.UNPROCESSED)
@click.pass_obj
def enter(ctx: Context, no_tty: bool, app: str, target: Optional[str], command: tuple[str, ...]) -> None:
    """Runs a command (default bash) in a running container of the app: TARGET is a process type,
    a dyno (web.1) or a container id. Example: dokku enter catmeow web printenv DYNO"""
    apps.require(ctx, app)
    sys.exit(oneoff.enter(ctx, app, target, list(command), _tty(no_tty), oneoff.Streams.of_this_process()))


def _tty(no_tty: bool) -> bool:
    return not no_tty and sys.stdin.isatty() and sys.stdout.isatty()
