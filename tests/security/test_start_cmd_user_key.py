"""`ps:set APP start-cmd|dockerfile-start-cmd` against a user key with an app of its own: the value
is what the app's own containers run (its own code, as its Procfile is), so the key may set it on
its app; `--global`, another app, and a value that is not one bounded line (or, for
dockerfile-start-cmd, cannot be split into words) are refused with one line that changes nothing."""

import pytest
from security_helpers import VICTIM, assert_refused, quoted, state_of

from minidokku.access import rules

USER = "mallory"
OWN = "mallorys-start"


@pytest.fixture(scope="module")
def user_key(ssh_client, victim):
    key = ssh_client.with_key(USER, rules.USER)
    created = key.ssh(quoted("apps:create", OWN))
    assert created.returncode == 0, created.stderr
    return key


@pytest.mark.parametrize(
    ("words", "message"),
    [
        (("ps:set", "--global", "start-cmd", "sh -c id"), "ps:set is for admin keys only"),
        (("ps:set", "--global", "dockerfile-start-cmd", "sh -c id"), "ps:set is for admin keys only"),
        (("ps:set", VICTIM, "start-cmd", "sh -c 'cat /app/ENV'"), f"App {VICTIM} does not exist"),
        (("ps:set", VICTIM, "dockerfile-start-cmd", "sh -c id"), f"App {VICTIM} does not exist"),
        (("ps:report", VICTIM, "--ps-start-cmd"), f"App {VICTIM} does not exist"),
        (("ps:set", OWN, "start-cmd", "serve\nrm -rf /"), "start-cmd must be one line"),
        (("ps:set", OWN, "start-cmd", "x" * 5000), "start-cmd must be at most 4096 characters"),
        (("ps:set", OWN, "dockerfile-start-cmd", "'unclosed"), "dockerfile-start-cmd cannot be split into words"),
    ],
)  # fmt: skip
def test_a_start_cmd_global_of_another_app_or_malformed_is_refused(platform, engine, user_key, words, message):
    before = state_of(platform, engine)
    result = user_key.ssh(quoted(*words))
    assert_refused(result, message)
    assert result.stdout == "" and len(result.stderr.splitlines()) == 1, result.stderr
    assert state_of(platform, engine) == before


def test_the_user_key_sets_its_own_apps_start_cmd_and_the_victims_stays_unset(platform, user_key):
    assert user_key.ssh(quoted("ps:set", OWN, "start-cmd", "python app.py --port $PORT")).returncode == 0
    assert user_key.ssh(quoted("ps:report", OWN, "--ps-computed-start-cmd")).stdout == "python app.py --port $PORT\n"
    assert platform.dokku("ps:report", VICTIM, "--ps-start-cmd").stdout == "\n"
    assert user_key.ssh(quoted("ps:set", OWN, "start-cmd")).returncode == 0
    assert user_key.ssh(quoted("ps:report", OWN, "--ps-start-cmd")).stdout == "\n"
