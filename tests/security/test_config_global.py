"""The config family against a user key and bad input, over ssh.

`--global` is for admin keys only, whatever follows it: a user key granted the victim app tries
every config command with `--global` (the victim's name placed where an APP would be) and is
refused with one line, changing nothing. A user key imports only from stdin, never a path on the
server. Bad input (a line without `=`, bad base64, a huge stdin) is one clear line, exit 1, and
nothing changes; no value shows in an output, an error or the audit trail.
"""

import base64
import io
import subprocess
import tarfile
import uuid

import pytest
from security_helpers import VICTIM, assert_refused, events_of, quoted, state_of

from minidokku.access import rules

USER = "mallory"
SECRET = f"s3cr3t-{uuid.uuid4().hex}"

GLOBAL_ATTEMPTS = [
    ("config:set", "--global", f"{VICTIM}=1"),
    ("config:set", "--global", "--no-restart", "X=1"),
    ("config:unset", "--global", VICTIM),
    ("config:clear", "--global"),
    ("config:import", "--global", "-"),
    ("config:get", "--global", VICTIM),
    ("config:keys", "--global", VICTIM),
    ("config:show", "--global"),
    ("config:export", "--global", "--format", "json"),
    ("config:bundle", "--global"),
]


@pytest.fixture(scope="module")
def user_key(platform, ssh_client, victim):
    client = ssh_client.with_key(USER, rules.USER)
    platform.dokku("acl:add", VICTIM, USER)  # granted: only --global stands between it and the global config
    platform.dokku("config:set", "--global", f"GLOBAL_SECRET={SECRET}")
    return client


def _ssh(client, *words: str, stdin: bytes = b"") -> subprocess.CompletedProcess:
    return subprocess.run(
        [*client.ssh_command, "root@127.0.0.1", quoted(*words)], input=stdin, capture_output=True, check=False
    )


def _text(result: subprocess.CompletedProcess) -> subprocess.CompletedProcess:
    return subprocess.CompletedProcess(
        result.args, result.returncode, result.stdout.decode(errors="replace"), result.stderr.decode(errors="replace")
    )


@pytest.mark.parametrize("words", GLOBAL_ATTEMPTS, ids=[" ".join(words) for words in GLOBAL_ATTEMPTS])
def test_a_user_key_is_refused_the_global_config_whatever_follows_global(platform, engine, user_key, words):
    before, events_before = state_of(platform, engine), events_of(platform)

    result = _text(_ssh(user_key, *words, stdin=f"X={SECRET}\n".encode()))

    assert_refused(result, f"{words[0]} is for admin keys only; {USER} is a user key")
    assert result.stdout == "" and SECRET not in result.stderr
    assert state_of(platform, engine) == before
    added = [line.split("\t")[1:] for line in events_of(platform)[len(events_before) :]]
    assert added == [[USER, words[0], "-", "denied", ""]]


def test_a_user_key_imports_from_stdin_only(platform, engine, user_key):
    before = state_of(platform, engine)
    refused = _text(_ssh(user_key, "config:import", "--no-restart", VICTIM, "/etc/passwd"))
    assert_refused(refused, f"{USER} is a user key: give FILE on stdin, not as a path on the server")
    assert state_of(platform, engine) == before

    imported = _text(
        _ssh(user_key, "config:import", "--no-restart", VICTIM, "-", stdin=f"IMPORTED={SECRET}\n".encode())
    )
    assert imported.returncode == 0, imported.stderr
    assert SECRET not in imported.stdout + imported.stderr and "IMPORTED" in imported.stdout
    assert platform.dokku("config:get", VICTIM, "IMPORTED").stdout == SECRET + "\n"
    merged = _text(_ssh(user_key, "config:keys", "--merged", VICTIM))
    assert "GLOBAL_SECRET" in merged.stdout.split()  # its own app's containers get the global config anyway
    assert _ssh(user_key, "config:unset", "--no-restart", VICTIM, "IMPORTED").returncode == 0
    assert state_of(platform, engine) == before


BAD_INPUT = [
    (("config:import", "--no-restart", VICTIM, "-"), f"A=1\n{SECRET}\n".encode(), "line 2: expected KEY=VALUE"),
    (("config:import", "--no-restart", VICTIM, "-"), b"A=" + b"x" * (2 << 20), "FILE is larger than 1 MiB"),
    (("config:import", "--format", "json", VICTIM, "-"), f'{{"A": ["{SECRET}"]}}'.encode(), "not a JSON string"),
    (("config:set", "--encoded", VICTIM, f"A={SECRET}"), b"", "invalid base64 for key 'A'"),
    (("config:set", VICTIM, "A=1", SECRET), b"", "invalid env pair"),
    (("config:set", "--global", f"BAD-KEY={SECRET}"), b"", "invalid config key 'BAD-KEY'"),
]


@pytest.mark.parametrize(("words", "stdin", "message"), BAD_INPUT, ids=[case[2] for case in BAD_INPUT])
def test_bad_input_is_one_line_and_changes_nothing(platform, engine, ssh_client, user_key, words, stdin, message):
    before, events_before = state_of(platform, engine), events_of(platform)

    result = _text(_ssh(ssh_client, *words, stdin=stdin))

    assert_refused(result, message)
    assert len(result.stderr.splitlines()) == 1, result.stderr
    assert SECRET not in result.stdout + result.stderr
    assert state_of(platform, engine) == before
    assert not any(SECRET in line for line in events_of(platform)[len(events_before) :])


def test_encoded_and_bundled_values_show_only_where_asked_for(platform, engine, ssh_client, user_key):
    encoded = base64.b64encode(f"{SECRET}\nline 2".encode()).decode()
    result = _text(_ssh(ssh_client, "config:set", "--encoded", "--no-restart", VICTIM, f"ENCODED={encoded}"))
    assert result.returncode == 0, result.stderr
    assert SECRET not in result.stdout + result.stderr

    bundled = _ssh(ssh_client, "config:bundle", "--merged", VICTIM)
    with tarfile.open(fileobj=io.BytesIO(bundled.stdout)) as archive:
        values = {member.name: archive.extractfile(member).read().decode() for member in archive.getmembers()}
    assert values["ENCODED"] == f"{SECRET}\nline 2" and values["GLOBAL_SECRET"] == SECRET
    assert platform.dokku("config:unset", "--no-restart", VICTIM, "ENCODED").returncode == 0
    assert SECRET not in (platform.root / "EVENTS").read_text()
