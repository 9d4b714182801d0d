"""cron:* against a user key with an app of its own: app.json's cron entries are attacker input
(what the app's own containers run, so its own code, but a schedule, a count and a length the
host's daemon reads), and so are the ids and property values sent over ssh. Another app's tasks,
the global properties, mailto (a host-side program's argument) and the daemon are refused with one
line that changes nothing; a hostile cron section fails the push with one line and deploys nothing."""

import json

import pytest
from helpers import APPS, commit_all, make_git_repo
from security_helpers import VICTIM, key_with_own_app, refused_without_change, server_head, state_of

from minidokku.records import cron

USER = "mallory"
OWN = "mallorys-cron"


@pytest.fixture(scope="module")
def user_key(ssh_client, victim):
    return key_with_own_app(ssh_client, USER, OWN)


VICTIM_ID = cron.task_id(VICTIM, "true", "* * * * *")


@pytest.mark.parametrize(
    ("words", "message"),
    [
        (("cron:run", VICTIM, VICTIM_ID), f"App {VICTIM} does not exist"),
        (("cron:run", VICTIM, VICTIM_ID, "--detach"), f"App {VICTIM} does not exist"),
        (("cron:suspend", VICTIM, VICTIM_ID), f"App {VICTIM} does not exist"),
        (("cron:resume", VICTIM, VICTIM_ID), f"App {VICTIM} does not exist"),
        (("cron:list", VICTIM, "--format", "json"), f"App {VICTIM} does not exist"),
        (("cron:report", VICTIM), f"App {VICTIM} does not exist"),
        (("cron:set", VICTIM, "maintenance", "true"), f"App {VICTIM} does not exist"),
        (("cron:set", "--global", "maintenance", "true"), "cron:set is for admin keys only"),
        (("cron:set", "--global", "mailto", "me@evil.test"), "cron:set is for admin keys only"),
        (("cron:report", "--global"), "cron:report is for admin keys only"),
        (("cron:set", OWN, "mailto", "me@evil.test"), "Property cannot be specified on a per-app basis"),
        (("cron:set", OWN, "maintenance", "--", "-x"), "maintenance must be true or false"),
        (("cron:set", OWN, f"maintenance.{VICTIM_ID}", "true"), "no matching task ID found"),
        (("cron:run", OWN, VICTIM_ID), "No matching Cron ID found"),
        (("cron:run", OWN, "../../victim"), "No matching Cron ID found"),
        (("cron:daemon",), "cron:daemon is internal to minidokku: it is never run over ssh"),
    ],
)  # fmt: skip
def test_another_apps_tasks_global_properties_and_the_daemon_are_refused(platform, engine, user_key, words, message):
    refused_without_change(platform, engine, user_key, words, message)


@pytest.mark.parametrize(
    ("entries", "message"),
    [
        ([{"command": "true", "schedule": "* * * * * *"}], "Invalid cron schedule (schedule * * * * * *): expected"),
        ([{"command": "true", "schedule": "@every 1s"}], "unrecognized descriptor: @every 1s"),
        ([{"command": "id; cat /etc/shadow", "schedule": "@daily"}], "Invalid cron command"),
        ([{"command": "x" * 5000, "schedule": "@daily"}], "a command has at most 1024 characters"),
        ([{"command": "true", "schedule": "@daily"}] * 51, "cron holds 51 tasks; at most 50"),
    ],
)
def test_a_hostile_cron_section_fails_the_push_and_deploys_nothing(platform, engine, user_key, tmp_path, entries,
                                                                   message):  # fmt: skip
    repo = make_git_repo(tmp_path / OWN, APPS / "envecho")
    (repo / "app.json").write_text(json.dumps({"cron": entries}))
    commit_all(repo, "a hostile cron section")
    before, head = state_of(platform, engine), server_head(platform, OWN)
    pushed = user_key.push(repo, OWN)
    assert pushed.returncode != 0
    assert message in pushed.stderr, pushed.stderr
    assert server_head(platform, OWN) == head
    assert state_of(platform, engine) == before
    assert platform.dokku("cron:list", OWN, "--format", "json").stdout == "[]\n"
