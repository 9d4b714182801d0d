"""How core errors reach the user."""

import click

from minidokku.errors import MinidokkuError


class UserError(click.ClickException):
    """A core error shown Dokku's way: ` !     message` on stderr, exit 1."""

    def __init__(self, error: MinidokkuError):
        super().__init__(str(error))
        self.exit_code = error.exit_code

    def show(self, file=None) -> None:
        first, *rest = self.message.splitlines() or [""]
        click.echo(f" !     {first}", err=True)
        for line in rest:
            click.echo(f"       {line}", err=True)
