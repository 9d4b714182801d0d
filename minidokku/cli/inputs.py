"""What a command reads from its user besides its arguments: file arguments (`certs:add APP CRT
KEY`, `ssh-keys:add NAME FILE`, `config:import APP FILE`), read only once the command has been
authorized and never for a user key, since the path names a file on the server; and the typed
confirmation of a destroy."""

import sys

import click

from minidokku.access import rules
from minidokku.cli.declare import global_option
from minidokku.context import Context
from minidokku.errors import PermissionDenied, ValidationError

MAX_FILE_BYTES = 1 << 20  # a key or a certificate chain is a few KiB


def read_file_argument(ctx: Context, path: str, hint: str, fits: str = "a key or certificate is a few KiB") -> bytes:
    """The bytes of the file at path, or of stdin for `-`; at most MAX_FILE_BYTES of them (fits
    says what does fit, in the error)."""
    if path == "-":
        return _bounded(sys.stdin.buffer, hint, fits)
    key = rules.ssh_key()
    if not rules.may_read_server_files(ctx.store, key):
        raise PermissionDenied(f"{key} is a user key: give {hint} on stdin, not as a path on the server")
    try:
        with open(path, "rb") as file:
            return _bounded(file, hint, fits)
    except OSError as error:
        raise click.BadParameter(f"{path}: {error.strerror}", param_hint=hint) from None


def _bounded(source, hint: str, fits: str) -> bytes:
    data = source.read(MAX_FILE_BYTES + 1)
    if len(data) > MAX_FILE_BYTES:
        raise ValidationError(f"{hint} is larger than {MAX_FILE_BYTES >> 20} MiB: {fits}")
    return data


def confirm_by_name(what: str, name: str, forced_command: str) -> None:
    """Dokku's guard before destroying: the user types the name, or gives --force (the command's
    own, or the global one before the command: `dokku --force apps:destroy catmeow`)."""
    if global_option(click.get_current_context(), "force"):
        return
    if not sys.stdin.isatty():
        raise click.ClickException(f"not on a terminal: confirm with `{forced_command}`")
    click.echo(" !     WARNING: Potentially Destructive Action")
    click.echo(f" !     This command will destroy {what}.")
    if click.prompt(" !     To proceed, type the name", default="", show_default=False) != name:
        raise click.ClickException("Confirmation did not match, aborted.")
