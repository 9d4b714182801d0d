"""certs:show and nginx:access-logs|error-logs for a user key on its own app: the certificate, and
the app's own log file, but never a private key an admin installed, another app's log or a host
file reached through a path an admin set or a link in the app's place."""

import os

import pytest
from security_helpers import VICTIM, assert_refused, key_with_own_app, quoted, state_of

USER = "mallory"
TENANT = "readouts"


@pytest.fixture(scope="module")
def user_key(ssh_client, victim):
    return key_with_own_app(ssh_client, USER, TENANT)


@pytest.fixture
def log_dir(platform):
    return platform.settings()["NGINX_LOG_DIR"]


def test_a_user_key_gets_the_certificate_of_its_app_but_not_the_key_an_admin_installed(platform, engine, user_key):
    platform.dokku("certs:generate", TENANT, f"{TENANT}.example.test")
    before = state_of(platform, engine)

    shown = user_key.ssh(quoted("certs:show", TENANT, "crt"))
    refused = user_key.ssh(quoted("certs:show", TENANT, "key"))

    assert shown.returncode == 0, shown.stderr
    assert shown.stdout == (platform.root / TENANT / "tls" / "server.crt").read_text()
    assert_refused(refused, f"certs:show {TENANT} key is for admin keys only; {USER} is a user key")
    assert "PRIVATE KEY" not in refused.stdout + refused.stderr
    assert state_of(platform, engine) == before
    platform.dokku("certs:remove", TENANT)


@pytest.mark.parametrize("kind", ["access", "error"])
def test_a_path_an_admin_set_never_lets_a_user_key_read_another_app_s_log(platform, engine, user_key, log_dir, kind):
    victim_log = f"{log_dir}/{VICTIM}-{kind}.log"
    with open(victim_log, "a", encoding="utf-8") as file:
        file.write("the victim's secret line\n")
    platform.dokku("nginx:set", TENANT, f"{kind}-log-path", victim_log)
    before = state_of(platform, engine)

    for words in ([f"nginx:{kind}-logs", TENANT], [f"nginx:{kind}-logs", TENANT, "-t"]):
        result = user_key.ssh(quoted(*words))
        assert_refused(result, f"{TENANT}'s nginx {kind} log is at a path an admin set: only admin keys read it")
        assert "secret" not in result.stdout + result.stderr

    assert state_of(platform, engine) == before
    platform.dokku("nginx:set", TENANT, f"{kind}-log-path")


def test_a_link_in_the_app_s_place_is_never_followed_for_a_user_key(platform, engine, user_key, log_dir, tmp_path):
    host_file = tmp_path / "host-secret"
    host_file.write_text("the host's secret line\n")
    link = f"{log_dir}/{TENANT}-access.log"
    os.symlink(host_file, link)
    try:
        before = state_of(platform, engine)
        result = user_key.ssh(quoted("nginx:access-logs", TENANT))
        assert_refused(result, "cannot read")
        assert "secret" not in result.stdout + result.stderr
        assert state_of(platform, engine) == before
    finally:
        os.remove(link)


def test_a_user_key_reads_nothing_of_an_app_not_granted(platform, engine, user_key):
    before = state_of(platform, engine)
    for words in (["nginx:access-logs", VICTIM], ["certs:show", VICTIM, "crt"], ["urls", VICTIM]):
        assert_refused(user_key.ssh(quoted(*words)), f"App {VICTIM} does not exist")
    assert state_of(platform, engine) == before
