"""catmeow on the swarm scheduler beside the local one, in one run (`make bench-swarm`): first
deploys and code-only redeploys, each under a request loop, then a node lost under load.

Two temporary roots (bench/benchlib.py), each with its own nginx: one on docker-local, one on the
swarm scheduler with the swarm testbed (tests/swarm/testbed.sh: two dockerd nodes in network
namespaces and a registry on loopback, brought up here). Both build on this host's engine; the
swarm root then pushes each new image to the testbed's registry and runs one web task by digest.

- First deploys and redeploys: bench/versus_piku.py's interleaved rounds, medians of RUNS
  (BENCH_RUNS), with the requests that failed during each redeploy.
- Node loss: the swarm app scaled to two tasks, one per node; node2 cut off (the testbed's
  partition) under the request loop. Printed: when the manager saw it down, when nginx sent only
  to node1 (both from the cut), and the requests that failed.
"""

import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchlib import REPO_ROOT, SETTLE_TIMEOUT, Bench, BenchError
from versus_piku import RequestLoop, Side, compare, failures, figures, ratio

from minidokku.engine.client import Engine
from minidokku.runtime import labels

TESTBED = REPO_ROOT / "tests" / "swarm" / "testbed.sh"
FIRST_DEPLOYS = 3
NODE2 = "10.77.0.12:"
NODE1 = "10.77.0.11:"


def testbed(*args: str) -> dict[str, str]:
    done = subprocess.run(["bash", str(TESTBED), *args], capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise BenchError(f"swarm testbed {' '.join(args)} failed:\n{done.stderr[-2000:]}")
    return dict(line.split("=", 1) for line in done.stdout.splitlines() if "=" in line)


class SwarmBench(Bench):
    """A Bench root whose apps run on the testbed's swarm."""

    def __init__(self, workdir: Path, found: dict[str, str]):
        super().__init__(workdir)
        self.manager = Engine(found["SWARM_MANAGER_SOCK"])
        self.dokku("scheduler-swarm:set", "--global", "manager-socket", found["SWARM_MANAGER_SOCK"])
        self.dokku("registry:set", "--global", "server", found["SWARM_REGISTRY"])
        self.dokku("scheduler:set", "--global", "selected", "swarm")

    def services(self) -> list[dict]:
        return self.manager.list_services({labels.APP: f"{self.namespace}catmeow"})

    def settle(self, app: str = "catmeow", containers: int = 1) -> None:
        """Waits until the app has one service: the earlier rounds' retired."""
        deadline = time.monotonic() + SETTLE_TIMEOUT
        while len(self.services()) > 1:
            if time.monotonic() > deadline:
                raise BenchError(f"catmeow kept more than one service for {SETTLE_TIMEOUT:.0f} s")
            time.sleep(0.2)


def node_loss(swarm: SwarmBench) -> None:
    swarm.dokku("ps:scale", "catmeow", "web=2")
    site = swarm.root / "catmeow" / "nginx.conf"
    deadline = time.monotonic() + 60
    while not (NODE1 in site.read_text() and NODE2 in site.read_text()):
        if time.monotonic() > deadline:
            raise BenchError("catmeow's two tasks are not one per node")
        time.sleep(0.2)
    node2 = next(node["ID"] for node in swarm.manager.nodes() if node["Description"]["Hostname"] == "node2")
    loop = RequestLoop(swarm)
    loop.start()
    try:
        time.sleep(1)
        cut = time.monotonic()
        testbed("partition", "node2")
        while swarm.manager.inspect_node(node2)["Status"]["State"] != "down":
            time.sleep(0.1)
        detected = time.monotonic() - cut
        while NODE2 in site.read_text():
            time.sleep(0.1)
        followed = time.monotonic() - cut
        time.sleep(2)
    finally:
        probes = loop.stop()
        testbed("heal", "node2")
    lost = failures(probes)
    print(
        f"\nnode2 lost under the request loop: the manager saw it down {detected:.1f} s after the cut, nginx "
        f"sent only to node1 {followed:.1f} s after it; {lost.failed} of {lost.requests} requests failed "
        f"({lost.seconds:.2f} s of failure)"
    )


def main() -> None:
    found = testbed("up")
    with tempfile.TemporaryDirectory(prefix="minidokku-bench-") as directory:
        workdir = Path(directory)
        (workdir / "local").mkdir()
        (workdir / "swarm").mkdir()
        local = Bench(workdir / "local")
        try:
            swarm = SwarmBench(workdir / "swarm", found)
        except BaseException:
            local.close()
            raise
        try:
            sides = [Side("docker-local", local), Side("swarm", swarm)]
            compare(sides, first_deploys=FIRST_DEPLOYS)
            print(
                f"\ncatmeow on docker-local and on the swarm (one web task, the testbed's 2 nodes), interleaved: "
                f"medians of {len(sides[0].first)} first deploys and {len(sides[0].redeploy)} code-only redeploys, "
                "each under a request loop:\n"
            )
            mine, its = figures(sides[0]), figures(sides[1])
            width = max(map(len, mine))
            print(f"| {'figure':<{width}} | {'local':>9} | {'swarm':>9} | {'swarm ÷ local':>13} |")
            print(f"|{'-' * (width + 2)}|{'-' * 11}|{'-' * 11}|{'-' * 15}|")
            for name, value in mine.items():
                print(f"| {name:<{width}} | {value:>9.2f} | {its[name]:>9.2f} | {ratio(its[name], value):>13} |")
            for side in sides:
                print(
                    f"{side.name}: failed/requests per redeploy, in round order: "
                    + ", ".join(f"{f.failed}/{f.requests} ({f.seconds:.2f} s)" for f in side.failed)
                )
            node_loss(swarm)
        finally:
            swarm.close()
            local.close()


if __name__ == "__main__":
    try:
        main()
    except BenchError as error:
        sys.exit(f"bench: {error}")
