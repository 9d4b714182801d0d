"""apps:list, apps:exists, apps:lock|unlock|locked, apps:set, apps:report; apps:create, :rename,
:clone and :destroy are cli/app_lifecycle.py (listing the apps loads nothing that deploys)."""

import click

from minidokku.access import rules
from minidokku.access.rules import Scope
from minidokku.cli.declare import command
from minidokku.cli.family import Report, Row, global_set_command, report_command
from minidokku.context import Context
from minidokku.ops import apps
from minidokku.records import app_properties
from minidokku.records.app_properties import METADATA, SOURCE

# The command families of this module and their one-line descriptions (`dokku help`, `dokku FAMILY:help`).
FAMILIES = {"apps": "Manage apps"}


@command("apps:list", scope=Scope.FREE, changes=False)
@click.pass_obj
def list_apps(ctx: Context) -> None:
    """Lists the apps. Example: dokku apps:list"""
    ctx.out.section("My Apps")
    visible = rules.visible_apps(ctx.store, rules.ssh_key(), apps.list_apps(ctx))
    if not visible:  # Dokku's warning, and still exit 0
        click.echo(" !     You haven't deployed any applications yet", err=True)
    for app in visible:
        click.echo(app)


@command("apps:exists", scope=Scope.APP, changes=False)
@click.argument("app")
@click.pass_obj
def exists(ctx: Context, app: str) -> None:
    """Exits 0 when the app exists, 1 when not, printing nothing. Example: dokku apps:exists catmeow"""
    raise SystemExit(0 if apps.exists(ctx, app) else 1)


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


set_ = global_set_command(
    "apps:set",
    lambda ctx, app, key, value: app_properties.set_property(ctx.store, app, key, value),
    help="Sets (no value: unsets) an apps property: deploy-source, deploy-source-metadata, or with --global "
    "disable-autocreation. Example: dokku apps:set --global disable-autocreation true",
)


def _report_rows(ctx: Context, app: str) -> list[Row]:
    # here, not at the top: apps:list, a command of this module too, needs neither (proxy loads
    # nginx's and the Engine's modules)
    from minidokku.records import letsencrypt
    from minidokku.routing import proxy

    def recorded(key: str) -> str:
        return app_properties.get(ctx.store, app, key)

    return [
        Row("--app-deploy-source", "App deploy source", lambda: recorded(SOURCE)),
        Row("--app-deploy-source-metadata", "App deploy source metadata", lambda: recorded(METADATA)),
        Row("--app-dir", "App dir", lambda: str(ctx.store.app_dir(app))),
        *_global_rows(ctx),
        Row(
            "--app-letsencrypt-failure",
            "App letsencrypt failure",
            lambda: letsencrypt.failure_text(ctx.store, app),
            empty="-",
        ),
        Row("--app-locked", "App locked", lambda: str(apps.is_locked(ctx, app)).lower()),
        Row("--app-url", "App url", lambda: proxy.url(ctx, app) if proxy.is_enabled(ctx, app) else "", empty="-"),
    ]


def _global_rows(ctx: Context) -> list[Row]:
    return [
        Row(
            "--app-global-disable-autocreation",
            "App global disable autocreation",
            lambda: app_properties.get(ctx.store, None, app_properties.DISABLE_AUTOCREATION),
        )
    ]


report = report_command(
    "apps:report",
    Scope.APP,
    Report("app", "--app-", legacy=True, width=34),
    _report_rows,
    help="Shows what an app is: where its last deploy came from, its folder, lock and URL. "
    "Example: dokku apps:report catmeow",
    global_rows=_global_rows,
)
