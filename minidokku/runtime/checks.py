"""Checks a new container must pass before traffic moves to it (Dokku's zero-downtime checks).

Where checks come from, first match wins for a process type:
- app.json `healthchecks.<type>` entries of type `startup` (Dokku's format);
- for web, a legacy CHECKS file (`/path expected text` lines, WAIT=, TIMEOUT=, ATTEMPTS=);
- the default: the container is still running DOKKU_DEFAULT_CHECKS_WAIT seconds after it
  started (default 2), and a web container answers HTTP on its port.
Traffic waits for every check but the uptime ones (run_ready); those are the window watched
after traffic moved, while the old containers stay ready to take it back (watch, ops/deploy.py).
`checks:disable` turns zero-downtime off for a type (old containers stop first), `checks:skip`
moves traffic without checking; both are kept as properties of the app.
"""

import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Optional, Protocol

from minidokku.errors import DeployFailed, ValidationError
from minidokku.records import names, properties
from minidokku.records.appjson import AppJson
from minidokku.runtime.scheduler import Container
from minidokku.state import Store

FAMILY = "checks"
ALL = "_all_"
MODES = ("disabled", "skipped", "enabled")
SETTABLE = ("wait-to-retire",)
DEFAULT_UPTIME = 2
DEFAULT_WAIT_TO_RETIRE = 60
MAX_WAIT_TO_RETIRE = 300  # old containers of a tenant's deploys must not linger for hours
# nor for as long as an uptime check the app asks for: the old ones stay ready through it (watch)
MAX_UPTIME = MAX_WAIT_TO_RETIRE
LISTEN_TIMEOUT = 60.0
POLL_SECONDS = 0.1
# how often a starting container is asked whether it answers HTTP yet: traffic waits for its
# answer, and each try is one connection to loopback and one inspect
LISTEN_POLL_SECONDS = 0.02
CHECKS_FILE_DEFAULTS = {"WAIT": 5, "TIMEOUT": 30, "ATTEMPTS": 5}  # Dokku's CHECKS defaults


@dataclass(frozen=True)
class Check:
    description: str
    path: str = ""  # GET this path on the web port (status below 400) ...
    content: str = ""  # ... and find this text in the body
    host: str = ""  # Host header of the GET
    listening: bool = False  # answers HTTP at all on the web port
    uptime: int = 0  # still running this many seconds after it started
    attempts: int = 3
    timeout: int = 5
    wait: int = 5
    initial_delay: int = 0


class Prober(Protocol):
    def is_running(self, container: Container) -> tuple[bool, Optional[int]]: ...
    def answers_http(self, container: Container) -> bool: ...
    def http_get(self, container: Container, path: str, host: str, timeout: int) -> tuple[int, str]: ...
    def last_logs(self, container_id: str, lines: int = 20) -> str: ...


# -- which checks -------------------------------------------------------------------------
def checks_for(process_type: str, app_json: AppJson, checks_file: str, env: dict[str, str]) -> list[Check]:
    startup = [
        entry for entry in app_json.healthchecks.get(process_type, []) if entry.get("type", "startup") == "startup"
    ]
    if startup:
        return [_from_app_json(process_type, entry) for entry in startup]
    if process_type == "web" and checks_file.strip():
        return parse_checks_file(checks_file, env)
    wait = "DOKKU_DEFAULT_CHECKS_WAIT"
    uptime = _uptime(_seconds(env.get(wait), DEFAULT_UPTIME, wait), wait)
    default = [Check(description=f"up for {uptime} s", uptime=uptime)]
    if process_type == "web":
        default.insert(0, Check(description="answers HTTP on its port", listening=True))
    return default


def _from_app_json(process_type: str, entry: dict) -> Check:
    if entry.get("path") and process_type != "web":
        raise ValidationError(f"app.json: the path check of {process_type} needs a port: only web has one")
    described = entry.get("name") or entry.get("path") or ("listening" if entry.get("listening") else "uptime")
    return Check(
        description=described,
        path=entry.get("path", ""),
        content=entry.get("content", ""),
        listening=bool(entry.get("listening")),
        uptime=_uptime(entry.get("uptime", 0), f"app.json: healthchecks.{process_type}: uptime"),
        attempts=max(entry.get("attempts", 3), 1),
        timeout=entry.get("timeout", 5) or 5,
        wait=entry.get("wait", 5),
        initial_delay=entry.get("initialDelay", 0),
    )


def parse_checks_file(text: str, env: dict[str, str]) -> list[Check]:
    """Dokku's legacy CHECKS file; DOKKU_CHECKS_WAIT|TIMEOUT|ATTEMPTS config vars override its settings."""
    settings = dict(CHECKS_FILE_DEFAULTS)
    lines = []
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        key, sep, value = line.partition("=")
        if sep and key in settings and " " not in key:
            settings[key] = _seconds(value, settings[key], f"CHECKS line {number}: {key}")
            continue
        lines.append((number, line))
    for key in settings:
        settings[key] = _seconds(env.get(f"DOKKU_CHECKS_{key}"), settings[key], f"DOKKU_CHECKS_{key}")
    checks = []
    for number, line in lines:
        target, _, content = line.partition(" ")
        host, path = _split_target(target, number)
        checks.append(
            Check(
                description=f"{target} {content.strip()}".strip(),
                path=path,
                content=content.strip(),
                host=host,
                attempts=max(settings["ATTEMPTS"], 1),
                timeout=settings["TIMEOUT"] or 1,
                wait=settings["WAIT"],
                initial_delay=settings["WAIT"],
            )
        )
    return checks


def _split_target(target: str, number: int) -> tuple[str, str]:
    """`/path`, `//host/path` or `http(s)://host/path` -> (host, path)."""
    for prefix in ("https://", "http://", "//"):
        if target.startswith(prefix):
            host, _, path = target[len(prefix) :].partition("/")
            return host, "/" + path
    if target.startswith("/"):
        return "", target
    raise ValidationError(f"CHECKS line {number}: expected a /path, got {target[:60]!r}")


def _uptime(seconds: int, name: str) -> int:
    """An uptime check's seconds, refused above MAX_UPTIME: a deploy keeps the old containers
    ready (and the app's lock) through it."""
    if seconds > MAX_UPTIME:
        raise ValidationError(f"{name} must be at most {MAX_UPTIME} seconds, got {seconds}")
    return seconds


def _seconds(value: Optional[str], default: int, name: str) -> int:
    if value is None or value == "":
        return default
    if not names.is_whole_number(str(value)):
        raise ValidationError(f"{name} must be a whole number of seconds, got {str(value)[:20]!r}")
    return int(value)


# -- checks:disable|enable|skip and wait-to-retire ---------------------------------------
def mode(store: Store, app: str, process_type: str) -> str:
    """'disabled', 'skipped' or 'enabled' for this process type; a type named beats the whole app."""
    chosen = {name: _types(properties.get(store, app, FAMILY, name)) for name in MODES}
    for name in MODES:
        if process_type in chosen[name]:
            return name
    for name in MODES:
        if ALL in chosen[name]:
            return name
    return "enabled"


def set_mode(store: Store, app: str, process_types: list[str], new_mode: str) -> None:
    """Puts these process types (the whole app when none are named) in new_mode."""
    for name in MODES:
        if process_types:
            chosen = [t for t in _types(properties.get(store, app, FAMILY, name)) if t not in process_types]
            chosen += process_types if name == new_mode else []
        else:
            chosen = [ALL] if name == new_mode and name != "enabled" else []
        properties.put(store, app, FAMILY, name, ",".join(chosen))


def _types(value: str) -> list[str]:
    return [item for item in value.split(",") if item]


def set_property(store: Store, app: Optional[str], key: str, value: str) -> None:
    """`checks:set APP|--global wait-to-retire SECONDS` (app None: the global value; an empty
    value unsets it)."""
    if key not in SETTABLE:
        raise ValidationError(f"unknown checks property {key!r}; known: {', '.join(SETTABLE)}")
    if value and _seconds(value, 0, key) > MAX_WAIT_TO_RETIRE:
        raise ValidationError(f"{key} must be at most {MAX_WAIT_TO_RETIRE} seconds, got {value}")
    properties.put(store, app, FAMILY, key, value)


def wait_to_retire(store: Store, app: str, env: dict[str, str]) -> int:
    """Seconds the old containers keep running after traffic moved (Dokku's wait-to-retire): the
    app's own property, else DOKKU_WAIT_TO_RETIRE in its config, else the global property, at most
    MAX_WAIT_TO_RETIRE. It is read after traffic moved, where an error would leave the old
    containers running for good: a value that is no whole number counts as unset."""
    for value in (
        properties.get(store, app, FAMILY, "wait-to-retire"),
        env.get("DOKKU_WAIT_TO_RETIRE", ""),
        properties.get(store, None, FAMILY, "wait-to-retire"),
    ):
        if names.is_whole_number(value):
            return min(int(value), MAX_WAIT_TO_RETIRE)
    return DEFAULT_WAIT_TO_RETIRE


# -- running them -------------------------------------------------------------------------
@dataclass(frozen=True)
class Window:
    """The uptime checks still due once the other checks passed: each container must keep
    running until started + its check's uptime. Traffic moves to the new containers before it
    ends (the old ones kept ready); watch() then waits it out."""

    started: float
    due: tuple[tuple[Container, Check], ...] = ()

    @property
    def seconds(self) -> int:
        return max((check.uptime for _, check in self.due), default=0)


def run_ready(prober: Prober, targets: list[tuple[Container, list[Check]]]) -> Window:
    """Runs every container's checks at once (their waits overlap) but for how long it must stay
    up, which is returned as the window watch() waits out; raises DeployFailed naming each failure."""
    started = time.monotonic()
    if targets:
        with ThreadPoolExecutor(max_workers=len(targets)) as pool:
            futures = [pool.submit(_failure, prober, container, checks) for container, checks in targets]
            failures = [message for message in (future.result() for future in futures) if message]
        if failures:
            raise DeployFailed("\n".join(failures))
    due = []
    for container, checks in targets:
        longest = max(checks, key=lambda check: check.uptime, default=None)
        if longest is not None and longest.uptime:
            due.append((container, longest))
    return Window(started, tuple(due))


def watch(prober: Prober, window: Window) -> None:
    """Returns once every container of the window ran its uptime; raises DeployFailed naming
    each one that exited before (with its last logs) as soon as it is seen gone."""
    pending = list(window.due)
    while pending:
        failures = []
        for container, check in pending:
            running, exit_code = prober.is_running(container)
            if not running:
                failures.append(_failed(prober, container, check, f"it exited (status {exit_code})"))
        if failures:
            raise DeployFailed("\n".join(failures))
        now = time.monotonic()
        pending = [(container, check) for container, check in pending if now < window.started + check.uptime]
        if pending:
            ends = min(window.started + check.uptime for _, check in pending)
            time.sleep(min(POLL_SECONDS, max(ends - now, 0)))


def _failure(prober: Prober, container: Container, checks: list[Check]) -> Optional[str]:
    try:
        for check in checks:
            _run(prober, container, check)
    except DeployFailed as failure:
        return _failed(prober, container, check, str(failure))
    return None


def _failed(prober: Prober, container: Container, check: Check, problem: str) -> str:
    return f"{container.name} failed the check `{check.description}`: {problem}\n" + prober.last_logs(container.id)


def _run(prober: Prober, container: Container, check: Check) -> None:
    if check.initial_delay:
        _sleep_while_running(prober, container, check.initial_delay)
    if check.listening:
        _until(prober, container, lambda: prober.answers_http(container), LISTEN_TIMEOUT, "did not answer HTTP")
    if check.path:
        _http(prober, container, check)
    if check.uptime:  # its window comes after traffic moved; one that is gone already fails now
        _require_running(prober, container)


def _http(prober: Prober, container: Container, check: Check) -> None:
    problem = ""
    for attempt in range(1, check.attempts + 1):
        _require_running(prober, container)
        try:
            status, body = prober.http_get(container, check.path, check.host, check.timeout)
        except OSError as error:
            problem = f"attempt {attempt}/{check.attempts}: {error}"
        else:
            if status >= 400:
                problem = f"attempt {attempt}/{check.attempts}: HTTP {status} for {check.path}"
            elif check.content and check.content not in body:
                problem = f"attempt {attempt}/{check.attempts}: {check.content!r} not in the page {check.path}"
            else:
                return
        if attempt < check.attempts:
            _sleep_while_running(prober, container, check.wait)
    raise DeployFailed(problem)


def _until(prober: Prober, container: Container, condition, timeout: float, failure: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        _require_running(prober, container)
        if time.monotonic() > deadline:
            raise DeployFailed(f"{failure} within {timeout:.0f} s")
        time.sleep(LISTEN_POLL_SECONDS)


def _sleep_while_running(prober: Prober, container: Container, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while True:
        _require_running(prober, container)
        if time.monotonic() >= deadline:
            return
        time.sleep(min(POLL_SECONDS * 2, max(deadline - time.monotonic(), 0)))


def _require_running(prober: Prober, container: Container) -> None:
    running, exit_code = prober.is_running(container)
    if not running:
        raise DeployFailed(f"it exited (status {exit_code})")
