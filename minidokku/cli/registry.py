"""registry:login|logout|set|report (Dokku's): the registry an app's image is pushed to on release,
and the credentials for it (ops/registry.py).

Admin keys only, but for the report: the server and the credentials decide where this host's
engine connects and pushes, with whose rights.
"""

import sys
from collections.abc import Callable
from typing import Optional

import click

from minidokku.access.rules import Scope
from minidokku.build.builders import image_repository
from minidokku.cli.declare import command, global_option
from minidokku.cli.family import Report, Row, global_set_command, report_command
from minidokku.context import Context
from minidokku.errors import NotFound, ValidationError
from minidokku.ops import apps
from minidokku.ops import registry as registry_ops
from minidokku.records import properties, registry
from minidokku.records.properties import Setting

# The command families of this module and their one-line descriptions (`dokku help`, `dokku FAMILY:help`).
FAMILIES = {"registry": "Manage registry settings for an app"}
PREFIX = "--registry-"
WIDTH = len("--registry-computed-image-repo-template")  # Dokku pads to its longest flag


def _with_app_option(is_global: bool, words: tuple[str, ...]) -> tuple[str, ...]:
    """The words, with the global `--app APP` (the client sends it from an app's checkout) in
    front, as Dokku puts it: the app's login, never a global one."""
    app = global_option(click.get_current_context(), "app")
    return words if is_global or app is None else (app, *words)


@command("registry:login", scope=Scope.ADMIN, changes=True, context_settings={"ignore_unknown_options": True})
@click.option("--global", "is_global", is_flag=True, help="For every app.")
@click.option("--password-stdin", is_flag=True, help="Read the password from stdin.")
@click.argument("words", nargs=-1)
@click.pass_obj
def login(ctx: Context, is_global: bool, password_stdin: bool, words: tuple[str, ...]) -> None:
    """Logs in to a registry for an app, or with --global for every app: `[APP] SERVER USERNAME
    [PASSWORD]`. Example: echo TOKEN | dokku registry:login --global --password-stdin ghcr.io bot"""
    words = _with_app_option(is_global, words)
    given = 2 if password_stdin else 3  # SERVER USERNAME [PASSWORD]: the words after the app, if any
    app: Optional[str] = None
    if not is_global and len(words) == given:  # Dokku's older form: a global login
        click.echo(" !     Deprecated: please use --global flag for global registry login", err=True)
    elif not is_global and len(words) > given:
        app, words = words[0], words[1:]
        apps.require(ctx, app)
    elif not is_global:
        words = ()  # as Dokku, which then reads no server
    if len(words) > given:
        usage = "SERVER USERNAME" if password_stdin else "SERVER USERNAME [PASSWORD]"
        raise ValidationError(f"expected {usage}{'' if is_global else ' after the app'}")
    server, username, password = (*words, "", "", "")[:3]
    if password_stdin:
        password = sys.stdin.read().strip()
    registry_ops.login(ctx, app, server, username, password)
    click.echo(f" !     Login Succeeded for {app or 'global registry'}", err=True)


@command("registry:logout", scope=Scope.ADMIN, changes=True)
@click.option("--global", "is_global", is_flag=True, help="The global credentials.")
@click.argument("words", nargs=-1)
@click.pass_obj
def logout(ctx: Context, is_global: bool, words: tuple[str, ...]) -> None:
    """Forgets the credentials of an app, or with --global the global ones, for a registry:
    `[APP] SERVER`. Example: dokku registry:logout catmeow ghcr.io"""
    words = _with_app_option(is_global, words)
    if len(words) > (1 if is_global else 2):
        raise ValidationError(f"expected {'' if is_global else '[APP] '}SERVER")
    if not words:
        raise ValidationError("Missing server argument")
    app, server = (None, words[0]) if is_global or len(words) == 1 else words
    if app is not None:
        apps.require(ctx, app)
        if not registry.ever_logged_in(ctx.store, app):
            raise NotFound(f"No registry credentials found for app {app}")
    if registry.logout(ctx.store, app, server):
        ctx.out.info(f"Removing login credentials for {registry.server_name(server)}")
    else:  # docker logout's words, and its exit status 0
        ctx.out.info(f"Not logged in to {registry.server_name(server)}")


def _set(ctx: Context, app: Optional[str], key: str, value: str) -> None:
    settings = {setting.key: setting for setting in registry.SETTINGS}
    if not key:
        raise ValidationError("No property specified")
    if key not in settings:
        raise ValidationError(f"Invalid property specified, valid properties include: {', '.join(sorted(settings))}")
    if app is None and settings[key] not in registry.GLOBAL_SETTINGS:
        raise ValidationError("Property cannot be specified globally")
    properties.set_value(ctx.store, app, settings[key], value)


registry_set = global_set_command(
    "registry:set",
    _set,
    help="Sets a registry property of an app, or with --global of every app (no value: unset): "
    "server, image-repo, image-repo-template, push-on-release, push-extra-tags. "
    "Example: dokku registry:set catmeow push-on-release true",
    scope=Scope.ADMIN,
    context_settings={"ignore_unknown_options": True},
)


def _rows(ctx: Context, app: Optional[str]) -> list[Row]:
    """The report's rows (app None: the global report's), sorted by flag as Dokku prints them."""
    store = ctx.store

    def own(setting: Setting, owner: Optional[str]) -> Callable[[], str]:
        return lambda: properties.own_value(store, owner, setting)

    rows = {
        "computed-image-repo-template": lambda: registry.computed_template(store, app),
        "computed-push-extra-tags": lambda: properties.computed_value(store, app, registry.PUSH_EXTRA_TAGS),
        "computed-push-on-release": lambda: _computed_push_on_release(ctx, app),
        "computed-server": lambda: registry.computed_server(store, app),
        **{f"global-{setting.key}": own(setting, None) for setting in registry.GLOBAL_SETTINGS},
    }
    if app is not None:
        default_repository = image_repository(ctx.docker_name(app))
        rows["computed-image-repo"] = lambda: registry.computed_image_repo(store, app, default_repository)
        rows.update({setting.key: own(setting, app) for setting in registry.SETTINGS})
        rows["tag-version"] = lambda: str(registry.tag_version(store, app) or "")
    return [Row(f"{PREFIX}{key}", _label(key), rows[key]) for key in sorted(rows)]


def _computed_push_on_release(ctx: Context, app: Optional[str]) -> str:
    """What the app does (a tenant's app: by its own setting alone, ops/registry.py)."""
    if app is None:
        return properties.computed_value(ctx.store, None, registry.PUSH_ON_RELEASE)
    return "true" if registry_ops.pushes(ctx, app) else "false"


def _label(key: str) -> str:
    return f"Registry {key.replace('-', ' ')}"


registry_report = report_command(
    "registry:report",
    Scope.APP,
    Report("registry", PREFIX, legacy=True, width=WIDTH),
    _rows,
    help="Shows where an app's image is pushed, for one app or every app. "
    "Example: dokku registry:report catmeow --registry-computed-server",
    global_rows=lambda ctx: _rows(ctx, None),
)
