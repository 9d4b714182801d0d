"""The bundled postgres plugin as plugins.py sees it: its manifest and trigger hooks. An app
linked to a service joins the services' network in its containers (docker-args-deploy and
docker-args-run); a destroyed app's links are forgotten (post-delete)."""

from typing import Optional

from minidokku import __version__
from minidokku.context import Context
from minidokku.plugins import Plugin
from minidokku.postgres import records


def network_option(ctx: Context, app: str, *_: str) -> Optional[str]:
    if records.services_linked_to(ctx.store, app):
        return f"--network {records.network_name(ctx)}\n"
    return None


def forget_app(ctx: Context, app: str, *_: str) -> None:
    for name in records.services_linked_to(ctx.store, app):
        records.write_links(ctx.store, name, [link for link in records.links(ctx.store, name) if link.app != app])


PLUGIN = Plugin(
    name="postgres",
    version=__version__,
    description="PostgreSQL services linked to apps (bundled)",
    hooks={"docker-args-deploy": network_option, "docker-args-run": network_option, "post-delete": forget_app},
)
