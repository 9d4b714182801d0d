"""minidokku/steps.py: a `+ time STEP SECONDS s` line per finished step, when asked; a step that
waits long says what for; a stopwatch a person reads."""

import threading
import time

import pytest

from minidokku.output import RecordingOutput
from minidokku.steps import StepTimer, Stopwatch, waiting


def clock_of(times: list[float]):
    readings = iter(times)
    return lambda: next(readings)


def test_each_step_reports_the_seconds_since_the_previous_one():
    out = RecordingOutput()
    timer = StepTimer(out, clock_of([10.0, 10.25, 12.0, 12.0004]))
    timer.done("build")
    timer.done("checks")
    timer.done("switch")
    assert out.lines == ["+ time build 0.250 s", "+ time checks 1.750 s", "+ time switch 0.000 s"]


def test_a_timer_without_output_says_nothing_and_reads_no_clock_after_its_start():
    timer = StepTimer(None, clock_of([1.0]))  # a second reading would raise StopIteration
    timer.done("build")
    timer.done("checks")


def test_the_lines_show_even_when_the_output_is_quiet():
    out = RecordingOutput()
    out.quiet = True
    StepTimer(out, clock_of([0.0, 1.5])).done("receive")
    assert out.lines == ["+ time receive 1.500 s"]


def test_a_stopwatch_reads_as_a_person_reads_time():
    assert str(Stopwatch(clock_of([100.0, 112.9]))) == "12 s"
    assert str(Stopwatch(clock_of([0.0, 65.2]))) == "1 min 05 s"


def test_a_step_that_waits_long_says_what_for_and_again_while_it_waits():
    out = RecordingOutput()
    with waiting(out, "web.1's checks", after=0.05, every=0.1):
        time.sleep(0.3)
    assert 2 <= len(out.lines) <= 4, out.lines
    assert all(line == "       Waiting for web.1's checks (0 s so far)" for line in out.lines)


def test_a_step_that_ends_before_it_is_long_says_nothing():
    out = RecordingOutput()
    with waiting(out, "the new containers", after=5):
        pass
    assert out.lines == []


def test_a_failing_step_stops_its_waiting_lines():
    out = RecordingOutput()
    with pytest.raises(ValueError), waiting(out, "a build container", after=0.01, every=0.01):
        raise ValueError("stopped")
    said = len(out.lines)
    time.sleep(0.05)
    assert len(out.lines) == said


def test_a_terminal_gone_while_waiting_ends_the_lines_not_the_step(monkeypatch):
    class GoneTerminal(RecordingOutput):
        def info(self, text: str) -> None:
            self.lines.append(text)
            raise OSError(5, "Input/output error")

    out = GoneTerminal()
    failures = []
    monkeypatch.setattr(threading, "excepthook", failures.append)
    with waiting(out, "a deploy", after=0.01, every=0.01):
        time.sleep(0.1)
    assert (out.lines, failures) == (["Waiting for a deploy (0 s so far)"], [])
