"""What nginx costs: catmeow's requests/s and p99 latency asked directly and through nginx (`make bench`).

Same set-up as deploy_times.py (bench/benchlib.py): a temporary minidokku root with its own nginx on a
loopback port; catmeow is pushed once. Then wrk, with the same flags both times (-t2 -c16 -d10s,
keep-alive connections, the app's Host header), asks for the page:

- directly: the web container's published port (127.0.0.1:PORT, from the Engine API);
- through nginx: nginx's port, as every request to the app arrives.

One run each, direct first; the ratio is through nginx / direct. wrk, nginx and the app share the
machine's cores, so the figures say what nginx costs on this machine, not a limit of either.
Needs wrk on the PATH (`make bench` installs it).
"""

import subprocess
import tempfile
from pathlib import Path

from benchlib import HOST, Bench, BenchError
from redeploy_under_load import WRK_SCRIPT, WrkSummary, parse_wrk

from minidokku.engine.client import Engine
from minidokku.runtime import labels

WRK_FLAGS = ["-t2", "-c16", "-d10s", "--latency"]
WRK_TIMEOUT = 60.0  # wrk stops itself after -d; this only guards against a hung run
WEB_PORT = "5000/tcp"


def web_container_port(bench: Bench) -> int:
    """The host port catmeow's only running web container publishes its web port on."""
    engine = Engine()
    web = {labels.APP: f"{bench.namespace}catmeow", labels.PROCESS_TYPE: "web"}
    running = engine.list_containers(web, all_states=False)
    if len(running) != 1:
        raise BenchError(f"expected one running web container, found {[c['Names'] for c in running]}")
    ports = engine.inspect_container(running[0]["Id"])["NetworkSettings"]["Ports"] or {}
    bindings = ports.get(WEB_PORT) or []
    if not bindings:
        raise BenchError(f"the web container publishes no {WEB_PORT}: {ports}")
    return int(bindings[0]["HostPort"])


def wrk(url: str, script: Path) -> WrkSummary:
    argv = ["wrk", *WRK_FLAGS, "-s", str(script), "-H", f"Host: {HOST}", url]
    result = subprocess.run(argv, capture_output=True, text=True, timeout=WRK_TIMEOUT)
    if result.returncode != 0:
        raise BenchError(f"{' '.join(argv)} failed (exit {result.returncode}):\n{result.stderr}{result.stdout}")
    return parse_wrk(result.stdout)


def print_table(direct: WrkSummary, proxied: WrkSummary, port: int) -> None:
    print(f"\ncatmeow, wrk {' '.join(WRK_FLAGS)} (one run each), directly and through nginx:\n")
    print(f"| {'path':<36} | {'requests/s':>10} | {'p99 latency (ms)':>16} | {'failed requests':>15} |")
    print(f"|{'-' * 38}|{'-' * 12}|{'-' * 18}|{'-' * 17}|")
    for label, wrk_summary in ((f"direct (container, 127.0.0.1:{port})", direct), ("through nginx", proxied)):
        print(
            f"| {label:<36} | {wrk_summary.requests_per_second:>10.0f} | {wrk_summary.p99_seconds * 1e3:>16.1f}"
            f" | {wrk_summary.failed:>15} |"
        )
    ratio = proxied.requests_per_second / direct.requests_per_second
    p99_ratio = proxied.p99_seconds / direct.p99_seconds
    print(f"| {'ratio, through nginx / direct':<36} | {ratio:>10.2f} | {p99_ratio:>16.2f} | {'':>15} |")
    for title, wrk_summary in (("direct", direct), ("through nginx", proxied)):
        print(f"\nwrk's output ({title}):\n" + "".join(f"    {line}\n" for line in wrk_summary.output.splitlines()))


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="minidokku-bench-") as directory:
        workdir = Path(directory)
        bench = Bench(workdir)
        try:
            bench.dokku("apps:create", "catmeow")
            bench.timed(bench.push)
            port = web_container_port(bench)
            script = workdir / "count.lua"
            script.write_text(WRK_SCRIPT)
            direct = wrk(f"http://127.0.0.1:{port}/", script)
            proxied = wrk(bench.url, script)
        finally:
            bench.close()
    print_table(direct, proxied, port)


if __name__ == "__main__":
    main()
