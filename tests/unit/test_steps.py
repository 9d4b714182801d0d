"""Per-step timing (minidokku/steps.py): a `+ time STEP SECONDS s` line per finished step, when asked."""

from minidokku.output import RecordingOutput
from minidokku.steps import StepTimer


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
