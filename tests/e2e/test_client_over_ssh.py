"""The laptop client (minidokku/client/) against the real sshd: `dokku` run in an app's checkout,
on a machine with no minidokku root (a laptop), finds the server and the app from the git remote
and runs each command over ssh with the key's forced command answering. `apps:create` adds the
remote, `apps:destroy` takes it away, `--remote` picks another, exit codes come back, and a
pushed app's `config:set` and `run` need no app name."""

import os
import shlex
import subprocess
from pathlib import Path

import pytest
from helpers import APPS, dokku_program, free_port, git, make_git_repo, wait_for_port


@pytest.fixture
def laptop(ssh_client, tmp_path) -> dict:
    """The environment of `dokku` on a laptop: no minidokku root, and on PATH an `ssh` (which
    git's push uses too) that offers the test key to the test's sshd and trusts its host key,
    as a user's ~/.ssh/config would."""
    bin_dir = tmp_path / "laptop-bin"
    bin_dir.mkdir()
    options = ["-i", str(ssh_client.key), "-o", "IdentitiesOnly=yes", "-o", "BatchMode=yes"]
    options += ["-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null"]
    wrapper = bin_dir / "ssh"
    wrapper.write_text(f'#!/bin/sh\nexec /usr/bin/ssh {shlex.join(options)} "$@"\n')
    wrapper.chmod(0o755)
    env = dict(os.environ, PATH=f"{bin_dir}:{os.environ['PATH']}", DOKKU_ROOT=str(tmp_path / "no-server-here"))
    for name in ("SSH_ORIGINAL_COMMAND", "DOKKU_HOST", "DOKKU_PORT", "GIT_SSH", "GIT_SSH_COMMAND"):
        env.pop(name, None)
    return env


@pytest.fixture
def sshd_taking_client_variables(ssh_client) -> int:
    """A second sshd of the same keys that takes in DOKKU_HOST, DOKKU_PORT and _DOKKU_COMPLETE from
    the client (AcceptEnv, the worst an admin could set); its port."""
    directory = ssh_client.key.parent
    port = free_port()
    config = directory / f"sshd_config_{port}"
    lines = (directory / "sshd_config").read_text().splitlines()
    lines = [f"Port {port}" if line.startswith("Port ") else line for line in lines if not line.startswith("PidFile")]
    config.write_text("\n".join([*lines, "AcceptEnv DOKKU_HOST DOKKU_PORT _DOKKU_COMPLETE", ""]))
    sshd = subprocess.Popen(["/usr/sbin/sshd", "-D", "-e", "-f", str(config)], stderr=subprocess.DEVNULL)
    wait_for_port(port)
    yield port
    sshd.terminate()
    sshd.wait(timeout=10)


def test_a_keys_session_given_dokku_host_stays_the_server_for_a_shell_or_a_command(
    ssh_client, sshd_taking_client_variables
):
    """`ssh dokku@HOST` with no command asks for a shell: sshd sets no SSH_ORIGINAL_COMMAND, and
    the forced command must not become a client of the DOKKU_HOST the key holder sent."""
    port = str(sshd_taking_client_variables)  # in place of the first sshd's: ssh takes the first -p given
    ssh = [port if word == str(ssh_client.port) else word for word in ssh_client.ssh_command]
    ssh += ["-o", "SetEnv=DOKKU_HOST=127.0.0.1"]
    ssh += ["-o", f"SetEnv=DOKKU_PORT={ssh_client.port}", "root@127.0.0.1"]
    shell = subprocess.run(ssh, capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=60, check=False)
    assert (shell.returncode, shell.stderr) == (0, "") and "Usage: dokku" in shell.stdout
    completing = [*ssh[:-1], "-o", "SetEnv=_DOKKU_COMPLETE=bash_source", "root@127.0.0.1", "version"]
    ran = subprocess.run(completing, capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=60, check=False)
    assert ran.returncode == 0 and ran.stdout.startswith("dokku version ")  # its command, not completion


def dokku(cwd: Path, env: dict, *args: str, **extra_env: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [dokku_program(), *args], cwd=cwd, env=dict(env, **extra_env), capture_output=True, text=True,
        stdin=subprocess.DEVNULL, check=False,
    )  # fmt: skip


def checkout(path: Path) -> Path:
    path.mkdir()
    git(path, "init", "-q", "-b", "main")
    return path


def test_a_checkout_creates_its_app_then_sets_and_reads_its_config_with_no_app_name(
    platform, ssh_client, laptop, tmp_path
):
    repo = checkout(tmp_path / "clientcat")
    server = {"DOKKU_HOST": "root@127.0.0.1", "DOKKU_PORT": str(ssh_client.port)}
    created = dokku(repo, laptop, "apps:create", "clientcat", **server)
    assert created.returncode == 0, created.stderr
    assert "-----> Dokku remote added at 127.0.0.1 called dokku" in created.stdout
    assert git(repo, "remote", "get-url", "dokku").stdout.strip() == f"ssh://root@127.0.0.1:{ssh_client.port}/clientcat"
    assert (platform.root / "clientcat" / "HEAD").is_file()

    assert dokku(repo, laptop, "config:set", "GREETING=hello world; $(id)").returncode == 0
    assert platform.dokku("config:get", "clientcat", "GREETING").stdout == "hello world; $(id)\n"
    assert dokku(repo, laptop, "config:get", "GREETING").stdout == "hello world; $(id)\n"
    missing = dokku(repo, laptop, "config:get", "NOT_SET")
    assert missing.returncode == platform.dokku("config:get", "clientcat", "NOT_SET", check=False).returncode != 0
    assert "clientcat" in dokku(repo, laptop, "apps:list").stdout.split()


def test_another_remote_is_picked_by_name_and_destroying_its_app_removes_it(platform, ssh_client, laptop, tmp_path):
    repo = checkout(tmp_path / "twoapps")
    git(repo, "remote", "add", "dokku", f"ssh://root@127.0.0.1:{ssh_client.port}/client-main")
    git(repo, "remote", "add", "staging", f"ssh://root@127.0.0.1:{ssh_client.port}/client-staging")
    assert dokku(repo, laptop, "--remote", "staging", "apps:create").returncode == 0
    assert (platform.root / "client-staging" / "HEAD").is_file()
    assert not (platform.root / "client-main").exists()

    destroyed = dokku(repo, laptop, "--remote", "staging", "apps:destroy", "--force")
    assert destroyed.returncode == 0, destroyed.stderr
    assert not (platform.root / "client-staging").exists()
    assert git(repo, "remote").stdout.split() == ["dokku"]  # staging went with its app


def test_outside_a_checkout_dokku_host_names_the_server_and_exit_codes_come_back(
    platform, ssh_client, laptop, tmp_path
):
    platform.dokku("apps:create", "there")
    server = {"DOKKU_HOST": "root@127.0.0.1", "DOKKU_PORT": str(ssh_client.port)}
    for app, code in [("there", 0), ("nowhere", 1)]:
        answered = dokku(tmp_path, laptop, "apps:exists", app, **server)
        assert (answered.returncode, answered.stdout) == (code, "")


def test_a_pushed_app_sets_config_and_runs_one_off_commands_from_its_checkout(platform, ssh_client, laptop, tmp_path):
    repo = make_git_repo(tmp_path / "envecho", APPS / "envecho")
    server = {"DOKKU_HOST": "root@127.0.0.1", "DOKKU_PORT": str(ssh_client.port)}
    assert dokku(repo, laptop, "apps:create", "envecho", **server).returncode == 0
    pushed = git(repo, "push", "-q", "dokku", "main", env=laptop, check=False)
    assert pushed.returncode == 0, pushed.stderr
    assert dokku(repo, laptop, "config:set", "MEOW=two words").returncode == 0

    ran = dokku(repo, laptop, "run", "python", "-c", "import os; print(os.environ['MEOW'])")
    assert (ran.returncode, ran.stdout) == (0, "two words\n"), ran.stderr
    failed = dokku(repo, laptop, "run", "sh", "-c", "exit 3")
    assert failed.returncode == 3

    # typed at a terminal, the one-off gets one: `dokku run bash` is a shell
    typed = shlex.join([dokku_program(), "run", "sh", "-c", "test -t 0 && test -t 1 && echo has-a-terminal"])
    at_terminal = subprocess.run(
        ["script", "-qec", typed, "/dev/null"], cwd=repo, env=laptop, capture_output=True, text=True, timeout=120,
        stdin=subprocess.DEVNULL, check=False,
    )  # fmt: skip
    assert at_terminal.returncode == 0, at_terminal.stderr
    assert "has-a-terminal" in at_terminal.stdout  # after what the terminal echoes of script's empty input
