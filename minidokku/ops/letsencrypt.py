"""letsencrypt:* (dokku-letsencrypt's commands, built in): certificates from an ACME server (Let's
Encrypt by default) through lego (routing/lego.py), answered over HTTP-01 from the app's webroot.

Issue (enable, and renewal): under the app's lock (its expiry read under it too), every domain
of the app must resolve on this host (the first that does not is named); the webroot is made and
served by the app's nginx site (a bounded probe waits for nginx's answers, told apart from an
app's by their marker header), lego orders the certificate into APP/letsencrypt/staging/, and
only then is it installed as certs:add installs one (checked first: it reads and its key belongs
to it) and nginx reloaded, a graceful reload that fails no request; then the staged files become
the live ones and the app is enabled (its own record, kept by a later failure). Until then the
old certificate serves; a failure leaves it, and the app's traffic, as they were, and is
recorded: in the app's properties (letsencrypt:list, letsencrypt:report, apps:report) and, for a
renewal, in `events`; a renewal's failure of any kind stops no other app's.

A user key's app (access/rules.is_tenant_app) gets no global server, lego-args, dns-provider or
its credentials (only what an admin set for the app), a graceperiod of at most 60 days, and a
user key's command orders at most records.TENANT_ORDERS certificates a week for it, never --force.
lego's accounts are the root's (ROOT/.letsencrypt/accounts: one per server and e-mail), kept by disable.

A certificate the app had before its first enable is kept in APP/letsencrypt/previous/ and put
back by disable and revoke (the plugin leaves the app on plain http).
"""

import datetime
import os
import secrets
import shutil
import socket
import stat
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

import requests

from minidokku.access import events
from minidokku.context import Context
from minidokku.errors import MinidokkuError, NotFound, PermissionDenied, ValidationError
from minidokku.records import letsencrypt as records
from minidokku.records import releases
from minidokku.routing import certs, domains, lego, proxy
from minidokku.routing.lego import LegoFailed
from minidokku.state import atomic_write

CHALLENGE_PATH = ".well-known/acme-challenge"
PROBE_SECONDS = 10  # how long nginx may take to serve the webroot after its reload
PROBE_IN_A_ROW = 10  # answers in a row (20 ms apart) from the webroot: the old workers are gone
PROBE_READ_SECONDS = 1  # one probe's connect and each read (nginx sends an answer's headers at once)
RENEW_ACTION = "letsencrypt:renew"  # the action of a failed renewal's line in `events`


class LetsencryptFailed(MinidokkuError):
    """An order, a renewal or a revocation failed; the app serves as before."""


@dataclass(frozen=True)
class Expiry:
    """An active app's certificate: when it expires and when it is due for renewal (epochs);
    expires 0 where it cannot be read (due at once)."""

    app: str
    expires: int
    grace_period: int

    @property
    def renew_at(self) -> int:
        return self.expires - self.grace_period

    def due(self, now: float) -> bool:
        return self.renew_at - now < 0


# -- what a certificate is for ------------------------------------------------------------------
def app_domains(ctx: Context, app: str) -> list[str]:
    """The names on the app's certificate: all its domains (its own, or its default ones)."""
    names = [name for name in domains.app_domains(ctx.store, app) if name != "_"]
    if not names:
        raise ValidationError(f"No domains detected for {app}")
    wildcards = [name for name in names if name.startswith(domains.WILDCARD)]
    if wildcards and not records.computed(ctx.store, app, "dns-provider"):
        raise ValidationError(
            f"{wildcards[0]} is a wildcard: Let's Encrypt issues one over DNS-01 only "
            f"(letsencrypt:set {app} dns-provider PROVIDER)"
        )
    return names


def check_resolvable(app: str, names: list[str]) -> None:
    """Each name resolves on this host (the ACME server must reach the app there)."""
    for name in names:
        lookup = name.removeprefix(domains.WILDCARD)
        try:
            socket.getaddrinfo(lookup, None)
        except (socket.gaierror, UnicodeError):
            raise ValidationError(
                f"{name} does not resolve: point its DNS at this server, or take it off {app} "
                f"(domains:remove {app} {name}), then enable letsencrypt again"
            ) from None


def order(ctx: Context, app: str, names: list[str], staging: bool = False) -> lego.Order:
    """lego's order for the app: on its live files (revoke, cleanup), or its staging folder (an issue)."""
    store = ctx.store
    return lego.Order(
        server=records.server(store, app),
        email=records.computed(store, app, "email"),
        domains=tuple(names),
        path=store.path(app, records.STAGING_DIR if staging else records.LEGO_DIR),
        webroot=records.webroot(ctx.settings.acme_webroot, app),
        dns_provider=records.computed(store, app, "dns-provider"),
        extra=tuple(records.lego_args(records.computed(store, app, "lego-args"))),
        ca_bundle=records.own(store, None, "ca-bundle"),
        credentials=records.dns_credentials(store, app),
    )


def issued_domains(ctx: Context, app: str) -> list[str]:
    """The names of the certificate lego issued last for the app (none before one)."""
    return ctx.store.read_lines(app, records.DOMAINS_FILE)


# -- state ---------------------------------------------------------------------------------------
def is_active(ctx: Context, app: str) -> bool:
    """letsencrypt manages the app's certificate (Dokku's letsencrypt:active): its own record,
    set by a successful install, cleared by disable and revoke; a failed renewal leaves it."""
    return records.is_enabled(ctx.store, app)


def expiry(ctx: Context, app: str) -> Optional[Expiry]:
    """When the active certificate expires; None when letsencrypt is not active for the app."""
    if not is_active(ctx, app):
        return None
    grace = records.grace_period(ctx.store, app)
    if certs.paths(ctx.store, app) is None:  # taken away since (certs:remove): due at once
        return Expiry(app, 0, grace)
    not_after = certs.describe(ctx.store, app)["not_after"]
    return Expiry(app, int(not_after.timestamp()) if not_after else 0, grace)


def expiries(ctx: Context) -> list[Expiry]:
    """Every app letsencrypt is active for, the soonest renewal first; one whose certificate
    cannot be read is there too (expires 0): one app's broken files never hide the others."""
    found = []
    for app in ctx.store.list_apps():
        try:
            entry = expiry(ctx, app)
        except Exception:  # noqa: BLE001 - listed and renewed as unreadable, never dropped
            entry = Expiry(app, 0, 0) if records.is_enabled(ctx.store, app) else None
        if entry is not None:
            found.append(entry)
    return sorted(found, key=lambda e: e.renew_at)


# -- enable --------------------------------------------------------------------------------------
def enable(ctx: Context, app: str, force: bool = False, limited: bool = False) -> None:
    """Orders and installs a certificate, unless the active one is valid beyond its grace
    period (force: anyway). limited (a user key's command): within the app's weekly budget of
    orders. The app's lock is taken before its expiry is read."""
    names = app_domains(ctx, app)
    ctx.out.section(f"Enabling letsencrypt for {app}")
    check_email(ctx, app)
    _say_not_applied(ctx, app)
    try:
        with ctx.store.lock(app):
            current = expiry(ctx, app)
            if not force and current is not None and not current.due(time.time()) and issued_domains(ctx, app) == names:
                ctx.out.step(f"Certificate is still valid for {app}, skipping certificate request")
                ctx.out.step("Pass --force to letsencrypt:enable to request a new certificate anyway")
                return
            _order(ctx, app, names, limited)
    except MinidokkuError as error:
        records.record_failure(ctx.store, app, int(time.time()), str(error))
        raise
    records.clear_failure(ctx.store, app)
    ctx.out.step("Done")


def _say_not_applied(ctx: Context, app: str) -> None:
    keys = records.not_applied(ctx.store, app)
    if keys:
        ctx.out.info(
            f"Not applied to {app} (an app granted to a user key): the global {', '.join(keys)}; "
            f"an admin sets them for the app (letsencrypt:set {app} KEY VALUE)"
        )


def _order(ctx: Context, app: str, names: list[str], limited: bool) -> None:
    """Checks, orders and installs, under the app's lock."""
    now = time.time()
    if limited:
        check_budget(ctx, app, now)
    if not records.computed(ctx.store, app, "dns-provider"):  # HTTP-01: through the app's nginx site
        check_resolvable(app, names)
        if releases.current(ctx.store, app) is None:
            raise ValidationError(f"{app} has not been deployed: nginx serves nothing to answer the challenge")
        if proxy.serves_own_template(ctx, app):
            raise ValidationError(
                f"{app} is served by its own nginx.conf.template, which has no letsencrypt challenge location: "
                f"HTTP-01 cannot work; DNS-01 can (an admin sets letsencrypt:set {app} dns-provider PROVIDER)"
            )
    _issue(ctx, app, names, now)


def check_budget(ctx: Context, app: str, now: float) -> None:
    """A user key orders at most TENANT_ORDERS certificates for an app within a week (the ACME
    server's rate limits are the host's, shared by every app)."""
    made = records.orders(ctx.store, app, now)
    if len(made) >= records.TENANT_ORDERS:
        again = datetime.datetime.fromtimestamp(min(made) + records.ORDERS_WINDOW).strftime("%Y-%m-%d %H:%M")
        raise PermissionDenied(
            f"{app} had {len(made)} certificate orders in the last 7 days, a user key's limit: "
            f"try again after {again}, or ask an admin"
        )


def check_email(ctx: Context, app: str) -> None:
    if not records.computed(ctx.store, app, "email"):
        raise ValidationError(
            f"Cannot request a certificate without an e-mail address: dokku letsencrypt:set {app} email <e-mail>"
        )


def _issue(ctx: Context, app: str, names: list[str], now: float) -> None:
    """lego orders into the staging folder; once the certificate is installed and served, its
    files become the live ones and the app is enabled."""
    wanted = order(ctx, app, names, staging=True)
    _prepare_lego_folders(ctx, app)
    if not wanted.dns_provider:
        _prepare_webroot(ctx, app)
        proxy.reroute(ctx, app)  # the webroot's location in the app's site (reloaded when new)
        _wait_until_served(ctx, app, wanted.webroot, names[0])
    mode = f"DNS-01 ({wanted.dns_provider})" if wanted.dns_provider else "HTTP-01"
    ctx.out.step(f"Getting letsencrypt certificate for {app} via {mode}")
    for name in names:
        ctx.out.info(f" - Domain '{name}'")
    own_certificate = None if is_active(ctx, app) else _installed(ctx, app)  # kept for disable
    records.count_order(ctx.store, app, now)
    try:
        _order_and_install(ctx, app, wanted, own_certificate)
    finally:  # what lego wrote and was not installed (its key too) goes
        shutil.rmtree(ctx.store.path(app, records.STAGING_DIR), ignore_errors=True)
    ctx.store.write_lines(app, records.DOMAINS_FILE, names)
    records.set_enabled(ctx.store, app, True)


def _order_and_install(
    ctx: Context, app: str, wanted: lego.Order, own_certificate: Optional[tuple[bytes, bytes]]
) -> None:
    try:
        output = lego.run(wanted, "run")
    except LegoFailed as failed:
        _show(ctx, failed.output)
        ctx.out.step("Certificate retrieval failed!")
        raise LetsencryptFailed(f"Failed to setup letsencrypt for {app}: {failed}") from None
    _show(ctx, output)
    ctx.out.step("Certificate retrieved successfully.")
    ctx.out.step("Installing let's encrypt certificates")
    if own_certificate is not None:
        _keep_previous(ctx, app, own_certificate)
    _install(ctx, app, wanted)
    _promote(ctx, app)


def _prepare_lego_folders(ctx: Context, app: str) -> None:
    """APP/letsencrypt/ and a new, empty staging/ in it, both with the accounts link: lego's
    accounts are the root's (one per server and email), outside the app's folder, kept by disable."""
    lego_dir, staging = ctx.store.path(app, records.LEGO_DIR), ctx.store.path(app, records.STAGING_DIR)
    _own_folder(ctx.store.app_dir(app), lego_dir, 0o700)
    shared = ctx.store.path(None, records.SHARED_DIR)
    _own_folder(ctx.store.root, shared, 0o700)
    accounts = ctx.store.path(None, records.ACCOUNTS_DIR)
    _own_folder(shared, accounts, 0o700)
    if os.path.lexists(staging):
        _own_folder(lego_dir, staging, 0o700)  # never a link: then it is removed
        shutil.rmtree(staging)
    _own_folder(lego_dir, staging, 0o700)
    for folder in (lego_dir, staging):
        link = folder / "accounts"
        if not os.path.lexists(link):
            link.symlink_to(accounts)


def _promote(ctx: Context, app: str) -> None:
    """The staged certificate files (installed now) become the live ones (revoke and cleanup use them)."""
    lego_dir, staging = ctx.store.path(app, records.LEGO_DIR), ctx.store.path(app, records.STAGING_DIR)
    live = lego_dir / "certificates"
    if live.is_dir() and not live.is_symlink():
        shutil.rmtree(live)
    os.replace(staging / "certificates", live)


def _wait_until_served(ctx: Context, app: str, webroot: Path, host: str) -> None:
    """nginx answers the challenge path from the webroot: a probe file is asked for over
    loopback until PROBE_IN_A_ROW answers in a row are it. A reload takes effect a moment after
    `nginx -s reload` returns, and for that moment the old workers still take connections too."""
    name = f"minidokku-probe-{secrets.token_hex(8)}"
    probe = webroot / CHALLENGE_PATH / name
    probe.write_text(name)
    url = f"http://127.0.0.1:{ctx.settings.http_port}/{CHALLENGE_PATH}/{name}"
    marker = records.marker(ctx.store)
    deadline, in_a_row = time.monotonic() + PROBE_SECONDS, 0
    try:
        while time.monotonic() < deadline:
            in_a_row = in_a_row + 1 if _answers(url, host, name, marker, deadline) else 0
            if in_a_row == PROBE_IN_A_ROW:
                return
            time.sleep(0.02)
    finally:
        probe.unlink(missing_ok=True)
    raise ValidationError(
        f"nginx does not answer http://{host}:{ctx.settings.http_port}/{CHALLENGE_PATH}/ from letsencrypt's "
        f"webroot (has {app} no http:{ctx.settings.http_port} port mapping, its proxy disabled, or its own "
        "nginx.conf.template?): HTTP-01 cannot work"
    )


def _answers(url: str, host: str, expected: str, marker: str, deadline: float) -> bool:
    """Whether the answer is expected from the challenge location: 200, its marker header (an
    app's container, still behind an old worker, knows it not), and the body expected. Bounded:
    no proxy from the environment, each read PROBE_READ_SECONDS, at most len(expected) + 1
    bytes read, nothing read past deadline (time.monotonic())."""
    session = requests.Session()
    session.trust_env = False  # loopback, never through HTTP(S)_PROXY
    want = expected.encode()
    try:
        with (
            session,
            session.get(
                url, headers={"Host": host}, allow_redirects=False, timeout=PROBE_READ_SECONDS, stream=True
            ) as answer,
        ):
            if answer.status_code != 200 or answer.headers.get(records.MARKER_HEADER) != marker:
                return False
            body = b""
            for byte in answer.iter_content(chunk_size=1):
                body += byte
                if len(body) > len(want) or time.monotonic() > deadline:
                    return False
            return body == want
    except requests.RequestException:
        return False


def _show(ctx: Context, output: str) -> None:
    for line in output.splitlines():
        ctx.out.info(line)


def _install(ctx: Context, app: str, issued: lego.Order) -> None:
    """The new certificate in the app's tls folder, then nginx reloaded; when nginx refuses it,
    the certificate before goes back (and nginx serves on with it)."""
    crt, key = lego.certificate_files(issued)
    cert_pem, key_pem = _regular_file(crt).read_bytes(), _regular_file(key).read_bytes()
    before = _installed(ctx, app)
    certs.add(ctx.store, app, cert_pem, key_pem)
    try:
        _serve(ctx, app)
    except MinidokkuError:
        _put_back(ctx, app, before)
        _serve(ctx, app)
        raise


def _installed(ctx: Context, app: str) -> Optional[tuple[bytes, bytes]]:
    installed = certs.paths(ctx.store, app)
    return (installed[0].read_bytes(), installed[1].read_bytes()) if installed else None


def _keep_previous(ctx: Context, app: str, pair: tuple[bytes, bytes]) -> None:
    folder = ctx.store.path(app, records.PREVIOUS_DIR)
    _own_folder(folder.parent, folder, 0o700)
    ctx.store.write(app, f"{records.PREVIOUS_DIR}/server.key", pair[1].decode(), mode=0o600)
    ctx.store.write(app, f"{records.PREVIOUS_DIR}/server.crt", pair[0].decode(), mode=0o600)


def _previous(ctx: Context, app: str) -> Optional[tuple[bytes, bytes]]:
    cert = ctx.store.path(app, f"{records.PREVIOUS_DIR}/server.crt")
    key = ctx.store.path(app, f"{records.PREVIOUS_DIR}/server.key")
    if cert.is_file() and key.is_file():
        return _regular_file(cert).read_bytes(), _regular_file(key).read_bytes()
    return None


def _put_back(ctx: Context, app: str, pair: Optional[tuple[bytes, bytes]]) -> None:
    """The app's tls folder holds pair again (None: no certificate)."""
    if pair is not None:
        certs.add(ctx.store, app, *pair)
    elif certs.paths(ctx.store, app) is not None:
        certs.remove(ctx.store, app)


def _serve(ctx: Context, app: str) -> None:
    """The app's nginx site rewritten and nginx reloaded, even where the site's text is the same
    (the files of its certificate changed): a graceful reload, no request fails."""
    if releases.current(ctx.store, app) is None:
        return
    proxy.reroute(ctx, app)
    ctx.nginx.reload()


# -- files ---------------------------------------------------------------------------------------
def _own_folder(parent: Path, folder: Path, mode: int) -> None:
    """folder made (mode) in parent, and no link: what lego or minidokku write lands there."""
    try:
        folder.mkdir(mode=mode)
    except FileExistsError:
        pass
    info = os.lstat(folder)
    if stat.S_ISLNK(info.st_mode) or not stat.S_ISDIR(info.st_mode) or info.st_uid != os.geteuid():
        raise PermissionDenied(f"{folder} is not a folder of this user's own; letsencrypt writes nothing through it")
    os.chmod(folder, mode)


def _regular_file(path: Path) -> Path:
    info = os.lstat(path)
    if not stat.S_ISREG(info.st_mode):
        raise PermissionDenied(f"{path} is not a regular file; letsencrypt reads nothing through a link")
    return path


def _prepare_webroot(ctx: Context, app: str) -> Path:
    """ACME_WEBROOT/APP/.well-known/acme-challenge, 0755 (nginx's workers read it), every part
    a folder of the dokku user's own; ACME_WEBROOT itself writable by no one else."""
    base = Path(ctx.settings.acme_webroot)
    try:
        info = os.lstat(base)
    except FileNotFoundError:
        raise NotFound(f"{base} (ACME_WEBROOT) is missing: install.sh makes it, or set ACME_WEBROOT") from None
    if stat.S_ISLNK(info.st_mode) or not stat.S_ISDIR(info.st_mode) or info.st_mode & 0o022:
        raise PermissionDenied(f"{base} (ACME_WEBROOT) must be a folder no one but its owner can write to")
    folder = records.webroot(str(base), app)
    _own_folder(base, folder, 0o755)
    owner = records.webroot_owner(folder)
    if owner not in (None, str(ctx.store.root)):
        raise PermissionDenied(f"{folder} is the webroot of {app} of another minidokku root ({owner})")
    atomic_write(folder / records.OWNER_FILE, f"{ctx.store.root}\n")
    _own_folder(folder, folder / ".well-known", 0o755)
    _own_folder(folder / ".well-known", folder / CHALLENGE_PATH, 0o755)
    return folder


# -- disable, revoke, cleanup -------------------------------------------------------------------
def disable(ctx: Context, app: str) -> None:
    """Letsencrypt's files and webroot go; the app's certificate, if lego's, makes way for the one
    it had before (if any: else plain http)."""
    ctx.out.step("Disabling letsencrypt for app")
    with ctx.store.lock(app):
        active, previous = is_active(ctx, app), _previous(ctx, app)
        ctx.out.info(f"Removing letsencrypt files for {app}")
        shutil.rmtree(ctx.store.path(app, records.LEGO_DIR), ignore_errors=True)  # the accounts link, not them
        _remove_webroot(ctx, app)
        if active:
            _take_out_of_service(ctx, app, previous)
        records.set_enabled(ctx.store, app, False)
        records.clear_failure(ctx.store, app)
        _serve(ctx, app)
    ctx.out.step("Done")


def _take_out_of_service(ctx: Context, app: str, previous: Optional[tuple[bytes, bytes]]) -> None:
    if previous is not None:
        ctx.out.info(f"Putting back the certificate {app} had before letsencrypt:enable")
    else:
        ctx.out.info(f"Removing SSL endpoint from {app}")
    _put_back(ctx, app, previous)


def forget(ctx: Context, app: str) -> None:
    """The challenge webroot of an app destroyed or renamed (its other files went with its folder)."""
    _remove_webroot(ctx, app)


def _remove_webroot(ctx: Context, app: str) -> None:
    """The app's webroot, if this root made it."""
    folder = records.own_webroot(ctx.settings.acme_webroot, app, ctx.store.root)
    if folder is not None:
        shutil.rmtree(folder)


def revoke(ctx: Context, app: str) -> None:
    """The active certificate revoked at the ACME server; the app then serves as after disable
    (its previous certificate, or plain http), and letsencrypt's files stay for cleanup."""
    ctx.out.section(f"Revoke letsencrypt certificate from {app}...")
    check_email(ctx, app)
    names = issued_domains(ctx, app)
    if not is_active(ctx, app):
        raise NotFound(f"{app} serves no letsencrypt certificate to revoke")
    with ctx.store.lock(app):
        wanted = order(ctx, app, names)
        ctx.out.step(f"Revoking letsencrypt certificate for {app}")
        try:
            _show(ctx, lego.run(wanted, "revoke"))
        except LegoFailed as failed:
            _show(ctx, failed.output)
            raise LetsencryptFailed(f"Certificate revocation failed: {failed}") from None
        ctx.out.step("Certificate revoked successfully.")
        records.set_enabled(ctx.store, app, False)
        _take_out_of_service(ctx, app, _previous(ctx, app))
        _serve(ctx, app)
    ctx.out.step("Done")


def cleanup(ctx: Context, app: str) -> list[str]:
    """Removes lego's files of certificates the app no longer serves (revoked ones lego archived,
    those of an earlier first domain); returns their names."""
    names = issued_domains(ctx, app)
    if not names:
        raise NotFound("Cannot resolve the 'current' certificate directory!")
    ctx.out.section(f"Cleaning up stale certificate directories for {app}")
    current = lego.certificate_files(order(ctx, app, names))[0].name.removesuffix(".crt")
    lego_dir = ctx.store.path(app, records.LEGO_DIR)
    removed = []
    with ctx.store.lock(app):
        archives = lego_dir / "archives"
        if archives.is_dir() and not archives.is_symlink():
            removed += sorted(f"archives/{p.name}" for p in archives.iterdir())
            shutil.rmtree(archives)
        certificates = lego_dir / "certificates"
        kept = {current + suffix for suffix in lego.CERTIFICATE_SUFFIXES}
        for path in sorted(certificates.iterdir()) if certificates.is_dir() else []:
            if path.name not in kept:
                path.unlink()
                removed.append(f"certificates/{path.name}")
    for name in removed:
        ctx.out.info(f"  - stale {name}")
    return removed


# -- renewal -------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Renewal:
    app: str
    renewed: bool
    error: str = ""


def auto_renew(ctx: Context, app: str, now: Optional[float] = None, limited: bool = False) -> Renewal:
    """Renews the app's certificate when within its grace period of expiry (read under the
    app's lock); any failure, whatever it is, is recorded in `events` and the app's properties,
    and returned, never raised."""
    now = time.time() if now is None else now
    try:
        with ctx.store.lock(app):
            current = expiry(ctx, app)
            if current is None:
                ctx.out.step(f"Letsencrypt not enabled for {app}")
                return Renewal(app, False)
            if not current.due(now):
                ctx.out.info(f"{app} still has {timediff(current.renew_at - int(now))} left before renewal")
                return Renewal(app, False)
            ctx.out.section(f"Auto-renew {app}...")
            check_email(ctx, app)
            _say_not_applied(ctx, app)
            _order(ctx, app, app_domains(ctx, app), limited)
    except Exception as error:  # noqa: BLE001 - one app's failure never stops the others' renewal
        return _renewal_failed(ctx, app, error)
    records.clear_failure(ctx.store, app)
    return Renewal(app, True)


def _renewal_failed(ctx: Context, app: str, error: Exception) -> Renewal:
    text = str(error) if isinstance(error, MinidokkuError) else f"{type(error).__name__}: {error}"
    message = records.printable(text) or type(error).__name__
    records.record_failure(ctx.store, app, int(time.time()), message)
    events.record(ctx.store, events.Event(events.actor(), RENEW_ACTION, app, message, "failed"))
    return Renewal(app, False, message)


def auto_renew_all(ctx: Context, now: Optional[float] = None, deadline: Optional[float] = None) -> list[Renewal]:
    """Every active app, the soonest renewal first (should a rate limit stop the run); past
    deadline (time.monotonic()) the apps left are skipped, each recorded as failed."""
    ctx.out.section("Auto-renewing all apps...")
    done = []
    for entry in expiries(ctx):
        if deadline is not None and time.monotonic() > deadline:
            done.append(_renewal_failed(ctx, entry.app, LetsencryptFailed("skipped: the run took too long")))
        else:
            done.append(auto_renew(ctx, entry.app, now))
    ctx.out.section("Finished auto-renewal")
    return done


def timediff(seconds: int) -> str:
    """The plugin's `1d, 2h, 3m, 4s` (`... ago` when past)."""
    ago, left = seconds < 0, abs(seconds)
    parts = []
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60), ("s", 1)):
        count, left = divmod(left, size)
        if count:
            parts.append(f"{count}{unit}")
    text = ", ".join(parts)
    return f"{text} ago" if ago else text
