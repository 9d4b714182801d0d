"""Redeploys of catmeow under HTTP load, then a no-change redeploy and a rollback, timed (`make bench`).

Same set-up as deploy_times.py (bench/benchlib.py): a temporary minidokku root with its own nginx on a
loopback port, pushes over git's local transport. Needs wrk on the PATH (`make bench` installs it).

- No-change redeploy: an empty commit pushed, timed from `git push` until it returns, median of RUNS.
  catmeow's page says nothing release-specific; but the deploy runs inside the pre-receive hook, so the
  push returns only once the new release serves. That is checked after each push, untimed: the page
  answers and nginx's site proxies only to containers of the new release's image (old containers may
  still run during their wait-to-retire).
- Rollback: `dokku releases:rollback catmeow v1`, timed until the command returns, then checked the same
  way against v1's image. It runs after the first no-change redeploy (v2), while v1 still has its image
  (only the last releases keep theirs).
- Under load: wrk (-t2 -c16) asks nginx for catmeow's page while REDEPLOYS empty commits are pushed one
  after the other; every push must succeed. Twice: with keep-alive connections, then with a connection per
  request (nginx's graceful reload closes idle keep-alive connections, and a client that sent a request on
  one at that moment reads end-of-file; browsers retry such a GET, wrk counts a read error).
  wrk is then stopped with SIGINT (it prints its summary) and
  the failed requests are itemised: the responses wrk counts as "Non-2xx or 3xx" (in fact statuses >= 400,
  such as nginx's 502) and its socket errors (connect, read, write, timeout: requests without a response,
  which wrk does not count among its requests).

`python bench/redeploy_under_load.py --check-parser` checks the wrk output parser on sample outputs.
"""

import json
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

from benchlib import DOKKU, HOST, RUNS, Bench, BenchError

from minidokku.engine.client import Engine
from minidokku.runtime import labels, web_addresses, web_network

REDEPLOYS = 10
WRK_CAP = "600s"  # wrk's -d, longer than the redeploys take: wrk is stopped with SIGINT once they are done
STEADY_SECONDS = 1.0  # load before the first and after the last redeploy
CHECK_TIMEOUT = 30.0
SOCKET_ERRORS = ("connect", "read", "write", "timeout")

# wrk calls done() once, at the end: one line with every count, printed even when it is zero.
WRK_SCRIPT = """\
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    "bench-counts requests=%d connect=%d read=%d write=%d timeout=%d non2xx=%d duration_us=%d p99_us=%d\\n",
    summary.requests, e.connect, e.read, e.write, e.timeout, e.status, summary.duration,
    latency:percentile(99)))
end
"""


@dataclass(frozen=True)
class WrkSummary:
    requests: int
    non2xx: int
    socket_errors: dict[str, int]
    requests_per_second: float
    p99_seconds: float
    output: str = ""  # wrk's own output

    @property
    def failed(self) -> int:
        return self.non2xx + sum(self.socket_errors.values())


_TIME_UNITS = {"us": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}


def parse_wrk(output: str) -> WrkSummary:
    """wrk's summary: the bench-counts line of WRK_SCRIPT when there is one, else wrk's own lines.

    wrk prints "Socket errors: ..." and "Non-2xx or 3xx responses: N" only when they are not zero.
    When both kinds of lines are there, they must agree.
    """
    total = re.search(r"^\s*(\d+) requests in ", output, re.MULTILINE)
    rate = re.search(r"^Requests/sec:\s*([\d.]+)", output, re.MULTILINE)
    if total is None or rate is None:
        raise ValueError(f"no wrk summary in:\n{output}")
    non2xx = re.search(r"^\s*Non-2xx or 3xx responses: (\d+)", output, re.MULTILINE)
    sockets = re.search(
        r"^\s*Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output, re.MULTILINE
    )
    p99 = re.search(r"^\s*99(?:\.0+)?%\s+([\d.]+)(us|ms|s|m|h)\s*$", output, re.MULTILINE)
    summary = WrkSummary(
        requests=int(total.group(1)),
        non2xx=int(non2xx.group(1)) if non2xx else 0,
        socket_errors=dict(zip(SOCKET_ERRORS, map(int, sockets.groups()) if sockets else (0, 0, 0, 0))),
        requests_per_second=float(rate.group(1)),
        p99_seconds=float(p99.group(1)) * _TIME_UNITS[p99.group(2)] if p99 else float("nan"),
        output=output,
    )
    counts = re.search(r"^bench-counts (.*)$", output, re.MULTILINE)
    if counts is None:
        return summary
    values = {key: int(value) for key, value in (item.split("=") for item in counts.group(1).split())}
    exact = WrkSummary(
        requests=values["requests"],
        non2xx=values["non2xx"],
        socket_errors={name: values[name] for name in SOCKET_ERRORS},
        requests_per_second=values["requests"] / (values["duration_us"] / 1e6),
        p99_seconds=values["p99_us"] / 1e6,
        output=output,
    )
    if (exact.requests, exact.non2xx, exact.socket_errors) != (summary.requests, summary.non2xx, summary.socket_errors):
        raise ValueError(f"wrk's summary lines and its done() counts disagree:\n{output}")
    return exact


class Load:
    """wrk asking nginx for catmeow's page, from start() until stop() returns wrk's summary."""

    def __init__(self, bench: Bench, workdir: Path, keep_alive: bool = True):
        script = workdir / "count.lua"
        script.write_text(WRK_SCRIPT)
        self.argv = ["wrk", "-t2", "-c16", f"-d{WRK_CAP}", "--latency", "-s", str(script), "-H", f"Host: {HOST}",
                     bench.url]  # fmt: skip
        if not keep_alive:  # a new connection per request: no idle connection for a reload to close
            self.argv[-1:-1] = ["-H", "Connection: close"]
        self.process: Optional[subprocess.Popen] = None

    def start(self) -> None:
        self.process = subprocess.Popen(self.argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        time.sleep(STEADY_SECONDS)
        self._require_running()

    def stop(self) -> WrkSummary:
        self._require_running()
        self.process.send_signal(signal.SIGINT)  # wrk stops its threads and prints its summary
        output, _ = self.process.communicate(timeout=30)
        return parse_wrk(output)

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait()

    def _require_running(self) -> None:
        if self.process.poll() is not None:
            output, _ = self.process.communicate()
            raise BenchError(f"wrk stopped before it was asked to (exit {self.process.returncode}):\n{output}")


@dataclass(frozen=True)
class Timing:
    seconds: float  # from the start of the push (or command) until it returned
    late: float  # from its return until the release was found serving (0 when it already was)


def release_image(bench: Bench, number: int) -> str:
    """The image of the app's release vN, from its root (releases/vN.json)."""
    return json.loads((bench.root / "catmeow" / "releases" / f"v{number}.json").read_text())["image_id"]


def latest_release(bench: Bench) -> int:
    return max(int(path.stem[1:]) for path in (bench.root / "catmeow" / "releases").glob("v*.json"))


def routed_containers(bench: Bench, app: str = "catmeow") -> list[Optional[dict]]:
    """The containers the app's nginx site proxies to (not its backups; retiring ones may still
    run), as the engine inspects them (None for an address no running web container has pinned)."""
    site = (bench.root / app / "nginx.conf").read_text()
    servers = set(re.findall(r"^\s*server ([\d.]+:\d+);", site, re.MULTILINE))
    engine = Engine()
    web = {labels.APP: f"{bench.namespace}{app}", labels.PROCESS_TYPE: "web"}
    reached = {}
    for entry in engine.list_containers(web, all_states=False):
        container = engine.inspect_container(entry["Id"])
        namespace = web_network.holder_of(engine, container) or container  # its holder's, when it joined one
        address = web_addresses.pinned(namespace["NetworkSettings"]["Networks"].get(web_addresses.NETWORK))
        reached[f"{address}:5000"] = container
    return [reached.get(server) for server in servers]


def routed_images(bench: Bench) -> set[str]:
    """The images of the containers catmeow's nginx site proxies to ("?" for a port no container has)."""
    return {container["Image"] if container else "?" for container in routed_containers(bench)}


def wait_serving(bench: Bench, image: str, name: str) -> float:
    """Seconds from the call to the check that found the page serving and nginx proxying to image's
    containers only (0 when the first check did); raises after CHECK_TIMEOUT."""
    started = time.monotonic()
    late = 0.0
    while not (bench.serves() and routed_images(bench) == {image}):
        if time.monotonic() - started > CHECK_TIMEOUT:
            raise BenchError(f"{name} not serving after {CHECK_TIMEOUT:.0f} s: nginx proxies to {routed_images(bench)}")
        time.sleep(0.05)
        late = time.monotonic() - started
    return late


def redeploy(bench: Bench, message: str) -> Timing:
    """Pushes an empty commit (the push must succeed) and checks that its new release serves."""
    expected = latest_release(bench) + 1
    bench.commit(message)
    started = time.monotonic()
    bench.push()
    seconds = time.monotonic() - started
    if latest_release(bench) != expected:
        raise BenchError(f"{message}: the push made v{latest_release(bench)}, not v{expected}")
    return Timing(seconds, wait_serving(bench, release_image(bench, expected), f"v{expected}"))


def redeploys_under_load(bench: Bench, load: Load) -> tuple[list[Timing], WrkSummary]:
    load.start()
    timings = [redeploy(bench, f"redeploy under load {n}") for n in range(1, REDEPLOYS + 1)]
    time.sleep(STEADY_SECONDS)
    return timings, load.stop()


def rollback(bench: Bench) -> Timing:
    """`dokku releases:rollback catmeow v1` until it returns, then v1 checked."""
    started = time.monotonic()
    result = subprocess.run([DOKKU, "releases:rollback", "catmeow", "v1"], env=bench.env, capture_output=True,
                            text=True)  # fmt: skip
    seconds = time.monotonic() - started
    if result.returncode != 0:
        raise BenchError(f"releases:rollback failed (exit {result.returncode}):\n{result.stderr}{result.stdout}")
    return Timing(seconds, wait_serving(bench, release_image(bench, 1), "v1 (rolled back)"))


def row(label: str, value: str) -> None:
    print(f"| {label:<52} | {value:>13} |")


def print_load(title: str, under_load: list[Timing], wrk: WrkSummary) -> None:
    print(f"\n{title}:\n")
    row("figure", "value")
    print(f"|{'-' * 54}|{'-' * 15}|")
    row("redeploys under load (every push succeeded)", str(len(under_load)))
    row("redeploy under load, push to return, median (s)", f"{statistics.median(t.seconds for t in under_load):.2f}")
    row("total requests (responses)", str(wrk.requests))
    row("failed requests", str(wrk.failed))
    row("  non-2xx responses (status >= 400)", str(wrk.non2xx))
    for name, count in wrk.socket_errors.items():
        row(f"  socket errors: {name}", str(count))
    row("requests/s", f"{wrk.requests_per_second:.0f}")
    row("p99 latency (ms)", f"{wrk.p99_seconds * 1e3:.1f}")


def print_table(
    loads: list[tuple[str, list[Timing], WrkSummary]],
    no_change: list[Timing],
    rolled_back: Timing,
) -> None:
    for title, under_load, wrk in loads:
        print_load(title, under_load, wrk)
    print("\nwithout load:\n")
    row(f"no-change redeploy, push to return, median of {len(no_change)} (s)",
        f"{statistics.median(t.seconds for t in no_change):.2f}")  # fmt: skip
    row("releases:rollback catmeow v1, to return (s)", f"{rolled_back.seconds:.2f}")
    print()
    for title, _timings, wrk in loads:
        print(f"wrk's output ({title}):\n" + "".join(f"    {line}\n" for line in wrk.output.splitlines()))
    timings = [t for _title, under_load, _wrk in loads for t in under_load]
    late = [t.late for t in [*timings, *no_change, rolled_back] if t.late > 0]
    if late:
        print(f"note: {len(late)} releases served only after their command returned (up to {max(late):.2f} s later)")


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="minidokku-bench-") as directory:
        workdir = Path(directory)
        bench = Bench(workdir)
        keep_alive, closing = Load(bench, workdir), Load(bench, workdir, keep_alive=False)
        try:
            bench.dokku("apps:create", "catmeow")
            bench.timed(bench.push)  # v1
            # the rollback comes early: only the last KEEP_RELEASES (5) releases keep their images
            no_change = [redeploy(bench, "no change 1")]  # v2
            rolled_back = rollback(bench)  # v3, v1's image
            no_change += [redeploy(bench, f"no change {n}") for n in range(2, RUNS + 1)]
            title = (
                f"catmeow through nginx, wrk -t2 -c16 during {REDEPLOYS} redeploys (empty commits pushed one by one)"
            )
            loads = [
                (f"{title}, keep-alive connections", *redeploys_under_load(bench, keep_alive)),
                (f"{title}, a connection per request", *redeploys_under_load(bench, closing)),
            ]
        finally:
            keep_alive.kill()
            closing.kill()
            bench.close()
    print_table(loads, no_change, rolled_back)


# wrk 4.1.0 outputs (Debian's): a run of this bench, a run without WRK_SCRIPT against a server answering
# 502 or closing connections, and a made-up one with every kind of failure.
_SAMPLES = [
    (
        """Running 10m test @ http://127.0.0.1:60483/
  2 threads and 16 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency    22.35ms   19.57ms 256.62ms   90.20%
    Req/Sec   412.33    165.23     1.02k    69.06%
  Latency Distribution
     50%   16.84ms
     75%   25.15ms
     90%   40.31ms
     99%  111.67ms
  43895 requests in 0.90m, 7.49MB read
  Socket errors: connect 0, read 24, write 0, timeout 0
Requests/sec:    816.39
Transfer/sec:    142.70KB
bench-counts requests=43895 connect=0 read=24 write=0 timeout=0 non2xx=0 duration_us=53767089 p99_us=111672
""",
        WrkSummary(43895, 0, {"connect": 0, "read": 24, "write": 0, "timeout": 0}, 43895 / 53.767089, 0.111672),
    ),
    (
        """Running 3s test @ http://127.0.0.1:18778/
  2 threads and 4 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency   245.67us  124.23us 374.00us   66.67%
    Req/Sec    15.00      7.07    20.00    100.00%
  Latency Distribution
     50%  237.00us
     75%  374.00us
     90%  374.00us
     99%  374.00us
  3 requests in 3.01s, 198.00B read
  Socket errors: connect 0, read 4, write 0, timeout 0
  Non-2xx or 3xx responses: 3
Requests/sec:      1.00
Transfer/sec:      65.87B
""",
        WrkSummary(3, 3, {"connect": 0, "read": 4, "write": 0, "timeout": 0}, 1.0, 374e-6),
    ),
    (
        """Running 10m test @ http://127.0.0.1:18778/
  2 threads and 16 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency    10.01ms   40.00ms    1.99s    99.00%
    Req/Sec     1.50k   200.00     1.90k    75.00%
  Latency Distribution
     50%    4.00ms
     75%    5.00ms
     90%    6.00ms
     99%   99.00ms
  45000 requests in 30.00s, 7.00MB read
  Socket errors: connect 1, read 22, write 3, timeout 4
  Non-2xx or 3xx responses: 17
Requests/sec:   1500.00
Transfer/sec:    238.93KB
bench-counts requests=45000 connect=1 read=22 write=3 timeout=4 non2xx=17 duration_us=30000000 p99_us=99000
""",
        WrkSummary(45000, 17, {"connect": 1, "read": 22, "write": 3, "timeout": 4}, 1500.0, 0.099),
    ),
]


def check_parser() -> None:
    for output, expected in _SAMPLES:
        got = parse_wrk(output)
        assert got.requests == expected.requests and got.non2xx == expected.non2xx, got
        assert got.socket_errors == expected.socket_errors, got
        assert abs(got.requests_per_second - expected.requests_per_second) < 0.01, got
        assert abs(got.p99_seconds - expected.p99_seconds) < 1e-9, got
    assert parse_wrk(_SAMPLES[2][0]).failed == 17 + 1 + 22 + 3 + 4
    clean = "".join(line for line in _SAMPLES[0][0].splitlines(True) if not line.startswith(("bench-", "  Socket")))
    got = parse_wrk(clean)  # no failure lines at all: wrk prints them only when not zero
    assert (got.failed, got.requests, got.p99_seconds) == (0, 43895, 0.11167), got
    disagreeing = _SAMPLES[2][0].replace("non2xx=17", "non2xx=16")
    try:
        parse_wrk(disagreeing)
    except ValueError:
        pass
    else:
        raise AssertionError("disagreeing counts were accepted")
    print(f"parser: {len(_SAMPLES)} samples parsed as expected")


if __name__ == "__main__":
    if sys.argv[1:] == ["--check-parser"]:
        check_parser()
    else:
        main()
