"""Ending a following command (`logs -t`, `events -t`, `nginx:access-logs -t`...) whose reader is gone.

Over ssh without a pty, sshd ends a session whose client went away by closing the command's pipes
(or socket), with no SIGHUP; a loop that writes only when its log grows would notice only at its
next line, which for an idle log never comes, and a dropped session would leave its process behind.
"""

import os
import select
import signal
import stat
import sys
import threading

# What poll reports on stdout once nothing reads it: POLLERR on a pipe's write end, POLLHUP on a socket.
READER_GONE = select.POLLERR | select.POLLHUP


def end_on_hang_up() -> None:
    """Called by a following command before it follows: when its stdout is a pipe or socket, a daemon
    thread waits for the reader to go and then ends the command as a hang-up does (SIGTERM to the
    main thread: main()'s handler unwinds it, interrupting a wait on a log). A tty gets its SIGHUP
    from the kernel; a regular file has no reader to lose."""
    try:
        fd = sys.stdout.fileno()
    except (AttributeError, OSError, ValueError):  # no fd: stdout replaced in the process (tests)
        return
    mode = os.fstat(fd).st_mode
    if stat.S_ISFIFO(mode) or stat.S_ISSOCK(mode):
        main = threading.main_thread().ident
        threading.Thread(target=_wait_for_reader, args=(fd, main), name="hang-up", daemon=True).start()


def _wait_for_reader(fd: int, main: int) -> None:
    poller = select.poll()
    poller.register(fd, READER_GONE)
    if any(events & READER_GONE for _fd, events in poller.poll()):  # else POLLNVAL: stdout closed on the way out
        signal.pthread_kill(main, signal.SIGTERM)
