"""Hostile pushes: trees that try to read the host, files that are not what they claim, a very
large blob, two pushes at once.

A push the platform refuses is one clear line and a rejected branch, and changes nothing; a push
it accepts must serve; in every case the victim serves on (conftest.py checks after each case).
"""

import os
import random
import secrets
import shutil
import subprocess
from pathlib import Path

import pytest
from helpers import APPS, commit_all, git, make_git_repo, wait_until_serving
from security_helpers import (
    LOCK_MESSAGE,
    VICTIM,
    VICTIM_HOST,
    assert_refused,
    server_head,
    state_of,
)

from minidokku.build.builders import read_text_file
from minidokku.settings import STACK_REPOSITORY


def clone_of_victim(platform, path: Path) -> Path:
    """A work tree of the victim's last pushed commit (from its repo on the server), to push a
    hostile change from."""
    git(path.parent, "clone", "-q", "-b", "main", str(platform.root / VICTIM), str(path))
    return path


def push_refused_without_change(platform, ssh_client, engine, repo: Path, message: str):
    before, head = state_of(platform, engine), server_head(platform, VICTIM)
    pushed = ssh_client.push(repo, VICTIM)
    assert_refused(pushed, message)
    assert "pre-receive hook declined" in pushed.stderr
    assert server_head(platform, VICTIM) == head, "the branch moved"
    assert state_of(platform, engine) == before
    return pushed


@pytest.fixture(scope="module")
def host_shadow_lines(engine) -> list[str]:
    """The lines of the host's /etc/shadow that the stack image's own /etc/shadow does not have:
    any of them in an app's output would come from the host."""
    container = engine.create_container({"Image": f"{STACK_REPOSITORY}:latest", "Cmd": ["true"]})
    try:
        image_shadow = set(read_text_file(engine, container, "/etc/shadow").splitlines())
    finally:
        engine.remove_container(container, force=True)
    host_only = [line for line in Path("/etc/shadow").read_text().splitlines() if line and line not in image_shadow]
    assert host_only, "the host's /etc/shadow equals the stack image's: the check below would prove nothing"
    return host_only


def test_an_outside_symlink_in_the_tree_points_inside_the_container(
    platform, ssh_client, victim, host_shadow_lines, tmp_path
):
    """`leak -> /etc/shadow` and `secret -> a file only the host has`, read at build (predeploy)
    and at run time: the links resolve in the container, so the host's files never come out."""
    token = secrets.token_hex(16)
    host_secret = tmp_path / "host-only" / "secret"
    host_secret.parent.mkdir()
    host_secret.write_text(f"{token}\n")
    host_secret.chmod(0o600)
    repo = make_git_repo(tmp_path / "leak", APPS / "envecho")
    (repo / "leak").symlink_to("/etc/shadow")
    (repo / "secret").symlink_to(host_secret)
    (repo / "Procfile").write_text(
        'web: cat leak secret; export LEAK="$(cat leak)" SECRET="$(cat secret 2>&1)"; python app.py\n'
    )
    (repo / "app.json").write_text('{"scripts": {"dokku": {"predeploy": "cat leak secret || true"}}}\n')
    commit_all(repo, "links out of the tree")

    pushed = ssh_client.push(repo, "leak")

    assert pushed.returncode == 0, pushed.stderr
    wait_until_serving(platform, "leak.example.test", "web.1", path="/DYNO")
    status, leak_page = platform.get("leak.example.test", "/LEAK")
    assert status == 200 and leak_page.startswith("root:*:"), leak_page  # the container's own shadow file
    secret_page = platform.get("leak.example.test", "/SECRET")[1]
    assert "No such file or directory" in secret_page, secret_page
    logs = platform.dokku("logs", "leak").stdout
    for text in (pushed.stdout + pushed.stderr, logs, leak_page, secret_page):
        assert token not in text, "a host file came out through a symlink"
        assert not [line for line in host_shadow_lines if line in text], "the host's /etc/shadow came out"


@pytest.fixture(scope="module", params=["Procfile", "app.json"])
def symlinked_settings_push(request, platform, ssh_client, engine, victim, tmp_path_factory):
    """A push whose Procfile or app.json is a link to the host's /etc/shadow."""
    repo = clone_of_victim(platform, tmp_path_factory.mktemp("linked") / "repo")
    (repo / request.param).unlink(missing_ok=True)
    (repo / request.param).symlink_to("/etc/shadow")
    commit_all(repo, f"{request.param} links to /etc/shadow")
    before, head = state_of(platform, engine), server_head(platform, VICTIM)
    pushed = ssh_client.push(repo, VICTIM)
    return pushed, before == state_of(platform, engine), head == server_head(platform, VICTIM)


def test_a_settings_file_linked_outside_is_refused_without_reading_the_host(symlinked_settings_push, host_shadow_lines):
    pushed, state_unchanged, branch_unchanged = symlinked_settings_push
    assert pushed.returncode != 0 and "pre-receive hook declined" in pushed.stderr
    assert state_unchanged and branch_unchanged
    assert not [line for line in host_shadow_lines if line in pushed.stderr]


def test_a_settings_file_linked_outside_gets_one_clear_line(symlinked_settings_push):
    pushed, _, _ = symlinked_settings_push
    assert "Traceback" not in pushed.stderr
    assert any(
        line.startswith("remote:  !     ") and "must be a file, not a link" in line
        for line in pushed.stderr.splitlines()
    ), pushed.stderr


def test_a_binary_procfile_is_refused_with_its_bytes_escaped(platform, ssh_client, engine, victim, tmp_path):
    repo = clone_of_victim(platform, tmp_path / "repo")
    # a terminal escape first (it would retitle the pusher's terminal), then random bytes
    (repo / "Procfile").write_bytes(b"\x1b]0;pwned\x07\x1b[2J" + random.Random(7).randbytes(4096))
    commit_all(repo, "binary Procfile")

    pushed = push_refused_without_change(platform, ssh_client, engine, repo, "is not `type: command`")

    assert "\x1b" not in pushed.stderr and "\\x1b" in pushed.stderr  # shown escaped, not sent to the terminal


def test_an_app_json_that_is_not_json_is_refused(platform, ssh_client, engine, victim, tmp_path):
    repo = clone_of_victim(platform, tmp_path / "repo")
    (repo / "app.json").write_text('{"formation": {"web": {"quantity": 1}},, "scripts": ')
    commit_all(repo, "broken app.json")

    push_refused_without_change(platform, ssh_client, engine, repo, "app.json is not valid JSON")


def test_a_procfile_of_10000_lines_deploys_and_runs_only_web(platform, ssh_client, engine, victim, tmp_path):
    """No limit today: 10,000 process types are accepted (a 300 KB release file), web alone runs."""
    repo = make_git_repo(tmp_path / "many", APPS / "envecho")
    (repo / "Procfile").write_text("web: python app.py\n" + "".join(f"p{i}: sleep 1\n" for i in range(1, 10000)))
    commit_all(repo, "10,000 process types")

    pushed = ssh_client.push(repo, "many")

    assert pushed.returncode == 0, pushed.stderr[-2000:]
    assert "Procfile declares types -> web, p1, p2," in pushed.stderr
    wait_until_serving(platform, "many.example.test", "web.1", path="/DYNO")
    assert state_of(platform, engine)["containers of many"].endswith("-many.web.1")
    platform.dokku("apps:destroy", "many", "--force")


BLOB_MB = 200


def test_a_200_mb_blob_is_accepted_or_refused_never_a_crash(platform, ssh_client, tmp_path):
    repo = make_git_repo(tmp_path / "blob", APPS / "envecho")
    try:
        assert ssh_client.push(repo, "blob").returncode == 0
        wait_until_serving(platform, "blob.example.test", "web.1", path="/DYNO")
        with open(repo / "blob.bin", "wb") as blob:
            for _ in range(BLOB_MB):
                blob.write(os.urandom(1 << 20))
        sha = commit_all(repo, f"a {BLOB_MB} MB blob")
        (repo / "blob.bin").unlink()  # the commit holds it; the work tree copy is not needed

        pushed = ssh_client.push(repo, "blob")

        assert "Traceback" not in pushed.stderr, pushed.stderr
        if pushed.returncode == 0:  # a MAX_PUSH_SIZE above 200 MB
            assert "=====> Application deployed:" in pushed.stderr
            assert server_head(platform, "blob") == sha
            assert (platform.root / "blob" / "releases" / "v2.json").is_file()
        else:  # the default MAX_PUSH_SIZE, 100m: git's receive.maxInputSize refuses it in its own words
            assert "remote: fatal: pack exceeds maximum allowed size" in pushed.stderr, pushed.stderr
            assert server_head(platform, "blob") != sha
        wait_until_serving(platform, "blob.example.test", "web.1", path="/DYNO")
    finally:
        shutil.rmtree(repo, ignore_errors=True)
        platform.dokku("apps:destroy", "blob", "--force", check=False)
    assert not (platform.root / "blob").exists()


STEPS = ("Building victim ...", "Releasing victim ...", "Deploying victim ...", "Application deployed:")


def test_two_pushes_to_one_app_at_once_one_wins_and_nothing_interleaves(platform, ssh_client, victim, tmp_path):
    releases_before = len(list((platform.root / VICTIM / "releases").glob("v*.json")))
    shas = {}
    for version in ("one", "two"):
        repo = clone_of_victim(platform, tmp_path / version)
        (repo / "Procfile").write_text(f"web: VERSION={version} python app.py\n")
        shas[version] = commit_all(repo, f"version {version}")
    env = dict(os.environ, GIT_SSH_COMMAND=" ".join(ssh_client.ssh_command))
    env.pop("DOKKU_ROOT", None)

    pushes = {
        version: subprocess.Popen(
            ["git", "push", f"{ssh_client.remote_prefix}{VICTIM}", "main:main"],
            cwd=tmp_path / version,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for version in shas
    }
    errors = {version: push.communicate(timeout=120)[1] for version, push in pushes.items()}
    outputs = {version: (pushes[version].returncode, errors[version]) for version in pushes}

    winners = [version for version, (code, _) in outputs.items() if code == 0]
    assert len(winners) == 1, outputs
    winner, loser = winners[0], next(version for version in outputs if version not in winners)
    steps = [step for line in outputs[winner][1].splitlines() for step in STEPS if step in line]
    assert steps == list(STEPS), outputs[winner][1]  # one deploy, its steps in order
    loser_output = outputs[loser][1]
    assert f"{VICTIM} {LOCK_MESSAGE}" in loser_output and "pre-receive hook declined" in loser_output
    assert "Building" not in loser_output and "Traceback" not in loser_output, loser_output
    assert server_head(platform, VICTIM) == shas[winner]
    assert len(list((platform.root / VICTIM / "releases").glob("v*.json"))) == releases_before + 1
    wait_until_serving(platform, VICTIM_HOST, winner, path="/VERSION")
