"""git:set deploy-branch against a user key granted the victim app: it may choose its own app's
deploy branch, never the global one (`--global` is for admin keys only, whatever follows it), and
a branch name that reads as an option or is no branch is one clear line that changes nothing."""

import pytest
from security_helpers import VICTIM, assert_refused, events_of, quoted, state_of

from minidokku.access import rules

USER = "mallory"

GLOBAL_ATTEMPTS = [
    ("git:set", "--global", "deploy-branch", "evil"),
    ("git:set", "--global", VICTIM, "deploy-branch", "evil"),
    ("git:report", "--global"),
]


@pytest.fixture(scope="module")
def user_key(platform, ssh_client, victim):
    client = ssh_client.with_key(USER, rules.USER)
    platform.dokku("acl:add", VICTIM, USER)
    return client


@pytest.mark.parametrize("words", GLOBAL_ATTEMPTS, ids=[" ".join(words) for words in GLOBAL_ATTEMPTS])
def test_a_user_key_is_refused_the_global_deploy_branch(platform, engine, user_key, words):
    before, events_before = state_of(platform, engine), events_of(platform)

    result = user_key.ssh(quoted(*words))

    assert_refused(result, f"{words[0]} is for admin keys only; {USER} is a user key")
    assert result.stdout == ""
    assert state_of(platform, engine) == before
    added = [line.split("\t")[1:] for line in events_of(platform)[len(events_before) :]]
    assert added == [[USER, words[0], "-", "denied", ""]]


@pytest.mark.parametrize("branch", ["--upload-pack=touch /tmp/owned", "-x", "a..b", "HEAD", "x:y"])
def test_a_bad_branch_name_is_one_line_and_changes_nothing(platform, engine, user_key, branch):
    before = state_of(platform, engine)

    result = user_key.ssh(quoted("git:set", VICTIM, "deploy-branch", "--", branch))

    assert_refused(result, "invalid branch name")
    assert len(result.stderr.splitlines()) == 1, result.stderr
    assert state_of(platform, engine) == before


def test_a_user_key_chooses_its_own_apps_deploy_branch(platform, user_key):
    chosen = user_key.ssh(quoted("git:set", VICTIM, "deploy-branch", "production"))
    assert chosen.returncode == 0, chosen.stderr
    assert user_key.ssh(quoted("git:report", VICTIM, "--git-deploy-branch")).stdout == "production\n"
    assert user_key.ssh(quoted("git:set", VICTIM, "deploy-branch")).returncode == 0
    assert platform.dokku("git:report", VICTIM, "--git-deploy-branch").stdout == "main\n"
