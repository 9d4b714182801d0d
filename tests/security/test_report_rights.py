"""Reports a user key asks for: its own app's, never the global properties (`--global`, even
beside its own app's name, which Dokku's reports then leave aside), nor every app's, nor the
victim's (its name anywhere among the words, as Dokku reads them). Each refusal is one clear
line, no output, a `denied` line in the audit trail, and no change."""

import pytest
from security_helpers import VICTIM, assert_refused, events_of, key_with_own_app, quoted, state_of

from minidokku.access.rules import Scope
from minidokku.cli import all_commands

USER = "rita"
OWN = "ritas"
USER_REPORTS = sorted(name for name, c in all_commands().items() if name.endswith(":report") and c.scope is Scope.APP)


@pytest.fixture(scope="module")
def user_key(ssh_client, victim):
    return key_with_own_app(ssh_client, USER, OWN)


@pytest.mark.parametrize("name", USER_REPORTS)
def test_a_user_key_reads_its_own_apps_report(user_key, name):
    result = user_key.ssh(quoted(name, OWN, "--format", "json"))
    assert result.returncode == 0 and result.stdout.startswith("{"), result.stderr


@pytest.mark.parametrize("name", USER_REPORTS)
@pytest.mark.parametrize(
    ("words", "refusal"),
    [
        (["--global"], "{name} is for admin keys only; {user} is a user key"),
        ([OWN, "--global"], "{name} is for admin keys only; {user} is a user key"),
        (["--global", "--format", "json", OWN], "{name} is for admin keys only"),
        ([], "{name} is for admin keys only"),
        (["--format", "json", VICTIM], "App {victim} does not exist"),
        (["--deployed", VICTIM], "App {victim} does not exist"),
    ],
)
def test_a_user_key_is_refused_the_global_every_app_and_another_apps_report(
    platform, engine, user_key, name, words, refusal
):
    before, events_before = state_of(platform, engine), events_of(platform)

    result = user_key.ssh(quoted(name, *words))

    assert_refused(result, refusal.format(name=name, user=USER, victim=VICTIM))
    assert result.stdout == "" and result.stderr.count("\n") == 1, result.stderr
    assert state_of(platform, engine) == before
    added = [line.split("\t")[1:5] for line in events_of(platform)[len(events_before) :]]
    assert [event[:2] + event[3:] for event in added] == [[USER, name, "denied"]], added
