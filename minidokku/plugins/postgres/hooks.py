"""The bundled postgres plugin as plugins/registry.py sees it: its manifest and trigger hooks. The
containers of an app linked to a service join the app's link network, where its services are
(docker-args-deploy and docker-args-run); a destroyed app's links and link network are forgotten
(post-delete); a renamed app's links follow it (post-app-rename-setup), its old link network goes
once its old containers are gone (post-app-rename); a clone is linked as its original
(post-app-clone-setup: its config, copied, names the same services)."""

from typing import Optional

from minidokku import __version__
from minidokku.context import Context
from minidokku.plugins.postgres import records, service
from minidokku.plugins.postgres.records import Link
from minidokku.plugins.registry import Plugin


def network_option(ctx: Context, app: str, *_: str) -> Optional[str]:
    if records.services_linked_to(ctx.store, app):
        return f"--network {service.link_network(ctx, app)}\n"
    return None


def forget_app(ctx: Context, app: str, *_: str) -> None:
    for name in records.forget_app(ctx.store, app):
        service.leave_link_network(ctx, name, app)
    ctx.scheduler.remove_network(records.link_network_name(ctx, app))


def follow_rename(ctx: Context, old: str, new: str, *_: str) -> None:
    for name in records.services_linked_to(ctx.store, old):
        moved = [Link(new, link.variable) if link.app == old else link for link in records.links(ctx.store, name)]
        records.write_links(ctx.store, name, moved)


def leave_old_network(ctx: Context, old: str, new: str, *_: str) -> None:
    for name in records.services_linked_to(ctx.store, new):
        service.leave_link_network(ctx, name, old)
    ctx.scheduler.remove_network(records.link_network_name(ctx, old))


def link_clone(ctx: Context, old: str, new: str, *_: str) -> None:
    for name in records.services_linked_to(ctx.store, old):
        original = records.link_of(ctx.store, name, old)
        if original is not None and records.link_of(ctx.store, name, new) is None:
            records.write_links(ctx.store, name, [*records.links(ctx.store, name), Link(new, original.variable)])


PLUGIN = Plugin(
    name="postgres",
    version=__version__,
    description="PostgreSQL services linked to apps (bundled)",
    hooks={
        "docker-args-deploy": network_option,
        "docker-args-run": network_option,
        "post-delete": forget_app,
        "post-app-rename-setup": follow_rename,
        "post-app-rename": leave_old_network,
        "post-app-clone-setup": link_clone,
    },
)
