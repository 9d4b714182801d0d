"""A following command ends once nothing reads its output (cli/hangup.py): `events -t` on a root
whose log is idle, its stdout a pipe or a socket whose other end is then closed, as sshd does
when an ssh client without a pty goes away."""

import os
import socket
import subprocess
import threading

import pytest
from helpers import dokku_program

from minidokku.cli import hangup

ENDED_BY_SIGTERM = 128 + 15  # the hang-up's exit status (cli main()'s _unwind)
GENEROUS = 60  # seconds: a bound on a hang, not a measure of speed


def follower(root, stdout) -> subprocess.Popen:
    env = dict(os.environ, DOKKU_ROOT=str(root))
    env.pop("SSH_ORIGINAL_COMMAND", None)
    return subprocess.Popen([dokku_program(), "events", "-t"], stdout=stdout, stdin=subprocess.DEVNULL, env=env)


def pipe() -> tuple[int, int]:
    """A pipe's (read end, write end), as sshd gives a command without a pty here (Debian's OpenSSH)."""
    return os.pipe()


def socket_pair() -> tuple[int, int]:
    """Two connected sockets' fds, as an OpenSSH built without USE_PIPES gives a command."""
    ours, theirs = socket.socketpair()
    return ours.detach(), theirs.detach()


@pytest.mark.parametrize("channel", [pipe, socket_pair])
def test_a_follower_ends_when_the_reader_of_its_output_goes(tmp_path, channel):
    reader, writer = channel()
    process = follower(tmp_path, writer)
    os.close(writer)
    os.close(reader)
    try:
        assert process.wait(timeout=GENEROUS) == ENDED_BY_SIGTERM
    finally:
        process.kill()


def test_a_follower_keeps_following_while_its_reader_is_there(tmp_path):
    read_end, write_end = os.pipe()
    process = follower(tmp_path, write_end)
    os.close(write_end)
    try:
        with pytest.raises(subprocess.TimeoutExpired):
            process.wait(timeout=2)
    finally:
        process.kill()
        process.wait()
        os.close(read_end)


def test_no_watch_with_stdout_replaced_in_the_process(capsys):
    """No fd to poll, as under click's test runner: no thread is started."""
    threads = threading.active_count()
    hangup.end_on_hang_up()
    assert threading.active_count() == threads


@pytest.mark.parametrize("kind", ["regular file", "tty"])
def test_no_watch_where_no_reader_can_go(kind, tmp_path, monkeypatch):
    """A regular file has no reader; a tty's hang-up is the kernel's SIGHUP: no thread is started."""
    if kind == "tty":
        leader, terminal = os.openpty()
        os.close(leader)
        output = open(terminal, "w")  # noqa: SIM115 (closed below)
    else:
        output = open(tmp_path / "out", "w")  # noqa: SIM115 (closed below)
    with output:
        monkeypatch.setattr("sys.stdout", output)
        threads = threading.active_count()
        hangup.end_on_hang_up()
        assert threading.active_count() == threads
