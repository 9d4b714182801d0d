"""run:stop, run:logs, logs:set and ps:set against a user key with an app of its own: a container
name is attacker input, so only the named app's own one-off containers are ever reached (found by
the app's label, never by the name): another app's run container, a process container, a
service's or a build's are "no such run container" and stay as they are. `--container NAME`
without an app and `--global` are for admin keys only. Each refusal is one clear line and
changes nothing."""

import pytest
from security_helpers import VICTIM, assert_refused, events_of, key_with_own_app, quoted, state_of

from minidokku.records import log_settings

USER = "trudy"
OWN = "trudys"


@pytest.fixture(scope="module")
def user_key(ssh_client, victim):
    return key_with_own_app(ssh_client, USER, OWN)


@pytest.fixture(scope="module")
def victims_run(platform, victim):
    """A one-off container of the victim, running in the background while the module runs."""
    started = platform.dokku("run:detached", VICTIM, "sleep", "600")
    name = started.stdout.strip()
    assert started.returncode == 0 and ".run." in name, started.stderr
    yield name
    platform.dokku("run:stop", VICTIM, "--container", name)


def other_names(platform, victims_run: str) -> list[str]:
    namespace = platform.settings()["NAMESPACE"]
    return [
        victims_run,  # another app's run container
        f"{namespace}{VICTIM}.web.1",  # a process container
        f"{namespace}{OWN}.run.{victims_run.rsplit('.', 1)[-1]}",  # the own app's name, no such container
        "dokku.postgres.db",  # a service's
        f"{namespace}{VICTIM}.build",  # a build's (as its name would read)
    ]


@pytest.mark.parametrize("command", ["run:stop", "run:logs"])
@pytest.mark.parametrize("index", range(5))
def test_a_user_key_reaches_no_container_but_its_own_apps_run_containers(
    platform, engine, user_key, victims_run, command, index
):
    name = other_names(platform, victims_run)[index]
    before = state_of(platform, engine)

    for words in ([command, OWN, "--container", name], [command, OWN, name]):
        result = user_key.ssh(quoted(*words))
        assert_refused(result, f"{OWN} has no run container")
        assert result.stdout == "" and len(result.stderr.splitlines()) == 1, result.stderr

    assert state_of(platform, engine) == before


@pytest.mark.parametrize(
    ("words", "refusal"),
    [
        (["run:stop", "--container", "{run}"], "run:stop is for admin keys only; {user} is a user key"),
        (["run:logs", "--container", "{run}"], "run:logs is for admin keys only; {user} is a user key"),
        (["run:stop", VICTIM], "App {victim} does not exist"),
        (["run:list", VICTIM], "App {victim} does not exist"),
        (["ps:inspect", VICTIM], "App {victim} does not exist"),
        (["logs:failed", "--all"], "logs:failed is for admin keys only"),
        (["logs:set", "--global", "max-size", "unlimited"], "logs:set is for admin keys only"),
        (["ps:set", "--global", "stop-timeout-seconds", "600"], "ps:set is for admin keys only"),
        (["ps:set", "--global", OWN, "restart-policy", "always"], "ps:set is for admin keys only"),
    ],
)
def test_a_user_key_is_refused_the_global_and_another_apps_containers(
    platform, engine, user_key, victims_run, words, refusal
):
    words = [word.format(run=victims_run) for word in words]
    before, events_before = state_of(platform, engine), events_of(platform)

    result = user_key.ssh(quoted(*words))

    assert_refused(result, refusal.format(user=USER, victim=VICTIM))
    assert result.stdout == "" and len(result.stderr.splitlines()) == 1, result.stderr
    assert state_of(platform, engine) == before
    added = [line.split("\t")[1:5] for line in events_of(platform)[len(events_before) :]]
    assert [event[:2] + event[3:] for event in added] == [[USER, words[0], "denied"]], added


@pytest.mark.parametrize("size", ["unlimited", "1g", "11m"])
def test_a_user_keys_app_keeps_its_logs_bounded(platform, engine, user_key, size):
    before = state_of(platform, engine)

    result = user_key.ssh(quoted("logs:set", OWN, "max-size", size))

    assert_refused(result, f"its logs keep a max-size of at most {log_settings.TENANT_MAX_SIZE}")
    assert state_of(platform, engine) == before


def test_a_user_key_lists_and_stops_nothing_of_another_app_through_its_own(user_key, victims_run):
    assert user_key.ssh(quoted("run:list", OWN)).stdout == f"=====> {OWN} run containers\nNAMES   COMMAND   CREATED\n"
    assert user_key.ssh(quoted("run:stop", OWN)).stdout == "No run containers exist\n"
    assert user_key.ssh(quoted("logs:set", OWN, "max-size", "5m")).returncode == 0
