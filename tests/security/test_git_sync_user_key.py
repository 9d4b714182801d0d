"""git:sync by a user key: the host fetches a repository the key names, so the name is hostile.

The attacker is a user key granted its own app (an admin's, granted with acl:add) and not the
victim. It tries to make the host read its own files (file://, a path), its own services (a
loopback server standing in for an admin port; the cloud metadata address), run a command (git's
ext:: transport, `--upload-pack`), or sync into the victim. Each attempt is one ` !     ` line and
a non-zero exit, changes no file under the root and no container, and the loopback server is
asked nothing. An admin's sync into the tenant's app follows the same rules.
"""

import pytest
from security_helpers import VICTIM, assert_refused, quoted, server_head, state_of
from servers import RecordingServer

from minidokku.access import rules

USER = "mallory"
OWN = "mallorys-synced"
TENANT_ONLY_HTTPS = "is not allowed for a tenant app: only https:// repositories"
PUBLIC_ONLY = "a tenant app's URLs must reach public addresses only"


@pytest.fixture(scope="module")
def tenant(platform, ssh_client, victim):
    client = ssh_client.with_key(USER, rules.USER)
    platform.dokku("apps:create", OWN)
    platform.dokku("acl:add", OWN, USER)
    return client


@pytest.fixture
def loopback_service():
    with RecordingServer("127.0.0.1") as server:
        yield server


def refused(platform, engine, client, words: tuple[str, ...], message: str):
    """Runs words over ssh: refused with one line naming message, nothing changed; the result."""
    before, heads = state_of(platform, engine), (server_head(platform, OWN), server_head(platform, VICTIM))
    result = client.ssh(quoted(*words))
    assert_refused(result, message)
    assert len(result.stderr.splitlines()) == 1, result.stderr
    assert state_of(platform, engine) == before
    assert (server_head(platform, OWN), server_head(platform, VICTIM)) == heads
    return result


@pytest.mark.parametrize(
    ("repository", "message"),
    [
        ("file://{root}/{victim}", TENANT_ONLY_HTTPS),
        ("file:///home/dokku/{victim}", TENANT_ONLY_HTTPS),
        ("{root}/{victim}", TENANT_ONLY_HTTPS),
        ("ssh://dokku@127.0.0.1/{victim}", TENANT_ONLY_HTTPS),
        ("dokku@127.0.0.1:{victim}", TENANT_ONLY_HTTPS),
        ("http://example.com/app.git", TENANT_ONLY_HTTPS),
        ("ext::sh -c touch% /tmp/owned-by-sync", "holds spaces or control characters"),
        ("ext::sh", "git transport helpers (ext::, fd::) never run"),
        ("https://169.254.169.254/latest/meta-data/", f"(such as the cloud metadata service): {PUBLIC_ONLY}"),
        ("https://[::1]/victim.git", f"a loopback address: {PUBLIC_ONLY}"),
        ("https://[::ffff:169.254.169.254]/victim.git", "(as 169.254.169.254)"),
        ("https://10.0.0.1/victim.git", f"a private address: {PUBLIC_ONLY}"),
    ],
)  # fmt: skip
def test_a_user_key_cannot_sync_from_the_hosts_files_or_addresses(platform, engine, tenant, repository, message):
    repository = repository.format(root=platform.root, victim=VICTIM)
    refused(platform, engine, tenant, ("git:sync", "--build", OWN, repository), message)


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "2130706433"])
def test_a_user_key_cannot_make_the_host_ask_its_loopback_services(platform, engine, tenant, loopback_service, host):
    url = f"https://{host}:{loopback_service.port}/victim.git"
    refused(platform, engine, tenant, ("git:sync", "--build", OWN, url), f"a loopback address: {PUBLIC_ONLY}")
    assert loopback_service.connections == 0, loopback_service.requests


@pytest.mark.parametrize(
    ("words", "message"),
    [
        (("git:sync", OWN, "--upload-pack=touch /tmp/owned-by-sync"), "No such option"),
        (("git:sync", OWN, "--", "--upload-pack=touch /tmp/owned-by-sync"), "holds spaces"),
        (("git:sync", OWN, "--", "--upload-pack=id"), "starts with a dash"),
        (("git:sync", OWN, "https://example.com/app.git", "--", "--upload-pack=id"), "invalid branch name"),
        (("git:sync", OWN, "https://example.com/app.git", "--", "a..b"), "invalid branch name"),
    ],
)
def test_option_like_words_never_reach_git(platform, engine, tenant, words, message):
    refused(platform, engine, tenant, words, message)


def test_a_user_key_cannot_sync_into_an_app_not_granted_to_it(platform, engine, tenant):
    words = ("git:sync", "--build", VICTIM, "https://example.com/app.git")
    refused(platform, engine, tenant, words, VICTIM)  # named as not granted, or as missing: the rights check's words


def test_an_admins_sync_into_the_tenants_app_follows_the_tenant_rules(platform, engine, ssh_client, tenant):
    words = ("git:sync", OWN, f"file://{platform.root}/{VICTIM}")
    refused(platform, engine, ssh_client, words, TENANT_ONLY_HTTPS)


def test_an_admin_cannot_sync_from_a_local_repository_or_an_unknown_ssh_host_either(platform, engine, ssh_client):
    for words, message in [
        (("git:sync", VICTIM, f"file://{platform.root}/{VICTIM}"), "is not a repository git:sync fetches"),
        (("git:sync", VICTIM, "dokku@127.0.0.1:victim"), "127.0.0.1 is not a known host"),
    ]:
        refused(platform, engine, ssh_client, words, message)


@pytest.mark.parametrize(
    "words", [("git:allow-host", "github.com"), ("apps:set", "--global", "disable-autocreation", "true")]
)
def test_a_user_key_is_refused_what_touches_the_host(platform, engine, tenant, words):
    refused(platform, engine, tenant, words, f"{words[0]} is for admin keys only; {USER} is a user key")
