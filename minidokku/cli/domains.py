"""domains:add|set|remove|clear|enable|disable APP, domains:add-global|set-global|remove-global|
clear-global, domains:report [APP|--global] (Dokku's domains plugin)."""

import click

from minidokku.access import rules
from minidokku.access.rules import Scope
from minidokku.cli.declare import command
from minidokku.cli.family import Report, Row, report_command
from minidokku.context import Context
from minidokku.errors import Locked, MinidokkuError
from minidokku.ops import apps
from minidokku.plugins import triggers
from minidokku.records import releases
from minidokku.routing import domains, proxy

# The command families of this module and their one-line descriptions (`dokku help`, `dokku FAMILY:help`).
FAMILIES = {"domains": "Manage domains used by the proxy"}


@command("domains:add", scope=Scope.APP, changes=True)
@click.argument("app")
@click.argument("names", nargs=-1, required=True)
@click.pass_obj
def add(ctx: Context, app: str, names) -> None:
    """Adds domains to an app (instead of APP.GLOBAL). Example: dokku domains:add catmeow cats.example.com"""
    with _app_change(ctx, app):
        wanted = domains.normalise(names)
        before = domains.own_domains(ctx.store, app)
        domains.add_app(ctx.store, app, wanted, by_user_key=_by_user_key(ctx))
        for name in wanted:
            ctx.out.step(f"Skipping: {name} already added to {app}" if name in before else f"Added {name} to {app}")
        _enable_if_disabled(ctx, app)
        _reroute(ctx, app)
        triggers.fire(ctx, "post-domains-update", app, "add", *wanted)


@command("domains:set", scope=Scope.APP, changes=True)
@click.argument("app")
@click.argument("names", nargs=-1, required=True)
@click.pass_obj
def set_(ctx: Context, app: str, names) -> None:
    """Replaces an app's domains. Example: dokku domains:set catmeow cats.example.com www.cats.example.com"""
    with _app_change(ctx, app):
        wanted = domains.normalise(names)
        domains.set_app(ctx.store, app, wanted, by_user_key=_by_user_key(ctx))
        ctx.out.step(f"Set {' '.join(wanted)} for {app}")
        _enable_if_disabled(ctx, app)
        _reroute(ctx, app)
        triggers.fire(ctx, "post-domains-update", app, "set", *wanted)


@command("domains:remove", scope=Scope.APP, changes=True)
@click.argument("app")
@click.argument("names", nargs=-1, required=True)
@click.pass_obj
def remove(ctx: Context, app: str, names) -> None:
    """Removes domains from an app (none left: APP.GLOBAL). Example: dokku domains:remove catmeow cats.io"""
    with _app_change(ctx, app):
        unwanted = domains.normalise(names)
        before = domains.own_domains(ctx.store, app)
        domains.remove_app(ctx.store, app, unwanted)
        for name in unwanted:
            ctx.out.step(f"Removed {name} from {app}" if name in before else _not_own(ctx, app, name))
        _reroute(ctx, app)
        triggers.fire(ctx, "post-domains-update", app, "remove", *unwanted)


@command("domains:clear", scope=Scope.APP, changes=True)
@click.argument("app")
@click.pass_obj
def clear(ctx: Context, app: str) -> None:
    """Removes an app's own domains; it answers at APP.GLOBAL again. Example: dokku domains:clear catmeow"""
    with _app_change(ctx, app):
        domains.clear_app(ctx.store, app)
        ctx.out.step(f"Cleared domains in {app}")
        _reroute(ctx, app)
        triggers.fire(ctx, "post-domains-update", app, "clear")


@command("domains:reset", scope=Scope.APP, changes=True)
@click.argument("app")
@click.pass_obj
def reset(ctx: Context, app: str) -> None:
    """Back to the global-configured domains: own domains dropped, served at them again.
    Example: dokku domains:reset catmeow"""
    with _app_change(ctx, app):
        domains.clear_app(ctx.store, app)
        domains.enable(ctx.store, app)
        ctx.out.step(f"Reset domains for {app}")
        _reroute(ctx, app)
        triggers.fire(ctx, "post-domains-update", app, "clear")


@command("domains:enable", scope=Scope.APP, changes=True)
@click.argument("app")
@click.pass_obj
def enable(ctx: Context, app: str) -> None:
    """Serves the app at its domains again. Example: dokku domains:enable catmeow"""
    with _app_change(ctx, app):
        if domains.is_enabled(ctx.store, app):
            ctx.out.step(f"Domains (VHOST) support is already enabled for app ({app})")
            return
        domains.enable(ctx.store, app)
        ctx.out.step("App virtual host support enabled")
        _reroute(ctx, app)


@command("domains:disable", scope=Scope.APP, changes=True)
@click.argument("app")
@click.pass_obj
def disable(ctx: Context, app: str) -> None:
    """Serves the app on a port of its own, at no domain (list kept). Example: dokku domains:disable catmeow"""
    with _app_change(ctx, app):
        if not domains.is_enabled(ctx.store, app):
            ctx.out.step(f"Domains (VHOST) support is already disabled for app ({app})")
            return
        domains.disable(ctx.store, app)
        ctx.out.step("App virtual host support disabled")
        _reroute(ctx, app)


@command("domains:set-global", scope=Scope.ADMIN, changes=True)
@click.argument("names", nargs=-1, required=True)
@click.pass_obj
def set_global(ctx: Context, names) -> None:
    """Sets the global domains; apps answer at APP.DOMAIN. Example: dokku domains:set-global example.com"""
    wanted = domains.normalise(names, is_global=True)
    domains.set_global(ctx.store, wanted)
    ctx.out.step(f"Set {' '.join(wanted)}")
    _reroute_default_named(ctx)


@command("domains:add-global", scope=Scope.ADMIN, changes=True)
@click.argument("names", nargs=-1, required=True)
@click.pass_obj
def add_global(ctx: Context, names) -> None:
    """Adds global domains. Example: dokku domains:add-global example.org"""
    wanted = domains.normalise(names, is_global=True)
    before = domains.global_domains(ctx.store)
    domains.add_global(ctx.store, wanted)
    for name in wanted:
        ctx.out.step(f"Skipping {name}: already added" if name in before else f"Added {name}")
    _reroute_default_named(ctx)


@command("domains:remove-global", scope=Scope.ADMIN, changes=True)
@click.argument("names", nargs=-1, required=True)
@click.pass_obj
def remove_global(ctx: Context, names) -> None:
    """Removes global domains. Example: dokku domains:remove-global example.org"""
    unwanted = domains.normalise(names)
    before = domains.global_domains(ctx.store)
    domains.remove_global(ctx.store, unwanted)
    for name in unwanted:
        ctx.out.step(f"Removed {name}" if name in before else f"Skipping {name}: not a global domain")
    _reroute_default_named(ctx)


@command("domains:clear-global", scope=Scope.ADMIN, changes=True)
@click.pass_obj
def clear_global(ctx: Context) -> None:
    """Removes the global domains (apps without own domains get a port each). Example: dokku domains:clear-global"""
    domains.clear_global(ctx.store)
    ctx.out.step("Cleared global domains")
    _reroute_default_named(ctx)


def _report_rows(ctx: Context, app: str) -> list[Row]:
    return [
        Row("--domains-app-enabled", "Domains app enabled", lambda: _bool(domains.is_enabled(ctx.store, app))),
        Row("--domains-app-vhosts", "Domains app vhosts", lambda: " ".join(domains.configured_domains(ctx.store, app))),
        Row("--domains-app-url", "Domains app url", lambda: proxy.url(ctx, app)),
        *_global_rows(ctx),
    ]


def _global_rows(ctx: Context) -> list[Row]:
    def enabled() -> str:
        return _bool(bool(domains.global_domains(ctx.store)))

    return [
        Row("--domains-global-enabled", "Domains global enabled", enabled),
        Row("--domains-global-vhosts", "Domains global vhosts", lambda: " ".join(domains.global_domains(ctx.store))),
    ]


report = report_command(
    "domains:report",
    Scope.APP,
    Report("domains", "--domains-"),
    _report_rows,
    help="Shows the domains of one app, of every app, or the global ones. Example: dokku domains:report catmeow",
    global_rows=_global_rows,
)


def _app_change(ctx: Context, app: str):
    """The app exists; its lock is held for the block."""
    apps.require(ctx, app)
    return ctx.store.lock(app)


def _by_user_key(ctx: Context) -> bool:
    """A user key claims only names nobody else has or covers; admins and the host are free."""
    key = rules.ssh_key()
    return key is not None and rules.role(ctx.store, key) != rules.ADMIN


def _enable_if_disabled(ctx: Context, app: str) -> None:
    """Giving a disabled app domains enables it again, as in Dokku."""
    if not domains.is_enabled(ctx.store, app):
        domains.enable(ctx.store, app)
        ctx.out.step("App virtual host support enabled")


def _not_own(ctx: Context, app: str, name: str) -> str:
    if name in domains.default_domains(ctx.store, app):
        return f"Skipping: {name} is {app}'s default (from the global domains); domains:disable takes it away"
    return f"Skipping: {name} is not a domain of {app}"


def _reroute(ctx: Context, app: str) -> None:
    """Rewrites the app's nginx site. An app never deployed has no site and no containers
    (and asking the Docker engine is then not needed)."""
    if releases.current(ctx.store, app) is not None:
        proxy.reroute(ctx, app)


def _reroute_default_named(ctx: Context) -> None:
    """After a global change: every app answering at its default names gets its site rewritten."""
    for app in apps.list_apps(ctx):
        if domains.own_domains(ctx.store, app) or not domains.is_enabled(ctx.store, app):
            continue
        if releases.current(ctx.store, app) is None:
            continue
        try:
            with ctx.store.lock(app):
                proxy.reroute(ctx, app)
        except Locked:
            ctx.out.info(f"{app} is locked by another command; its site follows at its next deploy or restart")
        except MinidokkuError as error:  # one app's site (say its template) never holds the others back
            ctx.out.info(f"{app} keeps its previous site: {error}")


def _bool(value: bool) -> str:
    return "true" if value else "false"
