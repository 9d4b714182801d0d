"""A user key against Dokku's top-level and admin commands: nginx:start|stop|reload, trace:on|off,
events:list|on|off, report, cleanup and proxy:clear-config --all are for admin keys only (one
` !     ` line, nothing changes, the victim still serves); cleanup, repo:gc and repo:purge-cache
reach its own app only; and an app not granted to it answers exactly as a missing app does
(Dokku's line, exit code 20), so a key learns nothing of the apps it may not see."""

import pytest
from security_helpers import VICTIM, assert_refused, events_of, key_with_own_app, quoted, state_of

USER = "oscar"
TENANT = "oscars"
MISSING = "nosuchapp"

ADMIN_ONLY = [
    ["nginx:start"],
    ["nginx:stop"],
    ["nginx:reload"],
    ["trace:on"],
    ["trace:off"],
    ["events:list"],
    ["events:on"],
    ["events:off"],
    ["report"],
    ["report", "--all"],
    ["report", TENANT],
    ["cleanup"],
    ["proxy:clear-config", "--all"],
]


@pytest.fixture(scope="module")
def user_key(ssh_client, victim):
    return key_with_own_app(ssh_client, USER, TENANT)


@pytest.mark.parametrize("words", ADMIN_ONLY, ids=" ".join)
def test_a_user_key_is_refused_the_admin_commands_in_one_line(platform, engine, user_key, words):
    before, events_before = state_of(platform, engine), events_of(platform)

    result = user_key.ssh(quoted(*words))

    assert_refused(result, f"{words[0]} is for admin keys only; {USER} is a user key")
    assert result.stdout == "" and result.stderr.count("\n") == 1, result.stderr
    assert state_of(platform, engine) == before
    added = [line.split("\t")[1:5] for line in events_of(platform)[len(events_before) :]]
    assert [[actor, action, outcome] for actor, action, _app, outcome in added] == [[USER, words[0], "denied"]]


@pytest.mark.parametrize("words", [["config:show"], ["ps:report"], ["repo:gc"], ["repo:purge-cache"], ["cleanup"]])
def test_an_app_not_granted_answers_exactly_as_a_missing_app(platform, engine, user_key, words):
    before = state_of(platform, engine)

    theirs = user_key.ssh(quoted(*words, VICTIM))
    missing = user_key.ssh(quoted(*words, MISSING))

    assert (theirs.returncode, theirs.stdout, theirs.stderr) == (20, "", f" !     App {VICTIM} does not exist\n")
    assert (missing.returncode, missing.stdout, missing.stderr) == (20, "", f" !     App {MISSING} does not exist\n")
    assert state_of(platform, engine) == before


def test_a_user_key_cleans_up_and_collects_the_garbage_of_its_own_app_only(platform, engine, user_key):
    victim_before = {key: value for key, value in state_of(platform, engine).items() if VICTIM in key}

    for words in (["cleanup", TENANT], ["repo:gc", TENANT], ["repo:purge-cache", TENANT]):
        result = user_key.ssh(quoted(*words))
        assert result.returncode == 0, result.stderr

    assert {key: value for key, value in state_of(platform, engine).items() if VICTIM in key} == victim_before
