"""The command line: Dokku's command names, parsed by click, answered by the core.

Run as `dokku COMMAND ...` on the host, or over ssh where the forced command reads
SSH_ORIGINAL_COMMAND (see minidokku/access/ssh.py).
"""

import os
import signal
import sys

import click

from minidokku import __version__
from minidokku.access import users
from minidokku.access.rules import Scope
from minidokku.cli import (
    apps,
    buildpacks,
    certs,
    checks,
    config,
    docker_options,
    domains,
    event_log,
    git,
    logs,
    nginx,
    plugin,
    ports,
    postgres,
    ps,
    releases,
    resource,
    run,
    ssh_keys,
    stack,
)
from minidokku.cli.declare import DeclaredCommand, command, commands_in
from minidokku.cli.errors import UserError
from minidokku.context import Context
from minidokku.errors import MinidokkuError
from minidokku.output import Output
from minidokku.plugins import triggers
from minidokku.settings import Settings, program_command
from minidokku.state import Store, root_from_environment


class PluginCommand(DeclaredCommand):
    """A subcommand no built-in command has: offered to the plugins' `commands` executables. For
    admin keys only; recorded unless it is a `:report`, the read-only shape of Dokku's commands."""

    def __init__(self, name: str):
        super().__init__(
            name,
            scope=Scope.ADMIN,
            changes=not name.endswith(":report"),
            callback=self.run_in_plugins,
            params=[click.Argument(["words"], nargs=-1, type=click.UNPROCESSED)],
            context_settings={"ignore_unknown_options": True, "allow_interspersed_args": False},
            add_help_option=False,
        )

    def run_in_plugins(self, words: tuple[str, ...]) -> None:
        code = triggers.run_command(click.get_current_context().obj, [self.name, *words])
        if code == triggers.NOT_MINE:
            raise click.UsageError(f"No such command {self.name!r}.", ctx=click.get_current_context().parent)
        raise SystemExit(code)


class DokkuContext(click.Context):
    """The top context; over_ssh when the command came in an ssh session's SSH_ORIGINAL_COMMAND.

    That is so only when the process was started as the key's forced command, which has no
    arguments (main()): git's hook and a deploy's errands inherit SSH_ORIGINAL_COMMAND from the
    session that pushed, but are called with their command as arguments, so they are never taken
    for an ssh request."""

    def __init__(self, *args, over_ssh: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.over_ssh = over_ssh


class DokkuGroup(click.Group):
    context_class = DokkuContext

    def get_command(self, ctx: click.Context, name: str):
        command = super().get_command(ctx, name)
        if command is None and triggers.has_commands(Store(root_from_environment())):
            return PluginCommand(name)
        return command

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except MinidokkuError as error:
            raise UserError(error) from None


@click.group(cls=DokkuGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "--version", prog_name="minidokku")
@click.pass_context
def cli(click_ctx: click.Context) -> None:
    """minidokku: a Heroku-style platform for one small VPS (Dokku's commands)."""
    command = cli.commands.get(click_ctx.invoked_subcommand)
    if not isinstance(command, DeclaredCommand) or command.reruns_as_owner():  # or a plugin's command
        root = root_from_environment()
        users.reexec_as_owner_of(root, program_command(root))
    click_ctx.obj = Context(Settings.load(), Output(sys.stdout))


@command("version", scope=Scope.FREE, changes=False)
def version() -> None:
    """Shows the version. Example: dokku version"""
    click.echo(f"minidokku {__version__}")


@command("help", scope=Scope.FREE, changes=False)
@click.pass_context
def help_command(click_ctx: click.Context) -> None:
    """Lists the commands, the plugins' own too. Example: dokku help"""
    click.echo(click_ctx.parent.get_help())
    plugin_lines = triggers.command_help(click_ctx.obj)
    if plugin_lines:
        click.echo("\nPlugin commands:")
        for line in plugin_lines:
            click.echo(line)


for family in (
    apps,
    buildpacks,
    certs,
    checks,
    config,
    docker_options,
    domains,
    event_log,
    git,
    logs,
    nginx,
    plugin,
    ports,
    postgres,
    ps,
    releases,
    resource,
    run,
    ssh_keys,
    stack,
):
    for declared_command in commands_in(family):
        cli.add_command(declared_command)
cli.add_command(version)
cli.add_command(help_command)


def _unwind(signum: int, _frame) -> None:
    """An ssh hang-up (SIGHUP) or a stop (SIGTERM) ends the command by unwinding it, so that what
    it started is cleaned up on the way out (a `run` container is removed, a lock released)
    instead of being left behind by a process killed in place."""
    raise SystemExit(128 + signum)


def main() -> None:
    """Entry point of `dokku` and `python -m minidokku`. An ssh key's forced command runs us
    without arguments: only then is SSH_ORIGINAL_COMMAND the request (and internal commands are
    refused); with arguments we were called on the host, by a person, git's hook or ourselves."""
    for hang_up in (signal.SIGHUP, signal.SIGTERM):
        signal.signal(hang_up, _unwind)
    original = os.environ.get("SSH_ORIGINAL_COMMAND")
    if original is not None and len(sys.argv) == 1:
        git.serve_ssh(cli, original)
    else:
        cli.main(prog_name="dokku")
