"""Domains a user key claims: only names nobody else owns or covers.

A user key's own app may not take the victim's name, a name under it, the global domain or a
wildcard over it: each is one clear line, and nothing changes. Its own default name and names
under it stay its own to take.
"""

import pytest
from security_helpers import VICTIM, VICTIM_HOST, assert_refused, key_with_own_app, quoted, state_of

USER = "trudy"
TENANT = "claims"
RULE = "a user key claims only names no other app has or covers"


@pytest.fixture(scope="module")
def user_key(ssh_client, victim):
    return key_with_own_app(ssh_client, USER, TENANT)


@pytest.mark.parametrize("command", ["domains:add", "domains:set"])
@pytest.mark.parametrize(
    ("name", "problem"),
    [
        (VICTIM_HOST, f"{VICTIM_HOST} is a domain of app {VICTIM}"),
        ("*.example.test", "*.example.test covers the global domain example.test"),
        ("example.test", "example.test is the global domain example.test"),
        (f"x.{VICTIM_HOST}", f"x.{VICTIM_HOST} is under app {VICTIM}'s domain {VICTIM_HOST}"),
        (f"*.{VICTIM_HOST}", f"*.{VICTIM_HOST} covers the names under app {VICTIM}'s domain {VICTIM_HOST}"),
        ("*.test", "*.test covers the global domain example.test"),
        (
            "newcomer.example.test",
            f"is under the global domain example.test, where {TENANT} has {TENANT}.example.test and names under it",
        ),
    ],
)
def test_a_user_key_cannot_claim_a_name_another_app_or_the_global_domain_has_or_covers(
    platform, engine, user_key, command, name, problem
):
    before = state_of(platform, engine)

    result = user_key.ssh(quoted(command, TENANT, f"www.{TENANT}.example.test", name))

    assert_refused(result, f"{problem}; {RULE}")
    refusals = [line for line in result.stderr.splitlines() if line.startswith(" !     ")]
    assert len(refusals) == 1, result.stderr
    assert state_of(platform, engine) == before
    report = [" ".join(line.split()) for line in platform.dokku("domains:report", VICTIM).stdout.splitlines()]
    assert f"Domains app vhosts: {VICTIM_HOST}" in report


def test_a_user_key_claims_its_own_default_name_names_under_it_and_free_names(platform, user_key):
    names = [f"{TENANT}.example.test", f"api.{TENANT}.example.test", f"*.{TENANT}.example.test", "claims.io"]
    result = user_key.ssh(quoted("domains:set", TENANT, *names))
    assert result.returncode == 0, result.stderr
    assert (platform.root / TENANT / "VHOST").read_text().split() == names
