"""Scheduled cron tasks (Dokku's cron plugin): app.json's `cron` entries, their schedules and
commands, their ids, and what is stored about them.

A schedule is Dokku's (robfig/cron's five fields: minute hour day-of-month month day-of-week,
with `*`, `?`, ranges, steps, lists, month and weekday names, and the @yearly|@annually|@monthly|
@weekly|@daily|@midnight|@hourly macros), so nothing runs more often than once a minute. A command
is split into words as a shell would split them, quotes included, and run as that argv inside the
app's container: a bare shell operator (`;`, `&&`, `|`, `>`, `$(...)`) is refused, as Dokku
refuses it (wrap it: `sh -c '...'`).

The entries are kept with each release (records/releases.py, app_json["cron"]), so a deploy or a
rollback changes an app's schedule in the one atomic write of its release. Files:
    APP/properties/cron     `cron:set APP maintenance` (ROOT/properties/cron: the global values)
    APP/cron/SUSPENDED      the ids `cron:suspend` holds off, one a line
    APP/cron/RUNS.json      the last scheduled run of each id: dyno, start, end, exit status
    APP/cron/OUTPUT         what scheduled runs printed, `TIME app[cron.1234]: line` (logs shows it)
"""

import datetime
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Optional

from minidokku.errors import ValidationError
from minidokku.records import properties
from minidokku.state import Store

MAX_TASKS = 50  # entries an app.json may hold
MAX_COMMAND = 1024  # characters of a command
MAX_SCHEDULE = 100  # characters of a schedule
POLICIES = ("forbid", "replace", "allow")  # concurrency_policy, the first the default
FAMILY = "cron"
SUSPENDED = "cron/SUSPENDED"
RUNS = "cron/RUNS.json"
OUTPUT = "cron/OUTPUT"
DIGITS = "0123456789abcdefghijklmnopqrstuvwxyz"

MACROS = {
    "@yearly": "0 0 1 1 *",
    "@annually": "0 0 1 1 *",
    "@monthly": "0 0 1 * *",
    "@weekly": "0 0 * * 0",
    "@daily": "0 0 * * *",
    "@midnight": "0 0 * * *",
    "@hourly": "0 * * * *",
}
MONTHS = {name: number for number, name in enumerate("jan feb mar apr may jun jul aug sep oct nov dec".split(), 1)}
WEEKDAYS = {name: number for number, name in enumerate("sun mon tue wed thu fri sat".split())}
# (lowest, highest, names) of the five fields, in order
FIELDS = ((0, 59, {}), (0, 23, {}), (1, 31, {}), (1, 12, MONTHS), (0, 6, WEEKDAYS))
OPERATORS = set(";&|<>()`")


# -- schedules ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class Schedule:
    minutes: frozenset[int]
    hours: frozenset[int]
    days: frozenset[int]
    months: frozenset[int]
    weekdays: frozenset[int]
    any_day: bool  # the day-of-month field is `*` or `?`
    any_weekday: bool
    fixed_time: bool = False  # neither the minute nor the hour field starts with `*`

    def matches(self, moment: datetime.datetime) -> bool:
        """Whether a run is due in moment's local minute, as vixie cron has it across a change of
        the clock (summer time): a fixed-time task runs once in an hour the clock repeats, and a
        fixed time the clock skipped runs at the first minute after the skip."""
        if moment.fold and self.fixed_time:
            return False
        return self._at(moment) or (self.fixed_time and any(self._at(m) for m in _skipped_before(moment)))

    def _at(self, moment: datetime.datetime) -> bool:
        """cron's rule: with both day fields restricted, either one matching is enough."""
        if moment.minute not in self.minutes or moment.hour not in self.hours or moment.month not in self.months:
            return False
        day = moment.day in self.days
        weekday = (moment.isoweekday() % 7) in self.weekdays
        if self.any_day or self.any_weekday:
            return day and weekday
        return day or weekday


def _skipped_before(moment: datetime.datetime) -> list[datetime.datetime]:
    """The local minutes a clock set forward (up to 3 hours, as vixie cron) skipped just before
    moment, a naive local time."""
    before = datetime.datetime.fromtimestamp(moment.timestamp() - 60)
    gap = int((moment.replace(fold=0) - before.replace(fold=0)).total_seconds()) // 60
    return [moment - datetime.timedelta(minutes=k) for k in range(1, gap)] if 1 < gap <= 181 else []


def parse_schedule(text: str) -> Schedule:
    """The schedule text names; ValueError with robfig/cron's reason (Dokku prints it) otherwise."""
    spec = text.strip()
    if not spec:
        raise ValueError("empty spec string")
    if spec.startswith("@"):
        if spec.lower() not in MACROS:
            raise ValueError(f"unrecognized descriptor: {spec}")
        spec = MACROS[spec.lower()]
    fields = spec.split()
    if len(fields) != 5:
        raise ValueError(f"expected exactly 5 fields, found {len(fields)}: [{' '.join(fields)}]")
    parsed = [_field(field, *bounds) for field, bounds in zip(fields, FIELDS)]
    (minutes, _), (hours, _), (days, any_day), (months, _), (weekdays, any_weekday) = parsed
    fixed_time = not fields[0].startswith("*") and not fields[1].startswith("*")
    return Schedule(minutes, hours, days, months, weekdays, any_day, any_weekday, fixed_time)


def _field(text: str, low: int, high: int, names: dict[str, int]) -> tuple[frozenset[int], bool]:
    values: set[int] = set()
    star = False
    for part in text.split(","):
        found, part_star = _part(part, low, high, names)
        values |= found
        star = star or part_star
    return frozenset(values), star


def _part(text: str, low: int, high: int, names: dict[str, int]) -> tuple[set[int], bool]:
    range_and_step = text.split("/")
    if len(range_and_step) > 2:
        raise ValueError(f"too many slashes: {text}")
    bounds = range_and_step[0].split("-")
    if len(bounds) > 2:
        raise ValueError(f"too many hyphens: {text}")
    star = bounds[0] in ("*", "?")
    if star:
        start, end = low, high
    else:
        start = _number(bounds[0], names)
        end = _number(bounds[1], names) if len(bounds) == 2 else start
    step = 1
    if len(range_and_step) == 2:
        step = _number(range_and_step[1], {})
        if len(bounds) == 1 and not star:
            end = high  # `N/step`: from N to the highest
        star = star and step == 1
    if start < low:
        raise ValueError(f"beginning of range ({start}) below minimum ({low}): {text}")
    if end > high:
        raise ValueError(f"end of range ({end}) above maximum ({high}): {text}")
    if start > end:
        raise ValueError(f"beginning of range ({start}) beyond end of range ({end}): {text}")
    if step <= 0:
        raise ValueError(f"step of range should be a positive number: {text}")
    return set(range(start, end + 1, step)), star


def _number(text: str, names: dict[str, int]) -> int:
    if text.lower() in names:
        return names[text.lower()]
    if not text.isascii() or not text.isdigit():
        raise ValueError(f"failed to parse int from {text}: invalid syntax")
    return int(text)


# -- commands ----------------------------------------------------------------------------------
def command_words(text: str) -> list[str]:
    """The argv a command line names, split as a shell splits words (quotes, backslashes);
    ValueError for what only a shell would do: operators, expansions, an open quote."""
    words: list[str] = []
    word: Optional[list[str]] = None
    characters = iter(text)
    for character in characters:
        if character in " \t\n":
            if word is not None:
                words.append("".join(word))
            word = None
            continue
        word = word if word is not None else []
        if character in ("'", '"'):
            word.extend(_quoted(characters, character))
        elif character == "\\":
            word.append(next(characters, ""))
        elif character in OPERATORS or character == "$":
            raise ValueError(f"{character!r} is shell syntax, which is not run by a shell; wrap it: sh -c '...'")
        else:
            word.append(character)
    if word is not None:
        words.append("".join(word))
    return words


def _quoted(characters: Iterator[str], quote: str) -> list[str]:
    found = []
    for character in characters:
        if character == quote:
            return found
        if quote == '"' and character in "$`":
            raise ValueError(f"{character!r} is shell syntax, which is not run by a shell; wrap it: sh -c '...'")
        if quote == '"' and character == "\\":
            following = next(characters, "")
            found.append(following if following in '"\\$`' else "\\" + following)
            continue
        found.append(character)
    raise ValueError(f"unclosed quote {quote}")


# -- app.json entries --------------------------------------------------------------------------
def entries(section: object) -> list[dict]:
    """app.json's `cron` list, checked as Dokku checks it at deploy (its messages), normalised
    to {command, schedule, maintenance, concurrency_policy}; bounded in number and length."""
    if section is None:
        return []
    if not isinstance(section, list) or not all(isinstance(entry, dict) for entry in section):
        raise ValidationError("app.json: cron must be a list of objects")
    if len(section) > MAX_TASKS:
        raise ValidationError(f"app.json: cron holds {len(section)} tasks; at most {MAX_TASKS}")
    return [_entry(index, entry) for index, entry in enumerate(section)]


def _entry(index: int, entry: dict) -> dict:
    command, schedule = entry.get("command", ""), entry.get("schedule", "")
    if not isinstance(command, str) or not command.strip():
        raise ValidationError(f"app.json: Missing cron task command (index {index})")
    if not isinstance(schedule, str) or not schedule.strip():
        raise ValidationError(f"app.json: Missing cron schedule (index {index})")
    if len(command) > MAX_COMMAND or len(schedule) > MAX_SCHEDULE:
        raise ValidationError(
            f"app.json: cron task {index}: a command has at most {MAX_COMMAND} characters, a schedule {MAX_SCHEDULE}"
        )
    if any(ord(c) < 32 or ord(c) == 127 for c in command + schedule):  # a terminal's escapes in cron:list, logs
        raise ValidationError(f"app.json: cron task {index}: a command or schedule holds no control characters")
    try:
        parse_schedule(schedule)
    except ValueError as error:
        raise ValidationError(f"app.json: Invalid cron schedule (schedule {schedule}): {error}") from None
    try:
        command_words(command)
    except ValueError as error:
        raise ValidationError(f"app.json: Invalid cron command (command {json.dumps(command)}): {error}") from None
    policy = entry.get("concurrency_policy") or POLICIES[0]
    if policy not in POLICIES:
        raise ValidationError(f"app.json: Invalid cron concurrency policy (schedule {schedule}): {str(policy)[:40]}")
    maintenance = entry.get("maintenance", False)
    if not isinstance(maintenance, bool):
        raise ValidationError(f"app.json: cron task {index}: maintenance must be true or false")
    return {"command": command, "schedule": schedule, "maintenance": maintenance, "concurrency_policy": policy}


# -- tasks -------------------------------------------------------------------------------------
def task_id(app: str, command: str, schedule: str) -> str:
    """Dokku's id: `APP===COMMAND===SCHEDULE` in lowercase base36 (multiformats' go-base36: a
    leading zero byte is a `0`), so an id stays the same across deploys while its entry does."""
    data = f"{app}==={command}==={schedule}".encode()
    zeros = len(data) - len(data.lstrip(b"\0"))
    number = int.from_bytes(data, "big")
    digits = []
    while number:
        number, digit = divmod(number, 36)
        digits.append(DIGITS[digit])
    return "0" * zeros + "".join(reversed(digits))


@dataclass(frozen=True)
class Task:
    id: str
    app: str
    command: str
    schedule: str
    concurrency_policy: str
    task_maintenance: bool  # app.json's maintenance, or suspended by cron:suspend
    app_maintenance: bool  # cron:set maintenance, the app's or the global one

    @property
    def maintenance(self) -> bool:
        return self.task_maintenance or self.app_maintenance

    @property
    def maintenance_shown(self) -> str:
        """cron:list's Maintenance column, as Dokku words it."""
        if self.task_maintenance:
            return "true (task)"
        return "true (app)" if self.app_maintenance else "false"

    @property
    def argv(self) -> list[str]:
        return command_words(self.command)


def tasks_of(store: Store, app: str, app_json_cron: list[dict]) -> list[Task]:
    """The app's tasks from its release's entries, with what holds them off."""
    suspended = set(suspended_ids(store, app))
    app_off = computed(store, app, "maintenance") == "true"
    found = []
    for entry in app_json_cron:
        identifier = task_id(app, entry["command"], entry["schedule"])
        found.append(
            Task(
                identifier,
                app,
                entry["command"],
                entry["schedule"],
                entry.get("concurrency_policy") or POLICIES[0],
                bool(entry.get("maintenance")) or identifier in suspended,
                app_off,
            )
        )
    return found


# -- properties --------------------------------------------------------------------------------
APP_KEYS = ("maintenance",)
GLOBAL_KEYS = ("mailfrom", "mailto", "maintenance")
DEFAULTS = {"mailfrom": "", "mailto": "", "maintenance": "false"}


def own(store: Store, app: Optional[str], key: str) -> str:
    return properties.get(store, app, FAMILY, key)


def computed(store: Store, app: Optional[str], key: str) -> str:
    """What applies: maintenance is true when the app's or the global one is (Dokku's rule);
    mailto and mailfrom are global only."""
    global_value = own(store, None, key) or DEFAULTS[key]
    if key == "maintenance" and app is not None and own(store, app, key) == "true":
        return "true"
    return global_value


def set_property(store: Store, app: Optional[str], key: str, value: str) -> None:
    """cron:set: maintenance per app or global, mailto and mailfrom global only; "" unsets."""
    if key not in GLOBAL_KEYS:
        raise ValidationError(f"Invalid property specified, valid properties include: {', '.join(GLOBAL_KEYS)}")
    if app is not None and key not in APP_KEYS:
        raise ValidationError("Property cannot be specified on a per-app basis")
    if value and key == "maintenance" and value not in ("true", "false"):
        raise ValidationError("maintenance must be true or false")
    if value and key != "maintenance":
        _check_address(value)
    properties.put(store, app, FAMILY, key, value)


def _check_address(value: str) -> None:
    """An address a mail is sent to or from: one word, no control characters, not an option."""
    local, _, domain = value.partition("@")
    if len(value) > 254 or not local or not domain or value.startswith("-") or not value.isprintable() or " " in value:
        raise ValidationError(f"expected an email address, got {value[:60]!r}")


def suspended_ids(store: Store, app: str) -> list[str]:
    return store.read_lines(app, SUSPENDED)


def set_suspended(store: Store, app: str, identifier: str, suspended: bool) -> None:
    kept = [line for line in suspended_ids(store, app) if line != identifier]
    store.write_lines(app, SUSPENDED, kept + ([identifier] if suspended else []))


# -- runs --------------------------------------------------------------------------------------
def last_runs(store: Store, app: str) -> dict[str, dict]:
    """id -> the last scheduled run: {dyno, started, finished (None while it runs), exit_code}."""
    text = store.read(app, RUNS)
    try:
        found = json.loads(text) if text else {}
    except ValueError:
        return {}
    return found if isinstance(found, dict) else {}


def record_run(store: Store, app: str, identifier: str, run: dict, keep: set[str]) -> None:
    """Keeps run as identifier's last; runs of ids no longer in keep are dropped."""
    runs = {key: value for key, value in last_runs(store, app).items() if key in keep}
    runs[identifier] = run
    store.write(app, RUNS, json.dumps(runs, indent=2, sort_keys=True) + "\n")


def recorded_output(store: Store, app: str, history: int, quiet: bool) -> list[str]:
    """The last history lines scheduled runs printed (`logs`); quiet: without time and dyno."""
    try:  # never through a link planted in its place
        fd = os.open(store.path(app, OUTPUT), os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
    except FileNotFoundError:
        return []
    except OSError as error:
        raise ValidationError(f"{store.path(app, OUTPUT)}: {error.strerror}") from None
    with os.fdopen(fd, encoding="utf-8", errors="replace") as output:
        lines = output.read().splitlines()
    lines = lines[-history:] if history > 0 else lines
    return [line.split("]: ", 1)[-1] for line in lines] if quiet else lines
