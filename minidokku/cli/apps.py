"""apps:create, apps:list, apps:destroy."""

from typing import Optional

import click

from minidokku.access import rules
from minidokku.cli.inputs import confirm_by_name
from minidokku.context import Context
from minidokku.ops import apps
from minidokku.records import releases
from minidokku.routing import proxy


def register(cli: click.Group) -> None:
    @cli.command("apps:create")
    @click.argument("app")
    @click.pass_obj
    def create(ctx: Context, app: str) -> None:
        """Creates an app. Example: dokku apps:create catmeow"""
        apps.create(ctx, app, rules.ssh_key())

    @cli.command("apps:list")
    @click.pass_obj
    def list_apps(ctx: Context) -> None:
        """Lists the apps. Example: dokku apps:list"""
        ctx.out.section("My Apps")
        for app in rules.visible_apps(ctx.store, rules.ssh_key(), apps.list_apps(ctx)):
            click.echo(app)

    @cli.command("apps:destroy")
    @click.argument("app")
    @click.option("--force", is_flag=True, help="Do not ask for confirmation.")
    @click.pass_obj
    def destroy(ctx: Context, app: str, force: bool) -> None:
        """Destroys an app: containers, image, repo, config and proxy. Example: dokku apps:destroy catmeow"""
        apps.require(ctx, app)
        if not force:
            confirm_by_name(f"app {app}", app, f"dokku apps:destroy {app} --force")
        ctx.out.step(f"Destroying {app} (including all add-ons)")
        apps.destroy(ctx, app)

    @cli.command("apps:lock")
    @click.argument("app")
    @click.pass_obj
    def lock(ctx: Context, app: str) -> None:
        """Holds off every deploy of the app until apps:unlock. Example: dokku apps:lock catmeow"""
        apps.lock(ctx, app)
        ctx.out.step(f"Deploys locked for {app}")

    @cli.command("apps:unlock")
    @click.argument("app")
    @click.pass_obj
    def unlock(ctx: Context, app: str) -> None:
        """Lets the app be deployed again. Example: dokku apps:unlock catmeow"""
        apps.unlock(ctx, app)
        ctx.out.step(f"Deploys unlocked for {app}")

    @cli.command("apps:locked")
    @click.argument("app")
    @click.pass_obj
    def locked(ctx: Context, app: str) -> None:
        """Says whether the app's deploys are locked; exit 1 when not. Example: dokku apps:locked catmeow"""
        if not apps.is_locked(ctx, apps.require(ctx, app)):
            click.echo(f"Deploys of {app} are not locked")
            raise SystemExit(1)
        click.echo(f"Deploys of {app} are locked")

    @cli.command("apps:report")
    @click.argument("app", required=False)
    @click.pass_obj
    def report(ctx: Context, app: Optional[str]) -> None:
        """Shows what an app is: its folder, release, lock and URL. Example: dokku apps:report catmeow"""
        for name in apps.one_or_all(ctx, app):
            current = releases.current(ctx.store, name)
            ctx.out.section(f"{name} app information")
            ctx.out.info(f"{'App dir:':<24}{ctx.store.app_dir(name)}")
            ctx.out.info(f"{'App deploy source:':<24}{current.description if current else 'not deployed'}")
            ctx.out.info(f"{'App locked:':<24}{str(apps.is_locked(ctx, name)).lower()}")
            ctx.out.info(f"{'App url:':<24}{proxy.url(ctx, name) if proxy.is_enabled(ctx, name) else '-'}")
