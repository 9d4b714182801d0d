"""Output when nothing reads it any more (a push's client gone, an ssh session dropped): it goes
quiet instead of failing the command at whatever line it was printing."""

import os
import subprocess
import sys

from minidokku.output import INDENT, Output, RecordingOutput


def test_an_output_whose_reader_went_away_goes_quiet_and_its_descriptor_writes_nowhere():
    read_end, write_end = os.pipe()
    os.close(read_end)
    with os.fdopen(write_end, "w") as stream:
        out = Output(stream)
        out.step("Deploying cat ...")  # EPIPE: no BrokenPipeError out of it
        out.info("Checking web.1")
        assert out.reader_gone
        os.write(write_end, b"what a program run now prints\n")  # /dev/null: no EPIPE either
    # closing the stream flushed what the failed write left in its buffer: no error either


def test_a_command_whose_reader_went_away_ends_as_it_would_have_ended():
    """Python flushes stdout on the way out; after the Output went quiet that is no failure
    (exit 120) either: a git hook's status decides whether the push's branch moves."""
    program = "from minidokku.output import Output\nout = Output()\nfor n in range(3):\n    out.step(f'line {n}')\n"
    with subprocess.Popen([sys.executable, "-c", program], stdout=subprocess.PIPE, stderr=subprocess.PIPE) as child:
        child.stdout.close()
        assert child.wait(timeout=60) == 0, child.stderr.read()


def test_an_output_without_a_descriptor_goes_quiet_too():
    class Gone:
        written = 0

        def write(self, text):
            self.written += 1
            raise BrokenPipeError(32, "Broken pipe")

        def flush(self):
            pass

    stream = Gone()
    out = Output(stream)
    out.info("one")
    out.info("two")
    assert out.reader_gone and stream.written == 1


def test_a_notice_is_printed_once_per_command():
    out = RecordingOutput()
    out.notice("template ignored")
    out.notice("template ignored")
    out.notice("other")
    assert out.lines == [INDENT + "template ignored", INDENT + "other"]
