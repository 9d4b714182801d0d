"""Where the client sends a command: a server (ssh user, host, port) and an app, read from a git
remote's URL or from DOKKU_HOST/DOKKU_PORT.

The forms a remote may take are Dokku's: `dokku@HOST:APP` and `ssh://dokku@HOST[:PORT]/APP`
(`git+ssh://` too; `[::1]` for an IPv6 address). Every part is a value that a repository's git
config controls, or that someone pasted from a page, and each reaches ssh's argv: a host or a
user is never an option (no leading dash) nor anything but a name, a port is a number, an app is
a valid app name. A remote that is not one of these forms (https://, a path) is no server's.
"""

import ipaddress
import re
from dataclasses import dataclass
from typing import Optional

from minidokku.access.git_remotes import HOST
from minidokku.access.ssh import app_from_repo_path
from minidokku.errors import ValidationError

DEFAULT_USER = "dokku"  # as Dokku's client: DOKKU_HOST names a host, the user is dokku
USER = re.compile(r"[A-Za-z0-9_][A-Za-z0-9._-]{0,63}")
_AUTHORITY = r"(?:(?P<user>[^@/]*)@)?(?P<host>\[[^\]/]*\]|[^:/\[\]]*)"
SSH_URL = re.compile(rf"(?:git\+ssh|ssh\+git|ssh)://{_AUTHORITY}(?::(?P<port>[^/]*))?/(?P<path>.*)")
SCP_LIKE = re.compile(rf"{_AUTHORITY}:(?P<path>.*)")


@dataclass(frozen=True)
class Server:
    """An ssh destination; user and port None leave them to ssh (its config, its defaults), as
    git's push to the same remote does."""

    host: str
    user: Optional[str] = None
    port: Optional[int] = None

    def url(self, app: str) -> str:
        """The git remote that pushes to app on this server (Dokku's short form when it can)."""
        user = f"{self.user}@" if self.user else ""
        host = f"[{self.host}]" if ":" in self.host else self.host
        if self.port is None or self.port == 22:
            return f"{user}{host}:{app}"
        return f"ssh://{user}{host}:{self.port}/{app}"


@dataclass(frozen=True)
class Target:
    server: Server
    app: Optional[str]


def parse_remote(url: str) -> Target:
    """The server and app of a git remote's URL; ValidationError when it is not a Dokku remote."""
    match = SSH_URL.fullmatch(url) or (None if "://" in url else SCP_LIKE.fullmatch(url))
    if match is None:
        raise ValidationError(f"{url[:100]!r} is not a Dokku remote: use dokku@HOST:APP or ssh://dokku@HOST:PORT/APP")
    fields = match.groupdict()
    server = Server(
        host=_remote_host(fields["host"]),
        user=None if fields["user"] is None else validate_user(fields["user"]),
        port=validate_port(fields["port"]) if fields.get("port") else None,  # `host:/app`: git's default too
    )
    return Target(server, app_from_repo_path(fields["path"]))


def server_from_environment(host: str, port: str) -> Server:
    """DOKKU_HOST ([USER@]HOST, the user dokku unless named) and DOKKU_PORT (may be empty)."""
    user, at, name = host.rpartition("@")
    bracketed = name.startswith("[") and name.endswith("]")
    return Server(
        host=validate_address(name[1:-1]) if bracketed else validate_host(name),
        user=validate_user(user) if at else DEFAULT_USER,
        port=validate_port(port) if port else None,
    )


def _remote_host(host: str) -> str:
    """A remote's host: an IPv6 address in brackets, else a host name or an IPv4 address."""
    if host.startswith("["):
        return validate_address(host.removeprefix("[").removesuffix("]"))
    return validate_host(host)


def validate_host(host: str) -> str:
    """A host name, an IPv4 or an IPv6 address: never an option, a path or a second word."""
    if HOST.fullmatch(host) and ".." not in host:
        return host
    return validate_address(host)


def validate_address(host: str) -> str:
    """A plain IPv6 address: no zone (`%eth0`), whose text ipaddress would take as it is."""
    try:
        if "%" in host:
            raise ValueError("a zone")
        return str(ipaddress.IPv6Address(host))
    except ValueError:
        raise ValidationError(f"invalid host {host[:80]!r}: expected a host name or an address") from None


def validate_user(user: str) -> str:
    if not USER.fullmatch(user):
        raise ValidationError(f"invalid ssh user {user[:80]!r}: expected a user name such as dokku")
    return user


def validate_port(port: str) -> int:
    if not (port.isascii() and port.isdigit() and 0 < int(port) < 65536):
        raise ValidationError(f"invalid ssh port {port[:20]!r}: expected a number from 1 to 65535")
    return int(port)
