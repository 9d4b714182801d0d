"""letsencrypt:* against a user key with an app of its own. What it sends ends up in lego's argv
and environment, run on the host as the dokku user, and in what the host fetches (the ACME
server): so a user key sets only email and graceperiod of its own apps, checked; the server (a
fetch from the host: SSRF), lego-args, the DNS provider and its credentials, the CA bundle,
anything --global, the list of every app, the cron job and the renewal of every app are refused
with one line that changes nothing, as is every command on another app."""

import pytest
from security_helpers import VICTIM, key_with_own_app, quoted, refused_without_change, state_of

USER = "trudy"
OWN = "trudys-tls"


@pytest.fixture(scope="module")
def user_key(ssh_client, victim):
    return key_with_own_app(ssh_client, USER, OWN)


ADMIN_ONLY = "is for admin keys only"


@pytest.mark.parametrize(
    ("words", "message"),
    [
        (("letsencrypt:enable", VICTIM), f"App {VICTIM} does not exist"),
        (("letsencrypt:disable", VICTIM), f"App {VICTIM} does not exist"),
        (("letsencrypt:revoke", VICTIM), f"App {VICTIM} does not exist"),
        (("letsencrypt:cleanup", VICTIM), f"App {VICTIM} does not exist"),
        (("letsencrypt:auto-renew", VICTIM), f"App {VICTIM} does not exist"),
        (("letsencrypt:active", VICTIM), f"App {VICTIM} does not exist"),
        (("letsencrypt:report", VICTIM), f"App {VICTIM} does not exist"),
        (("letsencrypt:set", VICTIM, "email", "me@evil.test"), f"App {VICTIM} does not exist"),
        (("letsencrypt:auto-renew",), f"letsencrypt:auto-renew {ADMIN_ONLY}"),
        (("letsencrypt:list",), f"letsencrypt:list {ADMIN_ONLY}"),
        (("letsencrypt:cron-job", "--add"), f"letsencrypt:cron-job {ADMIN_ONLY}"),
        (("letsencrypt:report", "--global"), f"letsencrypt:report {ADMIN_ONLY}"),
        (("letsencrypt:set", "--global", "email", "me@evil.test"), f"letsencrypt:set {ADMIN_ONLY}"),
        (("letsencrypt:set", "--global", "ca-bundle", "/etc/shadow"), f"letsencrypt:set {ADMIN_ONLY}"),
        (("letsencrypt:set", OWN, "server", "https://169.254.169.254/latest"), f"letsencrypt:set server {ADMIN_ONLY}"),
        (("letsencrypt:set", OWN, "lego-args", "--run-hook=/bin/sh"), f"letsencrypt:set lego-args {ADMIN_ONLY}"),
        (("letsencrypt:set", OWN, "dns-provider", "exec"), f"letsencrypt:set dns-provider {ADMIN_ONLY}"),
        (("letsencrypt:set", OWN, "dns-provider-EXEC_PATH", "/bin/sh"),
         f"letsencrypt:set dns-provider-EXEC_PATH {ADMIN_ONLY}"),
        (("letsencrypt:set", OWN, "ca-bundle", "/etc/shadow"), f"letsencrypt:set ca-bundle {ADMIN_ONLY}"),
        (("letsencrypt:set", OWN, "email", "--path=/tmp/x@evil.test"), "invalid email"),
        (("letsencrypt:set", OWN, "email", "me@evil.test\nroot@evil.test"), "the email value is one line"),
        (("letsencrypt:set", OWN, "graceperiod", "-1"), "graceperiod is a number of seconds"),
        (("letsencrypt:set", OWN, "graceperiod", "³"), "graceperiod is a number of seconds"),
        (("letsencrypt:set", OWN, "graceperiod", "5184001"), "graceperiod is at most 5184000 seconds"),
        (("letsencrypt:enable", OWN, "--force"), "letsencrypt:enable --force is for admin keys only"),
    ],
)  # fmt: skip
def test_another_app_the_host_side_settings_and_global_commands_are_refused(platform, engine, user_key, words, message):
    refused_without_change(platform, engine, user_key, words, message)


def test_its_own_app_takes_email_and_graceperiod_and_lego_never_ran(platform, engine, user_key):
    for words in (
        ("letsencrypt:set", OWN, "email", "me@tenant.test"),
        ("letsencrypt:set", OWN, "graceperiod", "86400"),
    ):
        result = user_key.ssh(quoted(*words))
        assert result.returncode == 0, result.stderr
    before = state_of(platform, engine)
    result = user_key.ssh(quoted("letsencrypt:enable", OWN))
    assert result.returncode == 1 and " !     " in result.stderr and "Traceback" not in result.stderr
    assert not (platform.root / OWN / "letsencrypt").exists(), "nothing was ordered for an app never deployed"
    failure = f"{OWN}/properties/letsencrypt"
    assert "does not resolve" in (platform.root / failure).read_text(), "the failure is recorded for its report"
    after = state_of(platform, engine)
    assert {k: v for k, v in after.items() if k != failure} == {k: v for k, v in before.items() if k != failure}


def test_the_admins_global_host_side_values_are_neither_shown_to_nor_used_for_its_app(platform, user_key, tmp_path):
    bundle = tmp_path / "corp-ca.pem"
    bundle.write_text("not read\n")
    admin_set = {"server": "https://acme.corp.test/dir", "lego-args": "--key-type rsa2048", "ca-bundle": str(bundle)}
    for key, value in admin_set.items():
        platform.dokku("letsencrypt:set", "--global", key, value)
    try:
        report = user_key.ssh(quoted("letsencrypt:report", OWN))
        assert report.returncode == 0, report.stderr
        assert all(value not in report.stdout for value in admin_set.values()), report.stdout
        assert records_server(report.stdout) == "https://acme-v02.api.letsencrypt.org/directory"
        enabled = user_key.ssh(quoted("letsencrypt:enable", OWN))
        assert enabled.returncode == 1
        assert f"Not applied to {OWN} (an app granted to a user key): the global server, lego-args" in enabled.stdout
    finally:
        for key in admin_set:
            platform.dokku("letsencrypt:set", "--global", key)


def records_server(report: str) -> str:
    """The report's `Letsencrypt computed server:` value."""
    line = next(line for line in report.splitlines() if "Letsencrypt computed server:" in line)
    return line.split(":", 1)[1].strip()
