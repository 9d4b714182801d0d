"""The audit trail (`dokku events`): who (an ssh key's name, or the local user) did what to which
app, when, and whether it worked; one line per command that changes something, appended to
ROOT/EVENTS. Details carry names only (config keys, process counts, a pushed commit), never a
config value: `config:show` is the one place values appear."""

import os
import pwd
import time
from collections.abc import Iterator
from dataclasses import dataclass

from minidokku import access
from minidokku.state import Store

FILE = "EVENTS"
POLL_SECONDS = 0.5
DETAIL = "event_detail"  # the key under which a command leaves its detail in click's ctx.meta


@dataclass(frozen=True)
class Event:
    actor: str
    action: str
    app: str
    detail: str
    outcome: str  # "ok", "failed" or "exit N"

    def line(self, when: float) -> str:
        stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(when))
        fields = [stamp, self.actor, self.action, self.app or "-", self.outcome, self.detail]
        return "\t".join(" ".join(str(field).split()) for field in fields)  # one line, no stray tabs


def actor() -> str:
    """The ssh key's name (NAME, from its forced command), else the user on the host."""
    key = access.ssh_key()
    if key:
        return key
    user = os.environ.get("SUDO_USER") or pwd.getpwuid(os.getuid()).pw_name
    return f"{user} (on the host)"


def record(store: Store, event: Event) -> None:
    store.append_line(None, FILE, event.line(time.time()))


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
