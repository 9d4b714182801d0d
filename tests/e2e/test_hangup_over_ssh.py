"""A following command over a real sshd, without a pty, whose ssh client is killed: sshd closes
the session's pipes but sends no signal, and the command, following an idle log, must still end
rather than stay on the server for good (cli/hangup.py)."""

import select
import signal
import subprocess
import time
from pathlib import Path

import pytest
from helpers import read_process_files

GENEROUS = 60  # seconds: a bound on a hang, not a measure of speed


def server_side(root: Path, request: str) -> list[int]:
    """The processes run for request by a forced command of root's keys: sshd hands it over in
    SSH_ORIGINAL_COMMAND, beside the DOKKU_ROOT the key's entry sets."""
    wanted = {f"DOKKU_ROOT={root}".encode(), f"SSH_ORIGINAL_COMMAND={request}".encode()}
    return [pid for pid, environ in read_process_files("environ") if wanted <= set(environ.split(b"\0"))]


def wait_for(condition, what: str) -> None:
    deadline = time.monotonic() + GENEROUS
    while not condition():
        assert time.monotonic() < deadline, what
        time.sleep(0.2)


def first_line(client: subprocess.Popen) -> bytes:
    """What the follower printed first (its history): once it is here, the command follows."""
    ready, _, _ = select.select([client.stdout], [], [], GENEROUS)
    assert ready, "the follower printed nothing"
    return client.stdout.readline()


def admin_events(platform, tmp_path) -> tuple[str, ...]:
    """`events -t`: its history holds the fixture's ssh-keys:add."""
    return ("events", "-t")


def access_logs(platform, tmp_path) -> tuple[str, ...]:
    """`nginx:access-logs APP -t` on an app whose log has a line."""
    platform.dokku("apps:create", "quiet")
    log = tmp_path / "quiet-access.log"
    log.write_text("GET /before\n")
    platform.dokku("nginx:set", "quiet", "access-log-path", str(log))
    return ("nginx:access-logs", "quiet", "-t")


@pytest.mark.parametrize("follower", [admin_events, access_logs])
def test_killing_the_ssh_client_of_a_follower_ends_it_on_the_server(platform, ssh_client, tmp_path, follower):
    words = follower(platform, tmp_path)
    request = " ".join(words)
    client = subprocess.Popen(
        [*ssh_client.ssh_command, "root@127.0.0.1", *words],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
    )
    try:
        assert first_line(client)
        assert server_side(platform.root, request), f"`{request}` is not running on the server"
        client.send_signal(signal.SIGKILL)
        client.wait()
        wait_for(lambda: not server_side(platform.root, request), f"`{request}` outlived its ssh client")
    finally:
        client.kill()
        client.wait()
        client.stdout.close()
