"""Every build and deploy of an app, as Dokku 0.38's `builds` plugin keeps them (`builds:list`,
`builds:info`, `builds:output`): APP/builds/ID.json is the record, APP/builds/ID.log its output.

A record is written whole (state.Store, atomically) when the build starts (status running) and
when it ends (succeeded, failed or canceled); `abandoned` is only shown, for a running record
whose process is gone (killed with the machine, say). The output is appended a line at a time,
up to MAX_OUTPUT_BYTES: a build that prints more keeps its first MiB and a line saying so. A
`builds:cancel` leaves APP/builds/ID.cancel beside the record, so that the ending build writes
canceled (the record itself is written by the build alone).

An id is 14 characters of [0-9a-z]: the start time in milliseconds (8, base 36), then 6 random
ones, so ids sort as the builds started. Only a word of that shape names a file here: an id a
user gives can reach no other file, of this app or another. An app keeps its last `retention`
finished records (`builds:set`, 20 by default, at most MAX_RETENTION); prune removes the others,
each record before its output, so a reader finds a build whole or not at all.
"""

import json
import os
import re
import secrets
import string
import time
from dataclasses import asdict, dataclass, fields, replace
from typing import Optional

from minidokku.errors import NotFound, ValidationError
from minidokku.records import names
from minidokku.records.properties import Setting, computed_value
from minidokku.state import Store

FOLDER = "builds"
BUILD, DEPLOY = "build", "deploy"  # a new image, or an image that ran before
RUNNING, SUCCEEDED, FAILED, CANCELED, ABANDONED = "running", "succeeded", "failed", "canceled", "abandoned"
STATUSES = (RUNNING, SUCCEEDED, FAILED, CANCELED, ABANDONED)  # abandoned is shown, never written
MAX_OUTPUT_BYTES = 1024 * 1024
DEFAULT_RETENTION = 20
MAX_RETENTION = 100  # an app's records and outputs stay under 100 MiB
ID = re.compile(r"[0-9a-z]{14}")
DIGITS = string.digits + string.ascii_lowercase


def _retention(value: str) -> str:
    if not names.is_whole_number(value) or not 1 <= int(value) <= MAX_RETENTION:
        raise ValidationError(f"Invalid retention {value[:40]!r}: must be a whole number from 1 to {MAX_RETENTION}")
    return str(int(value))


RETENTION = Setting("builds", "retention", str(DEFAULT_RETENTION), _retention)


@dataclass(frozen=True)
class Build:
    """One build or deploy. pid and process_start say which process runs it (process_start: the
    kernel's start time of that pid, so that a pid used again later is not taken for it); by:
    the key (or host user) that started it; source: its command (`git-hook`, `ps:rebuild`)."""

    id: str
    app: str
    kind: str
    source: str
    by: str
    pid: int
    process_start: str
    started_at: float
    status: str = RUNNING
    finished_at: Optional[float] = None
    exit_code: Optional[int] = None
    commit: str = ""
    image: str = ""
    release: str = ""
    error: str = ""  # why it failed, one line

    @property
    def duration(self) -> float:
        return max(0.0, (self.finished_at or time.time()) - self.started_at)


def new_id(now: Optional[float] = None) -> str:
    moment = int((time.time() if now is None else now) * 1000)
    stamp = ""
    for _ in range(8):
        moment, digit = divmod(moment, 36)
        stamp = DIGITS[digit] + stamp
    return stamp + "".join(secrets.choice(DIGITS) for _ in range(6))


def validate_id(build_id: str) -> str:
    if not ID.fullmatch(build_id):
        raise ValidationError(f"{build_id[:40]!r} is not a build id (14 characters of 0-9 and a-z, see builds:list)")
    return build_id


def _record(build_id: str) -> str:
    return f"{FOLDER}/{validate_id(build_id)}.json"


def output_name(build_id: str) -> str:
    """The build's output, relative to the app's folder."""
    return f"{FOLDER}/{validate_id(build_id)}.log"


def _cancel_mark(build_id: str) -> str:
    return f"{FOLDER}/{validate_id(build_id)}.cancel"


def write(store: Store, build: Build) -> None:
    store.write(build.app, _record(build.id), json.dumps(asdict(build), indent=2) + "\n", mode=0o640)


def read(store: Store, app: str, build_id: str) -> Build:
    text = store.read(app, _record(build_id))
    if text is None:
        raise NotFound(f"No build record found for {app}/{build_id}")
    return _parse(text, app)


def _parse(text: str, app: str) -> Build:
    """The record, as a build of app: the folder it is in says whose it is (a renamed app's
    records moved with its folder)."""
    try:
        data = json.loads(text)
        known = {field.name for field in fields(Build)}
        return Build(**{**{key: value for key, value in data.items() if key in known}, "app": app})
    except (ValueError, TypeError):
        raise ValidationError(f"a build record of {app} cannot be read") from None


def history(store: Store, app: str) -> list[Build]:
    """The app's builds, the last started first."""
    folder = store.path(app, FOLDER)
    if not folder.is_dir():
        return []
    found = sorted((entry.name[:-5] for entry in folder.iterdir() if entry.name.endswith(".json")), reverse=True)
    builds = []
    for build_id in found:
        if ID.fullmatch(build_id):
            try:
                builds.append(read(store, app, build_id))
            except (NotFound, ValidationError):  # pruned meanwhile, or not ours
                continue
    return builds


def append_output(store: Store, build: Build, line: str, written: int) -> int:
    """Appends line to the build's output, which already holds written bytes; returns how many
    it holds now. Past MAX_OUTPUT_BYTES one last line says the rest is left out."""
    if written >= MAX_OUTPUT_BYTES:
        return written
    size = len(line.encode("utf-8")) + 1
    if written + size > MAX_OUTPUT_BYTES:
        store.append_line(build.app, output_name(build.id), f"... the rest is left out: {MAX_OUTPUT_BYTES} bytes kept")
        return MAX_OUTPUT_BYTES
    store.append_line(build.app, output_name(build.id), line)
    return written + size


def read_output(store: Store, app: str, build_id: str, offset: int = 0) -> bytes:
    """The build's output from offset on (b"" when it has none)."""
    path = store.path(app, output_name(build_id))
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
    except FileNotFoundError:
        return b""
    with os.fdopen(fd, "rb") as handle:
        handle.seek(offset)
        return handle.read(MAX_OUTPUT_BYTES + 4096)


def finish(store: Store, build: Build, status: str, exit_code: int, error: str = "", **found: str) -> Build:
    """Writes the build's end; found: what it made (image, release)."""
    done = replace(build, status=status, finished_at=time.time(), exit_code=exit_code, error=error[:500], **found)
    write(store, done)
    store.remove(build.app, _cancel_mark(build.id))
    return done


def mark_canceled(store: Store, build: Build) -> None:
    store.write(build.app, _cancel_mark(build.id), f"{time.time()}\n")


def is_marked_canceled(store: Store, build: Build) -> bool:
    return store.path(build.app, _cancel_mark(build.id)).exists()


def retention(store: Store, app: str) -> int:
    try:
        return int(_retention(computed_value(store, app, RETENTION)))
    except ValidationError:  # a global value written by hand
        return DEFAULT_RETENTION


def prune(store: Store, app: str, keep: int, running: set[str]) -> list[str]:
    """Removes the finished builds beyond the last keep (never one in running), and the outputs
    whose record a prune cut short already removed; returns the ids of the builds removed."""
    builds = history(store, app)
    finished = [build for build in builds if build.id not in running]
    gone = [build.id for build in finished[keep:]]
    for build_id in gone:
        store.remove(app, _record(build_id))
    for entry in store.path(app, FOLDER).glob("*.*") if builds else ():
        build_id, _dot, suffix = entry.name.partition(".")
        # a build's record is written before its output, so an output without one is a leftover
        if suffix in ("log", "cancel") and ID.fullmatch(build_id) and not store.path(app, _record(build_id)).exists():
            store.remove(app, f"{FOLDER}/{entry.name}")
    return gone
