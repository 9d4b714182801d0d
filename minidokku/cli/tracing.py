"""The global `--trace` and `trace:on|off`: what a command does outside itself, one `+ ` line
each on stderr.

`trace:on` (Dokku's trace plugin) makes every later command trace, as if given --trace, until
`trace:off`: the switch is the file ROOT/TRACE, whose presence alone is read (root never parses
a file the dokku user can write).

Dokku's `--trace` turns on bash's `set -x`, which shows each docker and git command it runs. Ours
shows the same two things: each Docker Engine API request (method, path and status, as urllib3
reports it) and each program started (its argv, as the interpreter's audit hook sees it). Never a
request's query string or body, nor a program's environment: build arguments and containers' env
carry config values. Config values are never in an argv (they would show in `ps`); a URL's
user:password part is still masked, for a buildpack or plugin URL that carries a token.

A traced deploy also says, on its output, how long each of its steps took: one `+ time STEP
SECONDS s` line per step (minidokku/steps.py), the breakdown `make bench` shows.
"""

import re
import shlex
import sys
from typing import TYPE_CHECKING

import click

from minidokku.access.rules import Scope
from minidokku.cli.declare import command
from minidokku.context import Context
from minidokku.state import Store

if TYPE_CHECKING:  # logging is loaded when tracing starts: a command that never traces goes without it
    import logging

# The command families of this module and their one-line descriptions (`dokku help`, `dokku FAMILY:help`).
FAMILIES = {"trace": "Manage trace mode"}
SWITCH = "TRACE"  # ROOT/TRACE: present while trace:on holds

REQUEST_FORMAT = '%s://%s:%s "%s %s %s" %s %s'  # urllib3's line for each request it made
USERINFO = re.compile(r"(?P<scheme>[a-z][a-z0-9+.-]*://)[^/@\s]+@", re.IGNORECASE)

_tracing = False
_installed = False


def start() -> None:
    """Traces the rest of this process."""
    global _tracing, _installed
    if not _installed:
        import logging

        sys.addaudithook(_on_audit_event)
        handler = logging.StreamHandler(_CurrentStderr())
        handler.addFilter(_request_line)
        logger = logging.getLogger("urllib3.connectionpool")
        logger.addHandler(handler)
        logger.setLevel(logging.DEBUG)
        _installed = True
    _tracing = True


class _CurrentStderr:
    """The stderr of the moment (a test's runner swaps it), as a stream to write log lines to."""

    def write(self, text: str) -> None:
        sys.stderr.write(text)

    def flush(self) -> None:
        sys.stderr.flush()


def _request_line(record: "logging.LogRecord") -> bool:
    """Keeps urllib3's request lines only, rewritten as `+ engine METHOD PATH STATUS`."""
    if not _tracing or record.msg != REQUEST_FORMAT or len(record.args) != 8:
        return False
    method, url, status = record.args[3], str(record.args[4]), record.args[6]
    record.msg, record.args = "+ engine %s %s %s", (method, url.partition("?")[0], status)
    return True


def _on_audit_event(event: str, args: tuple) -> None:
    if _tracing and event == "subprocess.Popen":
        argv = args[1] if isinstance(args[1], (list, tuple)) else [args[1]]
        print("+ " + masked(shlex.join(str(word) for word in argv)), file=sys.stderr, flush=True)


def masked(text: str) -> str:
    """`https://user:token@host/x` → `https://***@host/x`."""
    return USERINFO.sub(r"\g<scheme>***@", text)


def is_on(store: Store) -> bool:
    """Whether trace:on holds (every command traces)."""
    return store.path(None, SWITCH).is_file()


@command("trace:on", scope=Scope.ADMIN, changes=True)
@click.pass_obj
def trace_on(ctx: Context) -> None:
    """Enable trace mode: every command traces, as with --trace. Example: dokku trace:on"""
    ctx.out.step("Enabling trace mode")
    ctx.store.write(None, SWITCH, "every command traces, as with --trace, until `dokku trace:off`\n")


@command("trace:off", scope=Scope.ADMIN, changes=True)
@click.pass_obj
def trace_off(ctx: Context) -> None:
    """Disable trace mode. Example: dokku trace:off"""
    ctx.out.step("Disabling trace mode")
    ctx.store.remove(None, SWITCH)
