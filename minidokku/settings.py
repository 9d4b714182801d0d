"""Machine settings: defaults, overridden by ROOT/SETTINGS, overridden by the environment.

Tests point these at their own nginx, ports and files; a normal install needs none of them.
SETTINGS names programs (NGINX_COMMAND) and the Docker socket, so root acts on it only when it
is root's own file that no one else may write (state.read_trusted); the dokku user owns the
state root and must not steer what root runs.
"""

import os
import shlex
import sys
from dataclasses import dataclass
from pathlib import Path

from minidokku.errors import PermissionDenied
from minidokku.records import envfile
from minidokku.records.names import parse_size
from minidokku.state import read_trusted, root_from_environment

STACK_REPOSITORY = "minidokku/stack"
DEFAULT_ACME_WEBROOT = "/var/lib/minidokku/letsencrypt"


@dataclass(frozen=True)
class Settings:
    root: Path
    nginx_command: list[str]
    http_port: int
    https_port: int
    docker_socket: str
    authorized_keys: Path
    stack_image: str
    program: list[str]
    namespace: str  # prefixes the app's Docker objects, so a test root never touches real apps
    keep_releases: int  # images of older releases are removed (their records stay)
    nginx_log_dir: str  # where each app's access and error logs go
    user_app_quota: int  # how many apps a user key may have (access/rules.py)
    build_timeout: int  # seconds a build may take before it is stopped and the push fails
    max_push_size: int  # bytes a push may send (git's receive.maxInputSize)
    build_cgroup: str  # the pids-limited parent cgroup (or systemd slice) of Dockerfile builds (build/build_cgroup.py)
    acme_webroot: str  # the apps' letsencrypt challenge folders, read by nginx's workers (records/letsencrypt.py)

    @classmethod
    def load(cls) -> "Settings":
        root = root_from_environment()
        values = envfile.parse(read_trusted(root / "SETTINGS") or "")
        values.update({k[len("MINIDOKKU_") :]: v for k, v in os.environ.items() if k.startswith("MINIDOKKU_")})
        default_nginx = "nginx" if os.geteuid() == 0 else "sudo -n /usr/sbin/nginx"
        return cls(
            root=root,
            nginx_command=shlex.split(values.get("NGINX_COMMAND", default_nginx)),
            http_port=int(values.get("HTTP_PORT", "80")),
            https_port=int(values.get("HTTPS_PORT", "443")),
            docker_socket=values.get("DOCKER_SOCKET", "/var/run/docker.sock"),
            authorized_keys=Path(values.get("AUTHORIZED_KEYS", str(root / ".ssh" / "authorized_keys"))),
            stack_image=values.get("STACK_IMAGE", f"{STACK_REPOSITORY}:latest"),
            program=program_command(root),
            namespace=values.get("NAMESPACE", ""),
            keep_releases=int(values.get("KEEP_RELEASES", "5")),
            nginx_log_dir=values.get("NGINX_LOG_DIR", "/var/log/nginx"),
            user_app_quota=int(values.get("USER_APP_QUOTA", "3")),
            build_timeout=int(values.get("BUILD_TIMEOUT", "1200")),
            max_push_size=parse_size(values.get("MAX_PUSH_SIZE", "100m")),
            build_cgroup=values.get("BUILD_CGROUP", "minidokku-builds"),
            acme_webroot=values.get("ACME_WEBROOT", DEFAULT_ACME_WEBROOT),
        )


def program_command(root: Path) -> list[str]:
    """How ssh, git hooks and plugins ($DOKKU_BIN) call this program back: ROOT/.sshcommand (as
    Dokku), else ourselves. Root takes ourselves, the program it runs now, over a .sshcommand
    someone else could have written."""
    try:
        named = (read_trusted(root / ".sshcommand") or "").strip()
    except PermissionDenied:
        named = ""
    if named:
        return [named]
    entry = os.path.abspath(sys.argv[0])
    if os.path.basename(entry) == "__main__.py":
        return [sys.executable, "-m", "minidokku"]
    return [entry]
