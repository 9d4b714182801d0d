"""config:set, config:unset, config:get, config:show, config:export."""

import click

from minidokku.access import events
from minidokku.access.rules import Scope
from minidokku.cli.declare import command
from minidokku.context import Context
from minidokku.ops import apps, config
from minidokku.records import envfile

# The command families of this module and their one-line descriptions (`dokku help`, `dokku FAMILY:help`).
FAMILIES = {"config": "Manage global and app-specific config vars"}


@command("config:set", scope=Scope.APP, changes=True)
@click.option("--no-restart", is_flag=True, help="Save the values without redeploying.")
@click.argument("app")
@click.argument("pairs", nargs=-1, required=True)
@click.pass_obj
def set_(ctx: Context, no_restart: bool, app: str, pairs) -> None:
    """Sets config vars and redeploys. Example: dokku config:set catmeow MEOW=loud"""
    ctx.out.step("Setting config vars")
    click.get_current_context().meta[events.DETAIL] = " ".join(pair.partition("=")[0] for pair in pairs)
    for key in config.set_vars(ctx, app, list(pairs), restart=not no_restart):
        ctx.out.info(f"{key}:  (set)")


@command("config:unset", scope=Scope.APP, changes=True)
@click.option("--no-restart", is_flag=True, help="Save the change without redeploying.")
@click.argument("app")
@click.argument("keys", nargs=-1, required=True)
@click.pass_obj
def unset(ctx: Context, no_restart: bool, app: str, keys) -> None:
    """Removes config vars and redeploys. Example: dokku config:unset catmeow MEOW"""
    ctx.out.step(f"Unsetting {', '.join(keys)}")
    click.get_current_context().meta[events.DETAIL] = " ".join(keys)
    config.unset_vars(ctx, app, list(keys), restart=not no_restart)


@command("config:get", scope=Scope.APP, changes=False)
@click.argument("app")
@click.argument("key")
@click.pass_obj
def get(ctx: Context, app: str, key: str) -> None:
    """Prints one config var's value. Example: dokku config:get catmeow MEOW"""
    click.echo(config.get_var(ctx, app, key))


@command("config:show", scope=Scope.APP, changes=False)
@click.argument("app")
@click.pass_obj
def show(ctx: Context, app: str) -> None:
    """Shows the app's config vars. Example: dokku config:show catmeow"""
    env = ctx.store.read_env(apps.require(ctx, app))
    ctx.out.section(f"{app} env vars")
    width = max((len(key) for key in env), default=0) + 2
    for key, value in sorted(env.items()):
        click.echo(f"{key + ':':<{width}} {value}")


@command("config:export", scope=Scope.APP, changes=False)
@click.argument("app")
@click.pass_obj
def export(ctx: Context, app: str) -> None:
    """Prints the config as shell `export` lines. Example: dokku config:export catmeow > env.sh"""
    click.echo(envfile.render(ctx.store.read_env(apps.require(ctx, app))), nl=False)
