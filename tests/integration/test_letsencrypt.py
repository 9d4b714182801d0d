"""letsencrypt:* against a real ACME server on loopback (pebble, tests/acme_server.py), with a
deployed app behind the platform's real nginx: issue and serve https (pebble's root trusted),
renew with no failed request, renew from the cron daemon, revoke, a failing challenge that leaves
the old certificate serving, disable back to the app's own certificate, and the clear error of a
name that does not resolve."""

import datetime
import shutil
import subprocess
import threading
import time
from pathlib import Path

import pytest
import requests
from acme_server import resolving, start, webroot_folder
from helpers import APPS, make_git_repo, wait_until_serving

from minidokku.context import Context
from minidokku.ops import cron as cron_ops
from minidokku.ops import crond
from minidokku.output import RecordingOutput
from minidokku.records import letsencrypt as records
from minidokku.settings import Settings
from minidokku.state import file_lock

EMAIL = "admin@example.com"


@pytest.fixture
def acme(platform, tmp_path):
    """pebble checking HTTP-01 through the platform's nginx, set as the global server."""
    server = start(tmp_path / "pebble", platform.http_port)
    webroot = webroot_folder()
    with open(platform.root / "SETTINGS", "a") as settings:
        settings.write(f"export ACME_WEBROOT='{webroot}'\n")
    platform.dokku("letsencrypt:set", "--global", "server", server.directory)
    platform.dokku("letsencrypt:set", "--global", "ca-bundle", str(server.ca))
    platform.dokku("letsencrypt:set", "--global", "email", EMAIL)
    try:
        yield server
    finally:
        server.stop()
        shutil.rmtree(webroot, ignore_errors=True)


def deploy(platform, tmp_path, app):
    repo = make_git_repo(tmp_path / app, APPS / "headers")
    platform.dokku("apps:create", app)
    pushed = platform.push(repo, app)
    assert pushed.returncode == 0, pushed.stderr
    wait_until_serving(platform, f"{app}.example.test", "headers\n", prefix=True)


def serial_for(platform, host) -> str:
    """The serial nginx serves for host (SNI host), read with openssl s_client."""
    result = subprocess.run(
        ["openssl", "s_client", "-connect", f"127.0.0.1:{platform.https_port}", "-servername", host],
        input="",
        capture_output=True,
        text=True,
        timeout=20,
    )
    serial = subprocess.run(
        ["openssl", "x509", "-noout", "-serial"], input=result.stdout, capture_output=True, text=True
    )
    return serial.stdout.strip().removeprefix("serial=")


def serial_becomes(platform, host, wanted, timeout=10) -> str:
    """The serial served once wanted(serial) holds: a reload takes effect a moment after the
    command returns (the old workers answer until then)."""
    deadline = time.monotonic() + timeout
    while True:
        serial = serial_for(platform, host)
        if wanted(serial) or time.monotonic() > deadline:
            return serial
        time.sleep(0.1)


def https(platform, host, root, path="/"):
    return requests.get(f"https://{host}:{platform.https_port}{path}", verify=str(root), timeout=10)


def https_once_listening(platform, host, root, timeout=10):
    """The first https answer: the reload that adds the https port takes effect a moment after the
    command returns (nginx's master opens the port when it gets to the signal)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            return https(platform, host, root)
        except requests.ConnectionError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


class Loop(threading.Thread):
    """GETs over https with pebble's root trusted until stopped; counts what failed."""

    def __init__(self, platform, host, root):
        super().__init__(daemon=True)
        self.args_ = (platform, host, root)
        self.done, self.failed = 0, []
        self.stopping = threading.Event()

    def run(self):
        while not self.stopping.is_set():
            try:
                response = https(*self.args_)
                if response.status_code != 200:
                    self.failed.append(response.status_code)
            except requests.RequestException as error:
                self.failed.append(repr(error))
            self.done += 1

    def stop(self):
        self.stopping.set()
        self.join(20)


@pytest.fixture
def ctx(platform, monkeypatch):
    monkeypatch.setenv("DOKKU_ROOT", str(platform.root))
    return Context(Settings.load(), RecordingOutput())


def test_enable_serves_https_renews_without_a_failed_request_renews_from_cron_and_revokes(
    platform, tmp_path, acme, ctx
):
    app, host = "lesecure", "lesecure.example.test"
    with resolving(host):
        deploy(platform, tmp_path, app)
        assert platform.dokku("letsencrypt:active", app).stdout == "false\n"

        started = time.monotonic()
        enabled = platform.dokku("letsencrypt:enable", app)
        root = acme.root(tmp_path)
        assert https_once_listening(platform, host, root).text.startswith("headers"), "served with pebble's chain"
        print(f"\nletsencrypt:enable to https serving: {time.monotonic() - started:.2f} s")
        assert "Certificate retrieved successfully." in enabled.stdout
        assert platform.dokku("letsencrypt:active", app).stdout == "true\n"
        first = serial_for(platform, host)
        assert acme.status(first) == "Valid"
        listed = platform.dokku("letsencrypt:list").stdout.splitlines()
        assert listed[0].split()[:3] == ["----->", "App", "name"]
        assert listed[1].split()[0] == app and listed[1].rstrip().endswith("-")
        report = platform.dokku("letsencrypt:report", app, "--format", "json").stdout
        assert '"active":"true"' in report and f'"computed-email":"{EMAIL}"' in report
        skipped = platform.dokku("letsencrypt:enable", app).stdout
        assert "Certificate is still valid" in skipped and serial_for(platform, host) == first

        # nginx's challenge location marks its answers (the readiness probe takes no other); the app's carry no mark
        check = Path(ctx.settings.acme_webroot) / app / ".well-known" / "acme-challenge" / "check"
        check.write_text("check")
        try:
            served = requests.get(f"http://127.0.0.1:{platform.http_port}/.well-known/acme-challenge/check",
                                  headers={"Host": host}, allow_redirects=False, timeout=5)  # fmt: skip
        finally:
            check.unlink()
        assert (served.text, served.headers.get(records.MARKER_HEADER)) == ("check", records.marker(ctx.store))
        from_app = https(platform, host, root)
        assert records.MARKER_HEADER not in from_app.headers

        # renewal, forced by a grace period longer than the certificate's life, under load
        platform.dokku("letsencrypt:set", app, "graceperiod", str(20 * 365 * 86400))
        loop = Loop(platform, host, root)
        loop.start()
        time.sleep(0.5)
        renewed = platform.dokku("letsencrypt:auto-renew", app)
        time.sleep(1)
        loop.stop()
        second = serial_becomes(platform, host, lambda serial: serial != first)
        assert second != first, renewed.stdout
        assert loop.failed == [] and loop.done > 10, (loop.failed, loop.done)
        print(f"renewal under load: {loop.done} requests, {len(loop.failed)} failed")

        # the daily renewal of the cron daemon (letsencrypt:cron-job --add), at midnight
        with file_lock(ctx.store.path(None, cron_ops.DAEMON_LOCK)):  # no daemon of the platform's own
            platform.dokku("letsencrypt:cron-job", "--add")
            midnight = datetime.datetime.now().replace(hour=0, minute=0, second=0, microsecond=0)
            daemon = crond.Daemon(ctx)
            assert daemon.renew_certificates(midnight.replace(hour=12)) is None, "once a day, at midnight"
            for thread in daemon.tick(midnight.timestamp()):
                thread.join(120)
        third = serial_becomes(platform, host, lambda serial: serial not in (first, second))
        assert third not in (first, second), (platform.root / ".cron" / "LOG").read_text()
        assert "letsencrypt:auto-renew" in (platform.root / ".cron" / "LOG").read_text()
        assert https(platform, host, root).status_code == 200

        revoked = platform.dokku("letsencrypt:revoke", app)
        assert "Certificate revoked successfully." in revoked.stdout
        assert acme.status(third) == "Revoked"
        assert platform.dokku("letsencrypt:active", app).stdout == "false\n"
        assert platform.dokku("certs:report", app, "--ssl-enabled").stdout == "false\n"
        wait_until_serving(platform, host, "headers\n", prefix=True)
        cleaned = platform.dokku("letsencrypt:cleanup", app).stdout
        assert "stale archives/" in cleaned


def test_a_failing_challenge_keeps_the_certificate_serving_is_recorded_and_disable_restores_the_own_one(
    platform, tmp_path, acme
):
    app, host = "lefail", "lefail.example.test"
    with resolving(host):
        deploy(platform, tmp_path, app)
        platform.dokku("certs:generate", app, host)
        own = serial_becomes(platform, host, lambda serial: len(serial) == 40)  # certs:generate's: 20 bytes
        platform.dokku("letsencrypt:enable", app)
        issued = serial_becomes(platform, host, lambda serial: serial != own)
        assert issued != own

        # pebble checks HTTP-01 on a port where nothing listens
        broken = start(tmp_path / "broken", http_port=1)
        try:
            platform.dokku("letsencrypt:set", app, "server", broken.directory)
            failed = platform.dokku("letsencrypt:enable", "--force", app, check=False)
        finally:
            broken.stop()
        assert failed.returncode == 1
        assert failed.stderr.startswith(" !     Failed to setup letsencrypt for lefail: ")
        assert serial_for(platform, host) == issued, "the certificate before still serves"
        root = acme.root(tmp_path)
        assert https(platform, host, root).status_code == 200
        events = (platform.root / "EVENTS").read_text().splitlines()
        assert any("letsencrypt:enable\tlefail\tfailed" in line for line in events)
        listed = platform.dokku("letsencrypt:list").stdout
        assert "Failed to setup letsencrypt" in listed
        assert "Failed to setup" in platform.dokku("letsencrypt:report", app, "--letsencrypt-last-failure").stdout

        # a failed renewal by auto-renew is in events as a renewal
        platform.dokku("letsencrypt:set", app, "graceperiod", str(20 * 365 * 86400))
        platform.dokku("letsencrypt:set", app, "server", "https://127.0.0.1:1/dir")
        assert platform.dokku("letsencrypt:auto-renew", app, check=False).returncode == 1
        events = (platform.root / "EVENTS").read_text().splitlines()
        assert any("\tletsencrypt:renew\tlefail\tfailed\t" in line for line in events)
        assert serial_for(platform, host) == issued

        disabled = platform.dokku("letsencrypt:disable", app).stdout
        assert "Putting back the certificate lefail had before letsencrypt:enable" in disabled
        assert serial_becomes(platform, host, lambda serial: serial == own) == own, "its own certificate again"
        assert platform.dokku("letsencrypt:active", app).stdout == "false\n"

        # nginx cannot answer the challenge: said before lego asks for anything
        certificate = (platform.root / app / "tls" / "server.crt").read_text()
        platform.dokku("letsencrypt:set", app, "server", "")
        platform.dokku("proxy:disable", app)
        refused = platform.dokku("letsencrypt:enable", app, check=False)
        assert refused.returncode == 1
        assert refused.stderr.startswith(
            f" !     nginx does not answer http://{host}:{platform.http_port}/.well-known/"
        )
        assert (platform.root / app / "tls" / "server.crt").read_text() == certificate


def test_dns_01_orders_a_wildcard_through_the_providers_program_without_a_deploy(platform, tmp_path, acme):
    """lego's `exec` provider: its program (an admin's dns-provider-EXEC_PATH) puts the TXT record
    into pebble-challtestsrv's DNS, where pebble looks."""
    app = "lewild"
    program = tmp_path / "dns-record"
    program.write_text(
        "#!/bin/sh\n"
        f"url=http://127.0.0.1:{acme.challenges}\n"
        'case "$1" in\n'
        '  present) curl -fsS -d "{\\"host\\":\\"$2\\",\\"value\\":\\"$3\\"}" "$url/set-txt" ;;\n'
        '  cleanup) curl -fsS -d "{\\"host\\":\\"$2\\"}" "$url/clear-txt" ;;\n'
        "esac\n"
    )
    program.chmod(0o755)
    platform.dokku("apps:create", app)
    platform.dokku("domains:set", app, "*.lewild.example.test")
    platform.dokku("letsencrypt:set", app, "dns-provider", "exec")
    platform.dokku("letsencrypt:set", app, "dns-provider-EXEC_PATH", str(program))
    platform.dokku("letsencrypt:set", app, "lego-args", f"--dns.disable-cp --dns.resolvers=127.0.0.1:{acme.dns}")

    enabled = platform.dokku("letsencrypt:enable", app)

    assert "Getting letsencrypt certificate for lewild via DNS-01 (exec)" in enabled.stdout
    assert platform.dokku("letsencrypt:active", app).stdout == "true\n"
    assert platform.dokku("certs:report", app, "--ssl-hostnames").stdout == "*.lewild.example.test\n"
    assert "EXEC_PATH" not in platform.dokku("letsencrypt:report", app).stdout, "credentials are not shown"


def test_a_name_that_does_not_resolve_is_named_and_nothing_changes(platform, acme):
    platform.dokku("apps:create", "lenowhere")
    platform.dokku("domains:add", "lenowhere", "lenowhere.invalid")
    result = platform.dokku("letsencrypt:enable", "lenowhere", check=False)
    assert result.returncode == 1
    assert result.stderr.startswith(" !     lenowhere.example.test does not resolve") or result.stderr.startswith(
        " !     lenowhere.invalid does not resolve"
    )
    assert not (platform.root / "lenowhere" / "tls").exists()
