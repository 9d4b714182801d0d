"""After the Docker engine restarts, `dokku ps:restore` (run at boot by the installer's unit)
brings every app back and points nginx at the containers' new addresses."""

import os
import signal
import subprocess
import time
from pathlib import Path

from helpers import APPS, make_git_repo, wait_until_serving

from minidokku.engine.client import Engine

HOST = "procs.example.test"
PID_FILE = Path("/var/run/docker.pid")
ENGINE_LOG = Path("/var/log/minidokku-test-dockerd.log")


def restart_engine() -> None:
    """Restarts dockerd the way it runs here: with systemd when it manages docker, else by
    stopping the daemon and starting the same command line again."""
    if Path("/run/systemd/system").is_dir():  # systemd runs this machine (and so docker)
        subprocess.run(["systemctl", "restart", "docker"], check=True)
    else:
        pid = int(PID_FILE.read_text())
        command = Path(f"/proc/{pid}/cmdline").read_bytes().rstrip(b"\0").split(b"\0")
        os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + 60
        while Path(f"/proc/{pid}").exists() and time.monotonic() < deadline:
            time.sleep(0.2)
        with open(ENGINE_LOG, "a") as log:
            subprocess.Popen(command, stdout=log, stderr=log, start_new_session=True)
    deadline = time.monotonic() + 60
    while not Engine().ping():
        assert time.monotonic() < deadline, "dockerd did not come back within 60 s"
        time.sleep(0.5)


def test_ps_restore_brings_apps_back_after_the_engine_restarts(platform, tmp_path):
    repo = make_git_repo(tmp_path / "procs", APPS / "procs")
    assert platform.push(repo, "procs").returncode == 0
    platform.dokku("ps:scale", "procs", "web=2")
    wait_until_serving(platform, HOST, "hello from web.1")

    restart_engine()
    restored = platform.dokku("ps:restore")

    assert "Restored procs" in restored.stdout
    print(f"\n{restored.stdout.strip()}")
    answers = set()
    deadline = time.monotonic() + 15
    while answers != {"hello from web.1", "hello from web.2"} and time.monotonic() < deadline:
        status, body = platform.get(HOST)
        if status == 200:
            answers.add(body)
        time.sleep(0.05)
    assert answers == {"hello from web.1", "hello from web.2"}
    report = platform.dokku("ps:report", "procs").stdout
    assert "Status web.1:" in report and "Status worker.1:" in report and "running" in report
