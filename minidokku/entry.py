"""`dokku`: the server's command line or the laptop's client, one program (the zipapp).

    completion requested (_DOKKU_COMPLETE)        → client/completion.py, on either side
    an ssh key's forced command (no arguments,
      SSH_ORIGINAL_COMMAND set)                   → the server, always
    `--remote NAME` before the command, or
      DOKKU_HOST set                              → the client (also on a server)
    no state root here (DOKKU_ROOT, else
      /home/dokku, is no folder)                  → the client
    otherwise                                     → the server (cli/)

A session of the server never turns into a client: DOKKU_HOST, which an ssh client could pass
in where sshd accepts it, is dropped before the forced command runs, so neither it nor git's
hook nor anything it starts sends a command elsewhere.
"""

import os
import sys
from collections.abc import Mapping

from minidokku.client import command_line
from minidokku.errors import ValidationError
from minidokku.state import root_from_environment


def is_forced_command(argv: list[str], environ: Mapping[str, str]) -> bool:
    return not argv and "SSH_ORIGINAL_COMMAND" in environ


def runs_client(argv: list[str], environ: Mapping[str, str], server_here: bool) -> bool:
    if is_forced_command(argv, environ):
        return False
    if environ.get("DOKKU_HOST"):
        return True
    try:
        if command_line.parse(argv).remote is not None:
            return True
    except ValidationError:  # `--remote` with no value: the client says so
        return True
    return not server_here


def main() -> None:
    argv = sys.argv[1:]
    if "_DOKKU_COMPLETE" in os.environ:
        from minidokku.client import completion

        completion.complete()
    if runs_client(argv, os.environ, server_here=root_from_environment().is_dir()):
        from minidokku import client

        sys.exit(client.main(argv, os.environ))
    if is_forced_command(argv, os.environ):
        os.environ.pop("DOKKU_HOST", None)
    from minidokku import cli

    cli.main()
