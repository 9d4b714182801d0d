"""apps:rename and apps:clone from a user key, onto names it must not take.

The user key has an app of its own (created within its quota). Renaming or cloning it onto the
victim's name, onto a name whose default domain is another app's domain, or onto a name that is
not a name must each be refused with one clear line, changing nothing.
"""

import pytest
from security_helpers import VICTIM, assert_refused, quoted, state_of

from minidokku.access import rules

USER = "mallory"
TENANT = "mallorys"
SHOP = "shop"  # an admin's app answering at www.example.test: the default domain of an app "www"


@pytest.fixture(scope="module")
def user_key(platform, ssh_client, victim):
    platform.dokku("apps:create", SHOP)
    platform.dokku("domains:set", SHOP, "www.example.test")
    key = ssh_client.with_key(USER, rules.USER)
    created = key.ssh(quoted("apps:create", TENANT))
    assert created.returncode == 0, created.stderr
    return key


@pytest.mark.parametrize("command", ["apps:rename", "apps:clone"])
@pytest.mark.parametrize(
    ("new", "problem"),
    [
        (VICTIM, f"Name is already taken: {VICTIM}"),
        (SHOP, f"Name is already taken: {SHOP}"),
        ("www", f"www.example.test is a domain of app {SHOP}"),
        ("../x", "invalid app name '../x'"),
        ("tls", "invalid app name 'tls': the name is reserved"),
    ],
)
def test_a_user_key_cannot_rename_or_clone_its_app_onto_a_name_it_must_not_take(
    platform, engine, user_key, command, new, problem
):
    before = state_of(platform, engine)

    result = user_key.ssh(quoted(command, TENANT, new))

    assert_refused(result, problem)
    assert len([line for line in result.stderr.splitlines() if line.startswith(" !     ")]) == 1, result.stderr
    assert state_of(platform, engine) == before


def test_a_user_key_cannot_rename_or_clone_the_victim(platform, engine, user_key):
    before = state_of(platform, engine)
    for command in ["apps:rename", "apps:clone"]:
        result = user_key.ssh(quoted(command, VICTIM, "mine"))
        assert_refused(result, f"App {VICTIM} does not exist")
    assert state_of(platform, engine) == before


def test_a_user_keys_rename_keeps_its_grant_and_its_clone_is_its_own(platform, user_key):
    renamed = user_key.ssh(quoted("apps:rename", TENANT, "mallorys-new"))
    assert renamed.returncode == 0, renamed.stderr
    cloned = user_key.ssh(quoted("apps:clone", "mallorys-new", "mallorys-copy"))
    assert cloned.returncode == 0, cloned.stderr
    listed = user_key.ssh(quoted("apps:list")).stdout.split()
    assert "mallorys-new" in listed and "mallorys-copy" in listed and TENANT not in listed
    assert (platform.root / "mallorys-copy" / rules.ACL_FILE).read_text() == f"{USER}\n"
