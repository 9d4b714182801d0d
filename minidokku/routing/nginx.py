"""nginx: rendering an app's server block (pure) and installing it safely (files + reload).

A new config is moved in, the whole configuration is checked with `nginx -t`, and only then is
nginx reloaded; a config that fails the check is taken out again, the previous one restored,
and nginx's own error is raised. nginx keeps serving the old configuration throughout.

`nginx:stop` stops nginx and leaves the marker ROOT/.nginx.stopped: until `nginx:start`, changes
are still installed and checked, and nginx loads them when it starts (no reload of a stopped
nginx fails a deploy). `nginx:reload` and `nginx:start` check the whole configuration first.
"""

import functools
import json
import os
import re
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

from minidokku.errors import ProxyError, ValidationError
from minidokku.routing import nginx_check
from minidokku.state import atomic_write, file_lock

CONFIG_NAME = "nginx.conf"
REJECTED_NAME = "nginx.conf.rejected"  # an app's config that broke after it was installed, set aside
JOURNAL = ".nginx.pending"  # the change under way: the config nginx has loaded, until it reloads
STOPPED = ".nginx.stopped"  # present from nginx:stop to nginx:start


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
    # container port -> (host, port) of each container nginx falls back to when those fail
    # (the old ones, while the new ones have not yet run their uptime check)
    backups: dict[int, list[tuple[str, int]]] = field(default_factory=dict)
    log_dir: str = "/var/log/nginx"
    settings: dict[str, str] = field(default_factory=dict)  # nginx_settings.effective()
    tls: Optional[Tls] = None
    template: str = ""  # the app's nginx.conf.template, "" for ours
    acme_webroot: str = ""  # letsencrypt's challenge folder, served on the http servers ("" for none)
    acme_marker: tuple[str, str] = ("", "")  # the header (name, value) its answers carry
    elsewhere: bool = False  # its containers run on other machines (swarm nodes)


TEMPLATE_VARIABLE = re.compile(r"\{\{\s*([A-Za-z_]+)\s*\}\}")


def render(site: Site) -> str:
    """The app's upstream and server blocks; a port whose container port has no running
    container answers 503 (nginx refuses an upstream without servers)."""
    header = f"# written by minidokku for the app {site.app}; `dokku proxy:build-config {site.app}` rewrites it\n"
    upstreams = "".join(
        f"upstream {_upstream(site, port)} {{\n"
        + "".join(f"  server {host}:{host_port};\n" for host, host_port in servers)
        + "".join(f"  server {host}:{host_port} backup;\n" for host, host_port in site.backups.get(port, []))
        + "  keepalive 16;\n}\n\n"
        for port, servers in sorted(site.upstreams.items())
        if servers
    )
    if _uses_template(site):
        own = _fill(site.template, _template_values(site))
        nginx_check.check(own, _allowed(site))
        return header + upstreams + own
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
    acme = _acme_location(site) if mapping.scheme == "http" else None
    if redirect_to is not None:
        # HTTP moves to HTTPS, but for ACME's challenges (Let's Encrypt asks over plain HTTP)
        target = "https://$host" + ("" if redirect_to == 443 else f":{redirect_to}") + "$request_uri"
        lines.append(acme or f"  location ^~ /.well-known/acme-challenge/ {{\n{proxy}  }}")
        lines.append(f"  location / {{\n    return 301 {target};\n  }}")
    else:
        lines += [acme] if acme else []
        lines.append(f"  location / {{\n{proxy}  }}")
    return "server {\n" + "\n".join(lines) + "\n}\n"


def _acme_location(site: Site):
    """letsencrypt's HTTP-01 answers, from its webroot (`^~`: before any other location); no
    file reached through a link is served; its marker header tells letsencrypt's readiness probe
    the answer is this location's, not an app's."""
    if not site.acme_webroot:
        return None
    return (
        "  location ^~ /.well-known/acme-challenge/ {\n"
        f"    root {site.acme_webroot};\n"
        "    default_type text/plain;\n"
        "    disable_symlinks on;\n"
        f"    add_header {site.acme_marker[0]} {site.acme_marker[1]};\n"
        "  }"
    )


def _https_port(site: Site):
    https = [m.host_port for m in _served(site) if m.scheme == "https"]
    return https[0] if https else None


# The connect timeout while the upstream has backups (a deploy's uptime window): a new container
# that dies leaves its address without anybody to answer, not even with a refusal, until the
# bridge forgets it, and a request nginx sends there waits out the whole connect timeout (60 s by
# default) while the old containers, its backups, are ready. On a local bridge a connection takes
# well under a millisecond, so one not made within a second goes to the backups. The same holds
# for containers on other machines of a swarm (a LAN connection takes a few milliseconds): one
# on a machine that went away goes to the next container after a second, not after a minute.
SWITCH_CONNECT_TIMEOUT = "1s"


def _location_body(site: Site, mapping: PortMap) -> str:
    if not site.upstreams.get(mapping.container_port):
        return "    return 503;\n"
    settings = site.settings
    switching = bool(site.backups.get(mapping.container_port))
    return _PROXY.format(
        upstream=_upstream(site, mapping.container_port),
        read=settings.get("proxy-read-timeout", "60s"),
        connect=SWITCH_CONNECT_TIMEOUT if switching or site.elsewhere else settings.get("proxy-connect-timeout", "60s"),
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
    return log_path(site.settings, site.log_dir, site.app, kind)


def log_path(settings: dict[str, str], log_dir: str, app: str, kind: str) -> str:
    """Where the app's access or error log goes: the path set, else APP-KIND.log in the log folder."""
    return settings.get(f"{kind}-log-path") or f"{log_dir}/{app}-{kind}.log"


def _hsts(settings: dict[str, str]) -> str:
    value = f"max-age={settings.get('hsts-max-age', '15724800')}"
    if settings.get("hsts-include-subdomains", "true") == "true":
        value += "; includeSubDomains"
    if settings.get("hsts-preload", "false") == "true":
        value += "; preload"
    return value


# -- an app's own template ---------------------------------------------------------------------
TEMPLATE_HELP = "APP, SERVER_NAMES, LISTEN_PORT, UPSTREAM, ACCESS_LOG, ERROR_LOG"


def _template_mapping(site: Site) -> Optional[PortMap]:
    """The mapping LISTEN_PORT and UPSTREAM name: the first served http one, else the first served."""
    served = _served(site)
    return ([m for m in served if m.scheme == "http"] or served or [None])[0]


def _uses_template(site: Site) -> bool:
    """A template applies while its upstream has containers; otherwise ours answers (503 when
    stopped), since an upstream without servers does not exist for nginx."""
    mapping = _template_mapping(site)
    return bool(site.template) and mapping is not None and bool(site.upstreams.get(mapping.container_port))


def _allowed(site: Site) -> nginx_check.Allowed:
    """What the app's template may name: its own ports, names, upstreams, logs and certificate."""
    https = frozenset({"ssl", "http2"} if site.tls and site.tls.http2 else {"ssl"})
    return nginx_check.Allowed(
        app=site.app,
        listen={m.host_port: https if m.scheme == "https" else frozenset() for m in _served(site)},
        server_names=frozenset(site.domains or ["_"]),
        upstreams=frozenset(_upstream(site, port) for port, servers in site.upstreams.items() if servers),
        access_log=_log(site, "access"),
        error_log=_log(site, "error"),
        tls_files=frozenset({site.tls.certificate, site.tls.key}) if site.tls else frozenset(),
        max_body_size=site.settings.get("client-max-body-size", "1m"),
    )


def _template_values(site: Site) -> dict[str, str]:
    mapping = _template_mapping(site)
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


class Nginx:
    """Installs per-app configs under ROOT/APP/nginx.conf and reloads nginx through `command`.

    A config is moved in, and stays only once `nginx -t` passes; then nginx reloads. Until the
    reload is done, a journal holds the config nginx has loaded: a change that dies before
    (SIGKILL, an ssh hang-up) is undone by the next one, which puts that config back and reloads,
    so files and nginx agree before it compares with them (an unloaded file equal to the new
    config would otherwise skip the reload and leave nginx on removed containers).

    When the check fails, the previous file goes back and is checked alone: if that passes, the
    new config is refused. If it fails too, something else is broken: an app config the error
    names (one that broke after it was installed, say its certificate is gone) is set aside as
    APP/nginx.conf.rejected, so that one app never holds every other one back; an error in
    nothing of ours is the host's, and nothing changes.
    """

    def __init__(self, command: list[str], root: Path):
        self.command = command
        self.root = root

    def config_path(self, app: str) -> Path:
        return self.root / app / CONFIG_NAME

    def install(self, app: str, config: str) -> list[str]:
        """Returns the other apps whose broken configs were set aside on the way."""
        path = self.config_path(app)
        with self._lock():
            self._recover()
            previous = _read(path)
            if previous == config:
                return []
            return self._replace(path, config, previous)

    def remove(self, app: str) -> list[str]:
        path = self.config_path(app)
        with self._lock():
            self._recover()
            previous = _read(path)
            if previous is None:
                return []
            return self._replace(path, None, previous)

    def listened_ports(self) -> set[int]:
        """The ports the installed app configs listen on (nginx holds them once reloaded)."""
        ports = set()
        for path in self.root.glob(f"*/{CONFIG_NAME}"):
            try:
                directives = nginx_check.parse(_read(path) or "")
            except ValidationError:
                continue  # not one of ours: nginx -t says what is wrong with it
            ports |= nginx_check.listen_ports(directives)
        return ports

    def _replace(self, path: Path, config: Optional[str], previous: Optional[str]) -> list[str]:
        set_aside: list[str] = []
        try:
            while True:
                self._journal.parent.mkdir(parents=True, exist_ok=True)
                atomic_write(self._journal, json.dumps({"path": str(path), "previous": previous}))
                _put(path, config)
                error = self._run("-t")
                if error is None:
                    break
                _put(path, previous)
                baseline = self._run("-t")
                if baseline is None:
                    raise ProxyError(f"nginx rejected the new configuration, the previous one stays: {error}")
                broken = self._app_named_in(baseline)
                if broken is None or broken in set_aside:
                    raise ProxyError(
                        f"nginx's configuration fails without this change too, so nothing changed: {baseline}"
                    )
                os.replace(self.config_path(broken), self.config_path(broken).with_name(REJECTED_NAME))
                set_aside.append(broken)
                if self.config_path(broken) == path:
                    previous = None
        except BaseException:  # whatever stopped the check, no unchecked file stays
            _put(path, previous)
            self._journal.unlink(missing_ok=True)
            raise
        error = self._reload()
        if error is not None:  # the journal stays: the next change puts back what nginx has
            raise ProxyError(f"nginx could not be reloaded: {error}")
        self._journal.unlink()
        return [app for app in set_aside if self.config_path(app) != path]

    def reload(self) -> None:
        """`nginx:reload`: the whole configuration checked, then loaded."""
        with self._lock():
            self._recover()
            self._check_all("reloaded")
            error = self._reload()
            if error is not None:
                raise ProxyError(f"nginx could not be reloaded: {error}")

    def start(self) -> bool:
        """`nginx:start`: the configuration checked, then nginx started (a running one reloads,
        which is what starting it would load). False when it was running already."""
        with self._lock():
            self._check_all("started")
            running = self._run("-s", "reload") is None
            error = None if running else self._run()
            if error is not None:
                raise ProxyError(f"nginx could not be started: {error}")
            self._stopped.unlink(missing_ok=True)
            return not running

    def stop(self) -> None:
        """`nginx:stop`: nginx finishes the requests under way and exits (`-s quit`)."""
        with self._lock():
            error = self._run("-s", "quit")
            if error is not None:  # still running: changes are still reloaded
                raise ProxyError(f"nginx could not be stopped: {error}")
            self._stopped.touch()

    @property
    def is_stopped(self) -> bool:
        return self._stopped.is_file()

    @property
    def _stopped(self) -> Path:
        return self.root / STOPPED

    def _check_all(self, done: str) -> None:
        error = self._run("-t")
        if error is not None:
            raise ProxyError(f"nginx's configuration is invalid, so nginx was not {done}: {error}")

    def _reload(self) -> Optional[str]:
        """Reloads nginx, unless nginx:stop stopped it: it loads the files when it starts."""
        return None if self.is_stopped else self._run("-s", "reload")

    @property
    def _journal(self) -> Path:
        return self.root / JOURNAL

    def _recover(self) -> None:
        """Puts back the config nginx has loaded where a change that died before its reload (or
        whose reload failed) left another, and reloads; the journal goes only once that worked."""
        if not self._journal.is_file():
            return
        record = json.loads(self._journal.read_text(encoding="utf-8"))
        path = Path(record["path"])
        if path.name == CONFIG_NAME and path.parent.parent == self.root:
            _put(path, record["previous"])
        error = self._run("-t") or self._reload()
        if error is not None:
            raise ProxyError(f"nginx could not reload the configuration it had before an unfinished change: {error}")
        self._journal.unlink()

    def _app_named_in(self, error: str) -> Optional[str]:
        """The app whose files nginx's error names (its config, or a certificate it loads)."""
        for named in re.findall(r"/[^\s\"':]+", error):
            for root in {self.root, self.root.resolve()}:
                parts = Path(named).parts
                if parts[: len(root.parts)] == root.parts and len(parts) > len(root.parts):
                    app = parts[len(root.parts)]
                    if self.config_path(app).is_file():
                        return app
        return None

    @functools.cached_property
    def has_http2(self) -> bool:
        """Whether this nginx was built with HTTP/2 (`nginx -V` lists its configure flags; it needs
        no root, so the binary runs without the sudo of self.command). Asked once per command."""
        binary = next((word for word in self.command if word.endswith("nginx")), "nginx")
        result = subprocess.run([binary, "-V"], capture_output=True, text=True, check=False, start_new_session=True)
        return "--with-http_v2_module" in result.stderr + result.stdout

    def validate(self) -> Optional[str]:
        """`nginx -t` on the whole configuration: None when valid, else nginx's error."""
        return self._run("-t")

    def _run(self, *args: str) -> Optional[str]:
        """Runs nginx with args; returns None on success, else nginx's last error line."""
        # stderr to a file, not a pipe: nginx started without -s keeps running (and may keep it)
        with tempfile.TemporaryFile(mode="w+", encoding="utf-8") as errors:
            # in a session of its own: no terminal for what needs none (access/users.py)
            result = subprocess.run(
                [*self.command, *args], stdout=subprocess.DEVNULL, stderr=errors, check=False, start_new_session=True
            )
            errors.seek(0)
            stderr = errors.read()
        if result.returncode == 0:
            return None
        lines = [line for line in stderr.splitlines() if "[emerg]" in line or "[error]" in line]
        return (lines or stderr.strip().splitlines() or [f"exit {result.returncode}"])[0]

    def _lock(self):
        """One nginx change at a time across all apps (each change tests the whole config)."""
        return file_lock(self.root / ".nginx.lock")


def _read(path: Path) -> Optional[str]:
    return path.read_text(encoding="utf-8") if path.is_file() else None


def _put(path: Path, config: Optional[str]) -> None:
    """Writes config at path; None: no file there."""
    if config is None:
        path.unlink(missing_ok=True)
    else:
        atomic_write(path, config)
