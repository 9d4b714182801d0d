"""A tenant cannot starve the host or the other apps: a user key's app runs a fork bomb and floods
its log, and the victim (an admin's app) serves throughout; the bounds it meets cannot be raised
by the tenant (resource:*, docker-options, ps:scale, checks:set, a large push).

The figures (pids reached, log bytes on disk, the victim's latency) are printed: run with -s.
"""

import os
import statistics
import subprocess
import time
from pathlib import Path

import pytest
from helpers import APPS, commit_all, make_git_repo, wait_until_serving
from security_helpers import VICTIM_HOST, assert_refused, quoted, server_head, state_of

from minidokku.access import rules
from minidokku.errors import EngineNotFound
from minidokku.ops import oneoff
from minidokku.records import resources, scale
from minidokku.runtime import labels

USER = "mallory"
TENANT = "tenant"
TENANT_HOST = f"{TENANT}.example.test"
FLOOD_BYTES = 200_000_000
# The fork bomb runs only where its container's pids are bounded: were the bound missing, the
# test fails instead of taking the machine (pid_max may be 32768) down with it.
FORK_BOMB = (
    "max=$(cat /sys/fs/cgroup/pids/pids.max 2>/dev/null || cat /sys/fs/cgroup/pids.max); "
    'case "$max" in ""|*[!0-9]*) echo "no pids limit ($max): not forking"; exit 9;; esac; '
    '[ "$max" -le 1024 ] || exit 9; echo "forking under pids.max=$max"; '
    "bomb() { bomb | bomb & }; bomb & exec sleep 60"  # the command lives on (exec: no fork needed)
)
FLOOD = f"""#!/usr/bin/env bash
# {FLOOD_BYTES} bytes to stdout in lines of 1000, then a marker, then quiet
line=$(head -c 999 /dev/zero | tr '\\0' y)
yes "$line" | head -c {FLOOD_BYTES}
echo flood-done
exec sleep infinity
"""


@pytest.fixture(scope="module")
def user_key(ssh_client, victim):
    return ssh_client.with_key(USER, rules.USER)


@pytest.fixture(scope="module")
def tenant(platform, user_key, tmp_path_factory):
    """The user key's own app: a shell web process, and a `flood` type scaled to 0."""
    repo = make_git_repo(tmp_path_factory.mktemp("tenant") / TENANT, APPS / "shell-serve")
    (repo / "flood.sh").write_text(FLOOD)
    (repo / "Procfile").write_text("web: ./serve.sh\nflood: ./flood.sh\n")
    commit_all(repo, "a process that floods its log")
    pushed = user_key.push(repo, TENANT)
    assert pushed.returncode == 0, pushed.stderr
    wait_until_serving(platform, TENANT_HOST, "hello from a shell script on web.1\n", timeout=15)
    return repo


def tenant_containers(engine, platform, role: str) -> list[dict]:
    namespace = platform.settings()["NAMESPACE"]
    return engine.list_containers({labels.APP: namespace + TENANT, labels.ROLE: role})


def running_containers(engine, listed: list[dict]) -> list[dict]:
    """What the engine says of each listed container that runs; one listed may be gone meanwhile
    (an earlier test's run, being removed)."""
    found = []
    for entry in listed:
        try:
            info = engine.inspect_container(entry["Id"])
        except EngineNotFound:
            continue
        if info["State"]["Pid"]:
            found.append(info)
    return found


class VictimClock:
    """Times GETs of the victim's page through nginx."""

    def __init__(self, platform):
        self.platform = platform
        self.seconds: list[float] = []

    def tick(self) -> None:
        started = time.monotonic()
        status, body = self.platform.get(VICTIM_HOST, "/DYNO")
        self.seconds.append(time.monotonic() - started)
        assert (status, body) == (200, "web.1"), "the victim stopped serving"

    def figures(self) -> str:
        return (
            f"{len(self.seconds)} requests, median {statistics.median(self.seconds) * 1000:.1f} ms, "
            f"max {max(self.seconds) * 1000:.1f} ms"
        )


def pids_current(container_pid: int) -> Path:
    """The pids.current file of the cgroup a container's process is in (cgroup v1 or v2)."""
    for line in Path(f"/proc/{container_pid}/cgroup").read_text().splitlines():
        _, controllers, path = line.split(":", 2)
        if "pids" in controllers.split(",") or controllers == "":
            base = Path("/sys/fs/cgroup/pids") if controllers else Path("/sys/fs/cgroup")
            found = base / path.lstrip("/") / "pids.current"
            if found.exists():
                return found
    raise AssertionError(f"no pids cgroup for process {container_pid}")


def tail_of(path: Path, size: int = 300) -> bytes:
    try:
        with open(path, "rb") as file:
            file.seek(max(file.seek(0, os.SEEK_END) - size, 0))
            return file.read()
    except FileNotFoundError:  # between a rotation's rename and the new file
        return b""


def test_a_fork_bomb_in_a_one_off_run_stays_at_its_pids_limit_and_the_victim_serves(platform, engine, user_key, tenant):
    baseline = VictimClock(platform)
    for _ in range(10):
        baseline.tick()
    run = subprocess.Popen(
        [*user_key.ssh_command, "root@127.0.0.1", quoted("run", TENANT, FORK_BOMB)],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    container = None
    try:
        deadline = time.monotonic() + 20
        while container is None:
            assert time.monotonic() < deadline and run.poll() is None, "the run container did not start"
            container = next(iter(running_containers(engine, tenant_containers(engine, platform, "run"))), None)
            time.sleep(0.1)
        assert container["HostConfig"]["PidsLimit"] == resources.PROCESS_DEFAULTS.pids
        counter = pids_current(container["State"]["Pid"])
        during = VictimClock(platform)
        peak, forks = 0, []
        sampling_until = time.monotonic() + 8
        while time.monotonic() < sampling_until:
            peak = max(peak, int(counter.read_text()))
            started = time.monotonic()
            subprocess.run(["true"], check=True)  # the host still starts processes
            forks.append(time.monotonic() - started)
            during.tick()
            time.sleep(0.05)
    finally:
        if container is not None:
            engine.remove_container(container["Id"], force=True)
        output = run.communicate(timeout=30)[0]

    print(
        f"\n[fork bomb] pids.current peak {peak} (limit {resources.PROCESS_DEFAULTS.pids}); "
        f"host fork+exec max {max(forks) * 1000:.1f} ms; victim before: {baseline.figures()}; "
        f"victim during: {during.figures()}"
    )
    assert "forking under pids.max=512" in output, output
    assert resources.PROCESS_DEFAULTS.pids * 0.9 <= peak <= resources.PROCESS_DEFAULTS.pids, peak
    assert max(during.seconds) < 5, during.figures()
    assert tenant_containers(engine, platform, "run") == []


def test_a_log_flood_stays_within_the_rotated_files_and_the_victim_serves(platform, engine, user_key, tenant):
    scaled = user_key.ssh(quoted("ps:scale", TENANT, "flood=1"))
    assert scaled.returncode == 0, scaled.stderr
    [flood] = [c for c in tenant_containers(engine, platform, "process") if c["Labels"][labels.DYNO] == "flood.1"]
    info = engine.inspect_container(flood["Id"])
    assert info["HostConfig"]["LogConfig"] == resources.LOG_CONFIG
    log = Path(info["LogPath"])
    clock = VictimClock(platform)
    peak, done = 0, False
    deadline = time.monotonic() + 45
    try:
        while not done:
            assert time.monotonic() < deadline, f"the flood did not end within 45 s ({peak} bytes on disk)"
            files = list(log.parent.glob(log.name + "*"))
            peak = max(peak, sum(path.stat().st_size for path in files if path.exists()))
            done = b"flood-done" in tail_of(log)
            clock.tick()
            time.sleep(0.1)
    finally:
        user_key.ssh(quoted("ps:scale", TENANT, "flood=0"))

    bound = 3 * 10 * 1024**2  # max-file 3 x max-size 10m
    print(
        f"\n[log flood] {FLOOD_BYTES} bytes printed; on disk at most {peak} bytes "
        f"in {len(files)} files (bound {bound}); victim during: {clock.figures()}"
    )
    assert peak <= bound + 64 * 1024, peak  # a file may pass max-size by the line that crossed it
    assert max(clock.seconds) < 5, clock.figures()


@pytest.mark.parametrize(
    "words",
    [
        ["resource:limit", "--memory", "4g", TENANT],
        ["resource:limit", "--pids", "0", "--process-type", "web", TENANT],
        ["resource:reserve", "--cpu", "2", TENANT],
        ["resource:limit-clear", TENANT],
        ["resource:limit", "--global", "--memory", "0"],
        ["docker-options:add", TENANT, "deploy", "--memory=4g"],
    ],
    ids=lambda words: " ".join(words[:2]),
)
def test_a_user_key_cannot_raise_its_own_apps_limits(platform, engine, user_key, tenant, words):
    before = state_of(platform, engine)

    result = user_key.ssh(quoted(*words))

    assert_refused(result, f"{words[0]} is for admin keys only; {USER} is a user key")
    assert state_of(platform, engine) == before


@pytest.mark.parametrize(
    "words, message",
    [
        (["ps:scale", TENANT, "web=21"], "21 containers is more than an app may run: at most 20"),
        (["ps:scale", TENANT, "web=10", "flood=11"], "21 containers is more than an app may run: at most 20"),
        (["checks:set", TENANT, "wait-to-retire", "86400"], "wait-to-retire must be at most 300 seconds"),
    ],
    ids=["scale", "scale-types-together", "wait-to-retire"],
)
def test_more_containers_or_a_longer_retirement_is_refused_in_one_line(
    platform, engine, user_key, tenant, words, message
):
    before = state_of(platform, engine)

    result = user_key.ssh(quoted(*words))

    assert_refused(result, message)
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert state_of(platform, engine) == before
    wait_until_serving(platform, TENANT_HOST, "hello from a shell script on web.1\n")


def test_one_off_containers_past_five_at_once_are_refused_in_one_line(platform, engine, user_key, tenant):
    sessions = [
        subprocess.Popen(
            [*user_key.ssh_command, "root@127.0.0.1", quoted("run", TENANT, "sleep", "60")],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for _ in range(oneoff.MAX_AT_ONCE)
    ]
    try:
        deadline = time.monotonic() + 30
        while len(tenant_containers(engine, platform, "run")) < oneoff.MAX_AT_ONCE:
            assert time.monotonic() < deadline, "the one-off containers did not start"
            time.sleep(0.2)

        result = user_key.ssh(quoted("run", TENANT, "echo", "one too many"))

        assert_refused(result, f"{TENANT} runs {oneoff.MAX_AT_ONCE} one-off containers already")
        assert "one too many" not in result.stdout
        assert len(tenant_containers(engine, platform, "run")) == oneoff.MAX_AT_ONCE
    finally:
        for container in tenant_containers(engine, platform, "run"):
            engine.remove_container(container["Id"], force=True)
        for session in sessions:
            session.wait(timeout=30)


def test_a_burst_of_deploys_with_a_long_wait_to_retire_keeps_at_most_20_retiring(platform, engine, user_key, tenant):
    def retiring() -> list[dict]:
        return [c for c in tenant_containers(engine, platform, "process") if ".retiring-" in c["Names"][0]]

    assert user_key.ssh(quoted("checks:set", TENANT, "wait-to-retire", "300")).returncode == 0
    try:
        assert user_key.ssh(quoted("ps:scale", TENANT, "web=10")).returncode == 0
        counts = []
        for _ in range(2):
            restarted = user_key.ssh(quoted("ps:restart", TENANT))
            assert restarted.returncode == 0, restarted.stderr
            counts.append(len(retiring()))
        print(f"\n[retiring] after two restarts of 10 web containers: {counts} retiring (cap {scale.MAX_CONTAINERS})")
        assert counts[0] > 10, counts  # the first restart's 10, and what the scale change left retiring
        assert counts[1] == 10, "the second restart retired the containers earlier deploys left"
    finally:
        user_key.ssh(quoted("checks:set", TENANT, "wait-to-retire", ""))
        user_key.ssh(quoted("ps:scale", TENANT, "web=1"))
        for container in retiring():
            engine.remove_container(container["Id"], force=True)
    wait_until_serving(platform, TENANT_HOST, "hello from a shell script on web.1\n")


def test_a_push_over_the_size_limit_is_refused_and_the_app_serves_on(platform, engine, user_key, tenant):
    settings = platform.root / "SETTINGS"
    saved = settings.read_text()
    settings.write_text(saved + "export MAX_PUSH_SIZE='1m'\n")
    head = server_head(platform, TENANT)
    try:
        (tenant / "blob.bin").write_bytes(os.urandom(3 * 1024**2))
        sha = commit_all(tenant, "a 3 MB blob")
        pushed = user_key.push(tenant, TENANT)
    finally:
        settings.write_text(saved)
        (tenant / "blob.bin").unlink()
        commit_all(tenant, "no blob")

    assert pushed.returncode != 0
    assert "remote: fatal: pack exceeds maximum allowed size" in pushed.stderr, pushed.stderr
    assert server_head(platform, TENANT) == head != sha
    wait_until_serving(platform, TENANT_HOST, "hello from a shell script on web.1\n")
