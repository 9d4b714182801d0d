"""Global flags sent by a user key: `--app APP` is the command's app and goes through the same
rights check as a positional one, and no global flag puts anything into a command's argv.

The attacker is a user key with an app of its own; the victim is an app of the admin. Each case
is refused with one ` !     ` line and a non-zero exit, changes nothing (state_of), and the
victim serves on (conftest.py). Over ssh a command line starting with a flag follows `--`, as
Dokku's own client sends it (the ssh client would read the flag as its own).
"""

import pytest
from security_helpers import VICTIM, assert_refused, events_of, quoted, state_of

from minidokku.access import rules

ATTACKER = "trudy"
OWN_APP = "trudy-app"
NO_ACCESS = f"App {VICTIM} does not exist"  # as for a missing app: no existence leak


@pytest.fixture(scope="module")
def attacker(ssh_client, victim):
    client = ssh_client.with_key(ATTACKER, rules.USER)
    created = client.ssh(quoted("apps:create", OWN_APP))
    assert created.returncode == 0, created.stderr
    return client


# The same requests with the victim as a positional app and as the global --app: both refused alike.
REQUESTS = {
    "config-show": ["config:show"],
    "config-set": ["config:set", "--no-restart", "STOLEN=1"],
    "destroy": ["apps:destroy", "--force"],
    "ps-stop": ["ps:stop"],
    "report": ["apps:report"],
}


@pytest.mark.parametrize("kind", REQUESTS)
def test_global_app_of_another_tenant_is_refused_as_the_positional_app_is(platform, engine, attacker, kind):
    command, *rest = REQUESTS[kind]
    before, events_before = state_of(platform, engine), events_of(platform)

    positional = attacker.ssh("--", quoted(command, VICTIM, *rest))
    global_app = attacker.ssh("--", quoted("--app", VICTIM, command, *rest))
    forced = attacker.ssh("--", quoted("--force", "--quiet", "--app", VICTIM, command, *rest))

    for result in (positional, global_app, forced):
        assert_refused(result, NO_ACCESS)
        assert result.stderr.count("\n") == 1, result.stderr
    assert state_of(platform, engine) == before
    added = [line.split("\t")[1:5] for line in events_of(platform)[len(events_before) :]]
    assert added == [[ATTACKER, command, VICTIM, "denied"]] * 3


@pytest.mark.parametrize(
    "words, message",
    [
        # --app's value is an app name or nothing: never an option for the command
        (["--app", "--force", "apps:destroy", OWN_APP], "Invalid value for '--app': invalid app name '--force'"),
        (["--app", f"{OWN_APP} --force", "apps:destroy", OWN_APP], "Invalid value for '--app': invalid app name"),
        # the global app is the app: a positional one after it is an extra argument, not a second target
        (["--app", OWN_APP, "apps:destroy", "--force", VICTIM], f"Got unexpected extra argument ({VICTIM})"),
        (["--app", VICTIM, "apps:destroy", "--force", OWN_APP], f"Got unexpected extra argument ({OWN_APP})"),
        # a global flag the dokku command does not have
        (["--global", "config:set", OWN_APP, "X=1"], "No such option '--global'"),
    ],
    ids=["app-is-an-option", "app-with-a-space", "positional-after-own-app", "own-app-after-victim", "unknown-flag"],
)
def test_no_global_flag_smuggles_an_option_or_a_second_app(platform, engine, attacker, words, message):
    before = state_of(platform, engine)

    result = attacker.ssh("--", quoted(*words))

    assert_refused(result, message)
    assert result.stderr.count("\n") == 1, result.stderr
    assert state_of(platform, engine) == before
