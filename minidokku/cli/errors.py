"""How errors reach the user: Dokku's ` !     message` on stderr and its exit codes, for the
core's typed errors, for what click finds wrong in a command line, and for an unknown command."""

import click

from minidokku.errors import MinidokkuError

# Dokku's words when a command's app is missing (plugins/common: verify_app_name); scripts match it.
NO_APP = "Please specify an app to run the command on"


def show_lines(message: str) -> None:
    """` !     ` before the first line, the rest indented under it, on stderr."""
    first, *rest = message.splitlines() or [""]
    click.echo(f" !     {first}", err=True)
    for line in rest:
        click.echo(f"       {line}", err=True)


class DokkuError(click.ClickException):
    """An error shown Dokku's way: ` !     message` on stderr, exit 1 unless told otherwise."""

    def show(self, file=None) -> None:
        show_lines(self.message)


class UserError(DokkuError):
    """A core error, with its exit code."""

    def __init__(self, error: MinidokkuError):
        super().__init__(str(error))
        self.exit_code = error.exit_code


class CommandLineError(DokkuError):
    """What click refused in a command line (a missing argument, an unknown option, a bad value),
    or a command's own click error: one ` !     ` line, exit 1, as Dokku's. A missing app gets
    Dokku's exact sentence; another missing argument, the command's usage after the reason."""

    def __init__(self, error: click.ClickException):
        message = error.format_message()
        if isinstance(error, click.MissingParameter) and error.ctx is not None:
            missing_app = getattr(error.param, "name", "") == "app"
            message = NO_APP if missing_app else f"{message} {error.ctx.get_usage()}"
        super().__init__(message)


class UnknownCommand(DokkuError):
    """Dokku's answer to a command no built-in and no plugin has (its `dokku` script): two lines,
    exit 1."""

    def __init__(self, words: list[str]):
        super().__init__(
            f"`{' '.join(words)}` is not a dokku command.\nSee `dokku help` for a list of available commands."
        )

    def show(self, file=None) -> None:
        for line in self.message.splitlines():
            click.echo(f" !     {line}", err=True)
