"""nginx: rendering an app's server block (pure) and installing it safely (files + reload).

A new config is moved in, the whole configuration is checked with `nginx -t`, and only then is
nginx reloaded; a config that fails the check is taken out again, the previous one restored,
and nginx's own error is raised. nginx keeps serving the old configuration throughout.
"""

import functools
import re
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

from minidokku.errors import ProxyError
from minidokku.state import atomic_write, file_lock

CONFIG_NAME = "nginx.conf"
LOADED_JOURNAL = ".nginx.conf.loaded"  # while an app's config changes: the one nginx has loaded


@dataclass(frozen=True)
class PortMap:
    """One `ports:add` mapping: nginx listens on host_port and proxies to container_port."""

    scheme: str  # "http" or "https"
    host_port: int
    container_port: int

    def __str__(self) -> str:
        return f"{self.scheme}:{self.host_port}:{self.container_port}"


@dataclass(frozen=True)
class Tls:
    certificate: str
    key: str
    http2: bool  # the installed nginx has HTTP/2


@dataclass(frozen=True)
class Site:
    app: str
    domains: list[str]  # empty: any name (the app is served on a port of its own)
    ports: list[PortMap]
    upstreams: dict[int, list[tuple[str, int]]]  # container port -> (host, port) of each web container
    log_dir: str = "/var/log/nginx"
    settings: dict[str, str] = field(default_factory=dict)  # nginx_settings.effective()
    tls: Optional[Tls] = None
    template: str = ""  # the app's nginx.conf.template, "" for ours


TEMPLATE_VARIABLE = re.compile(r"\{\{\s*([A-Za-z_]+)\s*\}\}")


def render(site: Site) -> str:
    """The app's upstream and server blocks; a port whose container port has no running
    container answers 503 (nginx refuses an upstream without servers)."""
    header = f"# written by minidokku for the app {site.app}; `dokku proxy:build-config {site.app}` rewrites it\n"
    upstreams = "".join(
        f"upstream {_upstream(site, port)} {{\n"
        + "".join(f"  server {host}:{host_port};\n" for host, host_port in servers)
        + "  keepalive 16;\n}\n\n"
        for port, servers in sorted(site.upstreams.items())
        if servers
    )
    if site.template:
        return header + upstreams + _fill(site.template, _template_values(site))
    servers = "\n".join(_server(site, mapping) for mapping in _served(site))
    return header + upstreams + servers


def _served(site: Site) -> list[PortMap]:
    """https mappings only exist with a certificate."""
    return [m for m in site.ports if m.scheme == "http" or site.tls is not None]


def _upstream(site: Site, container_port: int) -> str:
    return f"minidokku-{site.app}-{container_port}"


def _server(site: Site, mapping: PortMap) -> str:
    settings = site.settings
    https = mapping.scheme == "https"
    listen = (
        f"{mapping.host_port} ssl http2"
        if https and site.tls.http2
        else f"{mapping.host_port}" + (" ssl" if https else "")
    )
    lines = [
        f"  listen {listen};",
        f"  server_name {' '.join(site.domains) if site.domains else '_'};",
        f"  access_log {_log(site, 'access')};",
        f"  error_log {_log(site, 'error')};",
        f"  client_max_body_size {settings.get('client-max-body-size', '1m')};",
    ]
    if https:
        lines += [
            f"  ssl_certificate {site.tls.certificate};",
            f"  ssl_certificate_key {site.tls.key};",
            "  ssl_protocols TLSv1.2 TLSv1.3;",
        ]
        if settings.get("hsts", "true") == "true":
            lines.append(f'  add_header Strict-Transport-Security "{_hsts(settings)}" always;')
    proxy = _location_body(site, mapping)
    redirect_to = _https_port(site) if mapping.scheme == "http" else None
    if redirect_to is not None:
        # HTTP moves to HTTPS, but for ACME's challenges (Let's Encrypt asks over plain HTTP)
        target = "https://$host" + ("" if redirect_to == 443 else f":{redirect_to}") + "$request_uri"
        lines.append(f"  location ^~ /.well-known/acme-challenge/ {{\n{proxy}  }}")
        lines.append(f"  location / {{\n    return 301 {target};\n  }}")
    else:
        lines.append(f"  location / {{\n{proxy}  }}")
    return "server {\n" + "\n".join(lines) + "\n}\n"


def _https_port(site: Site):
    https = [m.host_port for m in _served(site) if m.scheme == "https"]
    return https[0] if https else None


def _location_body(site: Site, mapping: PortMap) -> str:
    if not site.upstreams.get(mapping.container_port):
        return "    return 503;\n"
    settings = site.settings
    return _PROXY.format(
        upstream=_upstream(site, mapping.container_port),
        read=settings.get("proxy-read-timeout", "60s"),
        connect=settings.get("proxy-connect-timeout", "60s"),
        send=settings.get("proxy-send-timeout", "60s"),
        buffer_size=settings.get("proxy-buffer-size", "4k"),
        buffering=settings.get("proxy-buffering", "on"),
        buffers=settings.get("proxy-buffers", "8 4k"),
        busy=settings.get("proxy-busy-buffers-size", "8k"),
    )


_PROXY = """    proxy_pass http://{upstream};
    proxy_http_version 1.1;
    proxy_set_header Upgrade $http_upgrade;
    proxy_set_header Connection $http_connection;
    proxy_set_header Host $http_host;
    proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
    proxy_set_header X-Forwarded-Proto $scheme;
    proxy_set_header X-Forwarded-Port $server_port;
    proxy_set_header X-Request-Start $msec;
    proxy_read_timeout {read};
    proxy_connect_timeout {connect};
    proxy_send_timeout {send};
    proxy_buffer_size {buffer_size};
    proxy_buffering {buffering};
    proxy_buffers {buffers};
    proxy_busy_buffers_size {busy};
"""


def _log(site: Site, kind: str) -> str:
    return site.settings.get(f"{kind}-log-path") or f"{site.log_dir}/{site.app}-{kind}.log"


def _hsts(settings: dict[str, str]) -> str:
    value = f"max-age={settings.get('hsts-max-age', '15724800')}"
    if settings.get("hsts-include-subdomains", "true") == "true":
        value += "; includeSubDomains"
    if settings.get("hsts-preload", "false") == "true":
        value += "; preload"
    return value


# -- an app's own template ---------------------------------------------------------------------
TEMPLATE_HELP = "APP, SERVER_NAMES, LISTEN_PORT, UPSTREAM, ACCESS_LOG, ERROR_LOG"


def _template_values(site: Site) -> dict[str, str]:
    http = [m for m in site.ports if m.scheme == "http"] or site.ports
    mapping = http[0]
    return {
        "APP": site.app,
        "SERVER_NAMES": " ".join(site.domains) if site.domains else "_",
        "LISTEN_PORT": str(mapping.host_port),
        "UPSTREAM": _upstream(site, mapping.container_port),
        "ACCESS_LOG": _log(site, "access"),
        "ERROR_LOG": _log(site, "error"),
    }


def _fill(template: str, values: dict[str, str]) -> str:
    """`{{ NAME }}` becomes the value of NAME; any other name is an error (no code runs)."""

    def value(match: re.Match) -> str:
        name = match.group(1)
        if name not in values:
            raise ProxyError(f"nginx.conf.template: unknown variable {{{{ {name} }}}}; known: {TEMPLATE_HELP}")
        return values[name]

    return TEMPLATE_VARIABLE.sub(value, template)


def _put(path: Path, config: Optional[str]) -> None:
    if config is None:
        path.unlink(missing_ok=True)
    else:
        atomic_write(path, config)


class Nginx:
    """Installs per-app configs under ROOT/APP/nginx.conf and reloads nginx through `command`."""

    def __init__(self, command: list[str], root: Path):
        self.command = command
        self.root = root

    def config_path(self, app: str) -> Path:
        return self.root / app / CONFIG_NAME

    def install(self, app: str, config: str) -> None:
        path = self.config_path(app)
        with self._lock():
            self._finish_interrupted()
            previous = path.read_text(encoding="utf-8") if path.is_file() else None
            if previous == config:
                return
            self._replace(path, config, previous)

    def remove(self, app: str) -> None:
        path = self.root / app / CONFIG_NAME
        with self._lock():
            self._finish_interrupted()
            if not path.is_file():
                return
            self._replace(path, None, path.read_text(encoding="utf-8"))

    def _replace(self, path: Path, config: Optional[str], previous: Optional[str]) -> None:
        """Puts config (None: no file) in place of previous, checked, then reloaded. Until nginx
        has loaded it, a journal beside it holds previous, the config nginx has."""
        journal = path.with_name(LOADED_JOURNAL)
        atomic_write(journal, previous or "")
        _put(path, config)
        error = self._run("-t")
        if error is not None:
            _put(path, previous)
            journal.unlink()
            raise ProxyError(f"nginx rejected the new configuration, the previous one stays: {error}")
        error = self._run("-s", "reload")
        if error is not None:
            raise ProxyError(f"nginx could not be reloaded: {error}")
        journal.unlink()

    def _finish_interrupted(self) -> None:
        """A change killed between writing an app's config and nginx's reload (or whose reload
        failed) left a file nginx has not loaded, perhaps not even checked: the config nginx has
        goes back in its place and nginx reloads, so files and nginx agree again before the next
        change compares with them."""
        journals = list(self.root.glob(f"*/{LOADED_JOURNAL}"))
        if not journals:
            return
        for journal in journals:
            _put(journal.with_name(CONFIG_NAME), journal.read_text(encoding="utf-8") or None)
        error = self._run("-t") or self._run("-s", "reload")
        if error is not None:
            raise ProxyError(f"nginx could not reload the configuration it had before an unfinished change: {error}")
        for journal in journals:  # only now: killed before the reload, this is done again
            journal.unlink()

    @functools.cached_property
    def has_http2(self) -> bool:
        """Whether this nginx was built with HTTP/2 (`nginx -V` lists its configure flags; it needs
        no root, so the binary runs without the sudo of self.command). Asked once per command."""
        binary = next((word for word in self.command if word.endswith("nginx")), "nginx")
        result = subprocess.run([binary, "-V"], capture_output=True, text=True, check=False)
        return "--with-http_v2_module" in result.stderr + result.stdout

    def validate(self) -> Optional[str]:
        """`nginx -t` on the whole configuration: None when valid, else nginx's error."""
        return self._run("-t")

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
