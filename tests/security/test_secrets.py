"""Config values stay secret: they appear in `config:show|get|export` and nowhere else.

One scenario over ssh sets a secret and then deploys with it every way there is (config:set, a
push that builds, ps:restart, a build that fails, a refused config:set). Meanwhile every process
on the host is listed as `ps aux` would (/proc/*/cmdline, as fast as it can be read). Then the
outputs, the listings, the files minidokku writes and its error messages are searched for it.
The secret is kept where it must be: the app's ENV and release records (mode 0600) and the
containers' environment (the Engine API's Env, which no process listing shows).
"""

import os
import threading
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from helpers import commit_all, git, read_process_files, wait_until_serving
from security_helpers import VICTIM, VICTIM_HOST, quoted

SECRET = f"s3cr3t-{uuid.uuid4().hex}"


@dataclass
class ProcessWatch:
    """Samples the argv of every process on the host until stopped."""

    command_lines: set[str] = field(default_factory=set)
    passes: int = 0
    stopping: threading.Event = field(default_factory=threading.Event)

    def run(self) -> None:
        while not self.stopping.is_set():
            for _, cmdline in read_process_files("cmdline"):
                argv = cmdline.split(b"\0")
                if argv and Path(argv[0].decode(errors="replace")).name != "ssh":  # the test's own client
                    self.command_lines.add(b" ".join(argv).decode(errors="replace"))
            self.passes += 1


@dataclass
class Scenario:
    outputs: dict[str, str]
    watch: ProcessWatch


@pytest.fixture(scope="module")
def scenario(platform, ssh_client, victim) -> Scenario:
    watch = ProcessWatch()
    watcher = threading.Thread(target=watch.run, daemon=True)
    watcher.start()
    outputs = {}

    def record(step: str, result, expect_ok: bool = True) -> None:
        assert (result.returncode == 0) == expect_ok, (step, result.stdout, result.stderr)
        outputs[step] = result.stdout + result.stderr

    try:
        record("config:set", ssh_client.ssh(quoted("config:set", VICTIM, f"SECRET={SECRET}")))
        wait_until_serving(platform, VICTIM_HOST, SECRET, path="/SECRET")
        git(victim.repo, "commit", "-q", "--allow-empty", "-m", "a build that sees the secret")
        record("push", ssh_client.push(victim.repo, VICTIM))
        record("ps:restart", ssh_client.ssh("ps:restart", VICTIM))
        record("bad config key", ssh_client.ssh(quoted("config:set", VICTIM, f"BAD-KEY={SECRET}")), expect_ok=False)
        (victim.repo / "requirements.txt").write_text("minidokku-no-such-package-anywhere==0.0.1\n")
        commit_all(victim.repo, "a build that fails")
        record("failed push", ssh_client.push(victim.repo, VICTIM), expect_ok=False)
        record("config:get", ssh_client.ssh("config:get", VICTIM, "SECRET"))
    finally:
        watch.stopping.set()
        watcher.join()
    yield Scenario(outputs, watch)


@pytest.mark.parametrize("step", ["config:set", "push", "ps:restart", "bad config key", "failed push"])
def test_no_command_output_shows_the_secret(scenario, step):
    assert SECRET not in scenario.outputs[step], scenario.outputs[step]


def test_the_secret_is_shown_where_it_is_asked_for(scenario):
    assert scenario.outputs["config:get"] == SECRET + "\n"


def test_a_refused_config_key_is_named_without_its_value(scenario):
    assert "BAD-KEY" in scenario.outputs["bad config key"]


def test_no_process_on_the_host_had_the_secret_on_its_command_line(scenario):
    assert scenario.watch.passes > 50, "the process listing was hardly sampled"
    assert any("minidokku" in line or "dokku" in line for line in scenario.watch.command_lines)
    leaks = [line for line in scenario.watch.command_lines if SECRET in line]
    assert leaks == []


def test_minidokku_writes_the_secret_only_into_the_apps_config_files(platform, scenario):
    holders = []
    for path in platform.root.rglob("*"):
        if path.is_file() and not path.is_symlink() and SECRET.encode() in path.read_bytes():
            holders.append(path.relative_to(platform.root).as_posix())
    app_files = [holder for holder in holders if holder.startswith(f"{VICTIM}/")]
    assert holders == app_files, holders
    for holder in app_files:
        assert holder == f"{VICTIM}/ENV" or holder.startswith(f"{VICTIM}/releases/"), holder
        assert (platform.root / holder).stat().st_mode & 0o077 == 0, f"{holder} is readable by others"
    assert f"{VICTIM}/ENV" in holders


def test_the_nginx_logs_and_the_audit_trail_never_hold_the_secret(platform, scenario):
    for path in [platform.root / "EVENTS", *Path(platform.settings()["NGINX_LOG_DIR"]).glob("*")]:
        if path.is_file():
            assert SECRET not in path.read_text(errors="replace"), path
    assert os.path.exists(platform.root / "EVENTS")
