"""`ps:set APP procfile-path` (and skip-deploy, start-cmd, dockerfile-start-cmd) against a user key with an app of
its own: the path is attacker input, and so is the pushed tree it names a file of. A path that leaves the tree, an
option-like value, `--global` and another app (skip-deploy's and the start commands' too) are refused with one line
that changes nothing; a link at the path (to /etc/passwd) is refused at the push, and a path through a linked folder
of the tree reads no host file. A start command is what the app's own containers run (its own code, as its Procfile
is): the key sets it on its own app, a value that is not one bounded line (or, for dockerfile-start-cmd, cannot be
split into words) is refused."""

import pytest
from helpers import APPS, commit_all, make_git_repo
from security_helpers import (
    VICTIM,
    assert_refused,
    key_with_own_app,
    quoted,
    refused_without_change,
    server_head,
    state_of,
)

USER = "trudy"
OWN = "trudys-procs"


@pytest.fixture(scope="module")
def user_key(ssh_client, victim):
    return key_with_own_app(ssh_client, USER, OWN)


@pytest.mark.parametrize(
    ("words", "message"),
    [
        (("ps:set", OWN, "procfile-path", f"../{VICTIM}/Procfile"), "procfile-path must be a relative path"),
        (("ps:set", OWN, "procfile-path", "/etc/passwd"), "procfile-path must be a relative path"),
        (("ps:set", OWN, "procfile-path", "a/../../../ENV"), "procfile-path must be a relative path"),
        (("ps:set", OWN, "procfile-path", "--", "-P/../ENV"), "procfile-path must be a relative path"),
        (("ps:set", OWN, "procfile-path", "-P"), "No such option '-P'"),
        (("ps:set", "--global", "procfile-path", "x/Procfile"), "ps:set is for admin keys only"),
        (("ps:set", VICTIM, "procfile-path", "x/Procfile"), f"App {VICTIM} does not exist"),
        (("ps:report", VICTIM, "--ps-computed-procfile-path"), f"App {VICTIM} does not exist"),
        (("ps:set", "--global", "skip-deploy", "true"), "ps:set is for admin keys only"),
        (("ps:set", VICTIM, "skip-deploy", "true"), f"App {VICTIM} does not exist"),
        (("ps:set", OWN, "skip-deploy", "--", "-x"), "skip-deploy must be true or false"),
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
def test_a_procfile_path_out_of_the_tree_global_or_of_another_app_is_refused(
    platform, engine, user_key, words, message
):
    refused_without_change(platform, engine, user_key, words, message)


def test_the_user_key_sets_its_own_apps_procfile_path_and_the_victims_keeps_the_default(platform, user_key):
    assert user_key.ssh(quoted("ps:set", OWN, "procfile-path", ".dokku/Procfile")).returncode == 0
    assert user_key.ssh(quoted("ps:report", OWN, "--ps-computed-procfile-path")).stdout == ".dokku/Procfile\n"
    assert platform.dokku("ps:report", VICTIM, "--ps-computed-procfile-path").stdout == "Procfile\n"
    assert user_key.ssh(quoted("ps:set", OWN, "procfile-path")).returncode == 0


def test_the_user_key_sets_its_own_apps_start_cmd_and_the_victims_stays_unset(platform, user_key):
    assert user_key.ssh(quoted("ps:set", OWN, "start-cmd", "python app.py --port $PORT")).returncode == 0
    assert user_key.ssh(quoted("ps:report", OWN, "--ps-computed-start-cmd")).stdout == "python app.py --port $PORT\n"
    assert platform.dokku("ps:report", VICTIM, "--ps-start-cmd").stdout == "\n"
    assert user_key.ssh(quoted("ps:set", OWN, "start-cmd")).returncode == 0
    assert user_key.ssh(quoted("ps:report", OWN, "--ps-start-cmd")).stdout == "\n"


def test_a_procfile_path_that_is_a_link_to_a_host_file_is_refused_at_the_push(platform, engine, user_key, tmp_path):
    repo = make_git_repo(tmp_path / OWN, APPS / "shell-serve")
    (repo / "Procfile.link").symlink_to("/etc/passwd")
    commit_all(repo, "a Procfile that is a link")
    assert user_key.ssh(quoted("ps:set", OWN, "procfile-path", "Procfile.link")).returncode == 0
    before, head = state_of(platform, engine), server_head(platform, OWN)

    pushed = user_key.push(repo, OWN)

    assert_refused(pushed, "the Procfile.link must be a file, not a link")
    assert "root:" not in pushed.stdout + pushed.stderr
    assert server_head(platform, OWN) == head and state_of(platform, engine) == before
    assert user_key.ssh(quoted("ps:set", OWN, "procfile-path")).returncode == 0


def test_a_procfile_path_through_a_linked_folder_reads_no_host_file(platform, engine, user_key, tmp_path):
    """git resolves the path in its own tree: `host -> /etc` makes host/passwd missing, so the
    build goes on without a Procfile, the top one left out as Dokku does (and shell-serve, without
    one, is an app no buildpack detects)."""
    repo = make_git_repo(tmp_path / OWN, APPS / "shell-serve")
    (repo / "host").symlink_to("/etc")
    commit_all(repo, "a folder that is a link")
    assert user_key.ssh(quoted("ps:set", OWN, "procfile-path", "host/passwd")).returncode == 0
    head = server_head(platform, OWN)

    pushed = user_key.push(repo, OWN)

    assert_refused(pushed, "no buildpack detects this app")
    assert "no Procfile there" in pushed.stderr and "root:" not in pushed.stdout + pushed.stderr
    assert server_head(platform, OWN) == head
    assert user_key.ssh(quoted("ps:set", OWN, "procfile-path")).returncode == 0
