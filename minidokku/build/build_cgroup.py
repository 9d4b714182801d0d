"""The parent cgroup of Dockerfile builds, which bounds their processes.

The Engine's image build API has no pids limit (and `ulimits nproc` does not bind root), but it
creates every step container inside the cgroup parent it is given (`cgroupparent`): a parent that
root prepared with a pids limit bounds all the builds under it together, so a RUN fork bomb
cannot take the host's pids. Root prepares it (install.sh): with the cgroupfs driver a directory
in the pids hierarchy with its `pids.max`, with the systemd driver a slice unit with `TasksMax=`.
This module names the parent for the Engine's driver and reads its limit from /sys/fs/cgroup.
"""

import re
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Optional

from minidokku.engine.client import Engine
from minidokku.errors import ValidationError

SYSFS = Path("/sys/fs/cgroup")
SLICE = ".slice"
_NAME = re.compile(r"[A-Za-z0-9_]+(?:-[A-Za-z0-9_]+)*")


@dataclass(frozen=True)
class Parent:
    """A build parent: cgroupparent is what the build API takes; pids its effective limit, None
    when it is not there or nothing above it bounds its processes."""

    cgroupparent: str
    directory: Path
    exists: bool
    pids: Optional[int]


def locate(name: str, driver: str, version: str, sysfs: Path = SYSFS) -> Parent:
    """The parent called name (the BUILD_CGROUP setting) under the Engine's cgroup driver
    (`cgroupfs`, `systemd`) and cgroup version (`1`, `2`), its limit read below sysfs."""
    if not _NAME.fullmatch(name.removesuffix(SLICE)):
        raise ValidationError(f"BUILD_CGROUP {name[:40]!r} must be letters, digits, _ and - (a cgroup or slice name)")
    if driver == "systemd":
        cgroupparent = name if name.endswith(SLICE) else name + SLICE
        relative = slice_path(cgroupparent)
    else:
        cgroupparent = "/" + name.removesuffix(SLICE)  # absolute: not under the cgroup of runc itself
        relative = PurePosixPath(cgroupparent.lstrip("/"))
    hierarchy = sysfs / "pids" if version == "1" else sysfs
    directory = hierarchy / relative
    exists = directory.is_dir()
    return Parent(cgroupparent, directory, exists, pids_limit(hierarchy, relative) if exists else None)


def slice_path(unit: str) -> PurePosixPath:
    """Where systemd puts a slice: `a-b.slice` is inside `a.slice`."""
    parts = unit.removesuffix(SLICE).split("-")
    return PurePosixPath(*("-".join(parts[: i + 1]) + SLICE for i in range(len(parts))))


def pids_limit(hierarchy: Path, relative: PurePosixPath) -> Optional[int]:
    """The lowest `pids.max` of the cgroup and those above it (each bounds it); None when all
    say `max`."""
    limits = []
    for ancestor in [relative, *relative.parents]:
        try:
            text = (hierarchy / ancestor / "pids.max").read_text().strip()
        except FileNotFoundError:  # the hierarchy's root has none
            continue
        if text != "max":
            limits.append(int(text))
    return min(limits, default=None)


def for_engine(engine: Engine, name: str) -> Parent:
    info = engine.info()
    return locate(name, info.get("CgroupDriver", "cgroupfs"), str(info.get("CgroupVersion", "1")))
