"""config, as Dokku has it: config:set, unset, get, keys, show, export, bundle, clear, import.

Each takes an APP or `--global` (the config every app's containers get under their own; admin
keys only, cli/declare.target_app). Values are shown only by show, get, export and bundle: the
audit trail records keys, and set and import print keys.
"""

import sys
from typing import Optional

import click

from minidokku.access import events
from minidokku.access.rules import Scope
from minidokku.cli.declare import command
from minidokku.cli.inputs import read_file_argument
from minidokku.context import Context
from minidokku.errors import ValidationError
from minidokku.ops import apps, config
from minidokku.records import envfile

# The command families of this module and their one-line descriptions (`dokku help`, `dokku FAMILY:help`).
FAMILIES = {"config": "Manage global and app-specific config vars"}


IMPORT_FORMATS = ("envfile", "json")

global_option = click.option(
    "--global", "is_global", is_flag=True, help="The global config, which every app gets under its own."
)
merged_option = click.option("--merged", is_flag=True, help="The app's config over the global config.")
no_restart_option = click.option("--no-restart", is_flag=True, help="Save the change without redeploying.")


def _target(is_global: bool, app: Optional[str], words=()) -> tuple[Optional[str], list[str]]:
    """`APP WORDS...` or `--global WORDS...`: the app (None: the global config) and the words."""
    if is_global:
        return None, ([app] if app is not None else []) + list(words)
    if not app:
        raise ValidationError("Please specify an app to run the command on")
    return app, list(words)


def _only_target(is_global: bool, app: Optional[str]) -> Optional[str]:
    target, rest = _target(is_global, app)
    if rest:
        raise ValidationError("give an APP or --global, not both")
    return target


def _audit(target: Optional[str], keys) -> None:
    """The audit line's detail: the keys (never a value), and `--global` for the global config."""
    names = [key for key in keys if envfile.KEY_PATTERN.fullmatch(key)]
    click.get_current_context().meta[events.DETAIL] = " ".join((["--global"] if target is None else []) + names)


def _global_note(ctx: Context, target: Optional[str]) -> None:
    if target is None:
        ctx.out.info("No app was restarted: each gets the global config at its next deploy, restart or run")


@command("config:set", scope=Scope.APP, changes=True)
@global_option
@click.option("--encoded", is_flag=True, help="The values are base64 (for newlines and spaces).")
@no_restart_option
@click.argument("app", required=False)
@click.argument("pairs", nargs=-1)
@click.pass_obj
def set_(ctx: Context, is_global: bool, encoded: bool, no_restart: bool, app: Optional[str], pairs) -> None:
    """Sets config vars and redeploys. Example: dokku config:set catmeow MEOW=loud"""
    target, pairs = _target(is_global, app, pairs)
    if not pairs:
        raise ValidationError("At least one env pair must be given")
    _audit(target, [pair.partition("=")[0] for pair in pairs if "=" in pair])
    config.set_vars(ctx, target, pairs, restart=not no_restart, encoded=encoded)
    _global_note(ctx, target)


@command("config:unset", scope=Scope.APP, changes=True)
@global_option
@no_restart_option
@click.argument("app", required=False)
@click.argument("keys", nargs=-1)
@click.pass_obj
def unset(ctx: Context, is_global: bool, no_restart: bool, app: Optional[str], keys) -> None:
    """Removes config vars and redeploys. Example: dokku config:unset catmeow MEOW"""
    target, keys = _target(is_global, app, keys)
    if not keys:
        raise ValidationError("At least one key must be given")
    _audit(target, keys)
    config.unset_vars(ctx, target, keys, restart=not no_restart)
    _global_note(ctx, target)


@command("config:clear", scope=Scope.APP, changes=True)
@global_option
@no_restart_option
@click.argument("app", required=False)
@click.pass_obj
def clear(ctx: Context, is_global: bool, no_restart: bool, app: Optional[str]) -> None:
    """Removes every config var and redeploys. Example: dokku config:clear catmeow"""
    target = _only_target(is_global, app)
    _audit(target, sorted(config.read(ctx, target)))
    config.clear(ctx, target, restart=not no_restart)
    _global_note(ctx, target)


@command("config:import", scope=Scope.APP, changes=True)
@global_option
@no_restart_option
@click.option("--replace", is_flag=True, help="The imported vars replace the whole config.")
@click.option("--format", "format_name", default="envfile", help="envfile (KEY=VALUE lines) or json (an object).")
@click.argument("app", required=False)
@click.argument("file", nargs=-1)
@click.pass_obj
def import_(
    ctx: Context, is_global: bool, no_restart: bool, replace: bool, format_name: str, app: Optional[str], file
) -> None:
    """Sets the config vars of an env file, or of stdin with -. Example: dokku config:import catmeow - < .env"""
    target, words = _target(is_global, app, file)
    if len(words) != 1:
        raise ValidationError("expected one FILE, or - for stdin")
    if format_name not in IMPORT_FORMATS:
        raise ValidationError(f"Unknown format: {format_name} (known: {', '.join(IMPORT_FORMATS)})")
    if target is not None:
        apps.require(ctx, target)  # a missing app is said before stdin is read
    if words[0] == "-":
        ctx.out.step("Reading config vars from stdin")
    data = read_file_argument(ctx, words[0], "FILE", fits="a config is a few KiB")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise ValidationError("FILE is not UTF-8 text") from None
    updates = envfile.parse_json(text) if format_name == "json" else envfile.parse(text)
    if not updates:
        raise ValidationError("No config vars to set")
    _audit(target, updates)
    config.import_vars(ctx, target, updates, restart=not no_restart, replace=replace)
    _global_note(ctx, target)


@command("config:get", scope=Scope.APP, changes=False)
@global_option
@click.option("--quoted", is_flag=True, help="Single-quoted for a shell.")
@click.argument("app", required=False)
@click.argument("key", nargs=-1)
@click.pass_obj
def get(ctx: Context, is_global: bool, quoted: bool, app: Optional[str], key) -> None:
    """Prints one config var's value; exits 1 when it is not set. Example: dokku config:get catmeow MEOW"""
    target, keys = _target(is_global, app, key)
    if len(keys) != 1:
        raise ValidationError("Expected: key" if not keys else "config:get takes one KEY")
    value = config.get_var(ctx, target, envfile.validate_key(keys[0]))
    if value is None:
        raise SystemExit(1)  # as Dokku: no output, so `$(dokku config:get APP KEY)` is empty
    click.echo(envfile.quote(value) if quoted else value)


@command("config:keys", scope=Scope.APP, changes=False)
@global_option
@merged_option
@click.argument("app", required=False)
@click.pass_obj
def keys_(ctx: Context, is_global: bool, merged: bool, app: Optional[str]) -> None:
    """Lists the config's keys. Example: dokku config:keys catmeow --merged"""
    for key in sorted(config.read(ctx, _only_target(is_global, app), merged)):
        click.echo(key)


@command("config:show", scope=Scope.APP, changes=False)
@global_option
@merged_option
@click.option("--shell", is_flag=True, help="Deprecated: config:export --format shell.")
@click.option("--export", "as_exports", is_flag=True, help="Deprecated: config:export --format exports.")
@click.argument("app", required=False)
@click.pass_obj
def show(ctx: Context, is_global: bool, merged: bool, shell: bool, as_exports: bool, app: Optional[str]) -> None:
    """Shows the config vars. Example: dokku config:show catmeow"""
    target = _only_target(is_global, app)
    if shell and as_exports:
        raise ValidationError("Only one of --shell and --export can be given")
    env = config.read(ctx, target, merged)
    if shell or as_exports:
        format_name = "shell" if shell else "exports"
        click.echo(f" !     Deprecated: Use 'config:export --format {format_name}' instead", err=True)
        text = envfile.export(env, format_name)
        click.echo(text[:-1] if shell else text, nl=False)  # without the blank that config:export ends shell with
        return
    ctx.out.section(f"{target or 'global'} env vars")
    click.echo(envfile.pretty(env))


@command("config:export", scope=Scope.APP, changes=False)
@global_option
@merged_option
@click.option("--format", "format_name", default="exports", help=f"One of: {', '.join(envfile.EXPORT_FORMATS)}.")
@click.argument("app", required=False)
@click.pass_obj
def export(ctx: Context, is_global: bool, merged: bool, format_name: str, app: Optional[str]) -> None:
    """Prints the config in a format for other tools. Example: dokku config:export catmeow --format json"""
    env = config.read(ctx, _only_target(is_global, app), merged)
    click.echo(envfile.export(env, format_name), nl=False)


@command("config:bundle", scope=Scope.APP, changes=False)
@global_option
@merged_option
@click.argument("app", required=False)
@click.pass_obj
def bundle(ctx: Context, is_global: bool, merged: bool, app: Optional[str]) -> None:
    """Writes a tar of one file per config var to stdout. Example: dokku config:bundle catmeow > env.tar"""
    stdout = sys.stdout.buffer
    stdout.write(envfile.bundle(config.read(ctx, _only_target(is_global, app), merged)))
    stdout.flush()
