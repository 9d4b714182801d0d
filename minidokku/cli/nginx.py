"""nginx:set|report|show-config|validate-config and proxy:enable|disable|set|build-config|report."""

from typing import Optional

import click

from minidokku.context import Context
from minidokku.errors import MinidokkuError, ProxyError, ValidationError
from minidokku.ops import apps
from minidokku.routing import nginx_settings, proxy

PROXY_TYPES = ("nginx", "none")


def register(cli: click.Group) -> None:
    @cli.command("nginx:set")
    @click.argument("app")
    @click.argument("key")
    @click.argument("value", required=False, default="")
    @click.pass_obj
    def set_(ctx: Context, app: str, key: str, value: str) -> None:
        """Sets (or, with no value, resets) an nginx property. Example: dokku nginx:set catmeow hsts false"""
        apps.require(ctx, app)
        nginx_settings.validate(key, value)
        with ctx.store.lock(app):
            previous = nginx_settings.stored(ctx.store, app, key)
            nginx_settings.put(ctx.store, app, key, value)
            try:
                proxy.reroute(ctx, app)
            except MinidokkuError:  # nginx, a port or the app's template refused: nothing changes
                nginx_settings.put(ctx.store, app, key, previous)
                raise
        ctx.out.step(f"Setting {key} to {value}" if value else f"Resetting {key} to its default")

    @cli.command("nginx:report")
    @click.argument("app", required=False)
    @click.pass_obj
    def report(ctx: Context, app: Optional[str]) -> None:
        """Shows the nginx properties of one app or of every app. Example: dokku nginx:report catmeow"""
        for name in apps.one_or_all(ctx, app):
            ctx.out.section(f"{name} nginx information")
            for key, value in nginx_settings.effective(ctx.store, name).items():
                ctx.out.info(f"{key.replace('-', ' ').capitalize() + ':':<28}{value or 'default'}")

    @cli.command("nginx:show-config")
    @click.argument("app")
    @click.pass_obj
    def show_config(ctx: Context, app: str) -> None:
        """Prints the app's nginx configuration. Example: dokku nginx:show-config catmeow"""
        config = ctx.nginx.config_path(apps.require(ctx, app))
        if not config.is_file():
            raise ValidationError(f"{app} has no nginx configuration (not deployed, or proxy disabled)")
        click.echo(config.read_text(encoding="utf-8"), nl=False)

    @cli.command("nginx:validate-config")
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

    for name, enabled, doc in (
        ("proxy:enable", True, "Routes the app through nginx again. Example: dokku proxy:enable catmeow"),
        ("proxy:disable", False, "Takes the app out of nginx. Example: dokku proxy:disable catmeow"),
    ):
        cli.command(name, help=doc)(_enable_command(enabled))

    @cli.command("proxy:set")
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

    @cli.command("proxy:build-config")
    @click.argument("app")
    @click.pass_obj
    def build_config(ctx: Context, app: str) -> None:
        """Writes the app's nginx configuration again and reloads nginx. Example: dokku proxy:build-config catmeow"""
        apps.require(ctx, app)
        with ctx.store.lock(app):
            proxy.reroute(ctx, app)
        ctx.out.step(f"Configured nginx for {app}")

    @cli.command("proxy:report")
    @click.argument("app", required=False)
    @click.pass_obj
    def proxy_report(ctx: Context, app: Optional[str]) -> None:
        """Shows the proxy of one app or of every app. Example: dokku proxy:report catmeow"""
        for name in apps.one_or_all(ctx, app):
            enabled = proxy.is_enabled(ctx, name)
            ctx.out.section(f"{name} proxy information")
            ctx.out.info(f"{'Proxy enabled:':<24}{str(enabled).lower()}")
            ctx.out.info(f"{'Proxy type:':<24}{'nginx' if enabled else 'none'}")
            ctx.out.info(f"{'Proxy port map:':<24}{' '.join(str(m) for m in proxy.mappings(ctx, name))}")
            ctx.out.info(f"{'Proxy url:':<24}{proxy.url(ctx, name)}")


def _enable_command(enabled: bool):
    @click.argument("app")
    @click.pass_obj
    def command(ctx: Context, app: str) -> None:
        apps.require(ctx, app)
        with ctx.store.lock(app):
            proxy.set_enabled(ctx, app, enabled)
        ctx.out.step(f"{'Enabled' if enabled else 'Disabled'} the proxy of {app}")

    return command
