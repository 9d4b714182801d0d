"""The command line: Dokku's command names, parsed by click, answered by the core.

Run as `dokku COMMAND ...` on the host, or over ssh where the forced command reads
SSH_ORIGINAL_COMMAND (see minidokku/access/ssh.py).
"""

import os
import signal
import sys

import click

from minidokku import __version__
from minidokku.access import events, rules, users
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
from minidokku.cli.errors import UserError
from minidokku.context import Context
from minidokku.errors import MinidokkuError, PermissionDenied
from minidokku.output import Output
from minidokku.plugins import triggers
from minidokku.settings import Settings, program_command
from minidokku.state import Store, root_from_environment

# Commands that need root itself; every other command, run by root, runs as the root's owner.
# Plugins are managed as root, as in Dokku: their install, dependencies and update triggers may
# need it (apt-get), and their files are then root's, read by the dokku user. Running as root,
# minidokku acts on nothing the dokku user could have written: SETTINGS and .sshcommand only
# when root's own (state.read_trusted), plugins only from a folder root alone can change
# (plugins.plugin_path, plugins.runnable_by_root).
ROOT_COMMANDS = frozenset({"stack:build", *plugin.ROOT_ONLY})

# Commands only minidokku itself runs, on the host: git's pre-receive hook (`git-hook APP`, with
# git's `OLD NEW REF` lines on stdin) and a deploy's detached retirement of old containers. Over
# ssh they are refused for every key, admin included (see DokkuContext).
INTERNAL_COMMANDS = frozenset({"git-hook", "ps:retire"})


# Commands that change nothing, so the audit trail leaves them out.
READ_ONLY = frozenset({"apps:list", "config:get", "config:show", "config:export", "events", "help", "logs",
                       "nginx:show-config", "nginx:validate-config", "ps:retire", "releases", "ssh-keys:list",
                       "version", "apps:locked", "buildpacks:list", "ports:list", "plugin:list",
                       "plugin:installed", "postgres:info", "postgres:list", "postgres:logs",
                       "postgres:export"})  # fmt: skip


class AuditedCommand(click.Command):
    """A command that only a key's rights let through (access/rules.py; plugin management only root on
    the host), and whose every run that may change something, or was refused, goes to the audit
    trail (access/events.py) with its outcome; a command adds names (never values) under
    ctx.meta[events.DETAIL]."""

    def invoke(self, ctx: click.Context):
        outcome = "failed"
        try:
            if self.name in INTERNAL_COMMANDS and getattr(ctx.find_root(), "over_ssh", False):
                raise PermissionDenied(f"{self.name} is internal to minidokku: it is never run over ssh")
            if isinstance(ctx.obj, Context):
                app = ctx.params.get("app")
                rules.authorize(ctx.obj.store, rules.ssh_key(), self.name, app, ctx.obj.settings.user_app_quota)
            if self.name in plugin.ROOT_ONLY and os.geteuid() != 0:
                raise PermissionDenied(
                    f"{self.name} must be run as root on the host (sudo dokku {self.name} ...), as in Dokku"
                )
            result = super().invoke(ctx)
            outcome = "ok"
            return result
        except PermissionDenied:
            outcome = "denied"
            raise
        except SystemExit as exit_:
            outcome = "ok" if exit_.code in (0, None) else f"exit {exit_.code}"
            raise
        finally:
            changes = self.name not in READ_ONLY and not self.name.endswith(":report")
            if (changes or outcome == "denied") and isinstance(ctx.obj, Context):
                action = "push" if self.name == "git-hook" else self.name
                detail = ctx.meta.get(events.DETAIL, "")
                event = events.Event(events.actor(), action, ctx.params.get("app") or "", detail, outcome)
                events.record(ctx.obj.store, event)


class PluginCommand(AuditedCommand):
    """A subcommand no built-in command has: offered to the plugins' `commands` executables."""

    def __init__(self, name: str):
        super().__init__(
            name,
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
    command_class = AuditedCommand
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
    if click_ctx.invoked_subcommand not in ROOT_COMMANDS:
        root = root_from_environment()
        users.reexec_as_owner_of(root, program_command(root))
    click_ctx.obj = Context(Settings.load(), Output(sys.stdout))


@cli.command("version")
def version() -> None:
    """Shows the version. Example: dokku version"""
    click.echo(f"minidokku {__version__}")


@cli.command("help")
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
    family.register(cli)


def _unwind(signum: int, _frame) -> None:
    """An ssh hang-up (SIGHUP) or a stop (SIGTERM) ends the command by unwinding it, so that what
    it started is cleaned up on the way out (a `run` container is removed, a lock released)
    instead of being left behind by a process killed in place."""
    raise SystemExit(128 + signum)


def main() -> None:
    """Entry point of `dokku` and `python -m minidokku`. An ssh key's forced command runs us
    without arguments: only then is SSH_ORIGINAL_COMMAND the request (and INTERNAL_COMMANDS are
    refused); with arguments we were called on the host, by a person, git's hook or ourselves."""
    for hang_up in (signal.SIGHUP, signal.SIGTERM):
        signal.signal(hang_up, _unwind)
    original = os.environ.get("SSH_ORIGINAL_COMMAND")
    if original is not None and len(sys.argv) == 1:
        git.serve_ssh(cli, original)
    else:
        cli.main(prog_name="dokku")
