"""The swarm testbed (testbed.sh, a copy of the team's shared one): two dockerd nodes in network
namespaces, node1 the manager, and a registry on the host. Brought up once per test session
(idempotent, ~3 s once its packages are there); left up for the next session."""

import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

TESTBED = Path(__file__).with_name("testbed.sh")


@dataclass(frozen=True)
class Swarm:
    manager_socket: str  # node1's engine
    worker_socket: str  # node2's
    registry: str  # where this host's engine pushes, and the nodes pull from (127.0.0.1:5000)

    def partition(self, node: str) -> None:
        subprocess.run(["bash", str(TESTBED), "partition", node], check=True, capture_output=True)

    def heal(self, node: str) -> None:
        subprocess.run(["bash", str(TESTBED), "heal", node], check=True, capture_output=True)


@pytest.fixture(scope="session")
def swarm() -> Swarm:
    up = subprocess.run(["bash", str(TESTBED), "up"], capture_output=True, text=True, check=False)
    if up.returncode != 0:
        pytest.fail(f"the swarm testbed did not come up:\n{up.stderr[-3000:]}", pytrace=False)
    found = dict(line.split("=", 1) for line in up.stdout.splitlines() if "=" in line)
    return Swarm(found["SWARM_MANAGER_SOCK"], found["SWARM_WORKER_SOCK"], found["SWARM_REGISTRY"])
