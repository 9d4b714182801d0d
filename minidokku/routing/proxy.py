"""Routing an app: its domains, port mappings, certificate, nginx settings and web containers
become its nginx site (config checked before nginx reloads). `proxy:disable` takes the site away.

ops/ route through the Proxy interface (Context.proxy), whose NginxProxy is this module's
functions, so their flows can be run with a fake one."""

import socket
from collections.abc import Sequence
from typing import Optional, Protocol

from minidokku.build import gitrepo
from minidokku.build.builders import DEFAULT_WEB_PORT
from minidokku.build.tree import MAX_NGINX_TEMPLATE_CHARACTERS, NGINX_TEMPLATE
from minidokku.context import Context
from minidokku.errors import ValidationError
from minidokku.plugins import triggers
from minidokku.records import letsencrypt, properties, releases, switching
from minidokku.records.releases import Release
from minidokku.routing import certs, domains, nginx, nginx_settings, ports
from minidokku.runtime.scheduler import Container

FAMILY = "proxy"


class Proxy(Protocol):
    def route(
        self,
        app: str,
        web_containers: list[Container],
        release: Optional[Release] = None,
        backups: Sequence[Container] = (),
    ) -> None:
        """Sends the app's requests to these web containers (none: it answers 503), and to the
        backups (web containers too) only when those fail."""

    def remove(self, app: str) -> None:
        """Takes the app's site away."""

    def published_ports(self, app: str, release: Release) -> tuple[int, ...]:
        """The container ports web containers must publish for the app's mappings."""

    def url(self, app: str) -> str:
        """Where users reach the app."""


class NginxProxy:
    """The Proxy of nginx on this machine."""

    def __init__(self, ctx: Context):
        self.ctx = ctx

    def route(
        self,
        app: str,
        web_containers: list[Container],
        release: Optional[Release] = None,
        backups: Sequence[Container] = (),
    ) -> None:
        route(self.ctx, app, web_containers, release, backups)

    def remove(self, app: str) -> None:
        self.ctx.nginx.remove(app)

    def published_ports(self, app: str, release: Release) -> tuple[int, ...]:
        return container_ports(self.ctx, app, release)

    def url(self, app: str) -> str:
        return url(self.ctx, app)


def is_enabled(ctx: Context, app: str) -> bool:
    return properties.get(ctx.store, app, FAMILY, "disabled") != "true"


def set_enabled(ctx: Context, app: str, enabled: bool) -> None:
    properties.put(ctx.store, app, FAMILY, "disabled", None if enabled else "true")
    reroute(ctx, app)


def mappings(ctx: Context, app: str, release: Optional[Release] = None) -> list[nginx.PortMap]:
    release = release or releases.current(ctx.store, app)
    return ports.effective(
        ctx.store,
        app,
        has_domains=bool(domains.app_domains(ctx.store, app)),
        has_certificate=certs.paths(ctx.store, app) is not None,
        web_port=release.web_port if release else DEFAULT_WEB_PORT,
        http_port=ctx.settings.http_port,
        https_port=ctx.settings.https_port,
    )


def container_ports(ctx: Context, app: str, release: Release) -> tuple[int, ...]:
    """The container ports web containers must publish for the app's mappings."""
    return tuple(sorted({m.container_port for m in mappings(ctx, app, release)}))


def url(ctx: Context, app: str) -> str:
    """The first of the app's URLs: https where it has a certificate, at its first domain."""
    return urls(ctx, app)[0]


def urls(ctx: Context, app: str) -> list[str]:
    """Every URL the app answers at (`dokku urls`): each domain (none: this host's name) with each
    port mapping nginx serves, the https ones first (none without a certificate); default ports left out."""
    chosen = mappings(ctx, app)
    https = [m for m in chosen if m.scheme == "https"] if certs.paths(ctx.store, app) else []
    chosen = https + [m for m in chosen if m.scheme != "https"] or chosen
    hosts = domains.app_domains(ctx.store, app) or [socket.getfqdn()]
    found = []
    for mapping in chosen:
        default = {"http": 80, "https": 443}.get(mapping.scheme)
        port = "" if mapping.host_port == default else f":{mapping.host_port}"
        found += [f"{mapping.scheme}://{host}{port}" for host in hosts]
    return list(dict.fromkeys(found))


def site(
    ctx: Context,
    app: str,
    web_containers: list[Container],
    release: Optional[Release],
    backups: Sequence[Container] = (),
) -> nginx.Site:
    """The app's nginx site for these web containers (and backups, asked when they fail)."""
    chosen = mappings(ctx, app, release)
    certificate = certs.paths(ctx.store, app)
    container_ports = {m.container_port for m in chosen}
    return nginx.Site(
        app=app,
        domains=domains.app_domains(ctx.store, app),
        ports=chosen,
        upstreams={port: _addresses(web_containers, port) for port in container_ports},
        backups={port: _addresses(backups, port) for port in container_ports},
        log_dir=ctx.settings.nginx_log_dir,
        settings=nginx_settings.effective(ctx.store, app),
        tls=nginx.Tls(str(certificate[0]), str(certificate[1]), ctx.nginx.has_http2) if certificate else None,
        template=_template(ctx, app, release),
        elsewhere=any(c.elsewhere for c in [*web_containers, *backups]),
        **_acme(ctx, app),
    )


def _addresses(containers: Sequence[Container], port: int) -> list[tuple[str, int]]:
    """Where nginx reaches the containers' container port."""
    return [where for c in containers if (where := c.reached_at(port))]


def _acme(ctx: Context, app: str) -> dict:
    """The app's letsencrypt challenge folder, once letsencrypt:enable made it, and the marker
    header its answers carry."""
    folder = letsencrypt.own_webroot(ctx.settings.acme_webroot, app, ctx.store.root)
    if folder is None:
        return {}
    return {"acme_webroot": str(folder), "acme_marker": (letsencrypt.MARKER_HEADER, letsencrypt.marker(ctx.store))}


def serves_own_template(ctx: Context, app: str) -> bool:
    """Whether the app's current release brings an nginx.conf.template an admin allowed it (its
    site is then the template's, not ours)."""
    text = _pushed_template(ctx, app, releases.current(ctx.store, app))
    return text is not None and nginx_settings.allows_template(ctx.store, app)


def _template(ctx: Context, app: str, release: Optional[Release]) -> str:
    """The release's nginx.conf.template where an admin allowed the app one; elsewhere a pushed
    template is ignored, saying so once, and the app gets our config."""
    text = _pushed_template(ctx, app, release)
    if text is None:
        return ""
    if not nginx_settings.allows_template(ctx.store, app):
        ctx.out.notice(
            f"{NGINX_TEMPLATE} ignored: custom templates are off for {app}; an admin turns them on with "
            f"`dokku nginx:set {app} {nginx_settings.ALLOW_TEMPLATE} true`"
        )
        return ""
    if len(text) > MAX_NGINX_TEMPLATE_CHARACTERS:
        raise ValidationError(f"{NGINX_TEMPLATE} is longer than {MAX_NGINX_TEMPLATE_CHARACTERS} characters")
    return text


def _pushed_template(ctx: Context, app: str, release: Optional[Release]) -> Optional[str]:
    """The template the release's build found in the pushed tree, None when there was none. A
    release recorded before releases kept it has it in git, at its commit."""
    if release is None:
        return None
    if release.nginx_template_recorded:
        return release.nginx_template
    if not release.sha:
        return None
    return gitrepo.read_file(ctx.store.app_dir(app), release.sha, NGINX_TEMPLATE)


def route(
    ctx: Context,
    app: str,
    web_containers: list[Container],
    release: Optional[Release] = None,
    backups: Sequence[Container] = (),
) -> None:
    """Points the app's site at these web containers (backups: asked when they fail); with the
    proxy disabled, removes it."""
    if not is_enabled(ctx, app):
        _report_set_aside(ctx, ctx.nginx.remove(app))
        return
    chosen = site(ctx, app, web_containers, release or releases.current(ctx.store, app), backups)
    config = nginx.render(chosen)
    check_ports(ctx, app, chosen.ports)
    triggers.fire(ctx, "nginx-pre-reload", app, *internal_address(web_containers))
    _report_set_aside(ctx, ctx.nginx.install(app, config))


def clear_config(ctx: Context, app: str) -> bool:
    """Takes the app's generated site away now (nginx reloaded); whether there was one. The next
    reroute (proxy:build-config, a deploy, a restart, a domain or port change) writes it again."""
    if not ctx.nginx.config_path(app).is_file():
        return False
    _report_set_aside(ctx, ctx.nginx.remove(app))
    return True


def check_ports(ctx: Context, app: str, mappings: list[nginx.PortMap]) -> None:
    """Refuses ports nginx could not listen on, or (for a tenant app) not the app's to take."""
    shared = {ctx.settings.http_port, ctx.settings.https_port}
    ports.check_listenable(ctx.store, app, mappings, shared, ctx.nginx.listened_ports())


def _report_set_aside(ctx: Context, apps: list[str]) -> None:
    for other in apps:
        ctx.out.info(
            f"nginx refused {other}'s configuration even without this change; it was set aside as "
            f"{other}/{nginx.REJECTED_NAME} until `dokku proxy:build-config {other}` (or its next deploy)"
        )


def internal_address(web_containers: list[Container]) -> tuple[str, str]:
    """(port, ip) where nginx reaches the first web container, for triggers; empty when none."""
    found = sorted((port, host) for c in web_containers if (where := c.reached_at()) for host, port in [where])
    return (str(found[0][0]), found[0][1]) if found else ("", "")


def reroute(ctx: Context, app: str) -> None:
    """Rewrites the app's site for its running web containers (after a domain, port,
    certificate or nginx setting changed); an app never deployed has nothing to route. Those of
    a deploy killed before they passed their checks are left out: the next command taking the
    app's lock removes them (records/switching.py)."""
    if releases.current(ctx.store, app) is None:
        return
    interrupted = switching.unfinished(ctx.store, app)
    leaving = set(interrupted.containers) if interrupted else set()
    route(ctx, app, [c for c in ctx.scheduler_for(app).web_containers(ctx.docker_name(app)) if c.id not in leaving])
