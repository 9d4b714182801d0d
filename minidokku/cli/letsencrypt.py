"""letsencrypt:* with dokku-letsencrypt's names, flags and messages (ops/letsencrypt.py).

A user key may enable, disable, renew, revoke, clean up and report on the apps granted to it,
and set their email and graceperiod; whatever changes what the host fetches or runs (server,
lego-args, dns-provider and its credentials, ca-bundle), anything --global, list, cron-job and
auto-renew of every app are for admin keys."""

import datetime
from typing import Optional

import click

from minidokku.access import rules
from minidokku.access.rules import Scope
from minidokku.cli.declare import command
from minidokku.cli.family import Report, Row, global_set_command, report_command
from minidokku.context import Context
from minidokku.errors import MinidokkuError, PermissionDenied, ValidationError
from minidokku.ops import apps, letsencrypt
from minidokku.ops import cron as cron_ops
from minidokku.records import letsencrypt as records

# The command families of this module and their one-line descriptions (`dokku help`, `dokku FAMILY:help`).
FAMILIES = {"letsencrypt": "Manage the letsencrypt integration"}
LIST_HEADER = ("App name", "Certificate Expiry", "Time before expiry", "Time before renewal", "Last failure")


@command("letsencrypt:enable", scope=Scope.APP, changes=True)
@click.argument("app")
@click.option("--force", "-f", is_flag=True, help="Request a new certificate even if the current one is valid.")
@click.pass_obj
def enable(ctx: Context, app: str, force: bool) -> None:
    """Enable or renew letsencrypt for an app: a certificate for all its domains, over HTTP-01.
    Example: dokku letsencrypt:enable catmeow"""
    apps.require(ctx, app)
    user_key = _user_key(ctx)
    if force and user_key:
        raise PermissionDenied(
            f"letsencrypt:enable --force is for admin keys only (every order counts against the host's "
            f"rate limits); {user_key} is a user key"
        )
    letsencrypt.enable(ctx, app, force, limited=bool(user_key))
    _keep_renewing(ctx)


def _user_key(ctx: Context) -> Optional[str]:
    """The user key this command came through (None: an admin key, or the host)."""
    key = rules.ssh_key()
    return key if key and rules.role(ctx.store, key) != rules.ADMIN else None


def _keep_renewing(ctx: Context) -> None:
    """With the cron job added, its daemon runs (started if it does not)."""
    if records.autorenew(ctx.store):
        cron_ops.start_daemon(ctx)


@command("letsencrypt:disable", scope=Scope.APP, changes=True)
@click.argument("app")
@click.pass_obj
def disable(ctx: Context, app: str) -> None:
    """Disable letsencrypt for an app (back to its earlier certificate, or plain http).
    Example: dokku letsencrypt:disable catmeow"""
    apps.require(ctx, app)
    letsencrypt.disable(ctx, app)


@command("letsencrypt:active", scope=Scope.APP, changes=False)
@click.argument("app")
@click.pass_obj
def active(ctx: Context, app: str) -> None:
    """Verify if letsencrypt is active for an app (true or false). Example: dokku letsencrypt:active catmeow"""
    apps.require(ctx, app)
    click.echo("true" if letsencrypt.is_active(ctx, app) else "false")


@command("letsencrypt:auto-renew", scope=Scope.APP, changes=True)
@click.argument("app", required=False)
@click.pass_obj
def auto_renew(ctx: Context, app: Optional[str]) -> None:
    """Auto-renew an app, or every app (admin keys), if renewal is necessary.
    Example: dokku letsencrypt:auto-renew catmeow"""
    _keep_renewing(ctx)
    if app:
        apps.require(ctx, app)
        renewal = letsencrypt.auto_renew(ctx, app, limited=bool(_user_key(ctx)))
        if renewal.error:
            raise letsencrypt.LetsencryptFailed(renewal.error)
        return
    if any(renewal.error for renewal in letsencrypt.auto_renew_all(ctx)):
        raise letsencrypt.LetsencryptFailed("One or more apps failed to have their certificates renewed")


@command("letsencrypt:list", scope=Scope.ADMIN, changes=False)
@click.pass_obj
def list_apps(ctx: Context) -> None:
    """List letsencrypt-secured apps with certificate expiry times (and their last failure).
    Example: dokku letsencrypt:list"""
    ctx.out.heading(f"{'----->':<6} " + " ".join(f"{cell:<25}" for cell in LIST_HEADER).rstrip())
    for line in list_lines(ctx, letsencrypt.expiries(ctx), datetime.datetime.now().timestamp()):
        click.echo(line)


def list_lines(ctx: Context, expiries: list, now: float) -> list[str]:
    """One line each: app, expiry (local time), time before expiry, time before renewal, last failure."""
    lines = []
    for entry in sorted(expiries, key=lambda e: e.expires):
        known = entry.expires > 0  # else its certificate cannot be read: renewed at the next run
        cells = (
            entry.app,
            datetime.datetime.fromtimestamp(entry.expires).strftime("%Y-%m-%d %H:%M:%S") if known else "unknown",
            letsencrypt.timediff(entry.expires - int(now)) if known else "-",
            letsencrypt.timediff(entry.renew_at - int(now)) if known else "now",
            records.failure_text(ctx.store, entry.app) or "-",
        )
        lines.append(" ".join(f"{cell:<25}" for cell in cells).rstrip())
    return lines


@command("letsencrypt:revoke", scope=Scope.APP, changes=True)
@click.argument("app")
@click.pass_obj
def revoke(ctx: Context, app: str) -> None:
    """Revoke letsencrypt certificate for app. Example: dokku letsencrypt:revoke catmeow"""
    apps.require(ctx, app)
    letsencrypt.revoke(ctx, app)


@command("letsencrypt:cleanup", scope=Scope.APP, changes=True)
@click.argument("app")
@click.pass_obj
def cleanup(ctx: Context, app: str) -> None:
    """Remove stale certificate files for app. Example: dokku letsencrypt:cleanup catmeow"""
    apps.require(ctx, app)
    letsencrypt.cleanup(ctx, app)


@command("letsencrypt:cron-job", scope=Scope.ADMIN, changes=True)
@click.option("--add", "add", is_flag=True, help="Renew every day.")
@click.option("--remove", "remove", is_flag=True, help="Stop renewing every day.")
@click.pass_obj
def cron_job(ctx: Context, add: bool, remove: bool) -> None:
    """Add, remove, or display the status of the daily auto-renewal (run by minidokku's cron
    daemon at midnight). Example: dokku letsencrypt:cron-job --add"""
    if add and remove:
        raise ValidationError("specify --add, --remove, or no flag to display status")
    if add:
        records.set_autorenew(ctx.store, True)
        cron_ops.start_daemon(ctx)
        ctx.out.step("Added the daily letsencrypt:auto-renew to minidokku's cron daemon.")
        ctx.out.info(f"minidokku's cron daemon: {daemon_state(ctx)}")
    elif remove:
        records.set_autorenew(ctx.store, False)
        ctx.out.step("Removed the daily letsencrypt:auto-renew from minidokku's cron daemon.")
    elif records.autorenew(ctx.store):
        ctx.out.section("Auto-renew cron job is enabled")
        state = daemon_state(ctx)
        ctx.out.info(f"minidokku's cron daemon: {state}")
        if state == "not running":
            ctx.out.info("No renewal runs until it starts: 'dokku letsencrypt:cron-job --add' starts it.")
        ctx.out.info("Run 'dokku letsencrypt:cron-job --remove' to disable.")
    else:
        ctx.out.section("Auto-renew cron job is not enabled")
        ctx.out.info("Run 'dokku letsencrypt:cron-job --add' to enable.")


def daemon_state(ctx: Context) -> str:
    """Whether the cron daemon that runs the nightly renewal of this root really runs."""
    if cron_ops.started_by_systemd(ctx):
        return "started by systemd"
    return "running" if cron_ops.daemon_running(ctx) else "not running"


def _set(ctx: Context, app: Optional[str], key: str, value: str) -> None:
    if not key:
        raise ValidationError("No key specified")
    user_key = _user_key(ctx)
    if user_key and key not in records.USER_KEYS:
        raise PermissionDenied(
            f"letsencrypt:set {key} is for admin keys only (it changes what the host fetches or runs); "
            f"{user_key} is a user key"
        )
    checked = records.check(key, value, app is None) if value else ""
    if user_key and key == "graceperiod" and checked and int(checked) > records.MAX_TENANT_GRACE_PERIOD:
        raise ValidationError(f"graceperiod is at most {records.MAX_TENANT_GRACE_PERIOD} seconds (60 days)")
    records.put(ctx.store, app, key, checked)


set_ = global_set_command(
    "letsencrypt:set",
    _set,
    help="Set or clear a letsencrypt property for an app, or --global: email, server, graceperiod, lego-args, "
    "dns-provider, dns-provider-NAME, ca-bundle (--global). Example: dokku letsencrypt:set catmeow email a@b.c",
    context_settings={"ignore_unknown_options": True},  # lego-args' value starts with `--`
)


def _report_rows(ctx: Context, app: Optional[str]) -> list[Row]:
    store = ctx.store
    shown_to_user = ("email", "graceperiod")  # a user key sees no admin's global host-side values

    def global_value(key: str) -> str:
        return records.own(store, None, key) if key in shown_to_user or not _user_key(ctx) else ""

    def value(key: str, computed: bool) -> str:
        if key == "server":
            return records.server(store, app) if computed else records.own(store, app, key)
        if key == "graceperiod" and computed:
            return str(records.grace_period(store, app))
        return records.computed(store, app, key) if computed else records.own(store, app, key)

    rows = []
    if app is not None:
        rows += [
            Row("--letsencrypt-active", "Letsencrypt active", lambda: _active(ctx, app)),
            Row("--letsencrypt-autorenew", "Letsencrypt autorenew", lambda: str(records.autorenew(store)).lower()),
        ]
    rows.append(Row("--letsencrypt-cron-daemon", "Letsencrypt cron daemon", lambda: daemon_state(ctx)))
    for key in ("dns-provider", "email", "expiration", "graceperiod", "lego-args", "server"):
        if key == "expiration":
            if app is not None:
                rows.append(Row("--letsencrypt-expiration", "Letsencrypt expiration", lambda: _expiration(ctx, app)))
            continue
        shown = key.replace("-", " ")
        if app is not None:
            rows.append(
                Row(f"--letsencrypt-computed-{key}", f"Letsencrypt computed {shown}", lambda k=key: value(k, True))
            )
        rows.append(Row(f"--letsencrypt-global-{key}", f"Letsencrypt global {shown}", lambda k=key: global_value(k)))
        if app is not None:
            rows.append(Row(f"--letsencrypt-{key}", f"Letsencrypt {shown}", lambda k=key: value(k, False)))
    bundle = Row("--letsencrypt-global-ca-bundle", "Letsencrypt global ca bundle", lambda: global_value("ca-bundle"))
    rows.append(bundle)
    if app is not None:
        rows.append(
            Row("--letsencrypt-last-failure", "Letsencrypt last failure", lambda: records.failure_text(store, app))
        )
    return rows


def _active(ctx: Context, app: str) -> str:
    return "true" if letsencrypt.is_active(ctx, app) else "false"


def _expiration(ctx: Context, app: str) -> str:
    try:
        found = letsencrypt.expiry(ctx, app)
    except MinidokkuError:
        return ""
    return str(found.expires) if found else ""


report = report_command(
    "letsencrypt:report",
    Scope.APP,
    Report("letsencrypt", "--letsencrypt-", width=37),
    _report_rows,
    help="Display a letsencrypt report for one or more apps. Example: dokku letsencrypt:report catmeow",
    global_rows=lambda ctx: _report_rows(ctx, None),
)
