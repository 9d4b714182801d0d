"""ports:list|add|set|remove|clear|report (Dokku's port mappings, SCHEME:HOST_PORT:CONTAINER_PORT)."""

import click

from minidokku.access.rules import Scope
from minidokku.cli.declare import command
from minidokku.cli.family import Report, Row, report_command
from minidokku.context import Context
from minidokku.errors import MinidokkuError
from minidokku.ops import apps
from minidokku.routing import ports, proxy

# The command families of this module and their one-line descriptions (`dokku help`, `dokku FAMILY:help`).
FAMILIES = {"ports": "Manage ports for an app"}


def _change_command(name: str, change, help: str):
    """`NAME APP MAPPING...`: the mappings changed by change(store, app, mappings)."""

    @click.argument("app")
    @click.argument("mappings", nargs=-1, required=True)
    @click.pass_obj
    def change_mappings(ctx: Context, app: str, mappings) -> None:
        _apply(ctx, app, change, list(mappings))

    return command(name, scope=Scope.ADMIN, changes=True, help=help)(change_mappings)


add = _change_command("ports:add", ports.add, "Adds port mappings. Example: dokku ports:add catmeow http:8080:5000")
set_ = _change_command(
    "ports:set", ports.set_, "Replaces the port mappings. Example: dokku ports:set catmeow http:80:5000"
)
remove = _change_command(
    "ports:remove",
    ports.remove,
    "Removes mappings (whole, or by host port). Example: dokku ports:remove catmeow 8080",
)


@command("ports:clear", scope=Scope.ADMIN, changes=True)
@click.argument("app")
@click.pass_obj
def clear(ctx: Context, app: str) -> None:
    """Removes every mapping: the defaults apply again. Example: dokku ports:clear catmeow"""
    _apply(ctx, app, lambda store, name, _mappings: ports.clear(store, name), [])


@command("ports:list", scope=Scope.APP, changes=False)
@click.argument("app")
@click.pass_obj
def list_(ctx: Context, app: str) -> None:
    """Lists the app's port mappings in use. Example: dokku ports:list catmeow"""
    apps.require(ctx, app)
    ctx.out.section("Port mappings for " + app)
    click.echo("    -----> scheme  host port  container port")
    for mapping in proxy.mappings(ctx, app):
        click.echo(f"    -----> {mapping.scheme:<7} {mapping.host_port:<10} {mapping.container_port}")


report = report_command(
    "ports:report",
    Scope.APP,
    Report("ports", "--ports-", legacy=True),
    lambda ctx, app: [
        Row("--ports-map", "Ports map", lambda: " ".join(str(m) for m in ports.explicit(ctx.store, app)), empty="-"),
        Row("--ports-map-detected", "Ports map detected", lambda: " ".join(str(m) for m in proxy.mappings(ctx, app))),
    ],
    help="Shows the port mappings of one app or of every app. Example: dokku ports:report catmeow",
)


def _apply(ctx: Context, app: str, change, mappings: list[str]) -> None:
    """Changes the mappings and routes them; new container ports need a `ps:restart`. Ports
    nginx could not listen on (or not the app's to take) are refused, and nothing changes."""
    apps.require(ctx, app)
    with ctx.store.lock(app):
        before = ports.explicit(ctx.store, app)
        change(ctx.store, app, mappings)
        try:
            proxy.check_ports(ctx, app, ports.explicit(ctx.store, app))
            proxy.reroute(ctx, app)
        except MinidokkuError:
            ports.restore(ctx.store, app, before)
            raise
    ctx.out.step(f"{app} ports: {' '.join(str(m) for m in proxy.mappings(ctx, app))}")
