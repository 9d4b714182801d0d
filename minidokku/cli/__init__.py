"""The command line: Dokku's command names, parsed by click, answered by the core.

Run as `dokku [--quiet|--trace|--force] [--app APP] COMMAND ...` on the host, or over ssh where
the forced command reads SSH_ORIGINAL_COMMAND (see minidokku/access/ssh.py), global flags
included. Dokku's conventions are kept where a script may rely on them: `dokku` alone, `dokku
help` and `-h` print Dokku's usage; `dokku FAMILY` (or `FAMILY:help`) the family's help, but for
the bare names Dokku runs as commands; `dokku version` and `-v` Dokku's version line; an unknown
command, a missing app or argument Dokku's ` !     ` lines and exit 1 (cli/errors.py).
"""

import importlib
import json
import os
import signal
import sys
from pathlib import Path
from typing import Optional

import click

import minidokku
from minidokku import __version__
from minidokku.access import ssh, users
from minidokku.access.rules import Scope
from minidokku.cli import inputs, tracing
from minidokku.cli.command_table import COMMAND_MODULES, FAMILIES
from minidokku.cli.declare import DeclaredCommand, command, commands_in, global_option
from minidokku.cli.errors import CommandLineError, DokkuError, UnknownCommand, UserError
from minidokku.context import Context
from minidokku.errors import MinidokkuError, ValidationError
from minidokku.output import Output
from minidokku.records import names
from minidokku.settings import Settings, program_command
from minidokku.state import Store, root_from_environment
from minidokku.steps import StepTimer

# The Dokku release whose commands, flags, messages and exit codes this command line follows: its
# docs and plugin help texts at tag v0.38.27 are what minidokku's commands were checked against.
# `dokku version` prints it first, so that a tool picking commands by the first X.Y.Z sees it.
DOKKU_VERSION = "0.38.27"
USAGE = "Usage: dokku [--quiet|--trace|--force] COMMAND <app> [command-specific-options]"
# The modules of the command families, each declaring its commands and FAMILIES (a new family's
# module goes here, and its commands into cli/command_table.py: `make command-table`). A command
# loads only its own family's module (DokkuGroup.get_command): `apps:list` never imports what
# deploys; `dokku help` and the reports load them all (all_commands).
FAMILY_MODULES = (
    "app_lifecycle",
    "apps",
    "builder",
    "buildpacks",
    "builds",
    "certs",
    "checks",
    "cleanup",
    "config",
    "cron",
    "docker_options",
    "domains",
    "event_log",
    "git",
    "letsencrypt",
    "logs",
    "network",
    "nginx",
    "plugin",
    "ports",
    "postgres",
    "ps",
    "registry",
    "releases",
    "repo",
    "report",
    "resource",
    "run",
    "sample",
    "scheduler",
    "ssh_keys",
    "stack",
    "storage",
    "tracing",
    "urls",
)
MAX_OPTIONS_SHOWN = 2  # a command with more shows `[options]` in the help's lists
# Where Dokku's bare family name is itself a command (`dokku apps` lists the apps, `dokku config
# APP` shows its config); every other bare family name prints the family's help.
FAMILY_COMMANDS = {"apps": "apps:list", "config": "config:show"}


class PluginCommand(DeclaredCommand):
    """A subcommand no built-in command has: offered to the plugins' `commands` executables. For
    admin keys only; recorded unless it is a `:report`, the read-only shape of Dokku's commands.
    The plugin sees the global --force and --quiet as Dokku's plugins do, in its environment."""

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
        from minidokku.plugins import triggers  # as in DokkuGroup.get_command

        click_ctx = click.get_current_context()
        for flag, variable in (("force", "DOKKU_APPS_FORCE_DELETE"), ("quiet", "DOKKU_QUIET_OUTPUT")):
            if global_option(click_ctx, flag):
                os.environ[variable] = "1"
        code = triggers.run_command(click_ctx.obj, [self.name, *words])
        if code == triggers.NOT_MINE:
            raise UnknownCommand([self.name, *words])
        raise SystemExit(code)


class FamilyHelp(DeclaredCommand):
    """`dokku FAMILY` and `dokku FAMILY:help`: the family's help in Dokku's form."""

    def __init__(self, name: str, family: str):
        super().__init__(name, scope=Scope.FREE, changes=False, callback=lambda: click.echo(family_help(family)))


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
    """The `dokku` command: global options, then a command, a family's help or a plugin's
    command; every error is told Dokku's way (cli/errors.py)."""

    context_class = DokkuContext

    def get_command(self, ctx: click.Context, name: str):
        name = FAMILY_COMMANDS.get(name, name)
        if name in COMMAND_MODULES:
            _load_family(COMMAND_MODULES[name])
        command = super().get_command(ctx, name)
        if command is not None:
            return command
        family = name.removesuffix(":help")
        if family in FAMILIES:
            return FamilyHelp(name, family)
        from minidokku.plugins import triggers  # only for a name no built-in command has: plugins read tarballs, git

        if triggers.has_commands(Store(root_from_environment())):
            return PluginCommand(name)
        return None

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(all_commands())

    def resolve_command(self, ctx: click.Context, args: list[str]):
        command = self.get_command(ctx, args[0])
        if command is None:
            raise UnknownCommand(args)
        ctx.meta[inputs.WORDS] = args[1:]
        return command.name, command, args[1:]

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        try:
            return super().parse_args(ctx, args)
        except click.UsageError as error:
            raise CommandLineError(error) from None

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except MinidokkuError as error:
            raise UserError(error) from None
        except DokkuError:
            raise
        except click.ClickException as error:
            raise CommandLineError(error) from None


def _checked_app(_ctx: click.Context, _param: click.Parameter, value: Optional[str]) -> Optional[str]:
    try:
        return None if value is None else names.validate_app_name(value)
    except ValidationError as error:
        raise click.BadParameter(str(error)) from None


def _print_version(click_ctx: click.Context, _param: click.Parameter, given: bool) -> None:
    if given:
        click.echo(version_line())
        click_ctx.exit()


@click.group(
    cls=DokkuGroup,
    invoke_without_command=True,
    add_help_option=False,  # -h/--help below prints Dokku's help; a command's own -h is click's
    context_settings={"help_option_names": ["-h", "--help"]},
)
@click.option("--quiet", is_flag=True, help="Leave out the =====> and -----> headers.")
@click.option("--force", is_flag=True, help="Confirm a destroy, as the command's own --force does.")
@click.option("--trace", is_flag=True, help="Print Engine requests, programs run and each deploy step's duration.")
@click.option("--app", metavar="APP", callback=_checked_app, help="The command's app; leave it out of its arguments.")
@click.option("-v", "--version", is_flag=True, expose_value=False, is_eager=True, callback=_print_version)
@click.option("-h", "--help", "show_help", is_flag=True)
@click.pass_context
def cli(click_ctx: click.Context, quiet: bool, force: bool, trace: bool, app: Optional[str], show_help: bool) -> None:
    """minidokku: a Heroku-style platform for one small VPS (Dokku's commands)."""
    command = cli.commands.get(click_ctx.invoked_subcommand)
    if not isinstance(command, DeclaredCommand) or command.reruns_as_owner():  # or a plugin's command
        root = root_from_environment()
        if command is not None and os.geteuid() == 0:  # the files root named are root's to read
            inputs.read_files_as_caller(click_ctx, command)
        users.act_as_owner_of(root, _code_folders(), lambda: program_command(root))
    click_ctx.obj = Context(Settings.load(), Output(sys.stdout, quiet=quiet))
    if trace or tracing.is_on(click_ctx.obj.store):
        tracing.start()
        click_ctx.obj.steps = StepTimer(click_ctx.obj.out)
    if show_help or click_ctx.invoked_subcommand is None:
        click.echo(main_help(click_ctx.obj, every_command=False))
        click_ctx.exit()


def _code_folders() -> list[Path]:
    """Where this program's modules and files come from: its package's folder, its libraries'
    and Python's own (a module may still be imported once the command runs)."""
    return [Path(minidokku.__file__).parent.parent, Path(click.__file__).parent.parent, Path(os.__file__).parent]


def version_line() -> str:
    return f"dokku version {DOKKU_VERSION} (minidokku {__version__})"


@command("version", scope=Scope.FREE, changes=False)
def version() -> None:
    """Print dokku's version (and minidokku's). Example: dokku version"""
    click.echo(version_line())


@command("help", scope=Scope.FREE, changes=False)
@click.option("--all", "every_command", is_flag=True, help="List every command, not only the families.")
@click.pass_obj
def help_command(ctx: Context, every_command: bool) -> None:
    """Print the list of commands. Example: dokku help --all"""
    click.echo(main_help(ctx, every_command))


def main_help(ctx: Context, every_command: bool) -> str:
    """Dokku's `dokku help`: the usage, then each family and top-level command with its one-line
    description (every command with --all), then the plugins' own."""
    lines = [
        USAGE,
        "",
        'Primary help options, type "dokku COMMAND:help" for more details, or dokku help --all to see all commands.',
        "",
        "Commands:",
        "",
    ]
    if every_command:
        lines += _columns(_command_rows(lambda name: True))
    else:
        tops = {name.split(":", 1)[0] for name in _visible_commands()}
        lines += _columns([(name, FAMILIES.get(name) or _summary(all_commands()[name])) for name in sorted(tops)])
    from minidokku.plugins import triggers  # as in DokkuGroup.get_command

    plugin_lines = triggers.command_help(ctx)
    if plugin_lines:
        lines += ["", "Plugin commands:", *plugin_lines]
    return "\n".join(lines)


def family_help(family: str) -> str:
    """Dokku's `dokku FAMILY:help`: its usage, its description, each of its commands."""
    rows = _command_rows(lambda name: name == family or name.startswith(family + ":"))
    return "\n".join(
        [f"Usage: dokku {family}[:COMMAND]", "", FAMILIES[family], "", "Additional commands:", *_columns(rows)]
    )


def _visible_commands() -> list[str]:
    return sorted(name for name, command in all_commands().items() if not command.hidden)


def _command_rows(wanted) -> list[tuple[str, str]]:
    commands = all_commands()
    return [(_usage(commands[name]), _summary(commands[name])) for name in _visible_commands() if wanted(name)]


def _usage(command: click.Command) -> str:
    """`apps:destroy <app>`, `ps:report [<app>]`, `config:set [--no-restart] <app> <pairs>...`."""
    words = [command.name]
    options = [param for param in command.params if isinstance(param, click.Option)]
    if len(options) > MAX_OPTIONS_SHOWN:
        words.append("[options]")
    for param in command.params:
        if isinstance(param, click.Option):
            if len(options) <= MAX_OPTIONS_SHOWN:
                words.append(f"[{max(param.opts, key=len)}]")
        else:
            word = f"<{param.name.replace('_', '-')}>" + ("..." if param.nargs == -1 else "")
            words.append(word if param.required else f"[{word}]")
    return " ".join(words)


def _summary(command: click.Command) -> str:
    return command.get_short_help_str(limit=200).rstrip(".")


def _columns(rows: list[tuple[str, str]]) -> list[str]:
    width = max((len(left) for left, _ in rows), default=0)
    return [f"    {left:<{width}}  {right}" for left, right in rows]


cli.add_command(version)
cli.add_command(help_command)


def _load_family(module_name: str) -> None:
    """Imports a family's module and adds its commands to the group (again: no change)."""
    for declared_command in commands_in(importlib.import_module(f"minidokku.cli.{module_name}")):
        cli.add_command(declared_command)


def all_commands() -> dict[str, click.Command]:
    """Every command, each family's module loaded (help, reports, tests); a run loads its own."""
    for module_name in FAMILY_MODULES:
        _load_family(module_name)
    return cli.commands


def render_command_table() -> str:
    """cli/command_table.py as the declarations make it (`make command-table` writes it;
    tests/unit/test_command_table.py checks the file is this)."""
    modules = {}
    families = {}
    for module_name in FAMILY_MODULES:
        module = importlib.import_module(f"minidokku.cli.{module_name}")
        modules.update({declared.name: module_name for declared in commands_in(module)})
        families.update(module.FAMILIES)
    return "\n".join(
        [
            '"""Which family module declares each command, and each family\'s one-line description, for',
            "DokkuGroup (cli/__init__.py) to load only the module of the command run. Written from the",
            'declarations by `make command-table`; tests/unit/test_command_table.py checks it is theirs."""',
            "",
            *_dict_source("COMMAND_MODULES", dict(sorted(modules.items()))),
            *_dict_source("FAMILIES", dict(sorted(families.items()))),
        ]
    )


def _dict_source(name: str, values: dict[str, str]) -> list[str]:
    pairs = [f"    {json.dumps(key)}: {json.dumps(value, ensure_ascii=False)}," for key, value in values.items()]
    return [f"{name} = {{", *pairs, "}", ""]


def _unwind(signum: int, _frame) -> None:
    """An ssh hang-up (SIGHUP) or a stop (SIGTERM) ends the command by unwinding it, so that what
    it started is cleaned up on the way out (a `run` container is removed, a lock released)
    instead of being left behind by a process killed in place."""
    raise SystemExit(128 + signum)


def serve_ssh(original_command: str) -> None:
    """Answers one ssh session: a minidokku command, or a git transfer (cli/git.py, loaded for
    it only); never a shell."""
    try:
        request = ssh.parse(original_command)
        if isinstance(request, ssh.CommandRequest):
            cli.main(args=request.args, prog_name="dokku", over_ssh=True)  # internal commands refused
            return
        from minidokku.cli import git

        git.serve_git(request)
    except MinidokkuError as error:
        UserError(error).show()
        sys.exit(error.exit_code)


def main() -> None:
    """Entry point of `dokku` and `python -m minidokku`. An ssh key's forced command runs us
    without arguments: only then is SSH_ORIGINAL_COMMAND the request (and internal commands are
    refused); with arguments we were called on the host, by a person, git's hook or ourselves."""
    for hang_up in (signal.SIGHUP, signal.SIGTERM):
        signal.signal(hang_up, _unwind)
    original = os.environ.get("SSH_ORIGINAL_COMMAND")
    if original is not None and len(sys.argv) == 1:
        serve_ssh(original)
    else:
        cli.main(prog_name="dokku")
