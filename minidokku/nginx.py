"""nginx: rendering an app's server block (pure) and installing it safely (files + reload).

A new config is moved in, the whole configuration is checked with `nginx -t`, and only then is
nginx reloaded; a config that fails the check is taken out again, the previous one restored,
and nginx's own error is raised. nginx keeps serving the old configuration throughout.
"""

import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

from minidokku.errors import ProxyError
from minidokku.state import atomic_write, file_lock

CONFIG_NAME = "nginx.conf"


@dataclass(frozen=True)
class Site:
    app: str
    domains: list[str]  # empty: the app is served on a port of its own
    listen_port: int
    upstreams: list[tuple[str, int]]  # (host, port) of each web container
    log_dir: str = "/var/log/nginx"


def render(site: Site) -> str:
    """The app's server block; an app without web containers answers 503 (nginx refuses an
    upstream without servers)."""
    server_name = " ".join(site.domains) if site.domains else "_"
    upstream = f"minidokku-{site.app}"
    header = f"# written by minidokku for the app {site.app}; `dokku ps:restart {site.app}` rewrites it\n"
    if not site.upstreams:
        return header + _server(site, server_name, "    return 503;\n")
    servers = "".join(f"  server {host}:{port};\n" for host, port in site.upstreams)
    upstream_block = f"upstream {upstream} {{\n{servers}  keepalive 16;\n}}\n\n"
    return header + upstream_block + _server(site, server_name, _PROXY.format(upstream=upstream))


_PROXY = """    proxy_pass http://{upstream};
    proxy_http_version 1.1;
    proxy_set_header Upgrade $http_upgrade;
    proxy_set_header Connection $http_connection;
    proxy_set_header Host $http_host;
    proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
    proxy_set_header X-Forwarded-Proto $scheme;
    proxy_set_header X-Forwarded-Port $server_port;
    proxy_set_header X-Request-Start $msec;
"""


def _server(site: Site, server_name: str, location_body: str) -> str:
    return f"""server {{
  listen {site.listen_port};
  server_name {server_name};
  access_log {site.log_dir}/{site.app}-access.log;
  error_log {site.log_dir}/{site.app}-error.log;

  location / {{
{location_body}  }}
}}
"""


class Nginx:
    """Installs per-app configs under ROOT/APP/nginx.conf and reloads nginx through `command`."""

    def __init__(self, command: list[str], root: Path):
        self.command = command
        self.root = root

    def install(self, app: str, config: str) -> None:
        path = self.root / app / CONFIG_NAME
        with self._lock():
            previous = path.read_text(encoding="utf-8") if path.is_file() else None
            if previous == config:
                return
            atomic_write(path, config)
            self._check_then_reload(path, previous)

    def remove(self, app: str) -> None:
        path = self.root / app / CONFIG_NAME
        with self._lock():
            if not path.is_file():
                return
            previous = path.read_text(encoding="utf-8")
            path.unlink()
            self._check_then_reload(path, previous)

    def _check_then_reload(self, path: Path, previous: Optional[str]) -> None:
        error = self._run("-t")
        if error is not None:
            if previous is None:
                path.unlink(missing_ok=True)
            else:
                atomic_write(path, previous)
            raise ProxyError(f"nginx rejected the new configuration, the previous one stays: {error}")
        error = self._run("-s", "reload")
        if error is not None:
            raise ProxyError(f"nginx could not be reloaded: {error}")

    def _run(self, *args: str) -> Optional[str]:
        """Runs nginx with args; returns None on success, else nginx's last error line."""
        result = subprocess.run([*self.command, *args], capture_output=True, text=True, check=False)
        if result.returncode == 0:
            return None
        lines = [line for line in result.stderr.splitlines() if "[emerg]" in line or "[error]" in line]
        return (lines or result.stderr.strip().splitlines() or [f"exit {result.returncode}"])[0]

    def _lock(self):
        """One nginx change at a time across all apps (each change tests the whole config)."""
        return file_lock(self.root / ".nginx.lock")
