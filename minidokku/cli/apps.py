"""apps:create, apps:list, apps:destroy, apps:lock|unlock|locked, apps:report."""

import click

from minidokku.access import rules
from minidokku.access.rules import Scope
from minidokku.cli.declare import command
from minidokku.cli.family import Report, Row, report_command
from minidokku.cli.inputs import confirm_by_name
from minidokku.context import Context
from minidokku.ops import apps
from minidokku.records import releases
from minidokku.routing import proxy


@command("apps:create", scope=Scope.NEW_APP, changes=True)
@click.argument("app")
@click.pass_obj
def create(ctx: Context, app: str) -> None:
    """Creates an app. Example: dokku apps:create catmeow"""
    apps.create(ctx, app, rules.ssh_key())


@command("apps:list", scope=Scope.FREE, changes=False)
@click.pass_obj
def list_apps(ctx: Context) -> None:
    """Lists the apps. Example: dokku apps:list"""
    ctx.out.section("My Apps")
    for app in rules.visible_apps(ctx.store, rules.ssh_key(), apps.list_apps(ctx)):
        click.echo(app)


@command("apps:destroy", scope=Scope.APP, changes=True)
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


@command("apps:lock", scope=Scope.APP, changes=True)
@click.argument("app")
@click.pass_obj
def lock(ctx: Context, app: str) -> None:
    """Holds off every deploy of the app until apps:unlock. Example: dokku apps:lock catmeow"""
    apps.lock(ctx, app)
    ctx.out.step(f"Deploys locked for {app}")


@command("apps:unlock", scope=Scope.APP, changes=True)
@click.argument("app")
@click.pass_obj
def unlock(ctx: Context, app: str) -> None:
    """Lets the app be deployed again. Example: dokku apps:unlock catmeow"""
    apps.unlock(ctx, app)
    ctx.out.step(f"Deploys unlocked for {app}")


@command("apps:locked", scope=Scope.APP, changes=False)
@click.argument("app")
@click.pass_obj
def locked(ctx: Context, app: str) -> None:
    """Says whether the app's deploys are locked; exit 1 when not. Example: dokku apps:locked catmeow"""
    if not apps.is_locked(ctx, apps.require(ctx, app)):
        click.echo(f"Deploys of {app} are not locked")
        raise SystemExit(1)
    click.echo(f"Deploys of {app} are locked")


def _report_rows(ctx: Context, app: str) -> list[Row]:
    def deploy_source() -> str:
        current = releases.current(ctx.store, app)
        return current.description if current else ""

    return [
        Row("--app-dir", "App dir", lambda: str(ctx.store.app_dir(app))),
        Row("--app-deploy-source", "App deploy source", deploy_source, empty="not deployed"),
        Row("--app-locked", "App locked", lambda: str(apps.is_locked(ctx, app)).lower()),
        Row("--app-url", "App url", lambda: proxy.url(ctx, app) if proxy.is_enabled(ctx, app) else "", empty="-"),
    ]


report = report_command(
    "apps:report",
    Scope.APP,
    Report("app", "--app-", legacy=True),
    _report_rows,
    help="Shows what an app is: its folder, release, lock and URL. Example: dokku apps:report catmeow",
)
