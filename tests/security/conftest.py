"""The security layer: bad input and faults thrown at a running platform.

One platform (root, nginx, sshd) and one "victim" app per module: the victim is deployed once and
must still serve after every case, whatever the case did. The fixtures are the ones of
tests/conftest.py (`platform`) and tests/e2e/conftest.py (`ssh_client`), loaded from those files
and given module scope here, so that nothing is copied and nothing there changes.
"""

from dataclasses import dataclass
from pathlib import Path

import pytest
from helpers import APPS, make_git_repo, module_scoped, wait_until_serving
from security_helpers import VICTIM, VICTIM_HOST

TESTS = Path(__file__).parent.parent


platform = module_scoped(TESTS / "conftest.py", "platform")
ssh_client = module_scoped(TESTS / "e2e" / "conftest.py", "ssh_client")


@dataclass
class Victim:
    """A deployed envecho app: GET /NAME answers the value of $NAME in its container."""

    platform: object
    repo: Path

    def assert_serving(self) -> None:
        wait_until_serving(self.platform, VICTIM_HOST, "web.1", path="/DYNO", timeout=15)


@pytest.fixture(scope="module")
def victim(platform, ssh_client, tmp_path_factory) -> Victim:
    repo = make_git_repo(tmp_path_factory.mktemp("victim") / VICTIM, APPS / "envecho")
    pushed = ssh_client.push(repo, VICTIM)
    if pushed.returncode != 0:
        pytest.fail(f"the victim's first deploy failed:\n{pushed.stderr}")
    victim = Victim(platform, repo)
    victim.assert_serving()
    yield victim
    victim.assert_serving()


@pytest.fixture(autouse=True)
def victim_serves_after_each_case(request):
    """Every case of a module with a platform ends with the victim still serving."""
    victim = request.getfixturevalue("victim") if "platform" in request.fixturenames else None
    yield
    if victim is not None:
        victim.assert_serving()
