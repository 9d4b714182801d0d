"""certs:add, certs:update, certs:remove, certs:generate, certs:show, certs:report (Dokku's certs plugin)."""

import functools
import sys
from datetime import datetime
from typing import Optional

import click

from minidokku.access import rules
from minidokku.access.rules import Scope
from minidokku.cli.declare import command
from minidokku.cli.family import Report, Row, report_command
from minidokku.cli.inputs import ServerFile, read_file_argument
from minidokku.context import Context
from minidokku.errors import NotFound, PermissionDenied, ValidationError
from minidokku.ops import apps
from minidokku.routing import certs, proxy

# The command families of this module and their one-line descriptions (`dokku help`, `dokku FAMILY:help`).
FAMILIES = {"certs": "Manage SSL (TLS) certs"}

CERTIFICATE_LABELS = ("Ssl hostnames", "Ssl expires at", "Ssl issuer", "Ssl starts at", "Ssl subject", "Ssl verified")
MONTHS = "Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec".split()


@command("certs:add", scope=Scope.APP, changes=True)
@click.argument("app")
@click.argument("cert_file", required=False, type=ServerFile())
@click.argument("key_file", required=False, type=ServerFile())
@click.pass_obj
def add(ctx: Context, app: str, cert_file: Optional[str], key_file: Optional[str]) -> None:
    """Adds a certificate (chain) and its key, or a tar of server.crt and server.key on stdin.
    Example: dokku certs:add catmeow server.crt server.key"""
    _install(ctx, app, cert_file, key_file, f"Adding {app} to ssl")


@command("certs:update", scope=Scope.APP, changes=True)
@click.argument("app")
@click.argument("cert_file", required=False, type=ServerFile())
@click.argument("key_file", required=False, type=ServerFile())
@click.pass_obj
def update(ctx: Context, app: str, cert_file: Optional[str], key_file: Optional[str]) -> None:
    """Replaces the certificate and key, as certs:add. Example: dokku certs:update catmeow < certs.tar"""
    _install(ctx, app, cert_file, key_file, f"Updating ssl of {app}")


@command("certs:generate", scope=Scope.APP, changes=True)
@click.argument("app")
@click.argument("domain")
@click.pass_obj
def generate(ctx: Context, app: str, domain: str) -> None:
    """Installs a self-signed certificate for a domain (for tests and staging).
    Example: dokku certs:generate catmeow cats.example.com"""
    apps.require(ctx, app)
    ctx.out.step(f"Generating a self-signed certificate for {domain}")
    _change(ctx, app, f"Adding {app} to ssl", lambda: certs.generate(ctx.store, app, domain))


@command("certs:remove", scope=Scope.APP, changes=True)
@click.argument("app")
@click.pass_obj
def remove(ctx: Context, app: str) -> None:
    """Removes the app's certificate and key; it is served over http only. Example: dokku certs:remove catmeow"""
    apps.require(ctx, app)
    _change(ctx, app, f"Removing SSL endpoint from {app}", lambda: certs.remove(ctx.store, app))


@command("certs:show", scope=Scope.APP, changes=False)
@click.argument("app")
@click.argument("part", type=click.Choice(["crt", "key"]))
@click.pass_obj
def show(ctx: Context, app: str, part: str) -> None:
    """Prints the app's certificate (crt) or, to admin keys, its private key (key).
    Example: dokku certs:show catmeow crt"""
    apps.require(ctx, app)
    key = rules.ssh_key()
    if part == "key" and key is not None and rules.role(ctx.store, key) != rules.ADMIN:
        # The key may be one an admin installed and shares with other sites (a wildcard): a user
        # key replaces or removes it, never reads it. The certificate is public: nginx sends it.
        raise PermissionDenied(f"certs:show {app} key is for admin keys only; {key} is a user key")
    if certs.paths(ctx.store, app) is None:
        raise NotFound(f"{app} has no certificate (certs:add or certs:generate installs one)")
    click.echo(ctx.store.read(app, certs.CERT_FILE if part == "crt" else certs.KEY_FILE), nl=False)


def _report_rows(ctx: Context, app: str) -> list[Row]:
    @functools.cache
    def certificate() -> dict[str, str]:
        info = certs.describe(ctx.store, app) if certs.paths(ctx.store, app) else None
        return _certificate_rows(info) if info else dict.fromkeys(CERTIFICATE_LABELS, "")

    return [
        Row("--ssl-dir", "Ssl dir", lambda: str(ctx.store.path(app, certs.TLS_DIR))),
        Row("--ssl-enabled", "Ssl enabled", lambda: "true" if certs.paths(ctx.store, app) else "false"),
        *(
            Row("--" + label.lower().replace(" ", "-"), label, lambda label=label: certificate()[label])
            for label in CERTIFICATE_LABELS
        ),
    ]


report = report_command(
    "certs:report",
    Scope.APP,
    Report("ssl", "--ssl-", width=31, strip=True),
    _report_rows,
    help="Shows the certificate of one app, or of every app. Example: dokku certs:report catmeow",
)


def _install(ctx: Context, app: str, cert_file: Optional[str], key_file: Optional[str], message: str) -> None:
    apps.require(ctx, app)
    if cert_file and key_file:
        cert_pem = read_file_argument(ctx, cert_file, "CERT_FILE")
        key_pem = read_file_argument(ctx, key_file, "KEY_FILE")
        _change(ctx, app, message, lambda: certs.add(ctx.store, app, cert_pem, key_pem))
        return
    if cert_file or key_file:
        raise click.UsageError("give both CERT_FILE and KEY_FILE, or neither and a tar on stdin")
    stdin = sys.stdin.buffer
    if stdin.isatty():
        raise ValidationError("a tar holding server.crt and server.key is expected on stdin (or CERT_FILE KEY_FILE)")
    tar_bytes = stdin.read(certs.MAX_TARBALL_BYTES + 1)
    if len(tar_bytes) > certs.MAX_TARBALL_BYTES:
        raise ValidationError(f"the tar on stdin is larger than {certs.MAX_TARBALL_BYTES >> 20} MiB")
    _change(ctx, app, message, lambda: certs.add_tarball(ctx.store, app, tar_bytes))


def _change(ctx: Context, app: str, message: str, change) -> None:
    """Under the app's lock: the change, then nginx rewritten for it (https when certs are there)."""
    ctx.out.step(message)
    with ctx.store.lock(app):
        change()
        proxy.reroute(ctx, app)


def _certificate_rows(info: dict) -> dict[str, str]:
    if info["self_signed"]:
        verified = "self signed"
    elif info["verified"]:
        verified = "verified by a certificate authority"
    else:
        verified = "not verified by a certificate authority this machine trusts"
    values = (
        " ".join(info["hostnames"]),
        _openssl_date(info["not_after"]),
        info["issuer"],
        _openssl_date(info["not_before"]),
        info["subject"],
        verified,
    )
    return dict(zip(CERTIFICATE_LABELS, values))


def _openssl_date(moment: Optional[datetime]) -> str:
    """As openssl (and so Dokku) prints it, `Nov  5 14:38:13 2027 GMT`, whatever the locale."""
    if moment is None:
        return ""
    return f"{MONTHS[moment.month - 1]} {moment.day:2d} {moment:%H:%M:%S %Y} GMT"
