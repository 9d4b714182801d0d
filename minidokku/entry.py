"""`dokku`: the server's command line or the laptop's client, one program (the zipapp).

    an ssh key's forced command (no arguments;
      SSH_ORIGINAL_COMMAND, or the key entry's
      own NAME and FINGERPRINT, set)              → the server, always
    completion requested (_DOKKU_COMPLETE)        → client/completion.py
    `--remote NAME` before the command, or
      DOKKU_HOST set and not empty                → the client (also on a server)
    no state root here (DOKKU_ROOT, else
      /home/dokku, is no folder)                  → the client
    otherwise                                     → the server (cli/)

A session of the server never turns into a client. sshd sets SSH_ORIGINAL_COMMAND only when a
command was asked for: `ssh dokku@HOST` asks for a shell, and the forced command then runs
without it, but with the NAME and FINGERPRINT its authorized_keys entry sets before our program
(access/sshkeys.py), which no ssh client can change. DOKKU_HOST, DOKKU_PORT and _DOKKU_COMPLETE,
which an ssh client could pass in where sshd accepts them, are dropped before anything else, so
neither the forced command nor git's hook nor anything it starts sends a command elsewhere.
"""

import os
import sys
from collections.abc import Mapping

from minidokku.client import command_line
from minidokku.state import root_from_environment

KEY_ENTRY_VARIABLES = ("NAME", "FINGERPRINT")  # what every key's entry sets (access/sshkeys.py entry())
CLIENT_VARIABLES = ("DOKKU_HOST", "DOKKU_PORT", "_DOKKU_COMPLETE")  # a key's session is never the client


def is_forced_command(argv: list[str], environ: Mapping[str, str]) -> bool:
    """Run as an ssh key's forced command: without arguments, asked for a command or a shell."""
    return not argv and ("SSH_ORIGINAL_COMMAND" in environ or all(name in environ for name in KEY_ENTRY_VARIABLES))


def runs_client(argv: list[str], environ: Mapping[str, str], server_here: bool) -> bool:
    if is_forced_command(argv, environ):
        return False
    if environ.get("DOKKU_HOST"):
        return True
    return command_line.asks_for_remote(argv) or not server_here


def main() -> None:
    argv = sys.argv[1:]
    if is_forced_command(argv, os.environ):
        for name in CLIENT_VARIABLES:
            os.environ.pop(name, None)
    elif "_DOKKU_COMPLETE" in os.environ:
        from minidokku.client import completion

        completion.complete()
    if runs_client(argv, os.environ, server_here=root_from_environment().is_dir()):
        from minidokku.client import dispatch

        sys.exit(dispatch.main(argv, os.environ))
    from minidokku import cli

    cli.main()
