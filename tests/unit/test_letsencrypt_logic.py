"""letsencrypt's pure parts: lego's argv and environment, the values letsencrypt:set takes, the
renewal decision, the list's lines, the challenge location in nginx's site, and the cron daemon's
daily renewal switch."""

import datetime
import types
from pathlib import Path

import pytest

from minidokku.cli.letsencrypt import list_lines
from minidokku.context import Context
from minidokku.errors import PermissionDenied, ValidationError
from minidokku.ops import crond, letsencrypt
from minidokku.ops.letsencrypt import Expiry, timediff
from minidokku.output import RecordingOutput
from minidokku.records import letsencrypt as records
from minidokku.routing import lego, nginx
from minidokku.settings import Settings
from minidokku.state import Store

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
