"""The client's one door to the server: `ssh`, run with an argv list, the server's forced
command answering (access/ssh.py). The destination comes after `--`, so ssh reads nothing
after it as its own option, whatever a repository's remote says; each word of the command is
quoted for the server, which splits SSH_ORIGINAL_COMMAND with shlex, so `config:set K='a b'`
arrives as typed. `-t` (a terminal at the far end) when ours is one (client/dispatch.py)."""

import shlex
import signal
import subprocess
import sys

from minidokku.client.remotes import Server
from minidokku.errors import ValidationError

SSH_FAILED = 255  # ssh's own exit code when it could not connect or log in


def argv(server: Server, words: list[str], terminal: bool) -> list[str]:
    command = ["ssh", "-o", "LogLevel=ERROR"]
    if server.port is not None:
        command += ["-p", str(server.port)]
    if server.user is not None:
        command += ["-l", server.user]
    if terminal:
        command.append("-t")
    return [*command, "--", server.host, *(shlex.quote(word) for word in words)]


def run(command: list[str]) -> int:
    """Runs ssh and returns its exit code, which is the remote command's (a signal's as 128+N).
    While it runs, an interrupt is ssh's to handle (it reaches the remote or ends ssh), not ours."""
    previous = signal.signal(signal.SIGINT, _leave_to_ssh)
    try:
        code = subprocess.run(command, stdin=sys.stdin, check=False).returncode
    except FileNotFoundError:
        raise ValidationError("ssh is not installed: the client runs its commands over ssh") from None
    finally:
        signal.signal(signal.SIGINT, previous)
    return 128 - code if code < 0 else code


def _leave_to_ssh(_signum: int, _frame) -> None:
    """A handler, not SIG_IGN: the child ssh starts with the default handling (an ignored signal
    would stay ignored across exec)."""
