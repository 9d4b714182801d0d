"""buildpacks:add|set|remove|clear|list|report (Dokku's); the builder families are in cli/builder.py."""

from typing import Optional

import click

from minidokku.access.rules import Scope
from minidokku.build import buildpack_choice
from minidokku.cli.declare import command
from minidokku.cli.family import Report, Row, report_command
from minidokku.context import Context
from minidokku.ops import apps

# The command families of this module and their one-line descriptions (`dokku help`, `dokku FAMILY:help`).
FAMILIES = {"buildpacks": "Manage buildpack settings for an app"}


@command("buildpacks:add", scope=Scope.ADMIN, changes=True)
@click.option("--index", type=int, help="1-based position in the list (default: last).")
@click.argument("app")
@click.argument("buildpack")
@click.pass_obj
def add(ctx: Context, index: Optional[int], app: str, buildpack: str) -> None:
    """Adds a buildpack to the app's list. Example: dokku buildpacks:add catmeow https://example.com/bp.git#v2"""
    buildpack_choice.add(ctx.store, apps.require(ctx, app), buildpack, index)
    _show(ctx, app)


@command("buildpacks:set", scope=Scope.ADMIN, changes=True)
@click.option("--index", type=int, help="1-based position to replace (default: the first).")
@click.argument("app")
@click.argument("buildpack")
@click.pass_obj
def set_(ctx: Context, index: Optional[int], app: str, buildpack: str) -> None:
    """Sets the buildpack at a position of the app's list. Example: dokku buildpacks:set catmeow python"""
    buildpack_choice.set_(ctx.store, apps.require(ctx, app), buildpack, index)
    _show(ctx, app)


@command("buildpacks:remove", scope=Scope.ADMIN, changes=True)
@click.option("--index", type=int, help="1-based position to remove.")
@click.argument("app")
@click.argument("buildpack", required=False, default="")
@click.pass_obj
def remove(ctx: Context, index: Optional[int], app: str, buildpack: str) -> None:
    """Removes a buildpack from the app's list. Example: dokku buildpacks:remove catmeow python"""
    buildpack_choice.remove(ctx.store, apps.require(ctx, app), buildpack, index)
    _show(ctx, app)


@command("buildpacks:clear", scope=Scope.ADMIN, changes=True)
@click.argument("app")
@click.pass_obj
def clear(ctx: Context, app: str) -> None:
    """Empties the app's list: detection (or .buildpacks) chooses again. Example: dokku buildpacks:clear catmeow"""
    buildpack_choice.clear(ctx.store, apps.require(ctx, app))
    ctx.out.step(f"Buildpacks of {app} cleared")


@command("buildpacks:list", scope=Scope.APP, changes=False)
@click.argument("app")
@click.pass_obj
def list_(ctx: Context, app: str) -> None:
    """Lists the app's buildpacks. Example: dokku buildpacks:list catmeow"""
    _show(ctx, apps.require(ctx, app))


report = report_command(
    "buildpacks:report",
    Scope.APP,
    Report("buildpacks", "--buildpacks-", legacy=True),
    lambda ctx, app: [
        Row(
            "--buildpacks-list",
            "Buildpacks list",
            lambda: ",".join(buildpack_choice.app_list(ctx.store, app)),
            empty="none (detection, .buildpacks or BUILDPACK_URL)",
        )
    ],
    help="Shows the buildpacks of one app or of every app. Example: dokku buildpacks:report catmeow",
)


def _show(ctx: Context, app: str) -> None:
    ctx.out.section(f"{app} buildpack urls")
    for buildpack in buildpack_choice.app_list(ctx.store, app):
        ctx.out.info(buildpack)
