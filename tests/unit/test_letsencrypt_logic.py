"""letsencrypt's pure parts: lego's argv and environment, the values letsencrypt:set takes, the
renewal decision, the list's lines, the challenge location in nginx's site, and the cron daemon's
daily renewal switch."""

import contextlib
import datetime
import socket
import subprocess
import threading
import time
import types
from pathlib import Path

import pytest
from click.testing import CliRunner

from minidokku.access import events, rules
from minidokku.build.builders import BuildResult
from minidokku.cli import letsencrypt as cli_letsencrypt
from minidokku.cli.letsencrypt import list_lines
from minidokku.context import Context
from minidokku.errors import MinidokkuError, PermissionDenied, ValidationError
from minidokku.ops import cron as cron_ops
from minidokku.ops import crond, letsencrypt
from minidokku.ops.letsencrypt import Expiry, timediff
from minidokku.output import RecordingOutput
from minidokku.records import letsencrypt as records
from minidokku.records import releases
from minidokku.records.appjson import AppJson
from minidokku.routing import certs, lego, nginx, nginx_settings, proxy
from minidokku.settings import Settings
from minidokku.state import Store, file_lock

ORDER = lego.Order(
    server="https://acme.test/dir",
    email="me@example.com",
    domains=("a.example.com", "b.example.com"),
    path=Path("/home/dokku/app/letsencrypt"),
    webroot=Path("/var/lib/minidokku/letsencrypt/app"),
    extra=("--key-type=rsa2048",),
    ca_bundle="/etc/ca.pem",
    credentials={"CF_API_TOKEN": "secret"},
)


def test_lego_argv_puts_every_value_after_an_equals_sign_and_the_action_last():
    assert lego.argv(ORDER, "run") == [
        "lego", "--accept-tos", "--email=me@example.com", "--server=https://acme.test/dir",
        "--path=/home/dokku/app/letsencrypt", "--cert.timeout=30",
        "--http", "--http.webroot=/var/lib/minidokku/letsencrypt/app",
        "--key-type=rsa2048", "--domains=a.example.com", "--domains=b.example.com", "run",
    ]  # fmt: skip


def test_dns_01_replaces_the_webroot_and_only_then_gets_the_providers_credentials():
    dns = lego.Order(**{**ORDER.__dict__, "dns_provider": "cloudflare"})
    assert "--dns=cloudflare" in lego.argv(dns, "run") and "--http" not in lego.argv(dns, "run")
    assert lego.environment(dns)["CF_API_TOKEN"] == "secret"
    http = lego.environment(ORDER)
    assert set(http) == {"PATH", "HOME", "LEGO_CA_CERTIFICATES"} and http["LEGO_CA_CERTIFICATES"] == "/etc/ca.pem"


def test_the_files_of_the_certificate_are_named_after_its_first_domain():
    wildcard = lego.Order(**{**ORDER.__dict__, "domains": ("*.example.com",)})
    assert lego.certificate_files(wildcard) == (
        ORDER.path / "certificates" / "_.example.com.crt",
        ORDER.path / "certificates" / "_.example.com.key",
    )


def test_legos_error_line_is_its_last_line_without_the_date():
    output = "2026/12/02 10:44:24 Could not obtain certificates:\n\terror: one\n[a.test] acme: error: 403 :: nope\n\n"
    assert lego.error_line(output) == "[a.test] acme: error: 403 :: nope"
    assert lego.error_line("2026/12/02 10:44:24 [INFO] done\n") == "done"


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("email", "-x@example.com", "invalid email"),
        ("email", "--path=/tmp@x", "invalid email"),
        ("email", "a@b.c\nd@e.f", "one line"),
        ("email", "two words@x.y", "invalid email"),
        ("graceperiod", "-5", "number of seconds"),
        ("graceperiod", "0", "number of seconds"),
        ("server", "http://acme.test/dir", "invalid server"),
        ("server", "file:///etc/shadow", "invalid server"),
        ("server", "https://user@acme.test/dir", "invalid server"),
        ("lego-args", "--run-hook=/bin/sh", "not allowed"),
        ("lego-args", "--key-type rsa2048 --path /tmp", "'--path' is not allowed"),
        ("lego-args", "--http.webroot=/etc", "not allowed"),
        ("lego-args", "--key-type", "needs a value"),
        ("lego-args", "'unclosed", "No closing quotation"),
        ("dns-provider", "../bin/sh", "invalid dns-provider"),
        ("dns-provider-PATH=x", "1", "invalid key"),
        ("lego-docker-options", "-v /:/host", "lego runs on the host"),
        ("bogus", "1", "Invalid key specified"),
    ],
)
def test_set_refuses_values_lego_must_never_get(key, value, message):
    with pytest.raises(ValidationError, match=message):
        records.check(key, value, is_global=True)


def test_set_takes_good_values_and_ca_bundle_only_globally(tmp_path):
    assert records.check("email", "o'brien+tls@example.com", False) == "o'brien+tls@example.com"
    assert records.check("server", "staging", False) == "staging"
    assert records.lego_args("--key-type rsa4096 --dns.disable-cp --http-timeout=30") == [
        "--key-type=rsa4096",
        "--dns.disable-cp",
        "--http-timeout=30",
    ]
    bundle = tmp_path / "ca.pem"
    bundle.write_text("x")
    assert records.check("ca-bundle", str(bundle), is_global=True) == str(bundle)
    with pytest.raises(ValidationError, match="only be set with --global"):
        records.check("ca-bundle", str(bundle), is_global=False)
    with pytest.raises(ValidationError, match="is not a file"):
        records.check("ca-bundle", "relative.pem", is_global=True)


def test_computed_values_fall_back_to_the_global_ones_then_the_defaults(tmp_path):
    store = Store(tmp_path)
    assert records.server(store, "app") == records.SERVERS["default"]
    assert records.grace_period(store, "app") == 30 * 86400
    records.put(store, None, "server", "staging")
    records.put(store, None, "graceperiod", "100")
    assert records.server(store, "app") == records.SERVERS["staging"]
    records.put(store, "app", "graceperiod", "200")
    assert records.grace_period(store, "app") == 200 and records.grace_period(store, "other") == 100
    records.put(store, None, "dns-provider-CF_API_TOKEN", "global")
    records.put(store, "app", "dns-provider-CF_API_TOKEN", "own")
    assert records.dns_credentials(store, "app") == {"CF_API_TOKEN": "own"}


def test_a_certificate_is_due_for_renewal_within_its_grace_period_of_expiry():
    entry = Expiry("app", expires=1_000_000, grace_period=1000)
    assert entry.renew_at == 999_000
    assert not entry.due(998_999) and not entry.due(999_000) and entry.due(999_001)


def test_timediff_reads_as_the_plugins():
    assert timediff(90061) == "1d, 1h, 1m, 1s"
    assert timediff(3600) == "1h"
    assert timediff(-86400) == "1d ago"
    assert timediff(0) == ""


def test_the_list_shows_expiry_times_before_renewal_and_the_last_failure(tmp_path):
    ctx = types.SimpleNamespace(store=Store(tmp_path))
    now = 1_800_000_000
    records.record_failure(ctx.store, "b", now - 60, "Failed to setup letsencrypt for b:\n 403")
    lines = list_lines(ctx, [Expiry("b", now + 2 * 86400, 86400), Expiry("a", now + 86400, 3600)], now)
    assert lines[0].startswith("a ") and lines[1].startswith("b ")
    expires = datetime.datetime.fromtimestamp(now + 86400).strftime("%Y-%m-%d %H:%M:%S")
    assert [cell.strip() for cell in lines[0].split("  ") if cell.strip()] == ["a", expires, "1d", "23h", "-"]
    failed_at = datetime.datetime.fromtimestamp(now - 60).strftime("%Y-%m-%d %H:%M:%S")
    assert lines[1].endswith(f"{failed_at}: Failed to setup letsencrypt for b: 403")


def _site(**given) -> nginx.Site:
    defaults = dict(
        app="app",
        domains=["app.example.com"],
        ports=[nginx.PortMap("http", 80, 5000), nginx.PortMap("https", 443, 5000)],
        upstreams={5000: [("127.0.0.1", 32768)]},
        acme_webroot="/var/lib/minidokku/letsencrypt/app",
    )
    return nginx.Site(**{**defaults, **given})


@pytest.mark.parametrize("tls", [None, nginx.Tls("/c.crt", "/c.key", False)])
def test_the_challenge_is_served_from_the_webroot_on_every_http_server_before_any_other_location(tls):
    config = nginx.render(_site(tls=tls, ports=[nginx.PortMap("http", 80, 5000), nginx.PortMap("http", 8080, 5000)]
                                + ([nginx.PortMap("https", 443, 5000)] if tls else [])))  # fmt: skip
    servers = config.split("server {")[1:]
    http = [s for s in servers if " ssl" not in s.split(";")[0]]
    assert len(http) == 2
    for server in http:
        challenge = server.index(
            "location ^~ /.well-known/acme-challenge/ {\n    root /var/lib/minidokku/letsencrypt/app;"
        )
        assert challenge < server.index("location / {")
        assert "disable_symlinks on;" in server
        assert server.count("acme-challenge") == 1
    assert all("acme-challenge" not in s for s in servers if s not in http)


def test_without_letsencrypt_the_challenge_still_goes_to_the_app():
    config = nginx.render(_site(acme_webroot="", tls=nginx.Tls("/c.crt", "/c.key", False)))
    assert "location ^~ /.well-known/acme-challenge/ {\n    proxy_pass" in config
    assert "root " not in config


def test_the_cron_daemon_renews_at_midnight_only_once_the_cron_job_is_added(tmp_path, monkeypatch):
    monkeypatch.setenv("DOKKU_ROOT", str(tmp_path))
    monkeypatch.setenv("MINIDOKKU_NGINX_COMMAND", "false")
    daemon = crond.Daemon(Context(Settings.load(), RecordingOutput()))
    midnight = datetime.datetime(2026, 12, 2, 0, 0)
    assert daemon.renew_certificates(midnight) is None
    records.set_autorenew(daemon.ctx.store, True)
    assert daemon.renew_certificates(midnight.replace(hour=12)) is None
    assert daemon.renew_certificates(midnight.replace(minute=1)) is None
    thread = daemon.renew_certificates(midnight)
    thread.join(10)
    log = (tmp_path / crond.LOG).read_text()
    assert "letsencrypt:auto-renew: =====> Auto-renewing all apps..." in log
    assert "letsencrypt:auto-renew: =====> Finished auto-renewal" in log


@pytest.fixture
def ctx(tmp_path, monkeypatch):
    monkeypatch.setenv("DOKKU_ROOT", str(tmp_path / "root"))
    webroot = tmp_path / "webroot"
    webroot.mkdir(mode=0o755)
    monkeypatch.setenv("MINIDOKKU_ACME_WEBROOT", str(webroot))
    (tmp_path / "root" / "app").mkdir(parents=True)
    return Context(Settings.load(), RecordingOutput())


def test_the_webroot_is_made_of_folders_of_its_own_and_names_its_root(ctx):
    folder = letsencrypt._prepare_webroot(ctx, "app")
    assert (folder / ".well-known" / "acme-challenge").is_dir()
    assert (folder / records.OWNER_FILE).read_text() == f"{ctx.store.root}\n"
    letsencrypt.forget(ctx, "app")
    assert not folder.exists()


@pytest.mark.parametrize("linked", ["app", "app/.well-known", "app/.well-known/acme-challenge"])
def test_a_link_in_the_webroot_is_refused_and_nothing_is_written_through_it(ctx, tmp_path, linked):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    link = Path(ctx.settings.acme_webroot) / linked
    link.parent.mkdir(parents=True, exist_ok=True)
    link.symlink_to(elsewhere)
    with pytest.raises(PermissionDenied, match="not a folder of this user's own"):
        letsencrypt._prepare_webroot(ctx, "app")
    assert list(elsewhere.iterdir()) == []


def test_a_webroot_writable_by_others_or_of_another_root_is_refused_and_kept(ctx, tmp_path):
    folder = Path(ctx.settings.acme_webroot) / "app"
    folder.mkdir()
    (folder / records.OWNER_FILE).write_text("/home/another\n")
    with pytest.raises(PermissionDenied, match="another minidokku root"):
        letsencrypt._prepare_webroot(ctx, "app")
    letsencrypt.forget(ctx, "app")
    assert folder.is_dir(), "another root's webroot stays"
    Path(ctx.settings.acme_webroot).chmod(0o777)
    with pytest.raises(PermissionDenied, match="no one but its owner can write"):
        letsencrypt._prepare_webroot(ctx, "app")


def test_legos_folder_is_never_a_link(ctx, tmp_path):
    (tmp_path / "elsewhere").mkdir()
    ctx.store.path("app", records.LEGO_DIR).symlink_to(tmp_path / "elsewhere")
    with pytest.raises(PermissionDenied):
        letsencrypt._own_folder(ctx.store.app_dir("app"), ctx.store.path("app", records.LEGO_DIR), 0o700)


# -- the review's findings ------------------------------------------------------------------------
MARKER = "f00d"


def _http_server(answer: bytes, endless: bool = False):
    """A loopback server answering each request with answer (then, endless, chunks for ever)."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(8)

    def serve():
        while True:
            client, _ = server.accept()
            client.recv(4096)
            try:
                client.sendall(answer)
                while endless:
                    client.sendall(b"10000\r\n" + b"x" * 65536 + b"\r\n")
            except OSError:
                pass
            client.close()

    threading.Thread(target=serve, daemon=True).start()
    return f"http://127.0.0.1:{server.getsockname()[1]}/.well-known/acme-challenge/p"


def _head(marker: str = MARKER, chunked: bool = True, length: int = 0) -> bytes:
    framing = "Transfer-Encoding: chunked" if chunked else f"Content-Length: {length}"
    return f"HTTP/1.1 200 OK\r\n{records.MARKER_HEADER}: {marker}\r\n{framing}\r\nConnection: close\r\n\r\n".encode()


def test_the_readiness_probe_reads_an_endless_answer_only_up_to_its_length():
    url = _http_server(_head(), endless=True)
    started = time.monotonic()
    assert letsencrypt._answers(url, "a.test", "minidokku-probe-x", MARKER, time.monotonic() + 5) is False
    assert time.monotonic() - started < 3


def test_the_readiness_probe_takes_only_the_answers_of_the_challenge_location_and_no_proxy(monkeypatch):
    monkeypatch.setenv("HTTP_PROXY", "http://127.0.0.1:9")  # nothing listens there
    monkeypatch.setenv("NO_PROXY", "")
    body = b"minidokku-probe-x"
    served = _http_server(_head(chunked=False, length=len(body)) + body)
    assert letsencrypt._answers(served, "a.test", "minidokku-probe-x", MARKER, time.monotonic() + 5)
    app = _http_server(_head(marker="guess", chunked=False, length=len(body)) + body)
    assert not letsencrypt._answers(app, "a.test", "minidokku-probe-x", MARKER, time.monotonic() + 5)


def test_the_challenge_location_adds_the_marker_header():
    config = nginx.render(_site(acme_marker=(records.MARKER_HEADER, MARKER)))
    location = config[config.index("location ^~ /.well-known/acme-challenge/") :]
    assert f"add_header {records.MARKER_HEADER} {MARKER};" in location[: location.index("}")]


def _fake_lego(monkeypatch, tmp_path):
    """lego.run writing a fresh self-signed certificate for the order's first domain."""
    calls = []

    def run(order, action, args=()):
        assert (order.path / "accounts").resolve() == order.path.parents[2] / records.ACCOUNTS_DIR
        calls.append(order)
        crt, key = lego.certificate_files(order)
        crt.parent.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
             "-days", "10", "-subj", f"/CN={order.domains[0]}", "-keyout", str(key), "-out", str(crt)],
            check=True, capture_output=True,
        )  # fmt: skip
        return "ok"

    monkeypatch.setattr(lego, "run", run)
    return calls


def _dns_app(ctx, app="app", tenant=False):
    """An app an admin set up for DNS-01 (no deploy, no webroot needed)."""
    (ctx.store.root / app).mkdir(exist_ok=True)
    ctx.store.write(app, "HEAD", "ref: refs/heads/main\n")
    ctx.store.write_lines(app, "VHOST", [f"{app}.test"])
    records.put(ctx.store, app, "dns-provider", "exec")
    records.put(ctx.store, None, "email", "ops@example.com")
    if tenant:
        rules.grant(ctx.store, app, "trudy")


def test_global_host_side_values_never_reach_a_user_keys_app(ctx, monkeypatch, tmp_path):
    records.put(ctx.store, None, "dns-provider", "exec")
    records.put(ctx.store, None, "dns-provider-EXEC_PATH", "/usr/local/bin/corp-dns-hook")
    records.put(ctx.store, None, "server", "https://acme.corp.test/dir")
    records.put(ctx.store, None, "lego-args", "--key-type rsa2048")
    records.put(ctx.store, None, "email", "ops@example.com")
    rules.grant(ctx.store, "app", "trudy")
    ctx.store.write("app", "HEAD", "ref: refs/heads/main\n")
    ctx.store.write_lines("app", "VHOST", ["www.corp.test"])
    calls = _fake_lego(monkeypatch, tmp_path)
    with pytest.raises(ValidationError):  # HTTP-01 now: the name does not resolve
        letsencrypt.enable(ctx, "app")
    assert calls == []
    not_applied = "Not applied to app (an app granted to a user key): the global server, lego-args, dns-provider, "
    assert f"{not_applied}dns-provider-*; an admin sets them for the app" in "\n".join(ctx.out.lines)
    assert (
        records.dns_credentials(ctx.store, "app") == {}
        and records.server(ctx.store, "app") == records.SERVERS["default"]
    )
    records.put(ctx.store, "app", "dns-provider", "exec")  # what an admin set for this app applies
    letsencrypt.enable(ctx, "app")
    assert "the global server, lego-args, dns-provider-*; an admin" in "\n".join(ctx.out.lines)
    assert "--dns=exec" in lego.argv(calls[0], "run") and "--key-type=rsa2048" not in lego.argv(calls[0], "run")
    assert lego.environment(calls[0]).get("EXEC_PATH") is None
    assert records.dns_credentials(ctx.store, "other") == {"EXEC_PATH": "/usr/local/bin/corp-dns-hook"}


def test_an_install_that_fails_leaves_the_live_files_and_the_app_enabled_and_listed(ctx, monkeypatch, tmp_path):
    _dns_app(ctx)
    _fake_lego(monkeypatch, tmp_path)
    letsencrypt.enable(ctx, "app")
    live = ctx.store.path("app", f"{records.LEGO_DIR}/certificates/app.test.crt")
    before = live.read_bytes()
    assert letsencrypt.is_active(ctx, "app") and not ctx.store.path("app", records.STAGING_DIR).exists()

    def failing_serve(ctx_, app):
        raise MinidokkuError("nginx: reload failed (transient)")

    monkeypatch.setattr(letsencrypt, "_serve", failing_serve)
    with pytest.raises(MinidokkuError):
        letsencrypt.enable(ctx, "app", force=True)
    assert live.read_bytes() == before and certs.paths(ctx.store, "app")[0].read_bytes() == before
    assert not ctx.store.path("app", records.STAGING_DIR).exists(), "the key lego wrote for it is gone"
    assert letsencrypt.is_active(ctx, "app") and [e.app for e in letsencrypt.expiries(ctx)] == ["app"]
    assert "reload failed" in list_lines(ctx, letsencrypt.expiries(ctx), time.time())[0]
    renewal = letsencrypt.auto_renew(ctx, "app", now=4_000_000_000)
    assert renewal.error == "nginx: reload failed (transient)"


def test_the_acme_account_is_the_roots_and_disable_keeps_it(ctx, monkeypatch, tmp_path):
    _dns_app(ctx)
    calls = _fake_lego(monkeypatch, tmp_path)
    letsencrypt.enable(ctx, "app")
    accounts = ctx.store.path(None, records.ACCOUNTS_DIR)
    assert calls[0].path == ctx.store.path("app", records.STAGING_DIR)
    assert ctx.store.path("app", f"{records.LEGO_DIR}/accounts").resolve() == accounts.resolve()
    (accounts / "acme.test").mkdir()
    letsencrypt.disable(ctx, "app")
    assert (accounts / "acme.test").is_dir() and not letsencrypt.is_active(ctx, "app")


def test_a_user_key_orders_at_most_the_weekly_budget_for_an_app(ctx, monkeypatch, tmp_path):
    _dns_app(ctx, tenant=True)
    calls = _fake_lego(monkeypatch, tmp_path)
    for _ in range(records.TENANT_ORDERS):
        letsencrypt.enable(ctx, "app", force=True, limited=True)
    with pytest.raises(PermissionDenied, match="5 certificate orders in the last 7 days"):
        letsencrypt.enable(ctx, "app", force=True, limited=True)
    assert len(calls) == records.TENANT_ORDERS
    letsencrypt.enable(ctx, "app", force=True)  # an admin's order is not limited
    assert len(calls) == records.TENANT_ORDERS + 1
    assert records.orders(ctx.store, "app", time.time() + records.ORDERS_WINDOW + 1) == []


@pytest.mark.parametrize("value", ["³", "1" * 11, "٣"])
def test_graceperiod_takes_ascii_digits_only(value):
    with pytest.raises(ValidationError, match="number of seconds"):
        records.check("graceperiod", value, is_global=False)


def test_a_user_keys_app_is_renewed_at_most_60_days_before_expiry(tmp_path):
    store = Store(tmp_path)
    store.write("app", "HEAD", "x")
    records.put(store, None, "graceperiod", "9999999999")
    assert records.grace_period(store, "app") == 9999999999
    rules.grant(store, "app", "trudy")
    assert records.grace_period(store, "app") == records.MAX_TENANT_GRACE_PERIOD


def test_a_user_key_cannot_set_a_graceperiod_beyond_60_days(ctx, monkeypatch):
    monkeypatch.setenv("NAME", "trudy")
    with pytest.raises(ValidationError, match="at most 5184000 seconds"):
        cli_letsencrypt._set(ctx, "app", "graceperiod", "5184001")
    cli_letsencrypt._set(ctx, "app", "graceperiod", "5184000")
    assert records.own(ctx.store, "app", "graceperiod") == "5184000"


def test_renewal_goes_on_past_an_apps_unexpected_error_and_records_it(ctx, monkeypatch, tmp_path):
    _dns_app(ctx, "one")
    _dns_app(ctx, "two")
    _fake_lego(monkeypatch, tmp_path)
    letsencrypt.enable(ctx, "one")
    letsencrypt.enable(ctx, "two")
    ordered = letsencrypt._order

    def order(ctx_, app, names, limited):
        if app == "one":
            raise MemoryError("probe\x00body")
        ordered(ctx_, app, names, limited)

    monkeypatch.setattr(letsencrypt, "_order", order)
    done = letsencrypt.auto_renew_all(ctx, now=4_000_000_000)
    assert [(r.app, r.renewed, r.error) for r in done] == [("one", False, "MemoryError: probe body"), ("two", True, "")]
    assert [line.split("\t")[2:] for line in events.lines(ctx.store)] == [
        ["letsencrypt:renew", "one", "failed", "MemoryError: probe body"]
    ]
    assert records.failure(ctx.store, "one")[1] == "MemoryError: probe body"


def test_a_run_past_its_deadline_skips_the_apps_left_and_records_them(ctx, monkeypatch, tmp_path):
    _dns_app(ctx)
    calls = _fake_lego(monkeypatch, tmp_path)
    letsencrypt.enable(ctx, "app")
    done = letsencrypt.auto_renew_all(ctx, now=4_000_000_000, deadline=time.monotonic() - 1)
    assert done == [letsencrypt.Renewal("app", False, "skipped: the run took too long")] and len(calls) == 1
    assert records.failure(ctx.store, "app")[1] == "skipped: the run took too long"


def test_an_enabled_app_whose_certificate_cannot_be_read_is_listed_and_renewed(ctx, monkeypatch, tmp_path):
    _dns_app(ctx, "one")
    _dns_app(ctx, "two")
    _fake_lego(monkeypatch, tmp_path)
    letsencrypt.enable(ctx, "one")
    letsencrypt.enable(ctx, "two")
    certs.paths(ctx.store, "one")[0].write_text("garbage")
    assert [(e.app, e.expires) for e in letsencrypt.expiries(ctx)][0] == ("one", 0)
    assert "unknown" in list_lines(ctx, letsencrypt.expiries(ctx), time.time())[0]


def test_a_failure_is_recorded_as_one_printable_line(tmp_path):
    store = Store(tmp_path)
    records.record_failure(store, "app", 1, "lego:\x00 bad\x1b[31m\nthing")
    assert records.failure(store, "app") == (1, "lego: bad [31m thing")


def test_the_cron_daemon_state_is_the_lock_held_or_not(ctx):
    assert cli_letsencrypt.daemon_state(ctx) == "not running"
    with file_lock(ctx.store.path(None, cron_ops.DAEMON_LOCK)):
        assert cli_letsencrypt.daemon_state(ctx) == "running"


def test_a_user_key_sees_no_global_host_side_values_in_the_report(ctx, monkeypatch):
    bundle = Path(ctx.settings.acme_webroot).parent / "ca.pem"
    bundle.write_text("x")
    for key, value in (("server", "https://acme.corp.test/dir"), ("lego-args", "--key-type rsa2048"),
                       ("ca-bundle", str(bundle)), ("dns-provider", "exec"), ("email", "ops@example.com")):  # fmt: skip
        records.put(ctx.store, None, key, value)
    rules.grant(ctx.store, "app", "trudy")

    def shown():
        return {row.flag: row.value() for row in cli_letsencrypt._report_rows(ctx, "app")}

    admin = shown()
    assert admin["--letsencrypt-global-server"] == "https://acme.corp.test/dir"
    monkeypatch.setenv("NAME", "trudy")
    user = shown()
    assert "acme.corp.test" not in str(user) and "rsa2048" not in str(user) and str(bundle) not in str(user)
    assert user["--letsencrypt-global-email"] == "ops@example.com"


def test_the_renewal_reads_the_expiry_under_the_apps_lock(ctx, monkeypatch, tmp_path):
    _dns_app(ctx)
    calls = _fake_lego(monkeypatch, tmp_path)
    letsencrypt.enable(ctx, "app")
    real_lock = ctx.store.lock

    @contextlib.contextmanager
    def lock_after_a_disable(app):
        records.set_enabled(ctx.store, app, False)  # a disable ends while the renewal waits for the lock
        with real_lock(app):
            yield

    monkeypatch.setattr(ctx.store, "lock", lock_after_a_disable)
    assert letsencrypt.auto_renew(ctx, "app", now=4_000_000_000) == letsencrypt.Renewal("app", False)
    assert len(calls) == 1, "nothing ordered for a disabled app"


def test_auto_renew_starts_the_cron_daemon_once_the_cron_job_is_added(ctx, monkeypatch):
    started = []
    monkeypatch.setattr(cron_ops, "start_daemon", lambda ctx_: started.append(ctx_.store.root))
    assert CliRunner().invoke(cli_letsencrypt.auto_renew, [], obj=ctx).exit_code == 0
    assert started == []
    records.set_autorenew(ctx.store, True)
    assert CliRunner().invoke(cli_letsencrypt.auto_renew, [], obj=ctx).exit_code == 0
    assert started == [ctx.store.root]


def test_an_app_served_by_its_own_nginx_template_is_told_http_01_cannot_work(ctx, monkeypatch, tmp_path):
    ctx.store.write("app", "HEAD", "ref: refs/heads/main\n")
    ctx.store.write_lines("app", "VHOST", ["localhost"])
    records.put(ctx.store, None, "email", "ops@example.com")
    build = BuildResult("sha256:one", {"web": "run"}, AppJson(), "", nginx_template="server { }\n")
    releases.save(ctx.store, "app", releases.prepare(ctx.store, "app", "a" * 40, "sha256:one", "Deploy", {}, build))
    calls = _fake_lego(monkeypatch, tmp_path)
    assert not proxy.serves_own_template(ctx, "app"), "ours serves while templates are off for the app"
    nginx_settings.put(ctx.store, "app", nginx_settings.ALLOW_TEMPLATE, "true")
    with pytest.raises(ValidationError, match="is served by its own nginx.conf.template"):
        letsencrypt.enable(ctx, "app")
    assert calls == [] and not letsencrypt.is_active(ctx, "app")
