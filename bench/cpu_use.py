"""Where the CPU goes during a measured run: the CPU time of process trees (a container's, nginx's)
and the machine's idle time, read from /proc before and after; and a CPU load of a given size to
run beside a measurement, as a control for what any work sharing the cores costs.

A tree is a process and its descendants at the time of the sample, each counted with the CPU time
of its threads and of the children it has reaped: a process that starts and ends between two samples
without its parent reaping it is not counted (the servers measured here keep their processes).
"""

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
# The load's duty cycle: busy for its share of each period, asleep for the rest. It writes across
# a few megabytes as it spins, as a server's work goes through its caches, not only the core's.
LOAD_PERIOD = 0.01
LOAD_MEMORY = 4 << 20
_LOAD = """
import sys, time
cores, period, size = float(sys.argv[1]), float(sys.argv[2]), int(sys.argv[3])
memory = bytearray(size)
while True:
    started = time.perf_counter()
    i = 0
    while time.perf_counter() - started < cores * period:
        memory[(i * 4099) % size] = i & 255
        i += 1
    time.sleep(max(period - (time.perf_counter() - started), 0))
"""


@dataclass(frozen=True)
class Sample:
    at: float  # time.monotonic()
    trees: dict[str, float]  # name -> CPU seconds of the tree so far
    idle: float  # idle seconds of all cores together since boot


@dataclass(frozen=True)
class Use:
    """The CPU use between two samples."""

    elapsed: float
    seconds: dict[str, float]  # name -> CPU seconds the tree used
    idle_seconds: float  # of all cores together

    def cores(self, name: str) -> float:
        return self.seconds[name] / self.elapsed

    @property
    def idle_cores(self) -> float:
        return self.idle_seconds / self.elapsed


def _processes() -> dict[int, tuple[int, float]]:
    """pid -> (parent pid, CPU seconds: its threads' and its reaped children's)."""
    found = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:  # ended meanwhile
            continue
        fields = stat[stat.rindex(")") + 2 :].split()  # after "pid (comm) ": the name may hold spaces
        utime, stime, cutime, cstime = (int(value) for value in fields[11:15])
        found[int(entry.name)] = (int(fields[1]), (utime + stime + cutime + cstime) / CLOCK_TICKS)
    return found


def _tree_seconds(root: int, processes: dict[int, tuple[int, float]]) -> float:
    children: dict[int, list[int]] = {}
    for pid, (parent, _) in processes.items():
        children.setdefault(parent, []).append(pid)
    total, todo = 0.0, [root]
    while todo:
        pid = todo.pop()
        if pid in processes:
            total += processes[pid][1]
            todo += children.get(pid, [])
    return total


def _idle_seconds() -> float:
    with open("/proc/stat") as handle:
        fields = handle.readline().split()  # "cpu user nice system idle iowait ..."
    return (int(fields[4]) + int(fields[5])) / CLOCK_TICKS


def sample(roots: dict[str, int]) -> Sample:
    """The CPU time so far of each named process tree (by its root's pid) and the idle time."""
    processes = _processes()
    return Sample(
        time.monotonic(), {name: _tree_seconds(pid, processes) for name, pid in roots.items()}, _idle_seconds()
    )


def between(before: Sample, after: Sample) -> Use:
    return Use(
        after.at - before.at,
        {name: after.trees[name] - before.trees[name] for name in before.trees},
        after.idle - before.idle,
    )


@contextmanager
def cpu_load(cores: float) -> Iterator[None]:
    """A process that keeps `cores` of one core busy (0 to 1) until the block ends."""
    if not 0 <= cores <= 1:
        raise ValueError(f"a load of {cores:.2f} cores: it runs on one core, 0 to 1")
    load = subprocess.Popen([sys.executable, "-c", _LOAD, str(cores), str(LOAD_PERIOD), str(LOAD_MEMORY)])
    try:
        yield
    finally:
        load.kill()
        load.wait()
