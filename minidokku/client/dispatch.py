"""One client command: parsed (client/command_line.py), run on the repository alone (the remote:*
commands) or sent to the server over ssh, its exit code returned."""

import dataclasses
import sys
from collections.abc import Mapping
from typing import Optional

from minidokku.client import command_line, local_git, remote_commands, remotes, ssh
from minidokku.client.command_line import CommandLine
from minidokku.client.remotes import Target
from minidokku.errors import MinidokkuError, ValidationError

NO_SERVER = 20  # Dokku's client exits so when it finds no server, and its tests look for it
NO_SERVER_HELP = (
    "=====> Configure the DOKKU_HOST environment variable or run dokku from a repository with a git remote named dokku",
    "       i.e. git remote add dokku dokku@<dokku-host>:<app-name>",
)

VERSION_FLAGS = frozenset({"-v", "--version"})
HELP_FLAGS = frozenset({"-h", "--help"})
CLIENT_HELP = (
    "Usage: dokku [--remote NAME] [--app APP] [--quiet|--trace|--force] COMMAND [ARGS]",
    "",
    "Runs COMMAND on the server of the git remote `dokku` (or NAME, or DOKKU_HOST), for its app.",
    "  dokku help                 the server's commands",
    "  dokku remote               the remote in use",
    "  dokku remote:list          the repository's remotes",
    "  dokku remote:add NAME URL  adds a Dokku remote",
    "  dokku remote:remove NAME   removes one",
    "  dokku remote:set NAME      the remote used without --remote",
    "  dokku remote:unset         back to `dokku`",
    "  dokku remote:show          where a command goes",
)


def main(argv: list[str], environ: Mapping[str, str]) -> int:
    """Runs one client command; returns the exit code (the server's when it ran there)."""
    try:
        line = command_line.parse(argv)
        if not line.words and VERSION_FLAGS & set(line.flags):
            from minidokku.cli import version_line

            print(version_line())
            return 0
        if not line.words and HELP_FLAGS & set(line.flags):
            print("\n".join(CLIENT_HELP))
            return 0
        if line.command == "remote:unset":  # forgets the chosen remote, even one that could not be used
            return remote_commands.run(line, "dokku")
        remote = line.remote if line.remote is not None else _chosen_remote() or "dokku"
        if line.command in remote_commands.COMMANDS:
            return remote_commands.run(line, local_git.validate_remote_name(remote))
        target = find_target(remote, environ)
        if target is None:
            print("\n".join(NO_SERVER_HELP), file=sys.stderr)
            return NO_SERVER
        if line.command == "apps:create":
            return create_app(line, remote, target)
        return send(line, remote, target)
    except MinidokkuError as error:
        print(f" !     {error}", file=sys.stderr)
        return error.exit_code


def _chosen_remote() -> Optional[str]:
    return local_git.chosen_remote() if local_git.in_repository() else None


def find_target(remote: str, environ: Mapping[str, str]) -> Optional[Target]:
    """The server (DOKKU_HOST's, else the remote's, DOKKU_PORT its port when set) and the
    remote's app when it is on that server; None when neither names a server."""
    url = local_git.remote_url(remote) if local_git.in_repository() else None
    from_remote = None if url is None else remotes.parse_remote(url)
    if not environ.get("DOKKU_HOST"):
        if from_remote is None or not environ.get("DOKKU_PORT"):
            return from_remote
        port = remotes.validate_port(environ["DOKKU_PORT"])
        return Target(dataclasses.replace(from_remote.server, port=port), from_remote.app)
    server = remotes.server_from_environment(environ["DOKKU_HOST"], environ.get("DOKKU_PORT", ""))
    same = from_remote is not None and from_remote.server.host == server.host
    return Target(server, from_remote.app if same else None)


def send(line: CommandLine, remote: str, target: Target) -> int:
    """Runs the command on the server; after a successful `apps:destroy` of the remote's own
    app, the remote goes too (it would push to nothing)."""
    app = line.app if line.app is not None else target.app
    code = _over_ssh(target, command_line.request(line, app))
    if line.command == "apps:destroy" and code == 0 and target.app is not None:
        destroyed = app if app is not None and command_line.gets_app(line, app) else line.named_app
        if destroyed == target.app and local_git.remote_url(remote) is not None:
            local_git.remove_remote(remote)
            print(f"-----> Git remote {remote} removed")
    return code


def create_app(line: CommandLine, remote: str, target: Target) -> int:
    """`apps:create [APP]`: the app named (by --app, the command or the remote), else a made-up
    name; created on the server, then the remote added if the repository has none of that name.
    A remote that exists for another app is left alone, and nothing is created."""
    given = (name for name in (line.app, line.named_app, target.app) if name is not None)
    app = next(given, None) or command_line.random_app_name()
    has_remote = local_git.in_repository() and local_git.remote_url(remote) is not None
    if has_remote and target.app is not None and app != target.app:
        raise ValidationError(
            f"The git remote {remote} is for the app {target.app}: to create {app}, add it under another remote "
            f"(DOKKU_HOST=HOST dokku --remote NAME apps:create {app})"
        )
    words = line.words if line.named_app == app else (line.command, app, *line.words[1:])
    code = _over_ssh(target, [*line.flags, *words])
    if code == 0 and not has_remote and local_git.in_repository():
        local_git.add_remote(remote, target.server.url(app))
        print(f"-----> Dokku remote added at {target.server.host} called {remote}")
        print(f"-----> Application name is {app}")
    return code


def _on_a_terminal() -> bool:
    """Both ends of ours are a terminal: then the server's gets one (`run`'s shell, a confirmation,
    Ctrl-C); output sent to a file or a pipe stays as the server wrote it (no CR LF)."""
    return all(stream is not None and stream.isatty() for stream in (sys.stdin, sys.stdout))


def _over_ssh(target: Target, words: list[str]) -> int:
    code = ssh.run(ssh.argv(target.server, words, terminal=_on_a_terminal()))
    if code == ssh.SSH_FAILED:  # ssh's own failure, or a remote command's exit code
        print(
            f" !     ssh or the remote command exited {code}: if the server said nothing, check that your ssh key "
            f"may connect to {target.server.host}",
            file=sys.stderr,
        )
    return code
