#!/usr/bin/env python3
"""Checks the Python version an app asks for against the stack's own Python.

    python3 python_version.py BUILD_DIR [STACK_VERSION]

The request is the first line of .python-version that is not a comment (`3.11`, `3.11.2`), else
runtime.txt (`python-3.11.2`). This stack cannot install another Python, so its own serves any
request with the same major.minor, whatever the patch level. Prints what is used, for example
`Python 3.11.2 (.python-version asks for 3.11)`; otherwise one ` !     ` line on stderr, exit 1.
STACK_VERSION (for tests) defaults to the running interpreter's version.
"""

import platform
import re
import sys
from pathlib import Path

VERSION = re.compile(r"^(?:c?python-)?(\d+)\.(\d+)(?:\.(\d+))?$")


class VersionError(Exception):
    """The app asks for a Python this stack does not have, or for nothing readable."""


def main(argv: list[str]) -> int:
    if len(argv) not in (2, 3):
        print("usage: python_version.py BUILD_DIR [STACK_VERSION]", file=sys.stderr)
        return 2
    stack = argv[2] if len(argv) == 3 else platform.python_version()
    try:
        print(choose(Path(argv[1]), stack))
    except VersionError as error:
        print(f" !     {error}", file=sys.stderr)
        return 1
    return 0


def choose(build_dir: Path, stack: str) -> str:
    request = requested(build_dir)
    if request is None:
        return f"Python {stack}"
    source, asked = request
    match = VERSION.match(asked)
    if not match:
        raise VersionError(f"{source}: {asked!r} is not a Python version (write for example 3.11 or 3.11.2)")
    stack_minor = ".".join(stack.split(".")[:2])
    if f"{match.group(1)}.{match.group(2)}" != stack_minor:
        wanted = asked.split("-")[-1]
        raise VersionError(
            f"{source} asks for Python {wanted}, but this stack has only Python {stack} "
            f"(no other Python can be installed here): ask for {stack_minor}"
        )
    return f"Python {stack} ({source} asks for {asked})"


def requested(build_dir: Path):
    """(file name, version text) of the app's request, or None when it makes none."""
    for name in (".python-version", "runtime.txt"):
        path = build_dir / name
        if path.is_file():
            lines = [line.strip() for line in path.read_text(encoding="utf-8", errors="replace").splitlines()]
            wanted = [line for line in lines if line and not line.startswith("#")]
            return name, wanted[0] if wanted else ""
    return None


if __name__ == "__main__":
    sys.exit(main(sys.argv))
