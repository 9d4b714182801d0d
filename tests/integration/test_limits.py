"""Resource limits on the real engine: what web, one-off `run`, build and Dockerfile build
containers get by default and after `resource:limit`, and builds stopped at their time limit."""

import shutil
import threading
import time
from pathlib import Path

import pytest
from helpers import APPS, commit_all, git, make_git_repo, wait_until_serving

from minidokku.build import gitrepo
from minidokku.build.builders import buildpacks
from minidokku.errors import BuildFailed
from minidokku.output import RecordingOutput
from minidokku.records import resources
from minidokku.records.docker_options import DockerOptions
from minidokku.runtime import labels
from minidokku.runtime.docker_scheduler import PROCESS_ROLE

APP = "limited"
HOST = f"{APP}.example.test"
MB = 1024**2
# What a container reads of its own cgroup limits (cgroup v1 paths, else v2's).
OWN_LIMITS = (
    "cat /sys/fs/cgroup/pids/pids.max 2>/dev/null || cat /sys/fs/cgroup/pids.max;"
    "cat /sys/fs/cgroup/memory/memory.limit_in_bytes 2>/dev/null || cat /sys/fs/cgroup/memory.max;"
    "cat /sys/fs/cgroup/cpu/cpu.cfs_quota_us 2>/dev/null || cut -d' ' -f1 /sys/fs/cgroup/cpu.max"
)


def host_config_of(engine, platform, role: str) -> list[dict]:
    namespace = platform.settings()["NAMESPACE"]
    found = engine.list_containers({labels.APP: namespace + APP, labels.ROLE: role})
    return [engine.inspect_container(c["Id"])["HostConfig"] for c in found if ".retiring-" not in c["Names"][0]]


def bounds(host: dict) -> tuple:
    return host["PidsLimit"], host["Memory"], host["MemorySwap"], host["NanoCpus"], host["LogConfig"]


class BuildWatcher:
    """Inspects the app's build container while a push builds (it is gone once the push ends)."""

    def __init__(self, engine, platform):
        self.engine, self.platform = engine, platform
        self.seen: list[dict] = []
        self.done = threading.Event()
        self.thread = threading.Thread(target=self._watch, daemon=True)

    def _watch(self) -> None:
        while not self.done.is_set() and not self.seen:
            try:
                self.seen = host_config_of(self.engine, self.platform, "build")
            except Exception:  # removed between the listing and the inspection: look again
                pass
            time.sleep(0.02)

    def __enter__(self) -> "BuildWatcher":
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.done.set()
        self.thread.join()


def test_web_run_and_build_containers_get_the_default_bounds(platform, engine, tmp_path):
    repo = make_git_repo(tmp_path / APP, APPS / "shell-serve")

    with BuildWatcher(engine, platform) as build:
        pushed = platform.push(repo, APP)
    assert pushed.returncode == 0, pushed.stderr

    logs = {"Type": "json-file", "Config": {"max-size": "10m", "max-file": "3"}}
    [web] = host_config_of(engine, platform, PROCESS_ROLE)
    assert bounds(web) == (512, 512 * MB, 512 * MB, 1_000_000_000, logs)
    assert build.seen, "the build container was not seen during the push"
    assert bounds(build.seen[0]) == (1024, 1024 * MB, 1024 * MB, 1_000_000_000, logs)
    run = platform.dokku("run", APP, OWN_LIMITS)
    assert run.stdout.split() == ["512", str(512 * MB), "100000"], "pids, memory, a CPU's quota of 100 ms"


def test_an_admins_limits_reach_the_containers_of_the_next_deploy(platform, engine, tmp_path):
    repo = make_git_repo(tmp_path / APP, APPS / "shell-serve")
    assert platform.push(repo, APP).returncode == 0

    platform.dokku("resource:limit", "--memory", "256", "--pids", "64", "--process-type", "web", APP)
    platform.dokku("resource:limit", "--cpu", "0.5", APP)
    platform.dokku("resource:reserve", "--memory", "32", "--cpu", "0.25", APP)
    platform.dokku("ps:restart", APP)

    [web] = host_config_of(engine, platform, PROCESS_ROLE)
    assert bounds(web)[:4] == (64, 256 * MB, 256 * MB, 500_000_000)
    assert (web["MemoryReservation"], web["CpuShares"]) == (32 * MB, 256)
    run = platform.dokku("run", APP, OWN_LIMITS)
    assert run.stdout.split() == ["512", str(512 * MB), "50000"], "run gets the app's default, not web's"
    assert platform.dokku("resource:report", APP, "--resource-web.limit.memory").stdout == "256m\n"


def dockerfile_app(path: Path, extra_steps: str) -> Path:
    repo = make_git_repo(path, APPS / "dockerfile-hello")
    dockerfile = repo / "Dockerfile"
    dockerfile.write_text(dockerfile.read_text().replace("EXPOSE 8080", f"{extra_steps}\nEXPOSE 8080"))
    commit_all(repo, "steps")
    return repo


def test_dockerfile_steps_are_bounded_and_a_build_past_the_time_limit_is_cancelled(platform, tmp_path):
    repo = dockerfile_app(tmp_path / APP, f"RUN echo limits: $({OWN_LIMITS})")
    pushed = platform.push(repo, APP)
    assert pushed.returncode == 0, pushed.stderr
    # the build API bounds memory and CPU; it has no pids limit
    assert f"limits: max {1024 * MB} 100000" in pushed.stderr, pushed.stderr
    wait_until_serving(platform, HOST, "unset and unset on 12\n")
    with open(platform.root / "SETTINGS", "a") as settings:
        settings.write("export BUILD_TIMEOUT='3'\n")
    (repo / "Dockerfile").write_text((repo / "Dockerfile").read_text().replace("EXPOSE", "RUN sleep 120\nEXPOSE"))
    sha = commit_all(repo, "a step that never ends in time")

    started = time.monotonic()
    pushed = platform.push(repo, APP)
    took = time.monotonic() - started

    assert pushed.returncode != 0
    assert "failed to build: stopped after 3 s, the time limit" in pushed.stderr, pushed.stderr
    assert took < 30, f"the push took {took:.1f} s"
    assert gitrepo.branch_head(platform.root / APP, "main") != sha
    wait_until_serving(platform, HOST, "unset and unset on 12\n")


def test_a_buildpack_build_past_the_time_limit_is_killed_and_leaves_no_container(engine, tmp_path, apps_network):
    app = f"it-slow-{tmp_path.name[-6:]}"
    slow = tmp_path / "slow"
    for name, body in (("detect", "echo slow"), ("compile", "echo compiling; sleep 120"), ("release", "echo ---")):
        (slow / "bin").mkdir(parents=True, exist_ok=True)
        (slow / "bin" / name).write_text(f"#!/usr/bin/env bash\n{body}\n")
        (slow / "bin" / name).chmod(0o755)
    repo = make_git_repo(tmp_path / "src", APPS / "shell-serve")
    sha = git(repo, "rev-parse", "HEAD").stdout.strip()
    out = RecordingOutput()
    started = time.monotonic()
    try:
        with pytest.raises(BuildFailed, match=f"build of {app} ran longer than 2 s"):
            buildpacks.build(
                engine,
                app,
                gitrepo.archive(repo, sha, prefix=buildpacks.SOURCE_PREFIX),
                sha,
                {},
                "minidokku/stack:latest",
                DockerOptions(),
                out,
                limits=resources.BUILD_DEFAULTS,
                time_limit=2,
                network=apps_network,
                plan=buildpacks.BuildpackPlan([("slow", slow)]),
            )
        assert time.monotonic() - started < 20
        assert "compiling" in "\n".join(out.lines)
        assert engine.list_containers({labels.APP: app}) == []
    finally:
        engine.remove_volume(buildpacks.cache_volume(app))
        shutil.rmtree(slow, ignore_errors=True)
