"""File arguments (`certs:add APP CRT KEY`, `ssh-keys:add NAME FILE`): read only once the command
has been authorized, and never for a user key, since the path names a file on the server."""

import sys

import click

from minidokku import access
from minidokku.context import Context
from minidokku.errors import PermissionDenied


def read_file_argument(ctx: Context, path: str, hint: str) -> bytes:
    """The bytes of the file at path, or of stdin for `-`."""
    if path == "-":
        return sys.stdin.buffer.read()
    key = access.ssh_key()
    if not access.may_read_server_files(ctx.store, key):
        raise PermissionDenied(f"{key} is a user key: give {hint} on stdin, not as a path on the server")
    try:
        with open(path, "rb") as file:
            return file.read()
    except OSError as error:
        raise click.BadParameter(f"{path}: {error.strerror}", param_hint=hint) from None
