"""What `dokku report` says of the machine before the apps' reports (Dokku's vitals for
troubleshooting): the kernel, memory, the disk of the state root, the Docker engine and the
stack image builds run in. Read only; a part that cannot be read says why instead."""

import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path

from minidokku.context import Context
from minidokku.errors import EngineError

MEMINFO = Path("/proc/meminfo")
MEMORY_KEYS = {"MemTotal": "total", "MemAvailable": "available", "SwapTotal": "swap total", "SwapFree": "swap free"}
ENGINE_KEYS = ("ServerVersion", "OperatingSystem", "KernelVersion", "Driver", "CgroupDriver", "CgroupVersion")
ENGINE_COUNTS = ("Containers", "ContainersRunning", "Images", "NCPU")
MIB = 1024 * 1024


@dataclass(frozen=True)
class Vital:
    """One part of the report: `-----> label: headline`, then its lines indented; or its problem."""

    label: str
    headline: str = ""
    lines: list[str] = field(default_factory=list)
    problem: str = ""


def vitals(ctx: Context) -> list[Vital]:
    return [_uname(), _memory(), _disk(ctx.settings.root), *_engine(ctx)]


def _uname() -> Vital:
    return Vital("uname", " ".join(os.uname()))


def _memory() -> Vital:
    try:
        text = MEMINFO.read_text(encoding="ascii")
    except OSError as error:
        return Vital("memory", problem=f"memory: {MEMINFO} cannot be read: {error.strerror}")
    found = {}
    for line in text.splitlines():
        key, _, value = line.partition(":")
        if key in MEMORY_KEYS and value.split()[:1]:
            found[MEMORY_KEYS[key]] = int(value.split()[0]) // 1024
    return Vital("memory", lines=[f"{name}: {mib} MiB" for name, mib in found.items()])


def _disk(root: Path) -> Vital:
    try:
        usage = shutil.disk_usage(root)
    except OSError as error:
        return Vital("disk utilization", problem=f"disk utilization: {root} cannot be read: {error.strerror}")
    used = round(100 * usage.used / usage.total) if usage.total else 0
    sizes = f"{usage.total // MIB} MiB, {usage.used // MIB} MiB used ({used}%), {usage.free // MIB} MiB free"
    return Vital("disk utilization", lines=[f"{root}: {sizes}"])


def _engine(ctx: Context) -> list[Vital]:
    try:
        info = ctx.engine.info()
        has_stack = ctx.scheduler.image_exists(ctx.settings.stack_image)
    except EngineError as error:
        return [Vital("docker version", problem=f"docker: the engine does not answer: {error}")]
    details = [f"{key}: {info.get(key, '')}" for key in (*ENGINE_KEYS, *ENGINE_COUNTS)]
    stack = (
        Vital("stack image", ctx.settings.stack_image)
        if has_stack
        else Vital("stack image", problem=f"Stack image {ctx.settings.stack_image} is not available")
    )
    return [Vital("docker version", str(info.get("ServerVersion", "")), details), stack]
