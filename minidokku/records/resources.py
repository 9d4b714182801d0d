"""Resource limits and reservations of containers (Dokku's `resource:*`), and the defaults that
bound every container a tenant can start: its processes, one-off runs, deployment tasks and builds.

What a container gets, first match wins per value: the app's setting for its process type, the
app's `_default_`, the global setting for the type, the global `_default_`, minidokku's default.
Builds use the reserved type `_build_` and their own defaults, never the `_default_` of the
processes (Dokku's limits do not touch builds; ours must, or a push could starve the host).

Settings are kept as Dokku's property keys, `TYPE.limit|reserve.KEY=VALUE` lines, in APP/RESOURCES
and ROOT/RESOURCES. Values are Dokku's: a number of CPUs, memory in megabytes unless it has a unit
(b, k, m, g), `0` for no limit; `pids` (a process and thread count) is minidokku's own.
"""

import contextlib
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Optional

from minidokku.errors import ValidationError
from minidokku.records import names, procfile
from minidokku.records.docker_options import parse_cpus
from minidokku.records.names import parse_size
from minidokku.state import Store

FILE = "RESOURCES"
DEFAULT_TYPE = "_default_"
BUILD_TYPE = "_build_"
LIMIT, RESERVE = "limit", "reserve"
KINDS = (LIMIT, RESERVE)
KEYS = {LIMIT: ("cpu", "memory", "memory-swap", "pids"), RESERVE: ("cpu", "memory")}
CLEAR = "clear"  # `resource:limit --memory clear APP` removes that one value (as Dokku)
MIN_MEMORY = 6 * 1024**2  # the Engine refuses less
MAX_PIDS = 4194304  # the kernel's own ceiling
CPU_SHARES_PER_CPU = 1024
CPU_PERIOD = 100_000  # microseconds: the Engine's build API takes a quota per period, not CPUs
MEGABYTE = 1024**2

# Log rotation of every container: the json-file driver keeps at most 3 files of 10 MB, so a
# process printing without end costs at most 30 MB of disk, and `dokku logs` still reads it.
LOG_CONFIG = {"Type": "json-file", "Config": {"max-size": "10m", "max-file": "3"}}


@dataclass(frozen=True)
class Limits:
    """A container's bounds in the Engine's units; 0 is no limit."""

    nano_cpus: int
    memory: int  # bytes
    pids: int
    memory_swap: Optional[int] = None  # memory + swap in bytes, -1 unlimited; None: as memory (no swap)
    cpu_shares: Optional[int] = None  # a relative weight when CPUs are contended (reserve --cpu)
    memory_reservation: Optional[int] = None  # the soft limit the kernel reclaims down to (reserve --memory)


# For a VPS of 1-2 cores and 1-4 GB: one container can take one core, half a gigabyte (no swap)
# and 512 processes or threads; a build twice the memory and processes (compilers, npm, pip).
PROCESS_DEFAULTS = Limits(nano_cpus=1_000_000_000, memory=512 * MEGABYTE, pids=512)
BUILD_DEFAULTS = Limits(nano_cpus=1_000_000_000, memory=1024 * MEGABYTE, pids=1024)


# -- values -------------------------------------------------------------------------------
def validate(kind: str, key: str, text: str) -> str:
    """Checks one value as typed (`512`, `1.5g`, `0.5`, `clear`); returns it."""
    if key not in KEYS[kind]:
        raise ValidationError(f"{key} cannot be a resource {kind}; known: {', '.join(KEYS[kind])}")
    if text != CLEAR:
        engine_value(kind, key, text)
    return text


def engine_value(kind: str, key: str, text: str) -> int:
    """A value as typed, in the Engine's unit (NanoCpus or CpuShares, bytes, a count)."""
    if not text.isascii() or not text.isprintable() or " " in text:
        raise ValidationError(f"{key} {text[:20]!r} must be a number with no spaces")
    if key == "cpu":
        if text == "0":
            return 0
        nano_cpus = parse_cpus(text)
        return round(nano_cpus * CPU_SHARES_PER_CPU / 1e9) if kind == RESERVE else nano_cpus
    if key == "pids":
        if not names.is_whole_number(text) or int(text) > MAX_PIDS:
            raise ValidationError(f"pids {text[:20]!r} must be a whole number from 0 (no limit) to {MAX_PIDS}")
        return int(text)
    if key == "memory-swap" and text == "-1":
        return -1
    size = parse_size(text + "m" if names.is_whole_number(text) else text)  # Dokku: megabytes by default
    if 0 < size < MIN_MEMORY:
        raise ValidationError(f"{key} {text!r} is below the engine's minimum of 6m")
    return size


# -- stored settings ----------------------------------------------------------------------
def _property(process_type: str, kind: str, key: str) -> str:
    return f"{process_type}.{kind}.{key}"


def read(store: Store, app: Optional[str]) -> dict[str, str]:
    """The stored settings of an app, or the global ones (app None): property key -> value."""
    values = {}
    for line in store.read_lines(app, FILE):
        name, _, value = line.partition("=")
        values[name] = value
    return values


def _write(store: Store, app: Optional[str], values: dict[str, str]) -> None:
    store.write_lines(app, FILE, [f"{name}={value}" for name, value in sorted(values.items())])


def validate_process_type(process_type: str) -> str:
    return process_type if process_type in (DEFAULT_TYPE, BUILD_TYPE) else procfile.validate_process_type(process_type)


def set_values(store: Store, app: Optional[str], process_type: str, kind: str, given: dict[str, str]) -> None:
    """Stores the given values (`clear` removes one) for the app's (or every app's) process type;
    a combination the Engine would refuse (swap below memory) is refused now, not at a deploy."""
    validate_process_type(process_type)
    for key, text in given.items():
        validate(kind, key, text)
    before = read(store, app)
    values = dict(before)
    for key, text in given.items():
        if text == CLEAR:
            values.pop(_property(process_type, kind, key), None)
        else:
            values[_property(process_type, kind, key)] = text
    _write(store, app, values)
    try:
        _check(store, app)
    except ValidationError:
        _write(store, app, before)
        raise


def shown(store: Store, app: Optional[str], process_type: str, kind: str) -> dict[str, str]:
    """The stored values of one type and kind, every key ("" when not set)."""
    values = read(store, app)
    return {key: values.get(_property(process_type, kind, key), "") for key in KEYS[kind]}


def clear(store: Store, app: Optional[str], process_type: Optional[str], kind: str) -> None:
    """Removes the kind's settings of one process type, or of every type when None."""
    values = read(store, app)
    kept = {
        name: value
        for name, value in values.items()
        if not (name.split(".")[1:2] == [kind] and process_type in (None, name.split(".")[0]))
    }
    _write(store, app, kept)


# -- what a container gets ----------------------------------------------------------------
def _lookup(store: Store, app: str, types: tuple[str, ...], kind: str, key: str) -> Optional[int]:
    app_values, global_values = read(store, app), read(store, None)
    for values in (app_values, global_values):
        for process_type in types:
            text = values.get(_property(process_type, kind, key))
            if text:
                return engine_value(kind, key, text)
    return None


def _resolve(store: Store, app: str, types: tuple[str, ...], defaults: Limits) -> Limits:
    def pick(kind: str, key: str, default: Optional[int]) -> Optional[int]:
        found = _lookup(store, app, types, kind, key)
        return default if found is None else found

    limits = Limits(
        nano_cpus=pick(LIMIT, "cpu", defaults.nano_cpus),
        memory=pick(LIMIT, "memory", defaults.memory),
        pids=pick(LIMIT, "pids", defaults.pids),
        memory_swap=pick(LIMIT, "memory-swap", defaults.memory_swap),
        cpu_shares=pick(RESERVE, "cpu", defaults.cpu_shares),
        memory_reservation=pick(RESERVE, "memory", defaults.memory_reservation),
    )
    return _checked(limits)


def _checked(limits: Limits) -> Limits:
    """Refuses combinations the Engine would refuse at container creation, naming them."""
    if limits.memory_swap not in (None, -1, 0) and (not limits.memory or limits.memory_swap < limits.memory):
        raise ValidationError("the memory-swap limit must be at least the memory limit (it counts memory plus swap)")
    if limits.memory_reservation and limits.memory and limits.memory_reservation > limits.memory:
        raise ValidationError("the memory reservation must not exceed the memory limit")
    return limits


def for_process(store: Store, app: str, process_type: str) -> Limits:
    """The bounds of a container of the app's process type (`run` for one-off containers, a
    task's name for deployment tasks). `_build_` settings never reach a process, whatever the
    Procfile calls it."""
    types = (DEFAULT_TYPE,) if process_type == BUILD_TYPE else (process_type, DEFAULT_TYPE)
    return _resolve(store, app, types, PROCESS_DEFAULTS)


def for_build(store: Store, app: str) -> Limits:
    return _resolve(store, app, (BUILD_TYPE,), BUILD_DEFAULTS)


def _check(store: Store, app: Optional[str]) -> None:
    """Resolves what each process type with a setting gets, in the app or in every app."""
    global_types = {name.split(".")[0] for name in read(store, None)}
    for name in store.list_apps() if app is None else [app]:
        types = global_types | {key.split(".")[0] for key in read(store, name)} | {DEFAULT_TYPE}
        for process_type in sorted(types):
            for_process(store, name, process_type)
        for_build(store, name)


# -- the Engine's fields ------------------------------------------------------------------
def host_config(limits: Limits) -> dict:
    """The HostConfig fields of a container-create request for these limits."""
    fields = {
        "NanoCpus": limits.nano_cpus,
        "Memory": limits.memory,
        "PidsLimit": limits.pids,
        "LogConfig": LOG_CONFIG,
    }
    swap = limits.memory if limits.memory_swap is None else limits.memory_swap
    if limits.memory and swap:
        fields["MemorySwap"] = swap
    if limits.cpu_shares:
        fields["CpuShares"] = limits.cpu_shares
    if limits.memory_reservation:
        fields["MemoryReservation"] = limits.memory_reservation
    return fields


def apply(config: dict, limits: Limits) -> dict:
    """A container-create config bounded by limits where it sets no bound of its own (an
    admin's docker-options `--memory` or `--cpus` stay as given); without swap unless allowed."""
    host = dict(config.get("HostConfig", {}))
    chosen_memory = "Memory" in host
    for name, value in host_config(limits).items():
        host.setdefault(name, value)
    if chosen_memory and limits.memory_swap is None:
        host["MemorySwap"] = host["Memory"] or 0  # follows the memory an admin chose: no swap
    return dict(config, HostConfig=host)


def build_parameters(limits: Limits) -> dict[str, int]:
    """The Engine image build API's bounds of a Dockerfile build's steps (it has no pids limit:
    the parent cgroup of build/build_cgroup.py bounds their processes)."""
    parameters = {
        "memory": limits.memory,
        "memswap": limits.memory if limits.memory_swap is None else limits.memory_swap,
    }
    if limits.nano_cpus:
        parameters.update(cpuperiod=CPU_PERIOD, cpuquota=limits.nano_cpus * CPU_PERIOD // 1_000_000_000)
    if limits.cpu_shares:
        parameters["cpushares"] = limits.cpu_shares
    return {name: value for name, value in parameters.items() if value}


@contextlib.contextmanager
def time_limit(seconds: float, on_expiry: Callable[[], None]) -> Iterator[threading.Event]:
    """Calls on_expiry (from a timer thread) if the block still runs after seconds; the event
    yielded tells the block's caller whether it did."""
    expired = threading.Event()

    def expire() -> None:
        expired.set()
        on_expiry()

    timer = threading.Timer(seconds, expire)
    timer.daemon = True
    timer.start()
    try:
        yield expired
    finally:
        timer.cancel()


# -- showing them -------------------------------------------------------------------------
def describe(kind: str, key: str, limits: Limits) -> str:
    """A value as `resource:report` shows it (`512m`, `1`, `unlimited`)."""
    if kind == RESERVE:
        value = limits.cpu_shares if key == "cpu" else limits.memory_reservation
        if not value:
            return ""
        return _cpus(value * 1_000_000_000 // CPU_SHARES_PER_CPU) if key == "cpu" else _size(value)
    if key == "cpu":
        return _cpus(limits.nano_cpus) if limits.nano_cpus else "unlimited"
    if key == "pids":
        return str(limits.pids) if limits.pids else "unlimited"
    if key == "memory":
        return _size(limits.memory) if limits.memory else "unlimited"
    swap = limits.memory if limits.memory_swap is None else limits.memory_swap
    return _size(swap) if swap > 0 and limits.memory else "unlimited"


def _cpus(nano_cpus: int) -> str:
    return f"{nano_cpus / 1e9:g}"


def _size(size: int) -> str:
    for unit, factor in (("g", 1024**3), ("m", 1024**2), ("k", 1024)):
        if size % factor == 0:
            return f"{size // factor}{unit}"
    return f"{size}b"
