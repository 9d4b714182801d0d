"""`dokku remote` and `remote:*`: the client's own commands, as Dokku's client has them. They
act on the repository's git remotes and its `dokku.remote` setting, never on a server.

    dokku remote                        the remote in use (--remote, remote:set, else dokku)
    dokku remote:list                   the repository's remotes (git remote)
    dokku remote:add NAME URL           a Dokku remote (the URL is checked first)
    dokku remote:remove NAME            removes it (and forgets it as the chosen one)
    dokku remote:set NAME               the remote used when --remote is not given
    dokku remote:unset                  back to `dokku`
    dokku remote:show                   where the client would send a command
"""

from minidokku.client import local_git, remotes
from minidokku.client.command_line import CommandLine
from minidokku.errors import ValidationError


def run(line: CommandLine, remote: str) -> int:
    if not local_git.in_repository():
        raise ValidationError("This is not a git repository")
    arguments = line.words[1:]
    if len(arguments) != ARITY[line.command]:
        raise ValidationError(f"usage: dokku {line.command} {USAGE[line.command]}".rstrip())
    COMMANDS[line.command](remote, *arguments)
    return 0


def show_remote(remote: str) -> None:
    print(remote)


def list_remotes(_remote: str) -> None:
    print("\n".join(local_git.remote_names()))


def add_remote(_remote: str, name: str, url: str) -> None:
    remotes.parse_remote(url)  # a Dokku remote, or nothing is added
    local_git.add_remote(name, url)


def remove_remote(_remote: str, name: str) -> None:
    local_git.remove_remote(name)


def choose_remote(_remote: str, name: str) -> None:
    local_git.choose_remote(name)


def unchoose_remote(_remote: str) -> None:
    local_git.unchoose_remote()


def show_target(remote: str) -> None:
    """Dokku's `remote:show` fields, for the remote in use."""
    url = local_git.remote_url(remote)
    if url is None:
        raise ValidationError(f"This repository has no git remote named {remote}")
    target = remotes.parse_remote(url)
    fields = {
        "dokku-app": target.app,
        "dokku-git-remote": remote,
        "dokku-remote-host": target.server.host,
        "dokku-port": target.server.port or 22,
        "dokku-ssh-user": target.server.user or "",
        "dokku-constructed-remote": target.server.url(target.app),
    }
    print("\n".join(f"{key}: {value}" for key, value in fields.items()))


COMMANDS = {
    "remote": show_remote,
    "remote:list": list_remotes,
    "remote:add": add_remote,
    "remote:remove": remove_remote,
    "remote:set": choose_remote,
    "remote:unset": unchoose_remote,
    "remote:show": show_target,
}
USAGE = {"remote:add": "NAME URL", "remote:remove": "NAME", "remote:set": "NAME"}
ARITY = {name: len(USAGE.get(name, "").split()) for name in COMMANDS}
