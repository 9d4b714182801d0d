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


def test_under_a_hold_the_work_starts_only_when_it_lets_go():
    ran = threading.Event()
    with at_once.holding_back():
        at_once.meanwhile(ran.set, "held work")
        assert not ran.wait(0.2)
        at_once.let_go()
        assert ran.wait(5)


def test_once_let_go_later_work_starts_at_once():
    ran = threading.Event()
    with at_once.holding_back():
        at_once.let_go()
        at_once.meanwhile(ran.set, "later work")
        assert ran.wait(5)


def test_the_end_of_the_hold_starts_what_it_held_and_waits_for_it_even_on_an_error():
    done = []

    def slow() -> None:
        time.sleep(0.3)
        done.append("yes")

    try:
        with at_once.holding_back():
            at_once.meanwhile(slow, "held work")
            raise RuntimeError("the deploy failed")
    except RuntimeError:
        pass
    assert done == ["yes"]


def test_a_hold_within_a_hold_leaves_the_work_to_the_outer_one():
    ran = threading.Event()
    with at_once.holding_back():
        with at_once.holding_back():
            at_once.meanwhile(ran.set, "held work")
        assert not ran.wait(0.2)
    assert ran.is_set()


def test_let_go_without_a_hold_does_nothing():
    at_once.let_go()
    ran = threading.Event()
    at_once.meanwhile(ran.set, "work")
    assert ran.wait(5)
