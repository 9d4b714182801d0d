"""The bundled postgres plugin as plugins/registry.py sees it: its manifest and trigger hooks. The
containers of an app linked to a service join the app's link network, where its services are
(docker-args-deploy and docker-args-run); a destroyed app's links and link network are forgotten
(post-delete)."""

from typing import Optional

from minidokku import __version__
from minidokku.context import Context
from minidokku.plugins.postgres import records, service
from minidokku.plugins.registry import Plugin


def network_option(ctx: Context, app: str, *_: str) -> Optional[str]:
    if records.services_linked_to(ctx.store, app):
        return f"--network {service.link_network(ctx, app)}\n"
    return None


def forget_app(ctx: Context, app: str, *_: str) -> None:
    for name in records.forget_app(ctx.store, app):
        service.leave_link_network(ctx, name, app)
    ctx.scheduler.remove_network(records.link_network_name(ctx, app))


PLUGIN = Plugin(
    name="postgres",
    version=__version__,
    description="PostgreSQL services linked to apps (bundled)",
    hooks={"docker-args-deploy": network_option, "docker-args-run": network_option, "post-delete": forget_app},
)
