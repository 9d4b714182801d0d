"""What a command reads from its user besides its arguments: file arguments (`certs:add APP CRT
KEY`, `ssh-keys:add NAME FILE`, `config:import APP FILE`), read only once the command has been
authorized and never for a user key, since the path names a file on the server; and the typed
confirmation of a destroy.

A file argument declared as a ServerFile and typed by root on the host is read by root, before
root becomes the state root's owner (access/users.py): a key or certificate only root may read
is taken, as Dokku's own commands, run as root, take it."""

import sys
from typing import Optional, Union

import click

from minidokku.access import rules
from minidokku.cli.declare import global_option
from minidokku.context import Context
from minidokku.errors import PermissionDenied, ValidationError

MAX_FILE_BYTES = 1 << 20  # a key or a certificate chain is a few KiB
# In the top click context's meta: the command's words after its name (DokkuGroup), and what root
# read of the files they name (bytes, or the error) before it dropped to the owner.
WORDS = "minidokku.words"
READ_BY_ROOT = "minidokku.read by root"


class ServerFile(click.ParamType):
    """A file on the server (`-` for stdin) that the command reads with read_file_argument: a
    path as given, looked at by nothing before that (whose checks come first)."""

    name = "file"


def read_files_as_caller(click_ctx: click.Context, command: click.Command) -> None:
    """Reads now, as whoever runs us (root, about to become the owner), the files that command's
    ServerFile arguments name among its words; read_file_argument then takes them from here."""
    names = {param.name for param in command.params if isinstance(param.type, ServerFile)}
    if not names:
        return
    parsing = click.Context(command, parent=click_ctx, resilient_parsing=True)  # parses, runs nothing
    values, _, _ = command.make_parser(parsing).parse_args(list(click_ctx.meta.get(WORDS, ())))
    read = click_ctx.meta.setdefault(READ_BY_ROOT, {})
    for path in (values.get(name) for name in names):
        if isinstance(path, str) and path != "-" and path not in read:
            try:
                with open(path, "rb") as file:
                    read[path] = file.read(MAX_FILE_BYTES + 1)
            except OSError as error:
                read[path] = error


def read_file_argument(ctx: Context, path: str, hint: str, fits: str = "a key or certificate is a few KiB") -> bytes:
    """The bytes of the file at path, or of stdin for `-`; at most MAX_FILE_BYTES of them (fits
    says what does fit, in the error)."""
    if path == "-":
        return _bounded(sys.stdin.buffer.read(MAX_FILE_BYTES + 1), hint, fits)
    key = rules.ssh_key()
    if not rules.may_read_server_files(ctx.store, key):
        raise PermissionDenied(f"{key} is a user key: give {hint} on stdin, not as a path on the server")
    try:
        read = _read_by_root(path)
        if isinstance(read, OSError):
            raise read
        if read is not None:
            return _bounded(read, hint, fits)
        with open(path, "rb") as file:
            return _bounded(file.read(MAX_FILE_BYTES + 1), hint, fits)
    except OSError as error:
        raise click.BadParameter(f"{path}: {error.strerror}", param_hint=hint) from None


def _read_by_root(path: str) -> Optional[Union[bytes, OSError]]:
    click_ctx = click.get_current_context(silent=True)
    return None if click_ctx is None else click_ctx.find_root().meta.get(READ_BY_ROOT, {}).get(path)


def _bounded(data: bytes, hint: str, fits: str) -> bytes:
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
