"""nginx:set|report|show-config|validate-config|access-logs|error-logs|start|stop|reload and
proxy:enable|disable|set|build-config|clear-config|report."""

from typing import Optional

import click

from minidokku.access import rules
from minidokku.access.rules import Scope
from minidokku.cli.declare import command
from minidokku.cli.errors import NO_APP
from minidokku.cli.family import Report, Row, report_command, set_command
from minidokku.cli.hangup import end_on_hang_up
from minidokku.context import Context
from minidokku.errors import MinidokkuError, ProxyError, ValidationError
from minidokku.ops import apps
from minidokku.routing import nginx_logs, nginx_settings, proxy

# The command families of this module and their one-line descriptions (`dokku help`, `dokku FAMILY:help`).
FAMILIES = {"nginx": "Manage the nginx proxy", "proxy": "Manage the proxy integration for an app"}

PROXY_TYPES = ("nginx", "none")


def _set_property(ctx: Context, app: str, key: str, value: str) -> None:
    """Stores the property and routes the app with it; if routing fails, nothing changes."""
    nginx_settings.validate(key, value)
    with ctx.store.lock(app):
        previous = nginx_settings.stored(ctx.store, app, key)
        nginx_settings.put(ctx.store, app, key, value)
        try:
            proxy.reroute(ctx, app)
        except MinidokkuError:  # nginx, a port or the app's template refused: nothing changes
            nginx_settings.put(ctx.store, app, key, previous)
            raise


set_ = set_command(
    "nginx:set",
    Scope.ADMIN,
    _set_property,
    help="Sets (or, with no value, resets) an nginx property. Example: dokku nginx:set catmeow hsts false",
    unset_message="Resetting {key} to its default",
)
report = report_command(
    "nginx:report",
    Scope.APP,
    Report("nginx", "--nginx-", width=28),
    lambda ctx, app: [
        Row(f"--nginx-computed-{key}", key.replace("-", " ").capitalize(), lambda value=value: value, empty="default")
        for key, value in nginx_settings.effective(ctx.store, app).items()
    ],
    help="Shows the nginx properties of one app or of every app. Example: dokku nginx:report catmeow",
)


@command("nginx:show-config", scope=Scope.ADMIN, changes=False)
@click.argument("app")
@click.pass_obj
def show_config(ctx: Context, app: str) -> None:
    """Prints the app's nginx configuration. Example: dokku nginx:show-config catmeow"""
    config = ctx.nginx.config_path(apps.require(ctx, app))
    if not config.is_file():
        raise ValidationError(f"{app} has no nginx configuration (not deployed, or proxy disabled)")
    click.echo(config.read_text(encoding="utf-8"), nl=False)


@command("nginx:start", scope=Scope.ADMIN, changes=True)
@click.pass_obj
def nginx_start(ctx: Context) -> None:
    """Starts the nginx server, once its configuration passes nginx -t. Example: dokku nginx:start"""
    ctx.out.step("Started nginx" if ctx.nginx.start() else "nginx was running: reloaded its configuration")


@command("nginx:stop", scope=Scope.ADMIN, changes=True)
@click.pass_obj
def nginx_stop(ctx: Context) -> None:
    """Stops the nginx server; changes are installed and loaded at nginx:start. Example: dokku nginx:stop"""
    ctx.nginx.stop()
    ctx.out.step("Stopped nginx: no app is reached until `dokku nginx:start`")


@command("nginx:reload", scope=Scope.ADMIN, changes=True)
@click.pass_obj
def nginx_reload(ctx: Context) -> None:
    """Reloads the nginx server config, once it passes nginx -t. Example: dokku nginx:reload"""
    ctx.nginx.reload()
    ctx.out.step("Reloaded nginx's configuration")


def _logs_command(kind: str):
    @click.argument("app")
    @click.option("-t", "tail", is_flag=True, help="Follow the log")
    @click.pass_obj
    def show_log(ctx: Context, app: str, tail: bool) -> None:
        apps.require(ctx, app)
        key = rules.ssh_key()
        by_user_key = key is not None and rules.role(ctx.store, key) != rules.ADMIN
        path = nginx_logs.readable_path(ctx.store, app, kind, ctx.settings.nginx_log_dir, by_user_key)
        last, position = nginx_logs.last_lines(path, by_user_key)
        click.echo(last, nl=False)
        if tail:
            end_on_hang_up()
            for data in nginx_logs.follow(path, by_user_key, position):
                click.echo(data, nl=False)

    return command(
        f"nginx:{kind}-logs",
        scope=Scope.APP,
        changes=False,
        help=f"Shows the end of the app's nginx {kind} log (-t follows). Example: dokku nginx:{kind}-logs catmeow -t",
    )(show_log)


access_logs = _logs_command("access")
error_logs = _logs_command("error")


@command("nginx:validate-config", scope=Scope.ADMIN, changes=False)
@click.argument("app", required=False)
@click.pass_obj
def validate_config(ctx: Context, app: Optional[str]) -> None:
    """Checks nginx's whole configuration with nginx -t. Example: dokku nginx:validate-config"""
    if app:
        apps.require(ctx, app)
    error = ctx.nginx.validate()
    if error:
        raise ProxyError(f"nginx's configuration is invalid: {error}")
    ctx.out.step("nginx's configuration is valid")


def _enable_command(name: str, enabled: bool, help: str):
    @click.argument("app")
    @click.pass_obj
    def set_enabled(ctx: Context, app: str) -> None:
        apps.require(ctx, app)
        with ctx.store.lock(app):
            proxy.set_enabled(ctx, app, enabled)
        ctx.out.step(f"{'Enabled' if enabled else 'Disabled'} the proxy of {app}")

    return command(name, scope=Scope.ADMIN, changes=True, help=help)(set_enabled)


proxy_enable = _enable_command(
    "proxy:enable", True, "Routes the app through nginx again. Example: dokku proxy:enable catmeow"
)
proxy_disable = _enable_command(
    "proxy:disable", False, "Takes the app out of nginx. Example: dokku proxy:disable catmeow"
)


@command("proxy:set", scope=Scope.ADMIN, changes=True)
@click.argument("app")
@click.argument("proxy_type")
@click.pass_obj
def proxy_set(ctx: Context, app: str, proxy_type: str) -> None:
    """Chooses the proxy: nginx, or none. Example: dokku proxy:set catmeow nginx"""
    apps.require(ctx, app)
    if proxy_type not in PROXY_TYPES:
        raise ValidationError(f"unknown proxy {proxy_type!r}; known: {', '.join(PROXY_TYPES)}")
    proxy.set_enabled(ctx, app, proxy_type == "nginx")
    ctx.out.step(f"Proxy of {app}: {proxy_type}")


@command("proxy:build-config", scope=Scope.ADMIN, changes=True)
@click.argument("app")
@click.pass_obj
def build_config(ctx: Context, app: str) -> None:
    """Writes the app's nginx configuration again and reloads nginx. Example: dokku proxy:build-config catmeow"""
    apps.require(ctx, app)
    with ctx.store.lock(app):
        proxy.reroute(ctx, app)
    ctx.out.step(f"Configured nginx for {app}")


@command("proxy:clear-config", scope=Scope.ADMIN, changes=True)
@click.argument("app", required=False)
@click.option("--all", "every_app", is_flag=True, help="Clear the nginx config of every app.")
@click.pass_obj
def clear_config(ctx: Context, app: Optional[str], every_app: bool) -> None:
    """Removes the app's (with --all, whatever app is named, every app's) generated nginx
    configuration; it is not served until proxy:build-config or its next deploy. Example: dokku
    proxy:clear-config catmeow"""
    if not (app or every_app):
        raise ValidationError(NO_APP)
    for name in apps.list_apps(ctx) if every_app else [apps.require(ctx, app)]:
        with ctx.store.lock(name):
            removed = proxy.clear_config(ctx, name)
        served_again = f"it is not served until `dokku proxy:build-config {name}`"
        ctx.out.step(
            f"Cleared the nginx config of {name}: {served_again}" if removed else f"{name} has no nginx config to clear"
        )


def _proxy_rows(ctx: Context, app: str) -> list[Row]:
    enabled = proxy.is_enabled(ctx, app)
    return [
        Row("--proxy-enabled", "Proxy enabled", lambda: str(enabled).lower()),
        Row("--proxy-type", "Proxy type", lambda: "nginx" if enabled else "none"),
        Row("--proxy-port-map", "Proxy port map", lambda: " ".join(str(m) for m in proxy.mappings(ctx, app))),
        Row("--proxy-url", "Proxy url", lambda: proxy.url(ctx, app)),
    ]


proxy_report = report_command(
    "proxy:report",
    Scope.APP,
    Report("proxy", "--proxy-", legacy=True),
    _proxy_rows,
    help="Shows the proxy of one app or of every app. Example: dokku proxy:report catmeow",
)
