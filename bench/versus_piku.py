"""catmeow on minidokku and on piku, side by side, interleaved (`make bench-piku`; `make bench` when piku is installed).

Both platforms run on this machine at once, each with its own nginx on a loopback port (bench/benchlib.py,
bench/pikulib.py), and get the same source pushed with git. In each round the two take turns (minidokku
first in even rounds, piku first in odd ones), so that what else the machine does weighs on both alike:

- first deploy: the app pushed to a platform that never had it (pip installs flask), until its page
  serves through nginx (polled while the push runs: minidokku moves traffic before the push returns,
  at the end of the new containers' uptime window; that time is printed too); then destroyed
  (`apps:destroy`, `piku destroy`) for the next round, but the last;
- code-only redeploy: catmeow.py changed to serve a new page, pushed, until that page serves (for
  piku: through its nginx reloaded for the new worker's port), and until the push returned, while a
  request loop asks for the page
  (a new connection each, as a browser's first visit, LOOP_PAUSE apart) from STEADY seconds before the
  push to STEADY seconds after it. A failed request is any answer but catmeow's page with status 200, or none within
  REQUEST_TIMEOUT; the seconds of failure add up each run of consecutive failures, from the start of
  its first request to the end of its last.

Printed: the median of each figure on each platform and minidokku ÷ piku.
"""

import statistics
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

import requests
from benchlib import HOST, RUNS, Bench, Served, count_from_environment, is_catmeow_page
from pikulib import PikuBench

FIRST_DEPLOYS = count_from_environment("BENCH_FIRST_DEPLOYS", min(RUNS, 3))
STEADY = 0.5  # seconds of requests before and after each redeploy
REQUEST_TIMEOUT = 5.0
LOOP_PAUSE = 0.02  # between a request's end and the next one's start: the loop must not slow the deploy it watches


@dataclass(frozen=True)
class Probe:
    started: float
    ended: float
    ok: bool
    page: str = ""  # what was answered with status 200
    answer: str = ""  # what a failed one got: "HTTP 502", "another page", an exception's name


@dataclass(frozen=True)
class Failures:
    requests: int
    failed: int
    seconds: float
    answers: tuple[str, ...] = ()  # of each failed request: what it got, when, and after how long


def failures(probes: list[Probe]) -> Failures:
    """The failed requests among probes (in the order they were made) and the seconds they span."""
    seconds, run_start, run_end = 0.0, None, None
    for probe in probes:
        if probe.ok:
            if run_start is not None:
                seconds += run_end - run_start
            run_start = None
        else:
            run_start = probe.started if run_start is None else run_start
            run_end = probe.ended
    if run_start is not None:
        seconds += run_end - run_start
    failed = [probe for probe in probes if not probe.ok]
    answers = tuple(
        f"{probe.answer or 'failed'} at +{probe.started - probes[0].started:.2f} s,"
        f" after {probe.ended - probe.started:.2f} s"
        for probe in failed
    )
    return Failures(len(probes), len(failed), seconds, answers)


class RequestLoop:
    """Asks served's page through nginx, one request after the other (LOOP_PAUSE apart), from start() until stop()."""

    def __init__(self, served: Served):
        self.served = served
        self.probes: list[Probe] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> list[Probe]:
        self._stop.set()
        self._thread.join()
        return self.probes

    def _loop(self) -> None:
        while not self._stop.wait(LOOP_PAUSE):
            started = time.monotonic()
            try:
                answer = requests.get(
                    self.served.url, headers={"Host": HOST, "Connection": "close"}, timeout=REQUEST_TIMEOUT
                )
                page = answer.text if answer.status_code == 200 else ""
                got = "another page" if answer.status_code == 200 else f"HTTP {answer.status_code}"
            except requests.RequestException as error:
                page, got = "", f"{type(error).__name__}: {error}"
            ok = is_catmeow_page(page)
            self.probes.append(Probe(started, time.monotonic(), ok, page, "" if ok else got))


@dataclass
class Side:
    """One platform's figures, in round order."""

    name: str
    served: Served
    first: list[float] = field(default_factory=list)
    redeploy: list[float] = field(default_factory=list)
    first_returned: list[float] = field(default_factory=list)  # until the push returned
    redeploy_returned: list[float] = field(default_factory=list)
    failed: list[Failures] = field(default_factory=list)


def first_deploy(side: Side, last: bool) -> None:
    if isinstance(side.served, Bench):
        side.served.dokku("apps:create", "catmeow")
    timing = side.served.timed_until(side.served.push, side.served.serves)
    side.first.append(timing.served)
    side.first_returned.append(timing.returned)
    if not last:
        if isinstance(side.served, Bench):
            side.served.dokku("apps:destroy", "catmeow", "--force")
        else:
            side.served.destroy()


def redeploy(side: Side, n: int) -> None:
    if isinstance(side.served, Bench):
        side.served.settle()
    loop = RequestLoop(side.served)
    loop.start()
    try:
        time.sleep(STEADY)
        timing = side.served.redeploy_code(n)
        side.redeploy.append(timing.served)
        side.redeploy_returned.append(timing.returned)
        time.sleep(STEADY)
    finally:
        side.failed.append(failures(loop.stop()))


def in_turn(sides: list[Side], n: int) -> list[Side]:
    """The sides in round n's order: as given in even rounds, reversed in odd ones."""
    return sides if n % 2 == 0 else sides[::-1]


def compare(sides: list[Side], first_deploys: int = FIRST_DEPLOYS, redeploys: int = RUNS) -> None:
    """Interleaved rounds of first deploys, then of code-only redeploys under the request loop; each
    side's app stays deployed at the end."""
    for n in range(first_deploys):
        for side in in_turn(sides, n):
            first_deploy(side, last=n == first_deploys - 1)
    for n in range(redeploys):
        for side in in_turn(sides, n):
            redeploy(side, 1000 + n)


def ratio(ours: float, theirs: float) -> str:
    """ours ÷ theirs, for a table: "–" for 0 ÷ 0 (both none), "∞" for x ÷ 0."""
    if theirs == 0:
        return "–" if ours == 0 else "∞"
    return f"{ours / theirs:.2f}"


def figures(side: Side) -> dict[str, float]:
    median = statistics.median
    return {
        "first deploy (s)": median(side.first),
        "code-only redeploy, push → new code served (s)": median(side.redeploy),
        "first deploy, until the push returned (s)": median(side.first_returned),
        "code-only redeploy, until the push returned (s)": median(side.redeploy_returned),
        "failed requests per redeploy": median(f.failed for f in side.failed),
        "seconds of failure per redeploy": median(f.seconds for f in side.failed),
    }


def print_comparison(ours: Side, theirs: Side) -> None:
    print(
        f"\ncatmeow on minidokku and on piku, this machine, interleaved: medians of {len(ours.first)} first"
        f" deploys and {len(ours.redeploy)} code-only redeploys, each under a request loop:\n"
    )
    mine, its = figures(ours), figures(theirs)
    width = max(map(len, mine))
    print(f"| {'figure':<{width}} | {'minidokku':>9} | {'piku':>9} | {'minidokku ÷ piku':>16} |")
    print(f"|{'-' * (width + 2)}|{'-' * 11}|{'-' * 11}|{'-' * 18}|")
    for name, value in mine.items():
        print(f"| {name:<{width}} | {value:>9.2f} | {its[name]:>9.2f} | {ratio(value, its[name]):>16} |")
    for side in (ours, theirs):
        print(
            f"{side.name}: failed/requests per redeploy, in round order: "
            + ", ".join(f"{f.failed}/{f.requests} ({f.seconds:.2f} s)" for f in side.failed)
        )


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="minidokku-bench-") as directory:
        workdir = Path(directory)
        bench = Bench(workdir)
        piku: Optional[PikuBench] = None
        try:
            piku = PikuBench(workdir)
            sides = [Side("minidokku", bench), Side("piku", piku)]
            compare(sides)
        finally:
            if piku is not None:
                piku.close()
            bench.close()
    print_comparison(*sides)


if __name__ == "__main__":
    main()
