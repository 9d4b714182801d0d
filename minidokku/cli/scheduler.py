"""scheduler:set|report (Dokku's): which scheduler runs an app's processes, and
scheduler-swarm:* (ours): the swarm the swarm scheduler runs them on (ops/swarm.py).

Choosing the scheduler and changing the swarm are for admin keys: they decide on which machines
an app runs and which registry its image goes to. The report is a user key's for its own app.
"""

import json
from typing import Optional

import click

from minidokku.access import rules
from minidokku.access.rules import Scope
from minidokku.cli.builder import property_rows
from minidokku.cli.declare import command
from minidokku.cli.family import Report, Row, global_set_command, report_command
from minidokku.context import Context
from minidokku.errors import EngineError, ValidationError
from minidokku.ops import swarm
from minidokku.records import properties
from minidokku.records import scheduler as selection

# The command families of this module and their one-line descriptions (`dokku help`, `dokku FAMILY:help`).
FAMILIES = {
    "scheduler": "Manage scheduler settings for an app",
    "scheduler-swarm": "Manage the Docker Swarm the swarm scheduler runs apps on",
}
PREFIX = "--scheduler-"
SWARM_PREFIX = "--scheduler-swarm-"


def _set(ctx: Context, app: Optional[str], key: str, value: str) -> None:
    if not key:
        raise ValidationError("No property specified")
    if key != selection.SELECTED.key:
        raise ValidationError(f"Invalid property specified, valid properties include: {selection.SELECTED.key}")
    if app is not None and value == selection.SWARM and rules.is_tenant_app(ctx.store, app):
        raise ValidationError(f"{app} is a user key's app: it runs on this host (docker-local) only")
    properties.set_value(ctx.store, app, selection.SELECTED, value)


scheduler_set = global_set_command(
    "scheduler:set",
    _set,
    help="Chooses the scheduler that runs an app's processes, docker-local or swarm (no value: the "
    "global one, else docker-local); the next deploy moves it. A user key's app runs on this host. "
    "Example: dokku scheduler:set catmeow selected swarm",
    scope=Scope.ADMIN,
)


def _rows(ctx: Context, app: str) -> list[Row]:
    """Dokku's rows; the computed one says where the app runs (a user key's: on this host)."""
    rows = property_rows(ctx, app, selection.SELECTED, PREFIX, "Scheduler")
    computed = Row(rows[0].flag, rows[0].label, lambda: selection.selected(ctx.store, app))
    return [computed, *rows[1:]]


scheduler_report = report_command(
    "scheduler:report",
    Scope.APP,
    Report("scheduler", PREFIX, legacy=True, width=len("Scheduler computed selected:") + 1),
    lambda ctx, app: _rows(ctx, app),
    help="Shows the scheduler of one app or of every app. Example: dokku scheduler:report catmeow --scheduler-selected",
    global_rows=lambda ctx: property_rows(ctx, None, selection.SELECTED, PREFIX, "Scheduler"),
)


def _set_swarm(ctx: Context, app: Optional[str], key: str, value: str) -> None:
    settings = {setting.key: setting for setting in selection.SWARM_SETTINGS}
    if app is not None:
        raise ValidationError("The swarm's properties are global: use --global")
    if key not in settings:
        raise ValidationError(f"Invalid property specified, valid properties include: {', '.join(sorted(settings))}")
    properties.set_value(ctx.store, None, settings[key], value)


@command("scheduler-swarm:set", scope=Scope.ADMIN, changes=True)
@click.option("--global", "is_global", is_flag=True, help="The swarm's properties are all global.")
@click.argument("key", required=False, default="")
@click.argument("value", required=False, default="")
@click.pass_obj
def swarm_set(ctx: Context, is_global: bool, key: str, value: str) -> None:
    """Sets a property of the swarm (no value: unset): manager-socket (the unix socket of a manager's
    engine, default this host's), advertise-addr (for initialize), node-sockets (HOSTNAME=SOCKET,...:
    other nodes' engines, for enter). Example: dokku scheduler-swarm:set --global manager-socket
    /run/manager.sock"""
    if not is_global:
        raise ValidationError("The swarm's properties are global: use --global")
    if not key:
        raise ValidationError("No property specified")
    _set_swarm(ctx, None, key, value)
    ctx.out.step(f"Setting {key} to {value}" if value else f"Unsetting {key}")


def _swarm_rows(ctx: Context) -> list[Row]:
    rows = [
        Row(f"{SWARM_PREFIX}active", "Scheduler swarm active", lambda: "true" if _manages(ctx) else "false"),
        Row(
            f"{SWARM_PREFIX}computed-manager-socket",
            "Scheduler swarm computed manager socket",
            lambda: selection.manager_socket(ctx.store, ctx.settings.docker_socket),
        ),
    ]
    for setting in selection.SWARM_SETTINGS:
        key = setting.key
        rows.append(
            Row(
                f"{SWARM_PREFIX}global-{key}",
                f"Scheduler swarm global {key.replace('-', ' ')}",
                lambda setting=setting: properties.own_value(ctx.store, None, setting),
            )
        )
    return sorted(rows, key=lambda row: row.flag)


def _manages(ctx: Context) -> bool:
    """Whether the manager-socket's engine manages a swarm (one that does not answer: no)."""
    try:
        return swarm.manages(ctx)
    except EngineError:
        return False


swarm_report = report_command(
    "scheduler-swarm:report",
    Scope.ADMIN,
    Report("scheduler-swarm", SWARM_PREFIX, width=len("Scheduler swarm computed manager socket:") + 1),
    lambda ctx, app: _swarm_rows(ctx),
    help="Shows the swarm's properties, the same for every app, and whether its manager manages one. "
    "Example: dokku scheduler-swarm:report --global --scheduler-swarm-active",
    global_rows=_swarm_rows,
)


@command("scheduler-swarm:initialize", scope=Scope.ADMIN, changes=True)
@click.pass_obj
def initialize(ctx: Context) -> None:
    """Makes the manager-socket's engine (this host's by default) the manager of a new swarm."""
    node = swarm.initialize(ctx)
    if node is None:
        ctx.out.step(f"The engine at {ctx.swarm_manager.socket_path} manages a swarm already")
        return
    ctx.out.step(f"Swarm initialized; this engine is its manager (node {node})")
    ctx.out.info("Join other hosts with the command `dokku scheduler-swarm:join-token worker` prints")


@command("scheduler-swarm:join-token", scope=Scope.ADMIN, changes=False)
@click.argument("role", required=False, default="worker")
@click.option("-q", "--quiet", "token_only", is_flag=True, help="Print the token alone.")
@click.pass_obj
def join_token(ctx: Context, role: str, token_only: bool) -> None:
    """Prints the command another host runs to join the swarm as worker (or manager)."""
    joining = swarm.join_command(ctx, role)
    click.echo(joining.split("--token ", 1)[1].split()[0] if token_only else joining)


@command("scheduler-swarm:nodes", scope=Scope.ADMIN, changes=False)
@click.option("--format", "format_", default="text", show_default=True, help="text or json.")
@click.pass_obj
def list_nodes(ctx: Context, format_: str) -> None:
    """Lists the swarm's nodes, managers first. Example: dokku scheduler-swarm:nodes --format json"""
    if format_ not in ("text", "json"):
        raise ValidationError(f"--format is text or json, not {format_[:20]!r}")
    found = swarm.nodes(ctx)
    if format_ == "json":
        click.echo(json.dumps([node.__dict__ for node in found]))
        return
    header = ("ID", "HOSTNAME", "ROLE", "STATUS", "AVAILABILITY", "ADDRESS")
    rows = [
        (node.id[:12], node.hostname, f"{node.role}{' (leader)' if node.leader else ''}", node.status,
         node.availability, node.address)
        for node in found
    ]  # fmt: skip
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
    for row in [header, *rows]:
        click.echo("  ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip())


@command("scheduler-swarm:node-remove", scope=Scope.ADMIN, changes=True)
@click.argument("node")
@click.option("--force", is_flag=True, help="Remove a node that is still up.")
@click.pass_obj
def node_remove(ctx: Context, node: str, force: bool) -> None:
    """Removes a worker node (its id or hostname) from the swarm; its tasks run elsewhere."""
    removed = swarm.remove_node(ctx, node, force)
    ctx.out.step(f"Removed node {removed.hostname} ({removed.id[:12]}) from the swarm")
