"""How long after dockerd restarts every app serves its own page again, with no command typed
(`make bench`; it restarts the machine's dockerd, so every container on it stops for a while).

Same set-up as deploy_times.py (bench/benchlib.py): a temporary minidokku root with its own nginx on a
loopback port. Two apps are pushed: catmeow (Flask's server dies of SIGTERM, so the engine's
on-failure policy starts it again) and tests/apps/gunimeow (gunicorn exits 0 on SIGTERM: only
minidokku starts it again), and the root's cron daemon runs, which restores the apps when the engine
answers again (ops/engine_watch.py). Then RESTARTS times: dockerd is restarted (tests/helpers.py's
restart_engine, which returns once /_ping answers) and both domains are asked in turn until each
served its own page; the time from /_ping answering to that is one figure. Every answer is checked:
a domain serving the other app's page is counted, and must never happen.

Prints each restart's figure and their median.
"""

import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests
from benchlib import CATMEOW_PAGE, DOKKU, REPO_ROOT, Bench, BenchError, count_from_environment, run

sys.path.insert(0, str(REPO_ROOT / "tests"))
from helpers import restart_engine  # noqa: E402 - the tests' own way to restart dockerd, made importable above

RESTARTS = count_from_environment("BENCH_RESTARTS", 3)
GUNIMEOW = REPO_ROOT / "tests" / "apps" / "gunimeow"
PAGES = {"catmeow.example.test": CATMEOW_PAGE, "gunimeow.example.test": "Gunicorn meows.."}
BACK_WITHIN = 120.0  # seconds: a restart not back by then fails the bench


def push_gunimeow(bench: Bench, workdir: Path) -> None:
    src = workdir / "gunimeow"
    shutil.copytree(GUNIMEOW, src)
    for argv in (["git", "init", "-q", "-b", "main"], ["git", "add", "-A"], ["git", "commit", "-q", "-m", "first"]):
        run(argv, cwd=src, env=bench.env)
    bench.dokku("apps:create", "gunimeow")
    run(["git", "push", "-q", str(bench.root / "gunimeow"), "main"], cwd=src, env=bench.env)


def answer(bench: Bench, host: str) -> tuple[int, str]:
    try:
        response = requests.get(bench.url, headers={"Host": host}, timeout=5)
    except requests.RequestException:
        return 0, ""
    return response.status_code, response.text


def back_after_restart(bench: Bench) -> tuple[float, int]:
    """Restarts dockerd; returns the seconds from /_ping answering to each domain having served its
    own page, and how many answers were another app's page."""
    restart_engine()
    answered = time.monotonic()
    back, wrong = set(), 0
    while back != set(PAGES):
        if time.monotonic() - answered > BACK_WITHIN:
            raise BenchError(f"{sorted(set(PAGES) - back)} not serving {BACK_WITHIN:g} s after dockerd answered")
        for host, page in PAGES.items():
            status, body = answer(bench, host)
            if status == 200 and body == page:
                back.add(host)
            elif status == 200:
                wrong += 1
        time.sleep(0.02)
    return time.monotonic() - answered, wrong


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="minidokku-bench-") as directory:
        bench = Bench(Path(directory))
        daemon = None
        try:
            bench.dokku("apps:create", "catmeow")
            bench.push()
            push_gunimeow(bench, Path(directory))
            with open(Path(directory) / "daemon.log", "w") as output:
                daemon = subprocess.Popen([DOKKU, "cron:daemon"], env=bench.env, stdout=output, stderr=output)
            bench.wait_serving()
            figures = [back_after_restart(bench) for _ in range(RESTARTS)]
        finally:
            if daemon is not None:
                daemon.terminate()
                daemon.wait(timeout=30)
            subprocess.run([DOKKU, "apps:destroy", "gunimeow", "--force"], env=bench.env, capture_output=True)
            bench.close()
    seconds = [back for back, _ in figures]
    print("Every app serving its own page again after a dockerd restart, with no command typed")
    print(f"  runs: {', '.join(f'{s:.1f} s' for s in seconds)}")
    print(f"  median: {statistics.median(seconds):.1f} s from dockerd answering (catmeow and gunimeow)")
    print(f"  answers with the other app's page: {sum(wrong for _, wrong in figures)}")


if __name__ == "__main__":
    main()
