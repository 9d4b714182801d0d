"""network:* (Dokku's network plugin): networks between apps (ops/network.py) and an app's
network properties (records/network_settings.py).

A user key reads its own app's `network:report` and nothing else: the networks' names and members
would tell it of other tenants' apps, and putting an app on a network puts it beside every other
app there, which only an admin decides."""

import functools
import json
from typing import Optional

import click

from minidokku.access.rules import Scope
from minidokku.cli.declare import command
from minidokku.cli.family import NO_APPS, Report, Row, print_report, report_command
from minidokku.cli.inputs import confirm_by_name
from minidokku.context import Context
from minidokku.errors import MinidokkuError, NotFound, ValidationError
from minidokku.ops import apps, network
from minidokku.records import network_settings
from minidokku.records.network_settings import ATTACH_KEYS, BIND_ALL_INTERFACES, KEYS

# The command families of this module and their one-line descriptions (`dokku help`, `dokku FAMILY:help`).
FAMILIES = {"network": "Manage network settings for an app"}

FORMATS = ("text", "json")
INFO_WIDTH = 16  # Dokku's network:info pads its labels to this width
REPORT_WIDTH = 38  # past the longest label, `Network computed bind all interfaces:`


def _json(value) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def _check_format(format_: str) -> None:
    if format_ not in FORMATS:
        raise ValidationError("Invalid format specified, use either text or json")


@command("network:create", scope=Scope.ADMIN, changes=True)
@click.argument("name")
@click.pass_obj
def create(ctx: Context, name: str) -> None:
    """Creates a network whose apps reach each other by name. Example: dokku network:create backend"""
    network.create(ctx, name)


@command("network:destroy", scope=Scope.ADMIN, changes=True)
@click.argument("name")
@click.option("--force", is_flag=True, help="Do not ask for confirmation.")
@click.pass_obj
def destroy(ctx: Context, name: str, force: bool) -> None:
    """Destroys a network of network:create, unless an app is on it or set to join it.
    Example: dokku network:destroy backend --force"""
    network.require(ctx, name)
    if not force:
        confirm_by_name(f"network {name}", name, f"dokku network:destroy {name} --force")
    network.destroy(ctx, name)


@command("network:exists", scope=Scope.ADMIN, changes=False)
@click.argument("name")
@click.pass_obj
def exists(ctx: Context, name: str) -> None:
    """Exits 0 when the network exists, 1 when it does not. Example: dokku network:exists backend"""
    if network.find(ctx, name) is None:
        raise NotFound("Network does not exist")
    ctx.out.step("Network exists")


@command("network:info", scope=Scope.ADMIN, changes=False)
@click.argument("name")
@click.option("--format", "format_", default="text", show_default=True, help="text or json.")
@click.pass_obj
def info(ctx: Context, name: str, format_: str) -> None:
    """Shows a network: its id, driver, scope, and whether network:create made it.
    Example: dokku network:info backend --format json"""
    _check_format(format_)
    found = network.require(ctx, name)
    if format_ == "json":
        click.echo(_json(found.as_json()))
        return
    rows = {
        "ID": found.info.id[:12],
        "Name": found.name,
        "Driver": found.info.driver,
        "Scope": found.info.scope,
        "Dokku managed": str(found.managed).lower(),
    }
    print_report(ctx.out, f"{name} network", rows, width=INFO_WIDTH)


@command("network:list", scope=Scope.ADMIN, changes=False)
@click.option("--format", "format_", default="text", show_default=True, help="text or json.")
@click.option("--dokku-managed", is_flag=True, help="Only the networks network:create made.")
@click.pass_obj
def list_networks(ctx: Context, format_: str, dokku_managed: bool) -> None:
    """Lists the networks. Example: dokku network:list --dokku-managed"""
    _check_format(format_)
    found = [each for each in network.listed(ctx) if each.managed or not dokku_managed]
    if format_ == "json":
        click.echo(_json([each.as_json() for each in found]))
        return
    ctx.out.section("Networks")
    for each in found:
        click.echo(each.name)


@command("network:rebuild", scope=Scope.ADMIN, changes=True)
@click.argument("app")
@click.pass_obj
def rebuild(ctx: Context, app: str) -> None:
    """Puts the app's process containers on the attach-* networks it is set to join, and off those
    it no longer is, without a restart. Example: dokku network:rebuild catmeow"""
    network.rebuild(ctx, app)


@command("network:rebuildall", scope=Scope.ADMIN, changes=True)
@click.pass_obj
def rebuild_all(ctx: Context) -> None:
    """network:rebuild for every app. Example: dokku network:rebuildall"""
    if not apps.list_apps(ctx):
        click.echo(f" !     {NO_APPS}", err=True)
        return
    failed = network.rebuild_all(ctx)
    if failed:
        raise MinidokkuError(f"the network configuration of {', '.join(failed)} could not be rebuilt")


@command("network:set", scope=Scope.ADMIN, changes=True)
@click.option("--global", "is_global", is_flag=True, help="The global value, for every app without its own.")
@click.argument("app", required=False)
@click.argument("words", nargs=-1)
@click.pass_obj
def set_(ctx: Context, is_global: bool, app: Optional[str], words: tuple[str, ...]) -> None:
    """Sets (or, with no value, clears) a network property: attach-post-create and attach-post-deploy
    (networks, several or comma-separated), initial-network, bind-all-interfaces (true or false) or
    tld. Example: dokku network:set catmeow attach-post-create backend"""
    target, rest = (None, [app or "", *words]) if is_global else (app, list(words))
    if target is None and not is_global:
        raise ValidationError("Please specify an app to run the command on")
    key = rest[0] if rest else ""
    value = network.set_property(ctx, target, key, rest[1:])
    ctx.out.step(f"Setting {key} to {value}" if value else f"Unsetting {key}")
    if key == BIND_ALL_INTERFACES and value == "true":
        whose = f"{target}'s web port" if target else "The web port of every admin's app without its own value"
        ctx.out.info(f"Warning: {whose} is then reached by every container and from outside, not only through nginx")
    if target is not None:
        now = f" (now: dokku network:rebuild {target})" if key in ATTACH_KEYS else ""
        ctx.out.info(f"It takes effect on the next deploy or `dokku ps:restart {target}`{now}")


def _label(flag: str) -> str:
    """`--network-computed-tld` -> `Network computed tld`, Dokku's labels."""
    return flag.removeprefix("--").replace("-", " ").capitalize()


def _report_rows(ctx: Context, app: Optional[str]) -> list[Row]:
    """Dokku's rows, in its order: the app's own, computed and global values of each property
    (app None, --global: the computed and global ones), and where nginx reaches its web."""
    store = ctx.store
    rows = [
        Row(f"--network-global-{key}", "", functools.partial(network_settings.own, store, None, key)) for key in KEYS
    ]
    rows += [
        Row(f"--network-computed-{key}", "", functools.partial(network_settings.computed, store, app, key))
        for key in KEYS
    ]
    if app is not None:
        rows += [Row(f"--network-{key}", "", functools.partial(network_settings.own, store, app, key)) for key in KEYS]
        rows.append(Row("--network-web-listeners", "", functools.partial(network.web_listeners, ctx, app)))
    labelled = [Row(row.flag, _label(row.flag), row.value) for row in rows]
    return sorted(labelled, key=lambda row: row.label)


report = report_command(
    "network:report",
    Scope.APP,
    Report("network", "--network-", legacy=True, width=REPORT_WIDTH),
    _report_rows,
    help="Shows the network properties of one app, or of every app. Example: dokku network:report catmeow",
    global_rows=lambda ctx: _report_rows(ctx, None),
)
