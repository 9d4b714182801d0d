"""storage:create, ensure-directory, info, list-entries, set, destroy, exec, mount, unmount, list,
report (Dokku's storage plugin, docker-local). The entry commands name no app: any key may run
them and ops/storage.py lets a user key act on its own entries only; mount, unmount, list and
report are app commands (a user key's on its apps); exec is for admin keys."""

import functools
import json
import sys
from typing import Optional

import click

from minidokku.access import rules
from minidokku.access.rules import Scope
from minidokku.cli.declare import command
from minidokku.cli.family import Report, Row, report_command
from minidokku.cli.inputs import confirm_by_name
from minidokku.context import Context
from minidokku.errors import ValidationError
from minidokku.ops import apps
from minidokku.ops import storage as ops
from minidokku.records import storage
from minidokku.records.storage import Entry, Mount
from minidokku.runtime.terminal import Streams

# The command families of this module and their one-line descriptions (`dokku help`, `dokku FAMILY:help`).
FAMILIES = {"storage": "Manage mounted volumes"}

FORMATS = ("text", "json")
REPORT_PREFIX = "--storage-"
APPLIES = "It applies from the next deploy or `dokku ps:restart {app}`"


def _checked_format(_ctx: click.Context, _param: click.Parameter, format_: str) -> str:
    if format_ not in FORMATS:
        raise ValidationError("Invalid --format value specified")
    return format_


format_option = click.option("--format", "format_", default="text", callback=_checked_format, help="text or json.")


@command("storage:create", scope=Scope.FREE, changes=True)
@click.argument("name")
@click.argument("path", required=False, default="")
@click.option("--chown", help="herokuish, heroku, paketo, root (default), false or a uid.")
@click.option("--mode", default="", help="Octal permissions of the directory (0770).")
@click.option("--reclaim-policy", "reclaim_policy", default="", help="Retain (default) or Delete.")
@click.pass_obj
def create(ctx: Context, name: str, path: str, chown: Optional[str], mode: str, reclaim_policy: str) -> None:
    """Registers a named storage entry and makes its directory. Example: dokku storage:create catmeow-data"""
    ops.create(ctx, name, path, chown, mode, reclaim_policy, rules.ssh_key())


@command("storage:ensure-directory", scope=Scope.FREE, changes=True)
@click.option("--chown", default=storage.DEFAULT_CHOWN, help="herokuish, heroku, paketo, root (default), false.")
@click.argument("name")
@click.pass_obj
def ensure_directory(ctx: Context, chown: str, name: str) -> None:
    """[DEPRECATED] use storage:create instead. Example: dokku storage:ensure-directory catmeow-data"""
    click.echo(" !     Deprecated: please use 'storage:create' instead of 'storage:ensure-directory'", err=True)
    ctx.out.step(f"Ensuring {storage.default_path(ctx.store, storage.validate_name(name))} exists")
    ops.create(ctx, name, "", chown, "", "", rules.ssh_key())
    ctx.out.info("Directory ready for mounting")


@command("storage:info", scope=Scope.FREE, changes=False)
@click.argument("name")
@format_option
@click.pass_obj
def info(ctx: Context, name: str, format_: str) -> None:
    """Shows one storage entry. Example: dokku storage:info catmeow-data"""
    entry = ops.owned(ctx, name, rules.ssh_key())
    if format_ == "json":
        click.echo(json.dumps(entry.as_json(), indent=2))
        return
    ctx.out.step(f"Storage entry {entry.name}")
    for label, value in (
        ("Scheduler", storage.SCHEDULER),
        ("Host path", entry.host_path),
        ("Chown", entry.chown),
        ("Mode", entry.mode),
        ("Reclaim policy", entry.reclaim_policy),
        ("Created by", entry.created_by),
    ):
        if value:
            ctx.out.info(f"{label + ':':<18}{value}")


@command("storage:list-entries", scope=Scope.FREE, changes=False)
@format_option
@click.pass_obj
def list_entries(ctx: Context, format_: str) -> None:
    """Lists the storage entries (a user key: its own). Example: dokku storage:list-entries"""
    found = ops.visible_entries(ctx, rules.ssh_key())
    if format_ == "json":
        click.echo(json.dumps([entry.as_json() for entry in found], indent=2))
    elif not found:
        ctx.out.step("No storage entries registered")
    else:
        ctx.out.step("Storage entries:")
        for entry in found:
            ctx.out.info(f"{entry.name}\t{storage.SCHEDULER}\t{entry.host_path}")


@command("storage:set", scope=Scope.FREE, changes=True)
@click.argument("name")
@click.argument("property", required=False, default="")
@click.argument("value", required=False, default="")
@click.pass_obj
def set_(ctx: Context, name: str, property: str, value: str) -> None:
    """Sets an entry's chown, mode or reclaim-policy (no value: unset). Example: dokku storage:set data mode 0770"""
    ops.set_property(ctx, name, property, value, rules.ssh_key())


@command("storage:destroy", scope=Scope.FREE, changes=True)
@click.argument("name")
@click.option("--force", is_flag=True, help="Do not ask for confirmation.")
@click.option("--destroy-host-dir", "destroy_host_dir", is_flag=True, help="Remove the directory and its contents.")
@click.pass_obj
def destroy(ctx: Context, name: str, force: bool, destroy_host_dir: bool) -> None:
    """Removes an entry no app mounts; its data stays unless --destroy-host-dir. Example: dokku storage:destroy data"""
    entry = ops.owned(ctx, name, rules.ssh_key())
    if not force:
        if destroy_host_dir or entry.reclaim_policy == "Delete":
            click.echo(
                f" !     Storage entry {name} is backed by {entry.host_path}, "
                "which will be removed along with its contents."
            )
        confirm_by_name(f"storage entry {name}", name, f"dokku storage:destroy {name} --force")
    ops.destroy(ctx, name, destroy_host_dir, rules.ssh_key())


@command("storage:exec", scope=Scope.ADMIN, changes=True)
@click.argument("name")
@click.argument("words", metavar="[-- CMD...]", nargs=-1)
@click.pass_obj
def exec_(ctx: Context, name: str, words: tuple[str, ...]) -> None:
    """Runs a command (or bash) in a container with the entry at /data. Example: dokku storage:exec data -- ls /data"""
    tty = sys.stdin.isatty() and sys.stdout.isatty()
    sys.exit(ops.exec_in(ctx, name, list(words), tty, Streams.of_this_process()))


@command("storage:mount", scope=Scope.APP, changes=True)
@click.argument("app")
@click.argument("name")
@click.option("--container-dir", "container_dir", default="", help="Where the entry appears in the containers.")
@click.option("--process-type", "process_type", default=storage.DEFAULT_PROCESS_TYPE, help="One process type.")
@click.option("--volume-readonly", "--read-only", "readonly", is_flag=True, help="Mount it read-only.")
@click.option("--phase", "phases", multiple=True, help="deploy and/or run (default both).")
@click.pass_obj
def mount(
    ctx: Context, app: str, name: str, container_dir: str, process_type: str, readonly: bool, phases: tuple[str, ...]
) -> None:
    """Mounts an entry (or HOST:CONTAINER[:ro]) in the app. Example: dokku storage:mount web1 data --container-dir /d"""
    apps.require(ctx, app)
    done = ops.mount(ctx, app, name, container_dir, process_type, readonly, list(phases), rules.ssh_key())
    ctx.out.step(done)
    ctx.out.info(APPLIES.format(app=app))


@command("storage:unmount", scope=Scope.APP, changes=True)
@click.argument("app")
@click.argument("name")
@click.option("--container-dir", "container_dir", default="", help="Which of its mounts.")
@click.pass_obj
def unmount(ctx: Context, app: str, name: str, container_dir: str) -> None:
    """Removes a mount (NAME or HOST:CONTAINER). Example: dokku storage:unmount catmeow catmeow-data"""
    apps.require(ctx, app)
    ops.unmount(ctx, app, name, container_dir, rules.ssh_key())
    ctx.out.step(f"Storage {name} unmounted from {app}")
    ctx.out.info(APPLIES.format(app=app))


@command("storage:list", scope=Scope.APP, changes=False)
@click.argument("app")
@format_option
@click.pass_obj
def list_(ctx: Context, app: str, format_: str) -> None:
    """Lists the app's bind mounts (host:container). Example: dokku storage:list catmeow"""
    apps.require(ctx, app)
    rows = ops.mounted(ctx, app, "deploy", rules.ssh_key())
    if format_ == "json":
        click.echo(json.dumps([_list_row(entry, mount) for entry, mount in rows], separators=(",", ":")))
        return
    ctx.out.step(f"{app} volume bind-mounts:")
    for entry, mount in rows:
        if ctx.out.quiet:
            click.echo(mount.bind(entry.host_path))
        else:
            ctx.out.info(mount.bind(entry.host_path))


def _list_row(entry: Entry, mount: Mount) -> dict:
    row = {"entry_name": entry.name, "host_path": entry.host_path, "container_path": mount.container_path}
    return {**row, "readonly": True} if mount.readonly else row


def _report_rows(ctx: Context, app: str) -> list[Row]:
    rows = [
        Row(f"{REPORT_PREFIX}{phase}-mounts", f"Storage {phase} mounts", functools.partial(_mounts, ctx, app, phase))
        for phase in ("build", *storage.PHASES)
    ]
    for index, (entry, mount) in enumerate(ops.all_mounts(ctx, app, rules.ssh_key()), start=1):
        fields = {
            "entry-name": entry.name,
            "host-path": entry.host_path,
            "container-path": mount.container_path,
            "phases": ",".join(mount.phases),
            "process-type": mount.process_type,
            "readonly": str(mount.readonly).lower(),
        }
        rows += [
            Row(
                f"{REPORT_PREFIX}attachment.{index}.{field}",
                f"Storage attachment {index} {field.replace('-', ' ')}",
                functools.partial(str, value),
            )
            for field, value in fields.items()
        ]
    return rows


def _mounts(ctx: Context, app: str, phase: str) -> str:
    return " ".join(
        f"-v {mount.bind(entry.host_path)}" for entry, mount in ops.mounted(ctx, app, phase, rules.ssh_key())
    )


report = report_command(
    "storage:report",
    Scope.APP,
    Report("storage", REPORT_PREFIX, legacy=True, width=40, strip=True),
    _report_rows,
    help="Shows the app's storage mounts. Example: dokku storage:report catmeow --storage-deploy-mounts",
)
