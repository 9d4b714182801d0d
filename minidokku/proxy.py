"""Routing an app: its domains (or a port of its own) and web containers become an nginx site."""

import socket

from minidokku import domains, nginx
from minidokku.context import Context
from minidokku.scheduler import Container

PORT_FILE = "PROXY_PORT"
FIRST_APP_PORT = 10000


def url(ctx: Context, app: str) -> str:
    app_domains = domains.app_domains(ctx.store, app)
    if app_domains:
        port = ctx.settings.http_port
        return f"http://{app_domains[0]}" + ("" if port == 80 else f":{port}")
    return f"http://{socket.getfqdn()}:{own_port(ctx, app)}"


def route(ctx: Context, app: str, web_containers: list[Container]) -> None:
    """Points the app's site at these web containers (config checked before nginx reloads)."""
    app_domains = domains.app_domains(ctx.store, app)
    site = nginx.Site(
        app=app,
        domains=app_domains,
        listen_port=ctx.settings.http_port if app_domains else own_port(ctx, app),
        upstreams=[("127.0.0.1", c.host_port) for c in web_containers if c.host_port],
        log_dir=ctx.settings.nginx_log_dir,
    )
    ctx.nginx.install(app, nginx.render(site))


def reroute(ctx: Context, app: str) -> None:
    """Rewrites the app's site for its running web containers (after a domain change)."""
    web = [c for c in ctx.scheduler.running(ctx.docker_name(app)) if c.process_type == "web"]
    if web:
        route(ctx, app, web)


def own_port(ctx: Context, app: str) -> int:
    """The port an app without any domain is served on; picked once, then kept (as Dokku)."""
    recorded = ctx.store.read(app, PORT_FILE)
    if recorded:
        return int(recorded)
    taken = {int(ctx.store.read(other, PORT_FILE) or 0) for other in ctx.store.list_apps()}
    port = FIRST_APP_PORT
    while port in taken:
        port += 1
    ctx.store.write(app, PORT_FILE, f"{port}\n")
    return port
