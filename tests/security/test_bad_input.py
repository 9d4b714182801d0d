"""Bad input at the doors: app names, what an ssh key asks for, config values.

Every refusal is one clear line (` !     ...` or click's usage error) with a non-zero exit, changes
nothing on disk or in Docker, runs nothing, and leaves the victim serving (conftest.py checks
that after each case). Values that are accepted must come back, and reach the app, exactly.
"""

import os
import random
import shutil
import subprocess
from pathlib import Path

import pytest
from helpers import dokku_program, wait_until_serving
from security_helpers import VICTIM, VICTIM_HOST, assert_refused, events_of, page_bytes, quoted, state_of

LONG_NAME = "a" * 300
BAD_APP_NAMES = {
    "semicolon": "x;touch {canary}",
    "command-substitution": "$(touch {canary})",
    "backticks": "`touch {canary}`",
    "parent-folder": "../../etc",
    "unicode-look-alike": "v\u0456ctim",  # a Cyrillic і: it looks like the victim's name
    "300-characters": LONG_NAME,
    "forged-audit-line": "x\n2030-01-01T00:00:00Z\tadmin\tapps:destroy\tvictim\tok\t",
}


@pytest.fixture
def canary(tmp_path) -> Path:
    """A file that appears only if some shell on the host ran a command hidden in the input."""
    path = tmp_path / "canary"
    yield path
    assert not path.exists(), "a command hidden in the input ran on the host"


@pytest.mark.parametrize("kind", BAD_APP_NAMES)
def test_a_bad_app_name_is_refused_at_every_door(platform, ssh_client, engine, victim, canary, kind):
    name = BAD_APP_NAMES[kind].replace("{canary}", str(canary))
    before, events_before = state_of(platform, engine), events_of(platform)

    on_the_host = platform.dokku("apps:create", name, check=False)
    over_ssh = ssh_client.ssh(quoted("apps:create", name))
    pushed = ssh_client.push(victim.repo, name)  # git quotes the path: git-receive-pack 'NAME'

    for result in (on_the_host, over_ssh, pushed):
        assert_refused(result, "invalid app name")
    assert state_of(platform, engine) == before
    assert platform.dokku("apps:list").stdout.split("\n", 1)[1] == f"{VICTIM}\n"
    # the audit trail keeps the failed attempts, one line each, whatever the name holds
    added = events_of(platform)[len(events_before) :]
    assert len(added) == 2, added
    assert all(len(line.split("\t")) == 6 and line.split("\t")[4] == "failed" for line in added), added


# What a key may send in SSH_ORIGINAL_COMMAND, and the refusal each gets.
SSH_COMMANDS = {
    "git-path-escape": ("git-receive-pack '../../etc'", "invalid app name '../../etc'"),
    "git-then-rm": ("git-receive-pack 'app'; rm -rf /", "git-receive-pack takes exactly one repository"),
    "git-then-touch": ("git-receive-pack 'victim'; touch {canary}", "git-receive-pack takes exactly one repository"),
    "upload-then-touch": ("git-upload-pack 'victim' && touch {canary}", "git-upload-pack takes exactly one repository"),
    "bash": ("bash", "`bash` is not a dokku command."),
    "bash-command": ("bash -c 'touch {canary}'", "is not a dokku command."),
    "scp": ("scp -t {canary}", "is not a dokku command."),
    "sftp-server": ("/usr/lib/openssh/sftp-server", "`/usr/lib/openssh/sftp-server` is not a dokku command."),
    "unbalanced-quote": ("apps:create 'victim", "cannot parse the command: No closing quotation"),
}


@pytest.mark.parametrize("kind", SSH_COMMANDS)
def test_an_ssh_key_reaches_minidokku_commands_and_nothing_else(platform, ssh_client, engine, canary, kind):
    command, message = SSH_COMMANDS[kind]
    before = state_of(platform, engine)

    result = ssh_client.ssh(command.replace("{canary}", str(canary)))

    assert_refused(result, message)
    assert state_of(platform, engine) == before


def test_an_ssh_session_without_a_command_gets_the_usage_and_no_shell(platform, ssh_client, engine):
    before = state_of(platform, engine)

    result = ssh_client.ssh()  # no command: SSH_ORIGINAL_COMMAND is not set, minidokku still runs

    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("Usage: dokku [--quiet|--trace|--force] COMMAND <app>"), result.stdout
    assert state_of(platform, engine) == before


def test_an_empty_ssh_original_command_is_refused(platform, engine):
    before = state_of(platform, engine)

    result = subprocess.run(
        [dokku_program()], env=dict(platform.env, SSH_ORIGINAL_COMMAND=""), capture_output=True, text=True
    )

    assert_refused(result, "no command given")
    assert state_of(platform, engine) == before


@pytest.mark.parametrize("protocol", [["-O"], []], ids=["scp-protocol", "sftp-protocol"])
def test_scp_cannot_copy_a_file_onto_the_host(platform, ssh_client, engine, canary, tmp_path, protocol):
    source = tmp_path / "payload"
    source.write_text("#!/bin/sh\necho pwned\n")
    before = state_of(platform, engine)
    options = ["-i", str(ssh_client.key), "-P", str(ssh_client.port)] + ssh_client.ssh_command[5:]

    result = subprocess.run(
        ["scp", *protocol, *options, str(source), f"root@127.0.0.1:{canary}"], capture_output=True, text=True
    )

    assert result.returncode != 0, result.stderr
    if protocol:  # the scp protocol asks for `scp -t PATH`: a command minidokku does not know
        assert "`scp -t " in result.stderr and "is not a dokku command." in result.stderr, result.stderr
    assert state_of(platform, engine) == before


def _config_value(size: int) -> str:
    """size bytes of UTF-8 text full of what shells, quoting and env files treat specially."""
    alphabet = "abc XYZ 019 '\"`$(){}\\;|&<>*?!#~\n\t=é"
    text = "".join(random.Random(size).choice(alphabet) for _ in range(size))
    return text.encode()[:size].decode("utf-8", "ignore").ljust(size, "z")


CONFIG_VALUES = {
    "NEWLINES": "line one\nline two\n\n  indented line\n",
    "QUOTES": "it's \"double\" and 'single' and '\"'\"' and a \\ backslash",
    "SUBSTITUTION": "$(touch {canary}) `touch {canary}` ${HOME} $HOME %s {}",
    "SIXTY_FOUR_KIB": _config_value(64 * 1024),
}


@pytest.fixture(scope="module")
def config_values(platform, ssh_client, victim, tmp_path_factory) -> dict[str, str]:
    """Sets every value at once over ssh (the door where shlex parses them): one redeploy."""
    canary = tmp_path_factory.mktemp("config") / "canary"
    values = {key: value.replace("{canary}", str(canary)) for key, value in CONFIG_VALUES.items()}
    result = ssh_client.ssh(quoted("config:set", VICTIM, *(f"{key}={value}" for key, value in values.items())))
    assert result.returncode == 0, result.stderr
    wait_until_serving(platform, VICTIM_HOST, values["NEWLINES"], path="/NEWLINES")
    yield values
    assert not canary.exists(), "a config value was run by a shell on the host"


@pytest.mark.parametrize("key", CONFIG_VALUES)
def test_a_config_value_is_stored_returned_and_passed_on_exactly(platform, ssh_client, config_values, key):
    value = config_values[key]

    assert ssh_client.ssh(quoted("config:get", VICTIM, key)).stdout == value + "\n"
    assert platform.dokku("config:get", VICTIM, key).stdout == value + "\n"
    status, page = page_bytes(platform, VICTIM_HOST, f"/{key}")
    assert (status, len(page)) == (200, len(value.encode()))
    assert page == value.encode()


def test_ld_preload_reaches_the_app_container_and_not_the_host(platform, victim, tmp_path):
    """LD_PRELOAD is an ordinary config var today: accepted, in the app's containers only. The
    host programs minidokku runs meanwhile (nginx -t, the reload, git) are spied on: none sees it."""
    spies = tmp_path / "spies"
    spies.mkdir()
    for program in ("nginx", "git"):
        spy = spies / program
        spy.write_text(f'#!/bin/sh\nenv > "{spies}/{program}.$$.env"\nexec {shutil.which(program)} "$@"\n')
        spy.chmod(0o755)
    env = dict(platform.env, PATH=f"{spies}:{os.environ['PATH']}")

    def dokku(*args: str) -> subprocess.CompletedProcess:
        result = subprocess.run([dokku_program(), *args], env=env, capture_output=True, text=True)
        assert result.returncode == 0, result.stderr
        return result

    assert "ld.so" not in dokku("config:set", VICTIM, "LD_PRELOAD=/x").stderr  # nor in minidokku itself
    wait_until_serving(platform, VICTIM_HOST, "/x", path="/LD_PRELOAD")
    assert dokku("config:get", VICTIM, "LD_PRELOAD").stdout == "/x\n"
    logs = dokku("logs", VICTIM, "-q").stdout
    assert "object '/x' from LD_PRELOAD cannot be preloaded" in logs, logs  # the app's processes saw it
    dokku("config:unset", VICTIM, "LD_PRELOAD")
    wait_until_serving(platform, VICTIM_HOST, "<unset>", path="/LD_PRELOAD")

    spied = sorted(spies.glob("*.env"))
    assert any(path.name.startswith("nginx.") for path in spied), "the spy saw no nginx call"
    for path in spied:
        assert "LD_PRELOAD" not in path.read_text(), f"{path.name} ran on the host with LD_PRELOAD"
