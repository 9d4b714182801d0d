"""Which repositories `git:sync` fetches from, and how git must reach them; the ssh host keys
it trusts (ROOT/.ssh/known_hosts, `git:allow-host`) and the dokku user's deploy key it offers
(ROOT/.ssh/id_ed25519, `git:generate-deploy-key`), through ssh-keyscan and ssh-keygen.

The URL is a user's word handed to a fetch the host runs, so it is read as hostile:
- everyone: an https:// URL in the plain form access/urls.py checks (a host or address, a port,
  a path), or for a trusted caller an ssh remote (`ssh://[USER@]HOST[:PORT]/PATH` or
  `USER@HOST:PATH`) whose host is in the dokku user's known_hosts (`git:allow-host`). Never
  file://, a local path, a git transport helper (`ext::`, `fd::`), http:// or git:// (no
  integrity), a value starting with `-`, nor a credential that hides a line break;
- a tenant (a tenant app, whoever runs the command, as access/urls.py rules): https only, and
  every address the host name resolves to must be public; git then connects to the address that
  was checked (`http.curloptResolve`), follows no redirect, and reads none of this machine's git
  configuration, credentials (~/.netrc) or proxy settings.
"""

import re
import socket
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Optional
from urllib.parse import unquote

from minidokku.access import urls
from minidokku.access.urls import Destination
from minidokku.errors import NotFound, ValidationError
from minidokku.state import atomic_write

HOST = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9.-]{0,251}[A-Za-z0-9])?")
_SSH_URL = re.compile(
    r"^ssh://(?:(?P<user>[A-Za-z0-9._-]{1,64})@)?(?P<host>[^/:@\[\]]+)(?::(?P<port>[0-9]{1,5}))?"
    r"(?P<path>/[A-Za-z0-9._~+/@=,-]*)$"
)
_SCP_LIKE = re.compile(r"^(?P<user>[A-Za-z0-9._-]{1,64})@(?P<host>[^/:@\[\]]+):(?P<path>[A-Za-z0-9._~+/@=,-]+)$")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
MAX_LENGTH = 2048
SSH_FOLDER = ".ssh"
DEPLOY_KEYS = ("id_ed25519", "id_rsa")  # as Dokku's git:public-key looks for them


@dataclass(frozen=True)
class Remote:
    """A repository that passed these rules. url: what git is given; shown: the same without a
    password (for output and records); protocol: the one git may use ("https" or "ssh");
    pinned: for a tenant, the address git must connect to; known_hosts: for ssh, the only host
    keys ssh may accept; deploy_keys: the private keys ssh may offer; home: for a trusted
    caller, the dokku user's home, whose .netrc (`git:auth`) and .gitconfig git reads."""

    url: str
    shown: str
    protocol: str
    pinned: Optional[Destination] = None
    known_hosts: Optional[Path] = None
    deploy_keys: tuple[Path, ...] = ()
    home: Optional[Path] = None


def known_hosts_file(root: Path) -> Path:
    return root / SSH_FOLDER / "known_hosts"


def deploy_keys(root: Path) -> tuple[Path, ...]:
    """The dokku user's deploy keys that exist (`git:generate-deploy-key`), private halves."""
    return tuple(root / SSH_FOLDER / name for name in DEPLOY_KEYS if (root / SSH_FOLDER / name).is_file())


def remote(url: str, tenant: bool, root: Path) -> Remote:
    """Checks url against the rules above (root: the state root, whose .ssh folder has the
    known hosts); raises ValidationError (one line) when it breaks one."""
    known_hosts = known_hosts_file(root)
    _check_plain(url)
    if url.startswith("https://"):
        if not urls.FORM.match(url):
            raise ValidationError(f"{_short(url)} is not a plain https://HOST[:PORT]/PATH URL")
        _check_credentials(url)
        if tenant:
            return Remote(url, _without_password(url), "https", urls.destination(url, urls.TENANT))
        return Remote(url, _without_password(url), "https", home=root)
    if tenant:
        raise ValidationError(f"{_short(url)} is not allowed for a tenant app: only https:// repositories")
    ssh = _SSH_URL.match(url) or _SCP_LIKE.match(url)
    if not ssh:
        raise ValidationError(
            f"{_short(url)} is not a repository git:sync fetches: use https://HOST/PATH, "
            "ssh://[USER@]HOST[:PORT]/PATH or USER@HOST:PATH"
        )
    host = validate_host(ssh["host"])
    port = ssh.groupdict().get("port")
    if port is not None and not 0 < int(port) < 65536:
        raise ValidationError(f"{_short(url)} has no valid port")
    known_as = f"[{host}]:{int(port)}" if port and int(port) != 22 else host
    if not is_known_host(known_hosts, known_as):
        raise ValidationError(f"{known_as} is not a known host: run `dokku git:allow-host {host}` first")
    return Remote(url, url, "ssh", known_hosts=known_hosts, deploy_keys=deploy_keys(root), home=root)


def allow_host(known_hosts: Path, host: str) -> int:
    """Adds the ssh host keys host offers to known_hosts (once each); returns how many were new."""
    host = validate_host(host)
    try:
        scanned = subprocess.run(
            ["ssh-keyscan", "-T", "10", "-t", "rsa,ecdsa,ed25519", "--", host], capture_output=True, timeout=60,
            start_new_session=True,  # no terminal for what needs none (access/users.py)
        )  # fmt: skip
    except subprocess.TimeoutExpired:
        scanned = None
    lines = [] if scanned is None else scanned.stdout.decode("utf-8", "replace").splitlines()
    keys = [line for line in lines if line.strip() and not line.startswith("#")]
    if not keys:
        raise NotFound(f"{host} offered no ssh host key (is it an ssh server, on port 22?)")
    existing = known_hosts.read_text(encoding="utf-8").splitlines() if known_hosts.is_file() else []
    new = [key for key in keys if key not in existing]
    known_hosts.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    atomic_write(known_hosts, "".join(line + "\n" for line in existing + new), mode=0o644)
    return len(new)


def generate_deploy_key(root: Path) -> Optional[str]:
    """`git:generate-deploy-key`: a passwordless ed25519 key pair for the dokku user (as Dokku
    makes it); ssh-keygen's report, or None when the user has a deploy key already."""
    if deploy_keys(root) or public_key(root) is not None:
        return None
    key = root / SSH_FOLDER / DEPLOY_KEYS[0]
    key.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    made = subprocess.run(
        ["ssh-keygen", "-t", "ed25519", "-C", f"dokku@{socket.gethostname()}", "-N", "", "-f", str(key)],
        capture_output=True, stdin=subprocess.DEVNULL, timeout=60, check=False, start_new_session=True,
    )  # fmt: skip
    if made.returncode != 0:
        raise ValidationError(f"ssh-keygen failed: {made.stderr.decode('utf-8', 'replace').strip()[-200:]}")
    return made.stdout.decode("utf-8", "replace")


def public_key(root: Path) -> Optional[str]:
    """The public half of the dokku user's deploy key, or None when it has none."""
    for name in DEPLOY_KEYS:
        public = root / SSH_FOLDER / f"{name}.pub"
        if public.is_file():
            return public.read_text(encoding="utf-8")
    return None


def validate_host(host: str) -> str:
    """A host name or IPv4 address as ssh and ssh-keyscan take it: never an option, never a path."""
    if not HOST.fullmatch(host) or ".." in host:
        raise ValidationError(f"invalid host {host[:80]!r}: expected a host name such as github.com")
    return host


def is_known_host(known_hosts: Path, host: str) -> bool:
    """Whether known_hosts has a key of host (`ssh-keygen -F`, which reads hashed entries too)."""
    if not known_hosts.is_file():
        return False
    found = subprocess.run(
        ["ssh-keygen", "-F", host, "-f", str(known_hosts)], capture_output=True, timeout=30, check=False,
        start_new_session=True,
    )  # fmt: skip
    return found.returncode == 0 and bool(found.stdout.strip())


def _check_plain(url: str) -> None:
    if not url:
        raise ValidationError("Missing GIT_REMOTE parameter")
    if len(url) > MAX_LENGTH or _CONTROL.search(url) or " " in url:
        raise ValidationError(f"{_short(url)} is not a repository URL: it holds spaces or control characters")
    if url.startswith("-"):
        raise ValidationError(f"{_short(url)} is not a repository URL: it starts with a dash")
    if "::" in url.split("/", 1)[0]:
        raise ValidationError(f"{_short(url)} is not allowed: git transport helpers (ext::, fd::) never run")


def _check_credentials(url: str) -> None:
    """A user:password@ part whose decoded text holds a line break would reach git's credential
    protocol as two lines (git refuses it too; we say why)."""
    userinfo = url.split("://", 1)[1].split("/", 1)[0].rpartition("@")[0]
    if _CONTROL.search(unquote(userinfo)):
        raise ValidationError("the repository URL's credentials hold a control character")


def _without_password(url: str) -> str:
    """The URL with any user:password@ (or a token as the user) masked."""
    scheme, rest = url.split("://", 1)
    authority, slash, path = rest.partition("/")
    _userinfo, at, host = authority.rpartition("@")
    return f"{scheme}://***@{host}{slash}{path}" if at else url


def _short(url: str) -> str:
    return repr(_without_password(url) if "://" in url else url)[:100]
