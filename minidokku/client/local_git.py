"""The client's one door to git: the remotes and the `dokku.remote` setting of the repository
the client runs in (the current directory). Every call is an argv list; a remote's name is
checked before it reaches git, and put after `--`."""

import re
import subprocess
from typing import Optional

from minidokku.errors import ValidationError

REMOTE_SETTING = "dokku.remote"  # `dokku remote:set NAME`, as Dokku's client keeps it
REMOTE_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9._/-]{0,99}")


def validate_remote_name(name: str) -> str:
    if not REMOTE_NAME.fullmatch(name) or ".." in name:
        raise ValidationError(f"invalid git remote name {name[:80]!r}: use letters, digits and . _ / -")
    return name


def _git(*args: str) -> subprocess.CompletedProcess:
    try:
        return subprocess.run(["git", *args], capture_output=True, text=True, stdin=subprocess.DEVNULL)
    except FileNotFoundError:
        raise ValidationError("git is not installed: the client reads the app's git remote") from None


def _changed(*args: str) -> None:
    done = _git(*args)
    if done.returncode != 0:
        raise ValidationError(done.stderr.strip().splitlines()[-1] if done.stderr.strip() else f"git {args[0]} failed")


def in_repository() -> bool:
    return _git("rev-parse", "--git-dir").returncode == 0


def remote_url(name: str) -> Optional[str]:
    """The remote's URL as `git push` takes it (its pushurl when it has one), or None when the
    repository has no such remote: commands go where the pushes go."""
    done = _git("remote", "get-url", "--push", "--", validate_remote_name(name))
    return done.stdout.strip() if done.returncode == 0 else None


def remote_names() -> list[str]:
    return _git("remote").stdout.split()


def add_remote(name: str, url: str) -> None:
    _changed("remote", "add", "--", validate_remote_name(name), url)


def remove_remote(name: str) -> None:
    """Removes the remote, and forgets it as the chosen one."""
    _changed("remote", "remove", "--", validate_remote_name(name))
    if chosen_remote() == name:
        unchoose_remote()


def chosen_remote() -> Optional[str]:
    """The remote `dokku remote:set` chose for this repository, if any."""
    done = _git("config", "--get", REMOTE_SETTING)
    return validate_remote_name(done.stdout.strip()) if done.returncode == 0 and done.stdout.strip() else None


def choose_remote(name: str) -> None:
    _changed("config", REMOTE_SETTING, validate_remote_name(name))


def unchoose_remote() -> None:
    """Forgets the chosen remote, whatever it names."""
    if _git("config", "--get", REMOTE_SETTING).returncode == 0:
        _changed("config", "--unset", REMOTE_SETTING)
