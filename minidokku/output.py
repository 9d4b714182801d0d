"""Progress output in Dokku's style, behind one small interface.

The core reports through an Output, so the same deploy can stream to a git push (as `remote:`
lines), a terminal, or a list in a test.

A reader that went away (^C on a `git push`, an ssh session dropped: sshd closes the command's
pipes) never stops what the command does at whatever line it was printing: the Output goes
quiet and the command goes on to its end, as it would with nobody watching (a build's own record
keeps its lines, ops/builds.py). A following command, which would follow for nobody, is ended by
cli/hangup.py instead; a SIGHUP still unwinds any command (cli main()).
"""

import contextlib
import os
import sys
from typing import TextIO

STEP = "-----> "
SECTION = "=====> "
INDENT = "       "
TIMING = "+ time "  # a step's duration, as `+ time STEP SECONDS s` (minidokku/steps.py)


class Output:
    """Writes Dokku-style progress lines to a text stream, flushing each one."""

    def __init__(self, stream: TextIO = sys.stdout, quiet: bool = False):
        self.stream = stream
        self.quiet = quiet
        self.reader_gone = False
        self.noticed: set[str] = set()

    def step(self, message: str) -> None:
        if not self.quiet:
            self.line(STEP + message)

    def section(self, message: str) -> None:
        if not self.quiet:
            self.line(SECTION + message)

    def heading(self, text: str) -> None:
        """A table's header line (`proctype: qty`), left out when quiet as Dokku leaves it out."""
        if not self.quiet:
            self.line(text)

    def info(self, message: str) -> None:
        self.line(INDENT + message)

    def notice(self, message: str) -> None:
        """An info line printed once per command, however many of its stages reach it (a deploy
        routes at each stage of its switch)."""
        if message not in self.noticed:
            self.noticed.add(message)
            self.info(message)

    def timing(self, step: str, seconds: float) -> None:
        """How long a step took (shown when asked, even when quiet)."""
        self.line(f"{TIMING}{step} {seconds:.3f} s")

    def line(self, text: str) -> None:
        """Writes a line as it is: used for build output, which carries its own prefixes."""
        if self.reader_gone:
            return
        try:
            self.stream.write(text.rstrip("\n") + "\n")
            self.stream.flush()
        except BrokenPipeError:
            self._quiet_from_now_on()

    def _quiet_from_now_on(self) -> None:
        """Nothing reads the stream any more: its file descriptor is pointed at /dev/null, so that
        the line still in the stream's buffer, the interpreter's flush on the way out and any
        program the command runs with it write nowhere instead of failing on EPIPE."""
        self.reader_gone = True
        with contextlib.suppress(AttributeError, OSError, ValueError):  # no descriptor (a StringIO)
            fd = self.stream.fileno()
            nowhere = os.open(os.devnull, os.O_WRONLY)
            try:
                os.dup2(nowhere, fd)
            finally:
                os.close(nowhere)


class RecordingOutput(Output):
    """Keeps the lines in memory (for tests and for error messages that quote output)."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        self.quiet = False
        self.noticed = set()

    def line(self, text: str) -> None:
        self.lines.append(text.rstrip("\n"))
