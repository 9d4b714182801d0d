"""The ssh entry point: what a key asked for, read from SSH_ORIGINAL_COMMAND.

The string is split with shlex (never given to a shell). A git request names one app's repo;
anything else is a minidokku command line, Dokku's global flags first if any (`--quiet --app
catmeow config:show`), which the command line parses as it parses one given on the host.
Nothing else, a shell above all, is reachable.
"""

import shlex
from dataclasses import dataclass
from typing import Union

from minidokku.errors import ValidationError
from minidokku.records import names

GIT_COMMANDS = ("git-receive-pack", "git-upload-pack")


@dataclass(frozen=True)
class GitRequest:
    command: str  # git-receive-pack or git-upload-pack
    app: str


@dataclass(frozen=True)
class CommandRequest:
    args: list[str]


def parse(original_command: str) -> Union[GitRequest, CommandRequest]:
    try:
        words = shlex.split(original_command)
    except ValueError as error:
        raise ValidationError(f"cannot parse the command: {error}") from None
    if not words:
        raise ValidationError("no command given; try `ssh dokku@HOST help`")
    if words[0] in GIT_COMMANDS:
        if len(words) != 2:
            raise ValidationError(f"{words[0]} takes exactly one repository")
        return GitRequest(words[0], app_from_repo_path(words[1]))
    return CommandRequest(words)


def app_from_repo_path(path: str) -> str:
    """`catmeow`, `/catmeow` or `catmeow.git` name the app catmeow; nothing else is accepted."""
    name = path[1:] if path.startswith("/") else path
    if name.endswith(".git"):
        name = name[: -len(".git")]
    return names.validate_app_name(name)
