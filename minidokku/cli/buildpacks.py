"""buildpacks:add|set|remove|clear|list|report, builder:set|report (Dokku's)."""

from typing import Optional

import click

from minidokku.build import buildpack_choice, builds
from minidokku.context import Context
from minidokku.ops import apps


def register(cli: click.Group) -> None:
    @cli.command("buildpacks:add")
    @click.option("--index", type=int, help="1-based position in the list (default: last).")
    @click.argument("app")
    @click.argument("buildpack")
    @click.pass_obj
    def add(ctx: Context, index: Optional[int], app: str, buildpack: str) -> None:
        """Adds a buildpack to the app's list. Example: dokku buildpacks:add catmeow https://example.com/bp.git#v2"""
        buildpack_choice.add(ctx.store, apps.require(ctx, app), buildpack, index)
        _show(ctx, app)

    @cli.command("buildpacks:set")
    @click.option("--index", type=int, help="1-based position to replace (default: the first).")
    @click.argument("app")
    @click.argument("buildpack")
    @click.pass_obj
    def set_(ctx: Context, index: Optional[int], app: str, buildpack: str) -> None:
        """Sets the buildpack at a position of the app's list. Example: dokku buildpacks:set catmeow python"""
        buildpack_choice.set_(ctx.store, apps.require(ctx, app), buildpack, index)
        _show(ctx, app)

    @cli.command("buildpacks:remove")
    @click.option("--index", type=int, help="1-based position to remove.")
    @click.argument("app")
    @click.argument("buildpack", required=False, default="")
    @click.pass_obj
    def remove(ctx: Context, index: Optional[int], app: str, buildpack: str) -> None:
        """Removes a buildpack from the app's list. Example: dokku buildpacks:remove catmeow python"""
        buildpack_choice.remove(ctx.store, apps.require(ctx, app), buildpack, index)
        _show(ctx, app)

    @cli.command("buildpacks:clear")
    @click.argument("app")
    @click.pass_obj
    def clear(ctx: Context, app: str) -> None:
        """Empties the app's list: detection (or .buildpacks) chooses again. Example: dokku buildpacks:clear catmeow"""
        buildpack_choice.clear(ctx.store, apps.require(ctx, app))
        ctx.out.step(f"Buildpacks of {app} cleared")

    @cli.command("buildpacks:list")
    @click.argument("app")
    @click.pass_obj
    def list_(ctx: Context, app: str) -> None:
        """Lists the app's buildpacks. Example: dokku buildpacks:list catmeow"""
        _show(ctx, apps.require(ctx, app))

    @cli.command("buildpacks:report")
    @click.argument("app", required=False)
    @click.pass_obj
    def report(ctx: Context, app: Optional[str]) -> None:
        """Shows the buildpacks of one app or of every app. Example: dokku buildpacks:report catmeow"""
        for name in apps.one_or_all(ctx, app):
            ctx.out.section(f"{name} buildpacks information")
            listed = buildpack_choice.app_list(ctx.store, name)
            ctx.out.info(
                f"{'Buildpacks list:':<24}{','.join(listed) or 'none (detection, .buildpacks or BUILDPACK_URL)'}"
            )

    @cli.command("builder:set")
    @click.argument("app")
    @click.argument("key")
    @click.argument("value", required=False, default="")
    @click.pass_obj
    def builder_set(ctx: Context, app: str, key: str, value: str) -> None:
        """Chooses the builder (empty: automatic). Example: dokku builder:set catmeow selected dockerfile"""
        apps.require(ctx, app)
        if key != "selected":
            raise click.UsageError(f"unknown builder property {key!r}; the one there is, is selected")
        builds.set_builder(ctx, app, value)
        ctx.out.step(f"Setting selected to {value}" if value else "Unsetting selected (automatic again)")

    @cli.command("builder:report")
    @click.argument("app", required=False)
    @click.pass_obj
    def builder_report(ctx: Context, app: Optional[str]) -> None:
        """Shows the builder of one app or of every app. Example: dokku builder:report catmeow"""
        for name in apps.one_or_all(ctx, app):
            ctx.out.section(f"{name} builder information")
            ctx.out.info(f"{'Builder selected:':<24}{builds.selected_builder(ctx, name) or 'automatic'}")


def _show(ctx: Context, app: str) -> None:
    ctx.out.section(f"{app} buildpack urls")
    for buildpack in buildpack_choice.app_list(ctx.store, app):
        ctx.out.info(buildpack)
