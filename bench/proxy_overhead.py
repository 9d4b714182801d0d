"""What nginx costs: requests/s and p99 latency asked straight to the web container and through nginx,
for catmeow and for the same page under gunicorn (`make bench`).

Same set-up as deploy_times.py (bench/benchlib.py): a temporary minidokku root with its own nginx on a
loopback port. Two apps are pushed:

- catmeow as it is: Flask's development server, which closes the connection after every answer, so
  each request opens a new connection to the container (nginx's upstream keep-alive cannot help);
- gunimeow: catmeow's page served by gunicorn (2 workers, 4 threads each), as a real app runs on a
  Heroku-style platform; it keeps connections open, and nginx keeps up to 16 per worker open to it.

wrk asks each app's page with the same flags every time (-t2 -c16, keep-alive client connections, the
app's Host header) on three paths:

- published port: 127.0.0.1:PORT, where the web container publishes its port. Docker's userland
  proxy (docker-proxy) takes the connection to the container: nginx's path to the container until
  addresses were pinned (runtime/web_addresses.py), kept for comparison;
- container address: the container's pinned address on the web network, straight to it;
- through nginx: nginx's port, as every request to the app arrives; nginx proxies to that address
  (upstream keep-alive for servers that keep connections), so "through nginx ÷ container address"
  is what nginx adds;
- container address, beside a CPU load: straight to the container again, while a process keeps busy
  as much CPU as nginx used in the round's run through nginx (bench/cpu_use.py). It is the control:
  when "beside a CPU load ÷ container address" comes close to "through nginx ÷ container address",
  what nginx costs the app is the cores it takes, not the way it proxies.

ROUNDS rounds (BENCH_PROXY_ROUNDS, 15); each round runs the three paths once, in an order that rotates
from round to round, so a busy moment of the shared machine does not land on one path only. Figures
are medians; a ratio is the median of each round's ratio, printed with the quartiles of those ratios.
Why 15 and not the other benches' RUNS (5): two runs of the same path back to back differ by about
7 % (catmeow, 2026-12-04: their ratio's standard deviation was 0.069 over 12 rounds of 5 s runs, 0.08
and 0.11 over 24 rounds of 1 s runs), so the median of 5 rounds moved by about 0.04 from one bench
to the next (0.90 to 0.98), as much as the margin a target of 0.95 leaves.
Each run also gives where the CPU went (from /proc): the app's container and nginx, in CPU time per
request answered, and the cores left idle. wrk, nginx, docker-proxy and the app share the machine's
cores: the figures say what nginx costs on this machine, not a limit of either.
Needs wrk on the PATH (`make bench` installs it).
"""

import statistics
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

import cpu_use
from benchlib import DOKKU, HOST, Bench, BenchError, count_from_environment, run
from redeploy_under_load import WRK_SCRIPT, WrkSummary, parse_wrk, routed_containers

from minidokku.engine.client import Engine
from minidokku.runtime import web_addresses, web_network

WRK_FLAGS = ["-t2", "-c16", "-d5s", "--latency"]
WRK_TIMEOUT = 60.0  # wrk stops itself after -d; this only guards against a hung run
WEB_PORT = "5000/tcp"
GUNICORN_APP = "gunimeow"
GUNICORN_PROCFILE = "web: gunicorn --workers 2 --threads 4 --worker-class gthread --bind 0.0.0.0:$PORT catmeow:app\n"
# catmeow.py starts Flask's server when it is loaded; gunicorn loads it as a module, so the call
# moves under __main__
SERVER_START = "\napp.run("
PATHS = ("published port", "container address", "through nginx")
LOADED = "container address, beside a CPU load"  # the control, after PATHS in each round
ROUNDS = count_from_environment("BENCH_PROXY_ROUNDS", 15, least=2)  # quartiles need two


@dataclass(frozen=True)
class Figures:
    """One app's wrk runs per path (PATHS), in the order they ran."""

    app: str
    server: str  # what serves the page, in words
    published_address: str  # 127.0.0.1:PORT
    container_address: str  # IP:5000, the pinned address
    runs: dict[str, list[WrkSummary]]  # PATHS and LOADED
    use: dict[str, list[cpu_use.Use]]  # the CPU use of each of those runs: "app" and "nginx"

    def requests_per_second(self, path: str) -> float:
        return statistics.median(summary.requests_per_second for summary in self.runs[path])

    def p99_seconds(self, path: str) -> float:
        return statistics.median(summary.p99_seconds for summary in self.runs[path])

    def cpu_per_request(self, path: str, tree: str) -> float:
        """Seconds of CPU the tree ("app", "nginx") used per request answered on path."""
        runs = zip(self.use[path], self.runs[path])
        return statistics.median(use.seconds[tree] / max(summary.requests, 1) for use, summary in runs)

    def idle_cores(self, path: str) -> float:
        return statistics.median(use.idle_cores for use in self.use[path])

    def ratio(self, path: str = "container address", proxied: str = "through nginx") -> float:
        """The median over the rounds of requests/s on proxied ÷ requests/s on path in the same round:
        runs of one round are seconds apart, so the load other work puts on the machine is about the
        same for both (over a whole bench it swings by a factor of 3 and more)."""
        return statistics.median(self.ratios(path, proxied))

    def ratios(self, path: str = "container address", proxied: str = "through nginx") -> list[float]:
        """Each round's requests/s on proxied ÷ requests/s on path."""
        pairs = zip(self.runs[proxied], self.runs[path])
        return [through.requests_per_second / other.requests_per_second for through, other in pairs]

    def quartiles(self, path: str = "container address", proxied: str = "through nginx") -> str:
        """The first and third quartiles of the rounds' ratios, "0.91-1.01": how far a round strays."""
        low, _, high = statistics.quantiles(self.ratios(path, proxied), n=4)
        return f"{low:.2f}-{high:.2f}"


def routed_container(bench: Bench, app: str) -> tuple[str, int, int]:
    """(address, published port, process id) of the one web container the app's nginx site proxies
    to: its pinned address, as the site names it, its published port and its first process."""
    routed = routed_containers(bench, app)
    if len(routed) != 1 or routed[0] is None:
        raise BenchError(f"{app}: expected nginx to proxy to one running web container, found {routed}")
    networks = (web_network.holder_of(Engine(), routed[0]) or routed[0])["NetworkSettings"]
    address = web_addresses.pinned(networks["Networks"].get(web_addresses.NETWORK))
    published = int(networks["Ports"][WEB_PORT][0]["HostPort"])
    return f"{address}:{WEB_PORT.split('/')[0]}", published, routed[0]["State"]["Pid"]


def wrk(url: str, script: Path, host: str = HOST) -> WrkSummary:
    argv = ["wrk", *WRK_FLAGS, "-s", str(script), "-H", f"Host: {host}", url]
    result = subprocess.run(argv, capture_output=True, text=True, timeout=WRK_TIMEOUT)
    if result.returncode != 0:
        raise BenchError(f"{' '.join(argv)} failed (exit {result.returncode}):\n{result.stderr}{result.stdout}")
    return parse_wrk(result.stdout)


def measured(url: str, script: Path, host: str, roots: dict[str, int]) -> tuple[WrkSummary, cpu_use.Use]:
    """A wrk run and the CPU the named process trees used during it."""
    before = cpu_use.sample(roots)
    summary = wrk(url, script, host)
    return summary, cpu_use.between(before, cpu_use.sample(roots))


def push_gunicorn_app(bench: Bench, workdir: Path) -> None:
    """GUNICORN_APP: catmeow's committed source, served by gunicorn, created and pushed."""
    src = workdir / GUNICORN_APP
    run(["git", "clone", "-q", str(bench.src), str(src)], env=bench.env)
    module = src / "catmeow.py"
    code = module.read_text()
    if SERVER_START not in code:
        raise BenchError(f"catmeow.py no longer starts its server with {SERVER_START.strip()!r}")
    module.write_text(code.replace(SERVER_START, '\nif __name__ == "__main__":\n    app.run(', 1))
    (src / "Procfile").write_text(GUNICORN_PROCFILE)
    with open(src / "requirements.txt", "a") as handle:
        handle.write("gunicorn\n")
    for argv in (["git", "add", "-A"], ["git", "commit", "-q", "-m", "served by gunicorn"]):
        run(argv, cwd=src, env=bench.env)
    bench.dokku("apps:create", GUNICORN_APP)
    run(["git", "push", "-q", str(bench.root / GUNICORN_APP), "HEAD:main"], cwd=src, env=bench.env)


def destroy_gunicorn_app(bench: Bench) -> None:
    """Before bench.close(), which destroys catmeow and then the root's apps network."""
    if (bench.root / GUNICORN_APP).exists():
        subprocess.run([DOKKU, "apps:destroy", GUNICORN_APP, "--force"], env=bench.env, capture_output=True)


def measure(bench: Bench, app: str, server: str, script: Path, rounds: int = ROUNDS) -> Figures:
    """wrk on PATHS for the app, `rounds` interleaved rounds, each followed by the control (LOADED);
    the app serves one web container."""
    address, port, pid = routed_container(bench, app)
    roots = {"app": pid, "nginx": bench.nginx_pid}
    published = f"127.0.0.1:{port}"
    urls = {
        "published port": f"http://{published}/",
        "container address": f"http://{address}/",
        "through nginx": bench.url,
    }
    host = HOST if app == "catmeow" else HOST.replace("catmeow", app, 1)
    runs: dict[str, list[WrkSummary]] = {path: [] for path in (*PATHS, LOADED)}
    use: dict[str, list[cpu_use.Use]] = {path: [] for path in (*PATHS, LOADED)}
    for n in range(rounds):
        for path in PATHS[n % len(PATHS) :] + PATHS[: n % len(PATHS)]:
            summary, used = measured(urls[path], script, host, roots)
            runs[path].append(summary)
            use[path].append(used)
        with cpu_use.cpu_load(min(use["through nginx"][-1].cores("nginx"), 1.0)):
            summary, used = measured(urls["container address"], script, host, roots)
        runs[LOADED].append(summary)
        use[LOADED].append(used)
    return Figures(app, server, published, address, runs, use)


def both_apps(bench: Bench, workdir: Path, rounds: int = ROUNDS) -> list[Figures]:
    """catmeow (pushed and serving) and GUNICORN_APP (pushed here, destroyed after) measured."""
    script = workdir / "count.lua"
    script.write_text(WRK_SCRIPT)
    push_gunicorn_app(bench, workdir)
    try:
        return [
            measure(bench, "catmeow", "Flask's development server, a connection per request", script, rounds),
            measure(bench, GUNICORN_APP, "gunicorn, keeps connections", script, rounds),
        ]
    finally:
        destroy_gunicorn_app(bench)


def print_figures(figures: list[Figures]) -> None:
    rounds = len(figures[0].runs["published port"])
    print(f"\nwrk {' '.join(WRK_FLAGS)}, {rounds} interleaved rounds, medians (a ratio: of each round's ratio):")
    print("  published port = 127.0.0.1:PORT, through docker-proxy (nginx's path before addresses were pinned);")
    print("  container address = the web container's pinned address, where nginx proxies to;")
    print("  beside a CPU load = the same, while a process uses the CPU nginx used in the round (the control);")
    print("  CPU per request = the CPU time the app's container or nginx used, ÷ the requests answered\n")
    columns = [("app", 9), ("path", 58), ("requests/s", 10), ("p99 latency (ms)", 16), ("failed requests", 15),
               ("app CPU per request (µs)", 24), ("nginx CPU per request (µs)", 26), ("idle cores", 10)]  # fmt: skip
    print(_row([name for name, _ in columns], columns))
    print("|" + "|".join("-" * (width + 2) for _, width in columns) + "|")
    for app in figures:
        where = {
            "published port": f"published port ({app.published_address})",
            "container address": f"container address ({app.container_address})",
        }
        for path in (*PATHS, LOADED):
            failed = sum(summary.failed for summary in app.runs[path])
            cells = [app.app, where.get(path, path), f"{app.requests_per_second(path):.0f}",
                     f"{app.p99_seconds(path) * 1e3:.1f}", str(failed),
                     f"{app.cpu_per_request(path, 'app') * 1e6:.0f}", f"{app.cpu_per_request(path, 'nginx') * 1e6:.0f}",
                     f"{app.idle_cores(path):.2f}"]  # fmt: skip
            print(_row(cells, columns))
        ratios = [("through nginx", "container address"), ("through nginx", "published port"),
                  ("published port", "container address"), (LOADED, "container address")]  # fmt: skip
        for proxied, path in ratios:
            cells = [app.app, f"{proxied} ÷ {path}", f"{app.ratio(path, proxied):.2f}", *[""] * 5]
            print(_row(cells, columns))
    print()
    for app in figures:
        print(f"{app.app}: {app.server}; through nginx ÷ container address, rounds' quartiles {app.quartiles()}")


def _row(cells: list[str], columns: list[tuple[str, int]]) -> str:
    """A table row: the first two cells to the left, the figures to the right."""
    aligned = (
        f"{cell:<{width}}" if n < 2 else f"{cell:>{width}}" for n, (cell, (_, width)) in enumerate(zip(cells, columns))
    )
    return "| " + " | ".join(aligned) + " |"


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="minidokku-bench-") as directory:
        workdir = Path(directory)
        bench = Bench(workdir)
        try:
            bench.dokku("apps:create", "catmeow")
            bench.timed(bench.push)
            figures = both_apps(bench, workdir)
        finally:
            bench.close()
    print_figures(figures)


if __name__ == "__main__":
    main()
