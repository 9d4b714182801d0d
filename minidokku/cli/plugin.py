"""plugin:install|list|enable|disable|uninstall|update|installed (Dokku's plugin commands)."""

from typing import Optional

import click

from minidokku.access.rules import Scope
from minidokku.cli.declare import Runs, command
from minidokku.context import Context
from minidokku.plugins import install, registry

# The command families of this module and their one-line descriptions (`dokku help`, `dokku FAMILY:help`).
FAMILIES = {"plugin": "Manage installed plugins"}


@command("plugin:install", scope=Scope.ADMIN, changes=True, runs=Runs.ONLY_AS_ROOT)
@click.argument("source", required=False)
@click.option("--name", help="The plugin's name (default: from the source, without a dokku- prefix).")
@click.pass_obj
def install_plugin(ctx: Context, source: Optional[str], name: Optional[str]) -> None:
    """Installs a plugin from a git URL (#ref allowed), a tarball URL or a path; without a
    source, runs every plugin's install trigger again. Example: dokku plugin:install https://host/dokku-hello.git"""
    if source is None:
        ctx.out.step("Running the install trigger of every plugin")
        install.install_all(ctx)
        return
    ctx.out.step(f"Installing plugin from {source}")
    plugin = install.install(ctx, source, name)
    ctx.out.info(f"Plugin {plugin.name} {plugin.version} installed and enabled")


@command("plugin:list", scope=Scope.ADMIN, changes=False)
@click.pass_obj
def list_plugins(ctx: Context) -> None:
    """Lists plugins: name, version, enabled or disabled, description. Example: dokku plugin:list"""
    on = {plugin.name for plugin in registry.enabled(ctx.store)}
    found = registry.installed(ctx.store)
    width = max(len(plugin.name) for plugin in found)
    for plugin in found:
        state = "broken" if plugin.problem else "enabled" if plugin.name in on else "disabled"
        click.echo(f"  {plugin.name:<{width}}  {plugin.version:<10} {state:<9} {plugin.description}")


@command("plugin:enable", scope=Scope.ADMIN, changes=True, runs=Runs.ONLY_AS_ROOT)
@click.argument("name")
@click.pass_obj
def enable(ctx: Context, name: str) -> None:
    """Enables a plugin: its triggers and commands run again. Example: dokku plugin:enable hello"""
    registry.set_enabled(ctx.store, name, True)
    ctx.out.step(f"Plugin {name} enabled")


@command("plugin:disable", scope=Scope.ADMIN, changes=True, runs=Runs.ONLY_AS_ROOT)
@click.argument("name")
@click.pass_obj
def disable(ctx: Context, name: str) -> None:
    """Disables a plugin without removing it. Example: dokku plugin:disable hello"""
    registry.set_enabled(ctx.store, name, False)
    ctx.out.step(f"Plugin {name} disabled")


@command("plugin:uninstall", scope=Scope.ADMIN, changes=True, runs=Runs.ONLY_AS_ROOT)
@click.argument("name")
@click.pass_obj
def uninstall(ctx: Context, name: str) -> None:
    """Removes an installed plugin. Example: dokku plugin:uninstall hello"""
    install.uninstall(ctx, name)
    ctx.out.step(f"Plugin {name} uninstalled")


@command("plugin:update", scope=Scope.ADMIN, changes=True, runs=Runs.ONLY_AS_ROOT)
@click.argument("name")
@click.argument("ref", required=False, default="")
@click.pass_obj
def update(ctx: Context, name: str, ref: str) -> None:
    """Fetches a plugin again from its source (at REF for git) and runs its update trigger.
    Example: dokku plugin:update hello v2"""
    plugin = install.update(ctx, name, ref)
    ctx.out.step(f"Plugin {name} updated to {plugin.version}")


@command("plugin:installed", scope=Scope.ADMIN, changes=False)
@click.argument("name")
@click.pass_obj
def installed(ctx: Context, name: str) -> None:
    """Exits 0 when the plugin is installed, 1 when not. Example: dokku plugin:installed hello"""
    if not any(plugin.name == name for plugin in registry.installed(ctx.store)):
        raise SystemExit(1)
