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

- direct: the web container's published port, 127.0.0.1:PORT from the Engine API. Docker's userland
  proxy (docker-proxy) takes the connection to the container: the very path nginx takes, so
  "through nginx ÷ direct" is what nginx adds;
- container address: the container's address on the apps network, past docker-proxy (the address
  Dokku's nginx proxies to). Shown for comparison only: minidokku's nginx does not proxy there,
  because after dockerd restarts, an address written in a site may already belong to another app's
  container until the site is rewritten;
- through nginx: nginx's port, as every request to the app arrives;
- nginx to the container address: Dokku's way, measured beside ours: the app's own site (the same
  proxy settings and upstream keep-alive) copied to another port of the bench's nginx, with its
  upstream at the container's address instead of the published port.

RUNS rounds (BENCH_RUNS); each round runs the three paths once, in an order that rotates from round
to round, so a busy moment of the shared machine does not land on one path only. Figures are medians;
a ratio is the median of each round's ratio.
wrk, nginx, docker-proxy and the app share the machine's cores: the figures say what nginx costs on
this machine, not a limit of either. Needs wrk on the PATH (`make bench` installs it).
"""

import re
import statistics
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from benchlib import DOKKU, HOST, RUNS, Bench, BenchError, free_port, run
from redeploy_under_load import WRK_SCRIPT, WrkSummary, parse_wrk

from minidokku.engine.client import Engine
from minidokku.runtime import labels

WRK_FLAGS = ["-t2", "-c16", "-d5s", "--latency"]
WRK_TIMEOUT = 60.0  # wrk stops itself after -d; this only guards against a hung run
WEB_PORT = "5000/tcp"
GUNICORN_APP = "gunimeow"
GUNICORN_PROCFILE = "web: gunicorn --workers 2 --threads 4 --worker-class gthread --bind 0.0.0.0:$PORT catmeow:app\n"
# catmeow.py starts Flask's server when it is loaded; gunicorn loads it as a module, so the call
# moves under __main__
SERVER_START = "\napp.run("
PATHS = ("direct", "container address", "through nginx", "nginx to the container address")


@dataclass(frozen=True)
class Figures:
    """One app's wrk runs per path (PATHS), in the order they ran."""

    app: str
    server: str  # what serves the page, in words
    direct_address: str  # 127.0.0.1:PORT
    container_address: str  # IP:5000
    runs: dict[str, list[WrkSummary]]

    def requests_per_second(self, path: str) -> float:
        return statistics.median(summary.requests_per_second for summary in self.runs[path])

    def p99_seconds(self, path: str) -> float:
        return statistics.median(summary.p99_seconds for summary in self.runs[path])

    def ratio(self, path: str = "direct", proxied: str = "through nginx") -> float:
        """The median over the rounds of requests/s on proxied ÷ requests/s on path in the same round:
        runs of one round are seconds apart, so the load other work puts on the machine is about the
        same for both (over a whole bench it swings by a factor of 3 and more)."""
        pairs = zip(self.runs[proxied], self.runs[path])
        return statistics.median(through.requests_per_second / other.requests_per_second for through, other in pairs)


def routed_container(bench: Bench, app: str) -> dict:
    """The one web container the app's nginx site proxies to, as the engine inspects it (retiring
    ones may still run), and its published port."""
    site = (bench.root / app / "nginx.conf").read_text()
    ports = set(re.findall(r"^\s*server 127\.0\.0\.1:(\d+);", site, re.MULTILINE))  # not the backups
    engine = Engine()
    web = {labels.APP: f"{bench.namespace}{app}", labels.PROCESS_TYPE: "web"}
    routed = []
    for entry in engine.list_containers(web, all_states=False):
        container = engine.inspect_container(entry["Id"])
        bindings = (container["NetworkSettings"]["Ports"] or {}).get(WEB_PORT) or []
        if any(binding["HostPort"] in ports for binding in bindings):
            routed.append((container, int(bindings[0]["HostPort"])))
    if len(routed) != 1 or len(ports) != 1:
        raise BenchError(f"{app}: expected nginx to proxy to one running web container, found {len(routed)}")
    return routed[0]


def container_address(container: dict) -> str:
    """The container's address on its (only) network."""
    networks = list((container["NetworkSettings"]["Networks"] or {}).values())
    if len(networks) != 1 or not networks[0].get("IPAddress"):
        raise BenchError(f"expected the web container on one network, found {networks}")
    return networks[0]["IPAddress"]


def site_at_address(site: str, app: str, direct: str, address: str, port: int) -> str:
    """The app's nginx site (one http server proxying to the published port direct) listening on port
    instead, its upstream (renamed) at the container's address."""
    copy = site.replace(f"server {direct};", f"server {address};").replace(f"minidokku-{app}-", f"bench-{app}-")
    listens = len(re.findall(r"^\s*listen ", copy, flags=re.MULTILINE))
    copy = re.sub(r"^(\s*listen )\d+;", rf"\g<1>{port};", copy, flags=re.MULTILINE)
    if listens != 1 or f"listen {port};" not in copy or f"server {address};" not in copy:
        raise BenchError(f"{app}'s nginx site is not one http server proxying to {direct}")
    return copy


def site_to_address(bench: Bench, app: str, direct: str, address: str) -> str:
    """The URL of a copy of the app's nginx site on a port of its own, its upstream at the container's
    address (as Dokku's nginx proxies) instead of the published port direct; nginx reloaded."""
    port = free_port()
    site = (bench.root / app / "nginx.conf").read_text()
    (bench.sites / f"{app}.conf").write_text(site_at_address(site, app, direct, address, port))
    run([*bench.nginx, "-s", "reload"])
    url = f"http://127.0.0.1:{port}/"
    deadline = time.monotonic() + 10
    while subprocess.run(["curl", "-fs", "-o", "/dev/null", "-H", f"Host: {app}.example.test", url]).returncode:
        if time.monotonic() > deadline:
            raise BenchError(f"nginx did not serve {app} at the container's address {address}")
        time.sleep(0.1)
    return url


def wrk(url: str, script: Path, host: str = HOST) -> WrkSummary:
    argv = ["wrk", *WRK_FLAGS, "-s", str(script), "-H", f"Host: {host}", url]
    result = subprocess.run(argv, capture_output=True, text=True, timeout=WRK_TIMEOUT)
    if result.returncode != 0:
        raise BenchError(f"{' '.join(argv)} failed (exit {result.returncode}):\n{result.stderr}{result.stdout}")
    return parse_wrk(result.stdout)


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


def measure(bench: Bench, app: str, server: str, script: Path, rounds: int = RUNS) -> Figures:
    """wrk on PATHS for the app, `rounds` interleaved rounds; the app serves one web container."""
    container, port = routed_container(bench, app)
    direct = f"127.0.0.1:{port}"
    address = f"{container_address(container)}:{WEB_PORT.split('/')[0]}"
    urls = {
        "direct": f"http://{direct}/",
        "container address": f"http://{address}/",
        "through nginx": bench.url,
        "nginx to the container address": site_to_address(bench, app, direct, address),
    }
    host = HOST if app == "catmeow" else HOST.replace("catmeow", app, 1)
    runs: dict[str, list[WrkSummary]] = {path: [] for path in PATHS}
    for n in range(rounds):
        for path in PATHS[n % len(PATHS) :] + PATHS[: n % len(PATHS)]:
            runs[path].append(wrk(urls[path], script, host))
    return Figures(app, server, direct, address, runs)


def both_apps(bench: Bench, workdir: Path, rounds: int = RUNS) -> list[Figures]:
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
    rounds = len(figures[0].runs["direct"])
    print(f"\nwrk {' '.join(WRK_FLAGS)}, {rounds} interleaved rounds, medians (a ratio: of each round's ratio):")
    print("  direct = the container's published port on 127.0.0.1, through docker-proxy (nginx's own path to it);")
    print("  container address = past docker-proxy (not routed to by minidokku's nginx);")
    print("  nginx to the container address = the app's site copied with its upstream there (Dokku's way)\n")
    print(f"| {'app':<9} | {'path':<54} | {'requests/s':>10} | {'p99 latency (ms)':>16} | {'failed requests':>15} |")
    print(f"|{'-' * 11}|{'-' * 56}|{'-' * 12}|{'-' * 18}|{'-' * 17}|")
    for app in figures:
        where = {
            "direct": f"direct ({app.direct_address})",
            "container address": f"container address ({app.container_address})",
        }
        for path in PATHS:
            failed = sum(summary.failed for summary in app.runs[path])
            print(
                f"| {app.app:<9} | {where.get(path, path):<54} | {app.requests_per_second(path):>10.0f}"
                f" | {app.p99_seconds(path) * 1e3:>16.1f} | {failed:>15} |"
            )
        ratios = [("through nginx", "direct"), ("through nginx", "container address"),
                  ("nginx to the container address", "container address")]  # fmt: skip
        for proxied, path in ratios:
            label = f"{proxied} ÷ {path}"
            print(f"| {app.app:<9} | {label:<54} | {app.ratio(path, proxied):>10.2f} | {'':>16} | {'':>15} |")
    print()
    for app in figures:
        print(f"{app.app}: {app.server}")


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
