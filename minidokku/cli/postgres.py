"""postgres:* (the bundled postgres plugin; dokku-postgres's command names and output)."""

import sys
from typing import Optional

import click

from minidokku.access.rules import Scope
from minidokku.cli.declare import command
from minidokku.cli.family import print_report
from minidokku.cli.hangup import end_on_hang_up
from minidokku.cli.inputs import confirm_by_name
from minidokku.context import Context
from minidokku.errors import ValidationError
from minidokku.ops import apps, oneoff
from minidokku.plugins import registry
from minidokku.plugins.postgres import records, service

# The command families of this module and their one-line descriptions (`dokku help`, `dokku FAMILY:help`).
FAMILIES = {"postgres": "Manage postgres services"}

PLUGIN = "postgres"
INFO_FIELDS = ("dsn", "status", "version", "links", "id", "internal-ip")


@command("postgres:create", scope=Scope.ADMIN, changes=True)
@click.argument("name")
@click.option("-I", "--image-version", default=service.DEFAULT_VERSION, show_default=True,
              help="The PostgreSQL version (only Debian's 15 can be built where no registry answers).")  # fmt: skip
@click.pass_obj
def create(ctx: Context, name: str, image_version: str) -> None:
    """Creates a PostgreSQL service with its own volume and random password.
    Example: dokku postgres:create catdb"""
    _require_enabled(ctx)
    service.create(ctx, name, image_version)


@command("postgres:info", scope=Scope.ADMIN, changes=False)
@click.argument("name")
@click.option("--dsn", "field", flag_value="dsn", help="Only the DSN, password included.")
@click.option("--status", "field", flag_value="status", help="Only the container's status.")
@click.option("--version", "field", flag_value="version", help="Only the image.")
@click.option("--links", "field", flag_value="links", help="Only the linked apps.")
@click.option("--id", "field", flag_value="id", help="Only the container id.")
@click.option("--internal-ip", "field", flag_value="internal-ip", help="Only the address on the services' network.")
@click.pass_obj
def info(ctx: Context, name: str, field: Optional[str]) -> None:
    """Shows a service; its password only with --dsn. Example: dokku postgres:info catdb"""
    _require_enabled(ctx)
    found = service.info(ctx, name)
    values = {
        "dsn": records.dsn(ctx.store, name) if field == "dsn" else found.dsn,
        "status": found.status,
        "version": found.version,
        "links": " ".join(link.app for link in found.links) or "-",
        "id": found.container_id,
        "internal-ip": found.internal_ip,
    }
    if field:
        click.echo(values[field])
        return
    rows = {
        "Data volume": records.volume_name(ctx, name), "Dsn": values["dsn"], "Exposed ports": "-",
        "Id": values["id"], "Internal ip": values["internal-ip"], "Links": values["links"],
        "Network": records.network_name(ctx), "Status": values["status"], "Version": values["version"],
    }  # fmt: skip
    print_report(ctx.out, f"{name} postgres service", rows, width=21)


@command("postgres:list", scope=Scope.ADMIN, changes=False)
@click.pass_obj
def list_services(ctx: Context) -> None:
    """Lists the services. Example: dokku postgres:list"""
    _require_enabled(ctx)
    ctx.out.section("Postgres services")
    for name in records.names(ctx.store):
        click.echo(name)


@command("postgres:link", scope=Scope.ADMIN, changes=True)
@click.argument("name")
@click.argument("app")
@click.pass_obj
def link(ctx: Context, name: str, app: str) -> None:
    """Sets DATABASE_URL (or DOKKU_POSTGRES_<COLOR>_URL) on the app and restarts it.
    Example: dokku postgres:link catdb catmeow"""
    _require_enabled(ctx)
    apps.require(ctx, app)
    service.link(ctx, name, app)


@command("postgres:unlink", scope=Scope.ADMIN, changes=True)
@click.argument("name")
@click.argument("app")
@click.pass_obj
def unlink(ctx: Context, name: str, app: str) -> None:
    """Unsets the app's variable for the service and restarts it. Example: dokku postgres:unlink catdb catmeow"""
    _require_enabled(ctx)
    apps.require(ctx, app)
    service.unlink(ctx, name, app)


@command("postgres:connect", scope=Scope.ADMIN, changes=True)
@click.argument("name")
@click.pass_obj
def connect(ctx: Context, name: str) -> None:
    """Opens psql on the service's database (or runs the SQL on stdin). Example: dokku postgres:connect catdb"""
    _require_enabled(ctx)
    sys.exit(_exec(ctx, name, service.psql_argv(name), tty=sys.stdin.isatty() and sys.stdout.isatty()))


@command("postgres:export", scope=Scope.ADMIN, changes=False)
@click.argument("name")
@click.pass_obj
def export(ctx: Context, name: str) -> None:
    """Writes a pg_dump (custom format) of the database to stdout.
    Example: dokku postgres:export catdb > catdb.dump"""
    _require_enabled(ctx)
    if sys.stdout.isatty():
        raise ValidationError("the dump is binary: redirect it to a file, e.g. `> catdb.dump`")
    sys.exit(_exec(ctx, name, service.export_argv(name)))


@command("postgres:import", scope=Scope.ADMIN, changes=True)
@click.argument("name")
@click.pass_obj
def import_(ctx: Context, name: str) -> None:
    """Restores a pg_dump (custom format) read from stdin. Example: dokku postgres:import catdb < catdb.dump"""
    _require_enabled(ctx)
    if sys.stdin.isatty():
        raise ValidationError("give the dump on stdin, e.g. `< catdb.dump`")
    sys.exit(_exec(ctx, name, service.import_argv(name)))


@command("postgres:logs", scope=Scope.ADMIN, changes=False)
@click.argument("name")
@click.option("-t", "--tail", "follow", is_flag=True, help="Keep following the log.")
@click.pass_obj
def logs(ctx: Context, name: str, follow: bool) -> None:
    """Shows the server's log. Example: dokku postgres:logs catdb -t"""
    _require_enabled(ctx)
    if follow:
        end_on_hang_up()
    for line in ctx.scheduler.logs(service.container_of(ctx, name), follow=follow, tail=None, timestamps=False):
        click.echo(line.rstrip("\n"))


@command("postgres:restart", scope=Scope.ADMIN, changes=True)
@click.argument("name")
@click.pass_obj
def restart(ctx: Context, name: str) -> None:
    """Restarts the server; linked apps reconnect. Example: dokku postgres:restart catdb"""
    _require_enabled(ctx)
    service.restart(ctx, name)


@command("postgres:destroy", scope=Scope.ADMIN, changes=True)
@click.argument("name")
@click.option("-f", "--force", is_flag=True, help="Do not ask for confirmation.")
@click.pass_obj
def destroy(ctx: Context, name: str, force: bool) -> None:
    """Deletes a service and its data; refused while apps are linked. Example: dokku postgres:destroy catdb"""
    _require_enabled(ctx)
    service.refuse_if_linked(ctx, name)
    if not force:
        confirm_by_name(f"postgres service {name} and its data", name, f"dokku postgres:destroy {name} --force")
    service.destroy(ctx, name)


def _require_enabled(ctx: Context) -> None:
    if not registry.is_enabled(ctx.store, PLUGIN):
        raise ValidationError(f"the {PLUGIN} plugin is disabled; `dokku plugin:enable {PLUGIN}` turns it on")


def _exec(ctx: Context, name: str, argv: list[str], tty: bool = False) -> int:
    """argv in the service's container, wired to this process's stdin and stdout."""
    return oneoff.exec_in(ctx, service.container_of(ctx, name), argv, tty, oneoff.Streams.of_this_process())
