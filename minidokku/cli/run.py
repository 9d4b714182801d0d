"""run and enter: one-off commands, in a new container or in a running one. Each exits with the
command's own exit status. run:detached, run:list, run:logs and run:stop: one-off containers in
the background (Dokku's run plugin)."""

import datetime
import json
import sys
import time
from typing import Optional

import click

from minidokku.access.rules import Scope
from minidokku.cli.declare import command
from minidokku.cli.hangup import end_on_hang_up
from minidokku.context import Context
from minidokku.errors import ValidationError
from minidokku.ops import apps, logs, oneoff
from minidokku.output import Output
from minidokku.runtime import at_once

# The command families of this module and their one-line descriptions (`dokku help`, `dokku FAMILY:help`).
FAMILIES = {"run": "Run a one-off process inside a container", "enter": "Enter running app containers"}

# Everything after APP belongs to the command, options included (`dokku run app python -c ...`).
COMMAND_SETTINGS = {"ignore_unknown_options": True, "allow_interspersed_args": False}
NO_TTY_HELP = "Never give the command a terminal (one is given when stdin and stdout are terminals)."


def _extra_options(function):
    """`-e|--env KEY=VALUE` (repeated) and `--ttl-seconds N`, before APP, as Dokku's run takes them."""
    function = click.option(
        "--ttl-seconds",
        default=str(oneoff.DEFAULT_TTL_SECONDS),
        help="How long the container may run before run:retire stops it.",
    )(function)
    return click.option("-e", "--env", "env", multiple=True, help="KEY=VALUE, over the app's config.")(function)


@command("run", scope=Scope.APP, changes=True, context_settings=COMMAND_SETTINGS)
@click.option("--no-tty", is_flag=True, help=NO_TTY_HELP)
@_extra_options
@click.argument("app")
@click.argument("command", nargs=-1, type=click.UNPROCESSED)
@click.pass_obj
def run(ctx: Context, no_tty: bool, env: tuple[str, ...], ttl_seconds: str, app: str, command: tuple[str, ...]) -> None:
    """Runs a command (default bash) in a new container of the app; one quoted word is a bash
    command line. Example: dokku run catmeow python manage.py migrate"""
    apps.require(ctx, app)
    extra = oneoff.Extra.parse(env, ttl_seconds)
    ctx.out = Output(sys.stderr, ctx.out.quiet)  # the command's stdout is the process's alone (plugins report too)
    sys.exit(oneoff.run(ctx, app, list(command), _tty(no_tty), oneoff.Streams.of_this_process(), extra))


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


@command("run:detached", scope=Scope.APP, changes=True, context_settings=COMMAND_SETTINGS)
@_extra_options
@click.argument("app")
@click.argument("command", nargs=-1, type=click.UNPROCESSED)
@click.pass_obj
def detached(ctx: Context, env: tuple[str, ...], ttl_seconds: str, app: str, command: tuple[str, ...]) -> None:
    """Runs a command in a new container of the app, in the background; prints the container's
    name. Example: dokku run:detached catmeow python manage.py clearsessions"""
    apps.require(ctx, app)
    extra = oneoff.Extra.parse(env, ttl_seconds)
    ctx.out = Output(sys.stderr, ctx.out.quiet)  # stdout is the container's name alone
    click.echo(oneoff.run_detached(ctx, app, list(command), extra))


@command("run:retire", scope=Scope.APP, changes=True)
@click.argument("app", required=False)
@click.pass_obj
def retire(ctx: Context, app: Optional[str]) -> None:
    """Stops the one-off containers that ran beyond their --ttl-seconds, of the app or (admin
    keys) of every app; run it from cron as Dokku does. Example: dokku run:retire catmeow"""
    names = apps.one_or_all(ctx, app)
    ctx.out.step(f"Retiring run containers for app {app}" if app else "Retiring all run containers")
    now = time.time()
    # every app's at once: one app's stop-timeout-seconds (up to 600) holds no other app's
    for retired in at_once.each(lambda name: oneoff.retire_expired(ctx, name, now), names):
        for container in retired:
            ctx.out.info(f"Retired {container}")


@command("run:list", scope=Scope.APP, changes=False)
@click.option("--format", "format_", type=click.Choice(["stdout", "json"]), default="stdout", help="stdout or json.")
@click.argument("app")
@click.pass_obj
def run_list(ctx: Context, format_: str, app: str) -> None:
    """Lists the app's one-off containers. Example: dokku run:list catmeow --format json"""
    apps.require(ctx, app)
    found = oneoff.run_containers(ctx, app)
    if format_ == "json":
        listed = [
            {"name": c.name, "state": c.state, "command": f'"{c.command}"', "created_at": _created_at(c.created)}
            for c in found
        ]
        click.echo(json.dumps(listed, indent=2))
        return
    ctx.out.section(f"{app} run containers")
    rows = [(c.name, f'"{c.command}"', f"{_human_duration(time.time() - c.created)} ago") for c in found]
    if ctx.out.quiet:
        for row in rows:
            click.echo("\t".join(row))
        return
    for line in _table([("NAMES", "COMMAND", "CREATED"), *rows]):
        click.echo(line)


@command("run:logs", scope=Scope.APP, changes=False)
@click.argument("app", required=False)
@click.argument("name", required=False)
@click.option("--container", help="Only this run container (its name, as run:list shows it).")
@click.option("-n", "--num", "lines", type=int, default=100, show_default=True, help="Lines of history.")
@click.option("-t", "--tail", "follow", is_flag=True, help="Follow the log as it grows.")
@click.option("-q", "--quiet", is_flag=True, help="Only the lines, without timestamp and app[run.1234]: prefix.")
@click.pass_obj
def run_logs(
    ctx: Context,
    app: Optional[str],
    name: Optional[str],
    container: Optional[str],
    lines: int,
    follow: bool,
    quiet: bool,
) -> None:
    """Shows the output of the app's one-off containers, or of one.
    Example: dokku run:logs catmeow --container catmeow.run.1234 -t"""
    app, chosen = _app_and_container(ctx, app, container or name)
    if follow:
        end_on_hang_up()
    for line in logs.run_lines(ctx, app, chosen, follow=follow, history=lines, quiet=quiet):
        click.echo(line)


@command("run:stop", scope=Scope.APP, changes=True)
@click.argument("app", required=False)
@click.argument("name", required=False)
@click.option("--container", help="Only this run container (its name, as run:list shows it).")
@click.pass_obj
def run_stop(ctx: Context, app: Optional[str], name: Optional[str], container: Optional[str]) -> None:
    """Stops the app's one-off containers, or one; prints their names.
    Example: dokku run:stop catmeow --container catmeow.run.1234"""
    app, chosen = _app_and_container(ctx, app, container or name)
    stopped = oneoff.stop_runs(ctx, app, chosen)
    if not stopped:
        click.echo("No run containers exist")
    for stopped_name in stopped:
        click.echo(stopped_name)


def _app_and_container(ctx: Context, app: Optional[str], container: Optional[str]) -> tuple[str, Optional[str]]:
    """`APP`, `APP --container NAME` (or `APP NAME`), or `--container NAME`: the app, and the
    container's name if one is given. Without APP (admin keys only: the rights check had no app
    to grant), the app is the one whose label the container has."""
    if app is None:
        if container is None:
            raise ValidationError("No container or app specified")
        return oneoff.app_of_run_container(ctx, apps.list_apps(ctx), container), container
    apps.require(ctx, app)
    return app, container


def _table(rows: list[tuple[str, ...]]) -> list[str]:
    """Columns as `docker container ls` lines them up: each as wide as its longest cell, 3 spaces apart."""
    widths = [max(len(row[index]) for row in rows) for index in range(len(rows[0]))]
    return ["   ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip() for row in rows]


def _created_at(created: int) -> str:
    """Docker's `CreatedAt`: `2022-08-03 05:47:44 +0000 UTC`."""
    return datetime.datetime.fromtimestamp(created, datetime.UTC).strftime("%Y-%m-%d %H:%M:%S +0000 UTC")


def _human_duration(seconds: float) -> str:
    """How long ago, as `docker ps` says it (`2 seconds`, `About a minute`, `3 hours`)."""
    minutes, hours = seconds / 60, seconds / 3600
    steps = [
        (seconds < 1, "Less than a second"),
        (int(seconds) == 1, "1 second"),
        (seconds < 60, f"{int(seconds)} seconds"),
        (int(minutes) == 1, "About a minute"),
        (minutes < 60, f"{int(minutes)} minutes"),
        (round(hours) == 1, "About an hour"),
        (hours < 48, f"{round(hours)} hours"),
        (hours < 24 * 7 * 2, f"{int(hours / 24)} days"),
        (hours < 24 * 30 * 2, f"{int(hours / 24 / 7)} weeks"),
        (hours < 24 * 365 * 2, f"{int(hours / 24 / 30)} months"),
    ]
    return next((text for reached, text in steps if reached), f"{int(hours / 24 / 365)} years")
