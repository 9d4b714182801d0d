"""Where a redeploy's time goes: the per-step timing of traced code-only redeploys of catmeow (`make bench`).

With `trace:on` in the bench's root, every push prints one `+ time STEP SECONDS s` line per step of
the deploy (minidokku/steps.py), relayed by git as `remote: ` lines. Each step's median over the
redeploys is printed, and "push, outside the deploy's steps": the push's own time less the steps'
sum (git sending the commit, receive-pack, the hook's start, git updating the branch).
"""

import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

from benchlib import RUNS, Bench

STEP_LINE = re.compile(r"^(?:remote: )?\+ time (\S+) (\d+(?:\.\d+)?) s\s*$", re.MULTILINE)
OUTSIDE = "push, outside the deploy's steps"


def parse_steps(output: str) -> dict[str, float]:
    """The `+ time STEP SECONDS s` lines of a push's output, by step, in their order (a step
    named twice adds up)."""
    steps: dict[str, float] = {}
    for name, seconds in STEP_LINE.findall(output):
        steps[name] = steps.get(name, 0.0) + float(seconds)
    return steps


def traced_redeploys(bench: Bench, runs: int = RUNS) -> list[dict[str, float]]:
    """runs code-only redeploys of the deployed catmeow with trace:on, each its steps plus OUTSIDE."""
    bench.dokku("trace:on")
    try:
        found = []
        for n in range(runs):
            bench.settle()
            bench.code_change(2000 + n)
            started = time.monotonic()
            pushed = bench.git("push", "-q", str(bench.root / "catmeow"), "main")
            total = time.monotonic() - started
            steps = parse_steps(pushed.stderr)
            steps[OUTSIDE] = total - sum(steps.values())
            found.append(steps)
            bench.wait_serving()
        return found
    finally:
        bench.dokku("trace:off")


def print_steps(runs: list[dict[str, float]]) -> None:
    names = list(dict.fromkeys(name for run in runs for name in run))
    medians = {name: statistics.median(run.get(name, 0.0) for run in runs) for name in names}
    width = max(len(name) for name in names)
    print(f"\nA code-only redeploy of catmeow, step by step (`dokku trace:on`), medians of {len(runs)}:\n")
    print(f"| {'step':<{width}} | {'seconds':>7} |")
    print(f"|{'-' * (width + 2)}|{'-' * 9}|")
    for name in names:
        print(f"| {name:<{width}} | {medians[name]:>7.3f} |")
    print(f"| {'sum of the medians':<{width}} | {sum(medians.values()):>7.3f} |")


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="minidokku-bench-") as directory:
        bench = Bench(Path(directory))
        try:
            bench.dokku("apps:create", "catmeow")
            bench.timed(bench.push)
            runs = traced_redeploys(bench)
        finally:
            bench.close()
    print_steps(runs)


if __name__ == "__main__":
    sys.exit(main())
