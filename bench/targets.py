"""The speed targets of issue 17, measured in one run on catmeow, with piku beside it when it is
installed (`make bench`; `make bench-piku` installs it; BENCH_PIKU=1 asks for it).

One temporary minidokku root (bench/benchlib.py), and piku (bench/pikulib.py) when included:

- first deploy and code-only redeploy (push → new code served): bench/versus_piku.py's interleaved
  rounds (minidokku alone without piku), which also count the failed requests during each redeploy;
- no-change redeploy: an empty commit pushed, until the page serves;
- `releases:rollback catmeow vN`, to the last release with another image: from the command's start
  until nginx proxies only to containers of vN's image and the page serves;
- `config:set catmeow BENCH_N=n`: from the command's start until nginx proxies only to containers
  whose environment has BENCH_N=n and the page serves;
- `dokku apps:list` typed as root and as the root's owner (bench/program_start.py), and piku's `apps`;
- requests/s through nginx ÷ straight to the web container, for catmeow and for its page under gunicorn
  (bench/proxy_overhead.py's interleaved wrk runs, its ROUNDS rounds rather than RUNS; straight = to
  the container's pinned address on the web network, where nginx proxies to);
- a release whose web process exits 1 s after it starts (crashing_releases): traffic moves to it
  when it passes its checks and must come back with no failed request, the push failing;
- then the per-step timing of traced code-only redeploys (bench/deploy_steps.py).

Every timed round starts on a quiet engine: the earlier rounds' old containers retired and their
build containers removed (Bench.settle; the bench root's global wait-to-retire is 1 s instead of
Dokku's 60 s so that this takes seconds, not a minute a round). Rounds a few seconds apart with
the default 60 s would each also time the retirement of the minute before.

Each figure is the median of RUNS (BENCH_RUNS), printed with its target and, where piku does the same
thing, minidokku ÷ piku. A row meets its target when its median does.
"""

import os
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

import pikulib
import program_start
import proxy_overhead
from benchlib import RUNS, Bench, BenchError, UntilServed
from deploy_steps import print_steps, traced_redeploys
from redeploy_under_load import latest_release, release_image, routed_containers, routed_images
from versus_piku import STEADY, Failures, RequestLoop, Side, compare, failures, print_comparison, ratio


@dataclass(frozen=True)
class Row:
    step: str
    median: float
    target: str  # "≤ 1.5 s", "≥ 0.95"; "" for a figure the issue sets no target for
    meets: Optional[bool]  # None without a target
    piku: Optional[float] = None  # piku's median for the same step

    def cells(self) -> list[str]:
        unit = " s" if self.target.endswith(" s") else ""
        return [
            self.step,
            f"{self.median:.2f}{unit}",
            self.target,
            {True: "yes", False: "no", None: ""}[self.meets],
            "" if self.piku is None else f"{self.piku:.2f}{unit}",
            "" if self.piku is None else ratio(self.median, self.piku),
        ]


def served(timings: list[UntilServed]) -> list[float]:
    return [t.served for t in timings]


def at_most(step: str, times: list[float], limit: float, piku: Optional[list[float]] = None) -> Row:
    median = statistics.median(times)
    return Row(step, median, f"≤ {limit:.2f} s", median <= limit, None if piku is None else statistics.median(piku))


def at_least(step: str, value: float, limit: float) -> Row:
    return Row(step, value, f"≥ {limit:.2f}", value >= limit)


def measured(step: str, value: float) -> Row:
    return Row(step, value, "", None)


def format_table(rows: list[Row]) -> str:
    header = ["step", "median", "target", "met", "piku", "minidokku ÷ piku"]
    cells = [row.cells() for row in rows]
    widths = [max(len(line[i]) for line in [header, *cells]) for i in range(len(header))]

    def line(values: list[str]) -> str:
        return "| " + " | ".join(value.ljust(width) for value, width in zip(values, widths)) + " |"

    return "\n".join([line(header), "|" + "|".join("-" * (width + 2) for width in widths) + "|", *map(line, cells)])


def proxy_row(app: proxy_overhead.Figures) -> Row:
    """catmeow's ratio is a target; another app's is measured beside it (footnote ²)."""
    step = f"requests/s nginx ÷ straight to the container¹, {app.app} ({app.server})"
    if app.app == "catmeow":
        return at_least(step, app.ratio(), 0.95)
    return measured(step + "²", app.ratio())


def rollbacks(bench: Bench, runs: int = RUNS) -> list[UntilServed]:
    """From `releases:rollback catmeow vN` to vN's image serving alone (nginx proxies to its
    containers only, the old ones at most as backups), vN the latest release with another image
    than the current one's; and to the command returning."""
    times = []
    for _ in range(runs):
        bench.settle()
        current = latest_release(bench)
        image = release_image(bench, current)
        target = next(n for n in range(current - 1, 0, -1) if release_image(bench, n) != image)
        wanted = release_image(bench, target)
        times.append(
            bench.timed_until(
                lambda target=target: bench.dokku("releases:rollback", "catmeow", f"v{target}"),
                lambda wanted=wanted: bench.serves() and routed_images(bench) == {wanted},
            )
        )
    return times


def config_sets(bench: Bench, runs: int = RUNS) -> list[UntilServed]:
    """From `config:set catmeow BENCH_N=n` to the containers with it serving alone, and to the
    command returning."""

    def serving(value: str) -> bool:
        routed = routed_containers(bench)
        return bool(routed) and all(c and value in c["Config"]["Env"] for c in routed) and bench.serves()

    def configured(n: int) -> UntilServed:
        bench.settle()
        value = f"BENCH_N={n}"
        return bench.timed_until(lambda: bench.dokku("config:set", "catmeow", value), lambda: serving(value))

    return [configured(n) for n in range(runs)]


def no_change_redeploys(bench: Bench, runs: int = RUNS) -> list[UntilServed]:
    """From an empty commit's push to nginx proxying only to new containers (none serving before
    it) and the page serving, and to the push returning."""

    def pushed(n: int) -> UntilServed:
        bench.settle()
        before = {c["Id"] for c in routed_containers(bench) if c}
        bench.commit(f"no change {n}")
        return bench.timed_until(
            bench.push,
            lambda: bench.serves() and all(c and c["Id"] not in before for c in routed_containers(bench)),
        )

    return [pushed(n) for n in range(runs)]


@dataclass(frozen=True)
class CrashRun:
    """One push of a release whose web process exits 1 s after it starts, under a request loop."""

    push_failed: bool
    failed: Failures
    answered: int  # requests the crashing release answered
    went_back: bool  # the previous page serves after the push
    nginx_errors: tuple[str, ...] = ()  # what catmeow's nginx error log got in a round with a failed request


def crashing_releases(bench: Bench, runs: int = RUNS) -> list[CrashRun]:
    """Issue 17's guard on moving traffic before the uptime window ends: a code change pushed with
    `timeout 1` before the Procfile's web command passes its checks, takes the traffic, and exits
    1 s after it started, within its window. Traffic must go back to the previous release with no
    failed request, and the push must fail. The Procfile is committed back as it was after."""
    procfile = bench.src / "Procfile"
    original = procfile.read_text()
    if not original.startswith("web: "):
        raise BenchError(f"catmeow's Procfile no longer starts with its web process: {original!r}")
    previous = bench.page()
    error_log = bench.nginx_log_dir / "catmeow-error.log"
    found = []
    for n in range(runs):
        logged = error_log.stat().st_size if error_log.exists() else 0
        procfile.write_text(original.replace("web: ", "web: timeout 1 ", 1))
        page = bench.code_change(3000 + n)
        loop = RequestLoop(bench)
        loop.start()
        time.sleep(STEADY)
        pushed = subprocess.run(["git", "push", "-q", str(bench.root / "catmeow"), "main"], cwd=bench.src,
                                env=bench.env, capture_output=True, text=True)  # fmt: skip
        bench.wait_serving(previous)
        time.sleep(STEADY)
        probes = loop.stop()
        answered = sum(probe.page == page for probe in probes)
        failed = failures(probes)
        errors = ()
        if failed.failed and error_log.exists():
            with open(error_log, errors="replace") as handle:
                handle.seek(logged)
                errors = tuple(handle.read().splitlines())
        found.append(CrashRun(pushed.returncode != 0, failed, answered, bench.page() == previous, errors))
    procfile.write_text(original)
    bench.commit("the Procfile back as it was")
    return found


def print_crashes(runs: list[CrashRun]) -> None:
    print(f"\na release whose web process exits 1 s after it starts, pushed {len(runs)} times under a request loop:")
    print(f"  pushes that failed: {sum(run.push_failed for run in runs)} of {len(runs)}")
    print(f"  served by the previous release after each push: {sum(run.went_back for run in runs)} of {len(runs)}")
    print(f"  requests the crashing release answered before traffic went back: {[run.answered for run in runs]}")
    print(f"  failed requests: {[f'{run.failed.failed}/{run.failed.requests}' for run in runs]}")
    for n, run in enumerate(runs, 1):
        if run.failed.failed:
            print(f"  round {n}, what each failed request got (from the request loop's start):")
            print("".join(f"    {answer}\n" for answer in run.failed.answers), end="")
            print(f"  round {n}, catmeow's nginx error log meanwhile:")
            print("".join(f"    {line}\n" for line in run.nginx_errors) or "    (nothing)\n", end="")


def with_piku() -> bool:
    return os.environ.get("BENCH_PIKU") == "1" or pikulib.installed()


def main() -> None:
    piku_wanted = with_piku()
    with tempfile.TemporaryDirectory(prefix="minidokku-bench-") as directory:
        workdir = Path(directory)
        bench = Bench(workdir)
        piku: Optional[pikulib.PikuBench] = None
        try:
            sides = [Side("minidokku", bench)]
            if piku_wanted:
                piku = pikulib.PikuBench(workdir)
                sides.append(Side("piku", piku))
            compare(sides)
            no_change = no_change_redeploys(bench)
            rolled_back = rollbacks(bench)
            configured = config_sets(bench)
            crashes = crashing_releases(bench)
            try:
                proxied = proxy_overhead.both_apps(bench, workdir)
            except BenchError as error:  # wrk can run out of loopback ports: the other rows still count
                print(f"requests/s through nginx not measured: {error}", file=sys.stderr)
                proxied = []
            steps = traced_redeploys(bench)
        finally:
            if piku is not None:
                piku.close()
            bench.close()
    starts = program_start.apps_list_times()
    piku_apps = program_start.piku_apps_times() if piku_wanted else None
    ours, theirs = sides[0], sides[1] if len(sides) > 1 else None
    rows = [
        at_most("code-only redeploy, push → new code served", ours.redeploy, 1.5, theirs and theirs.redeploy),
        at_most("no-change redeploy", served(no_change), 1.5),
        at_most("first deploy (pip installs flask)", ours.first, 4.0, theirs and theirs.first),
        at_most("`releases:rollback`, command → old code served", served(rolled_back), 1.0),
        at_most("`config:set`, command → new value served", served(configured), 1.2),
        at_most("`dokku apps:list` typed as root on the host", starts["root"], 0.2),
        at_most("`dokku apps:list` as the dokku user (piku: `apps`)", starts["owner"], 0.1, piku_apps),
        *(proxy_row(app) for app in proxied),
    ]
    failed = [f.failed for f in ours.failed]
    returned = {
        "first deploy": ours.first_returned,
        "code-only redeploy": ours.redeploy_returned,
        "no-change redeploy": [t.returned for t in no_change],
        "`releases:rollback`": [t.returned for t in rolled_back],
        "`config:set`": [t.returned for t in configured],
    }
    print(f"\nIssue 17's targets, catmeow on this machine, medians of {RUNS} (first deploy: {len(ours.first)}):\n")
    print(format_table(rows))
    print(
        f"\n¹ wrk {' '.join(proxy_overhead.WRK_FLAGS)}, the median of {proxy_overhead.ROUNDS} interleaved rounds'"
        " ratios (their quartiles below); straight = to\n  the web container's pinned address, where nginx proxies to"
    )
    if any(app.app != "catmeow" for app in proxied):
        print(
            "² no target: the issue's targets are catmeow's; an app server that keeps connections is measured to"
            " choose\n  nginx's path to the container (upstream keep-alive). Below, the control: straight to the"
            " container\n  beside a CPU load of what nginx used"
        )
    print("\nuntil the command returned (traffic moved before; the uptime window ends it), medians:")
    for step, times in returned.items():
        print(f"  {step}: {statistics.median(times):.2f} s")
    print(f"\nfailed requests during minidokku's code-only redeploys (a request loop each): {failed}")
    for n, lost in enumerate(ours.failed, 1):
        if lost.failed:
            print(f"  round {n}: " + "; ".join(lost.answers))
    print_crashes(crashes)
    if theirs is not None:
        print_comparison(ours, theirs)
    else:
        print("piku: not installed (`make bench-piku` installs it and compares)")
    if proxied:
        proxy_overhead.print_figures(proxied)
    print_steps(steps)


if __name__ == "__main__":
    main()
