"""at_once.meanwhile: work the command does not wait for, but its process does before it exits."""

import subprocess
import sys
import threading
import time

from minidokku.runtime import at_once


def test_meanwhile_returns_at_once_and_the_work_runs_in_its_thread():
    started = threading.Event()
    release = threading.Event()
    names = []

    def work() -> None:
        names.append(threading.current_thread().name)
        started.set()
        release.wait(5)

    before = time.monotonic()
    at_once.meanwhile(work, "some work")
    assert time.monotonic() - before < 1
    assert started.wait(5)
    release.set()
    assert names == ["some work"]


def test_the_process_ends_only_once_the_work_is_done(tmp_path):
    done = tmp_path / "done"
    program = (
        "import pathlib, time\n"
        "from minidokku.runtime import at_once\n"
        f"at_once.meanwhile(lambda: (time.sleep(0.5), pathlib.Path({str(done)!r}).write_text('yes')), 'slow')\n"
        "raise SystemExit(3)\n"
    )
    ended = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True, timeout=30)
    assert ended.returncode == 3, ended.stderr
    assert done.read_text() == "yes"
