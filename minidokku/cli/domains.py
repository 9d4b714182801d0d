"""domains:set-global, add-global, report, and an app's own domains:add/set/remove."""

import click

from minidokku import apps, domains, proxy
from minidokku.context import Context


def register(cli: click.Group) -> None:
    @cli.command("domains:set-global")
    @click.argument("names", nargs=-1, required=True)
    @click.pass_obj
    def set_global(ctx: Context, names) -> None:
        """Sets the global domains; apps answer at APP.DOMAIN. Example: dokku domains:set-global example.com"""
        domains.set_global(ctx.store, list(names))
        ctx.out.step(f"Set global domain(s): {' '.join(domains.global_domains(ctx.store))}")

    @cli.command("domains:add-global")
    @click.argument("names", nargs=-1, required=True)
    @click.pass_obj
    def add_global(ctx: Context, names) -> None:
        """Adds global domains. Example: dokku domains:add-global example.org"""
        domains.add_global(ctx.store, list(names))
        ctx.out.step(f"Global domain(s): {' '.join(domains.global_domains(ctx.store))}")

    @cli.command("domains:add")
    @click.argument("app")
    @click.argument("names", nargs=-1, required=True)
    @click.pass_obj
    def add(ctx: Context, app: str, names) -> None:
        """Adds domains to an app. Example: dokku domains:add catmeow cats.example.com"""
        _change(ctx, app, domains.add_app, list(names))

    @cli.command("domains:set")
    @click.argument("app")
    @click.argument("names", nargs=-1, required=True)
    @click.pass_obj
    def set_(ctx: Context, app: str, names) -> None:
        """Replaces an app's domains. Example: dokku domains:set catmeow cats.example.com"""
        _change(ctx, app, domains.set_app, list(names))

    @cli.command("domains:remove")
    @click.argument("app")
    @click.argument("names", nargs=-1, required=True)
    @click.pass_obj
    def remove(ctx: Context, app: str, names) -> None:
        """Removes domains from an app. Example: dokku domains:remove catmeow cats.example.com"""
        _change(ctx, app, domains.remove_app, list(names))

    @cli.command("domains:report")
    @click.argument("app", required=False)
    @click.pass_obj
    def report(ctx: Context, app) -> None:
        """Shows the domains of an app, or the global ones. Example: dokku domains:report catmeow"""
        if app:
            apps.require(ctx, app)
            ctx.out.section(f"{app} domains information")
            click.echo(f"       Domains app vhosts:  {' '.join(domains.app_domains(ctx.store, app))}")
        click.echo(f"       Domains global vhosts: {' '.join(domains.global_domains(ctx.store))}")


def _change(ctx: Context, app: str, change, names: list[str]) -> None:
    apps.require(ctx, app)
    with ctx.store.lock(app):
        change(ctx.store, app, names)
        proxy.reroute(ctx, app)
    ctx.out.step(f"{app} domains: {' '.join(domains.app_domains(ctx.store, app))}")
