"""Progress output in Dokku's style, behind one small interface.

The core reports through an Output, so the same deploy can stream to a git push (as `remote:`
lines), a terminal, or a list in a test.
"""

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

    def timing(self, step: str, seconds: float) -> None:
        """How long a step took (shown when asked, even when quiet)."""
        self.line(f"{TIMING}{step} {seconds:.3f} s")

    def line(self, text: str) -> None:
        """Writes a line as it is: used for build output, which carries its own prefixes."""
        self.stream.write(text.rstrip("\n") + "\n")
        self.stream.flush()


class RecordingOutput(Output):
    """Keeps the lines in memory (for tests and for error messages that quote output)."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        self.quiet = False

    def line(self, text: str) -> None:
        self.lines.append(text.rstrip("\n"))
