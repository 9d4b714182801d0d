"""The audit trail (`dokku events`): who (an ssh key's name, or the local user) did what to which
app, when, and whether it worked; one line per command that changes something, appended to
ROOT/EVENTS. Details carry names only (config keys, process counts, a pushed commit), never a
config value: `config:show` is the one place values appear.

`events:on` (Dokku's events logger) adds a line for each trigger point reached, with its
arguments (names, never values: see plugins/triggers.py), until `events:off`; the switch is the
file ROOT/EVENTS_ON, whose presence alone is read. The commands' lines are always written."""

import os
import pwd
import time
from collections.abc import Iterator
from dataclasses import dataclass

from minidokku.access import rules
from minidokku.state import Store

FILE = "EVENTS"
POLL_SECONDS = 0.5
DETAIL = "event_detail"  # the key under which a command leaves its detail in click's ctx.meta
MAX_FIELD = 200  # characters kept of each field: a refused command's arguments are a key's to choose
DENIED = "denied"  # the outcome of a refused command
TRIGGERS_SWITCH = "EVENTS_ON"  # present while events:on holds
INVOKED = "invoked"  # the outcome of a trigger point's line


@dataclass(frozen=True)
class Event:
    actor: str
    action: str
    app: str
    detail: str
    outcome: str  # "ok", "failed", DENIED or "exit N"

    def line(self, when: float) -> str:
        stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(when))
        fields = [stamp, self.actor, self.action, self.app or "-", self.outcome, self.detail]
        return "\t".join(_printable(str(field)) for field in fields)


def _printable(field: str) -> str:
    """One field of one line: white space folded, control characters (a terminal's escapes, which
    would reach an admin's `dokku events`) shown escaped, and at most MAX_FIELD characters."""
    folded = " ".join(field.split())
    shown = "".join(c if c.isprintable() else c.encode("unicode_escape").decode("ascii") for c in folded)
    return shown if len(shown) <= MAX_FIELD else shown[: MAX_FIELD - 1] + "…"


def worth_recording(changes: bool, outcome: str) -> bool:
    """A command is recorded when it may change something (as declared), and whenever refused."""
    return changes or outcome == DENIED


def actor() -> str:
    """The ssh key's name (NAME, from its forced command), else the user on the host."""
    key = rules.ssh_key()
    if key:
        return key
    user = os.environ.get("SUDO_USER") or pwd.getpwuid(os.getuid()).pw_name
    return f"{user} (on the host)"


def record(store: Store, event: Event) -> None:
    store.append_line(None, FILE, event.line(time.time()))


def logs_triggers(store: Store) -> bool:
    return store.path(None, TRIGGERS_SWITCH).is_file()


def log_triggers(store: Store, on: bool) -> None:
    """events:on / events:off."""
    if on:
        store.write(None, TRIGGERS_SWITCH, "trigger points are logged to EVENTS until `dokku events:off`\n")
    else:
        store.remove(None, TRIGGERS_SWITCH)


def trigger_reached(store: Store, trigger: str, args: tuple[str, ...]) -> None:
    """A trigger point's line, while events:on holds: `trigger:NAME`, its arguments as detail."""
    if logs_triggers(store):
        record(store, Event(actor(), f"trigger:{trigger}", "", " ".join(args), INVOKED))


def lines(store: Store) -> list[str]:
    return store.read_lines(None, FILE)


def follow(store: Store) -> Iterator[str]:
    """The lines written from now on, as they come (`events -t`)."""
    path = store.path(None, FILE)
    position = path.stat().st_size if path.exists() else 0
    while True:
        if path.exists() and path.stat().st_size > position:
            with open(path, encoding="utf-8") as handle:
                handle.seek(position)
                text = handle.read()
                position = handle.tell()
            yield from text.splitlines()
        time.sleep(POLL_SECONDS)
