"""After the Docker engine restarts, `dokku ps:restore` brings every app back and points nginx
at the containers' new addresses, and what an app wrote
into its storage mount is still there. With the cron daemon running, nothing needs typing: it
brings back an app whose web process exited 0 when the engine stopped, and no domain ever serves
another app's page, before, during or after."""

import subprocess
import threading
import time

import pytest
from helpers import APPS, dokku_program, make_git_repo, restart_engine, wait_until_serving

from minidokku.ops import crond

pytestmark = pytest.mark.serial  # restarts dockerd: every other test's containers stop
HOST = "procs.example.test"


def test_ps_restore_brings_apps_back_after_the_engine_restarts(platform, tmp_path):
    repo = make_git_repo(tmp_path / "procs", APPS / "procs")
    assert platform.push(repo, "procs").returncode == 0
    platform.dokku("storage:create", "procs-data")
    platform.dokku("storage:mount", "procs", "procs-data", "--container-dir", "/data")
    platform.dokku("ps:scale", "procs", "web=2")
    platform.dokku("ps:restart", "procs")  # a mount applies from the next restart
    wait_until_serving(platform, HOST, "hello from web.1")
    platform.dokku("run", "procs", "echo written-before-the-restart > /data/kept")

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
    kept = platform.dokku("enter", "procs", "web.1", "cat", "/data/kept")
    assert kept.stdout.strip() == "written-before-the-restart"


PAGES = {"catmeow.example.test": "Cat dreams meow..", "gunimeow.example.test": "Gunicorn meows.."}
BACK_WITHIN = 30.0  # seconds from dockerd answering again to both apps serving their own page


def test_the_cron_daemon_brings_every_app_back_and_no_domain_ever_serves_another_apps_page(platform, tmp_path):
    for app in ("catmeow", "gunimeow"):  # catmeow's Flask dies of SIGTERM (restarted); gunicorn exits 0
        assert platform.push(make_git_repo(tmp_path / app, APPS / app), app).returncode == 0
    for host, page in PAGES.items():
        wait_until_serving(platform, host, page)
    with open(tmp_path / "daemon.log", "w") as output:
        daemon = subprocess.Popen([dokku_program(), "cron:daemon"], env=platform.env, stdout=output, stderr=output)
    answers: list[tuple[str, int, str]] = []
    stop = threading.Event()
    asking = threading.Thread(target=ask_all_the_time, args=(platform, answers, stop), daemon=True)
    try:
        wait_for_line(platform, "started (pid")
        asking.start()
        deadline = time.monotonic() + 30
        while sum(1 for _, status, _ in answers if status == 200) < 10:  # asked before the restart too
            assert time.monotonic() < deadline, f"the apps did not answer before the restart: {answers[-4:]}"
            time.sleep(0.05)
        restart_engine()  # returns once dockerd answers /_ping again
        answered = time.monotonic()
        seen = len(answers)
        while not all(serves_own_page(answers[seen:], host) for host in PAGES):
            assert time.monotonic() - answered < BACK_WITHIN, f"not back within {BACK_WITHIN:g} s: {answers[-4:]}"
            time.sleep(0.05)
        back = time.monotonic() - answered
        print(f"\nboth apps served their own page {back:.1f} s after dockerd answered (bound {BACK_WITHIN:g} s)")
        time.sleep(2)  # and go on serving their own pages once restored
    finally:
        stop.set()
        daemon.terminate()
        daemon.wait(timeout=30)
    asking.join(timeout=30)
    wrong = [(host, body) for host, status, body in answers if status == 200 and body != PAGES[host]]
    assert wrong == [], "a domain served another app's page"
    log = platform.root.joinpath(crond.LOG).read_text()
    assert "gunimeow: restored (restarted)" in log  # its container had exited 0: the daemon started it


def ask_all_the_time(platform, answers: list, stop: threading.Event) -> None:
    """GETs each domain in turn until stop is set, recording (host, status, body); a request
    nginx could not answer (it reloads) is recorded with status 0."""
    while not stop.is_set():
        for host in PAGES:
            try:
                status, body = platform.get(host)
            except OSError:
                status, body = 0, ""
            answers.append((host, status, body))
        time.sleep(0.02)


def serves_own_page(answers: list, host: str) -> bool:
    return any(h == host and status == 200 and body == PAGES[host] for h, status, body in answers)


def wait_for_line(platform, text: str, within: float = 30.0) -> None:
    log = platform.root / crond.LOG
    deadline = time.monotonic() + within
    while not (log.is_file() and text in log.read_text()):
        assert time.monotonic() < deadline, f"no {text!r} in {log} within {within:g} s"
        time.sleep(0.1)
