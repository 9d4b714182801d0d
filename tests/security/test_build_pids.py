"""A tenant's Dockerfile cannot take the host's pids: the Engine's build API has no pids limit,
so its steps run inside a parent cgroup with one (build/build_cgroup.py), and a tenant's build is refused
where that parent is missing or unlimited.

Each case uses a parent cgroup of its own (made here as root, named uniquely, removed at the end),
named by the platform's BUILD_CGROUP setting. The figure (processes started vs the limit) is
printed: run with -s.
"""

import re
import secrets
import time
from pathlib import Path

import pytest
from helpers import commit_all, git, wait_until_serving
from security_helpers import assert_refused, server_head, state_of

from minidokku.access import rules
from minidokku.build import build_cgroup
from minidokku.settings import STACK_REPOSITORY

USER = "mallory"
APP = "forker"
APP_HOST = f"{APP}.example.test"
PIDS_MAX = 64
TRIES = 200
# Each started `sleep` is counted by the echo after it; the subshell dies at the first failed fork
# (dash), and the step goes on. Were the limit missing, 200 sleeps are harmless.
FORKER = f"""FROM {STACK_REPOSITORY}:latest
RUN (for i in $(seq {TRIES}); do sleep 30 >/dev/null 2>&1 & echo "started $i"; done) 2>/dev/null | tail -n 1; \\
    echo "the loop ended"
RUN mkdir /site && echo forked > /site/index.html
EXPOSE 8080
CMD ["python3", "-m", "http.server", "8080", "--directory", "/site"]
"""


@pytest.fixture(scope="module")
def tenant(ssh_client, victim):
    """A user key, with its app created (and so granted to it)."""
    user = ssh_client.with_key(USER, rules.USER)
    created = user.ssh("apps:create", APP)
    assert created.returncode == 0, created.stderr
    return user


@pytest.fixture(scope="module")
def repo(tmp_path_factory) -> Path:
    """The tenant's work tree, each case's push a commit on top of the one before."""
    repo = tmp_path_factory.mktemp("tenant") / APP
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    return repo


@pytest.fixture
def parent_hierarchy(engine) -> Path:
    """Where a cgroupfs parent's pids.max lives (the engine's cgroup version decides)."""
    info = engine.info()
    if info.get("CgroupDriver") == "systemd":
        pytest.skip("the systemd cgroup driver takes slices, which systemd makes: this test makes cgroupfs parents")
    return build_cgroup.SYSFS / "pids" if str(info.get("CgroupVersion")) == "1" else build_cgroup.SYSFS


@pytest.fixture
def build_cgroup_setting(platform):
    """Sets BUILD_CGROUP in the platform's SETTINGS to the name given; restores them at the end."""
    settings = platform.root / "SETTINGS"
    saved = settings.read_text()

    def use(name: str) -> None:
        settings.write_text(saved + f"export BUILD_CGROUP='{name}'\n")

    yield use
    settings.write_text(saved)


@pytest.fixture
def test_parent(parent_hierarchy) -> str:
    """A parent cgroup of this test's own, without a limit yet; removed (in every hierarchy the
    engine made it in) at the end."""
    name = f"minidokku-test-{secrets.token_hex(4)}"
    (parent_hierarchy / name).mkdir()
    yield name
    for directory in build_cgroup.SYSFS.glob(f"*/{name}"), [build_cgroup.SYSFS / name]:
        for made in directory:
            if made.is_dir():
                for child in sorted(made.glob("**/"), key=lambda path: len(path.parts), reverse=True):
                    child.rmdir()


def push(tenant, repo: Path, dockerfile: str):
    (repo / "Dockerfile").write_text(dockerfile)
    (repo / "attempt").write_text(secrets.token_hex(4))
    commit_all(repo, "a Dockerfile")
    return tenant.push(repo, APP)


def test_a_tenants_run_step_forking_without_end_stays_under_the_parents_pids_limit(
    platform, parent_hierarchy, tenant, test_parent, build_cgroup_setting, repo
):
    (parent_hierarchy / test_parent / "pids.max").write_text(f"{PIDS_MAX}\n")
    build_cgroup_setting(test_parent)

    started = time.monotonic()
    pushed = push(tenant, repo, FORKER)
    seconds = time.monotonic() - started

    counts = [int(n) for n in re.findall(r"started (\d+)", pushed.stderr)]
    peak_file = parent_hierarchy / test_parent / "pids.peak"  # kernels from 6.1 (v1) and 6.12 (v2)
    peak = peak_file.read_text().strip() if peak_file.exists() else "not kept by this kernel"
    print(
        f"\n[build fork] {max(counts, default=0)} of {TRIES} sleeps started in a RUN step under a parent with "
        f"pids.max {PIDS_MAX} (the parent's peak: {peak}); the push took {seconds:.1f} s"
    )
    assert pushed.returncode == 0, pushed.stderr
    assert "the loop ended" in pushed.stderr
    assert counts and PIDS_MAX - 10 <= max(counts) < PIDS_MAX, counts
    if peak_file.exists():
        assert int(peak) <= PIDS_MAX
    assert seconds < 120
    wait_until_serving(platform, APP_HOST, "forked\n", timeout=15)


@pytest.mark.parametrize("limit, problem", [(None, "is missing"), ("max", "has no pids limit")])
def test_a_tenants_dockerfile_without_a_limited_parent_is_refused_in_one_line(
    platform, engine, parent_hierarchy, tenant, test_parent, build_cgroup_setting, repo, limit, problem
):
    name = test_parent if limit else f"{test_parent}-missing"
    if limit:
        (parent_hierarchy / test_parent / "pids.max").write_text(f"{limit}\n")
    build_cgroup_setting(name)
    before, head = state_of(platform, engine), server_head(platform, APP)

    pushed = push(tenant, repo, FORKER)

    message = f"{parent_hierarchy / name} {problem}: an admin prepares it by re-running install.sh as root"
    assert_refused(pushed, message)
    refusals = [line for line in pushed.stderr.splitlines() if " !     " in line]
    assert len(refusals) == 1, pushed.stderr
    assert "started" not in pushed.stderr, "a step ran"
    assert server_head(platform, APP) == head
    assert state_of(platform, engine) == before
