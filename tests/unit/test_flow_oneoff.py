"""run and logs on a fake scheduler: what a one-off gets, the cap on one-offs, whose lines logs reads."""

import pytest
from fakes import make_flow

from minidokku.errors import NotFound, ValidationError
from minidokku.ops import logs, oneoff
from minidokku.runtime.terminal import Streams

APP = "cat"
NO_STREAMS = Streams(None, None, None)  # the fake scheduler wires nothing


@pytest.fixture
def flow(tmp_path, monkeypatch):
    flow = make_flow(tmp_path / "root", monkeypatch)
    flow.create_app(APP, {"GREETING": "hello"})
    return flow


def test_run_before_any_deploy_is_refused(flow):
    with pytest.raises(NotFound, match="cat has not been deployed yet"):
        oneoff.run(flow.ctx, APP, ["ls"], False, NO_STREAMS)


def test_run_starts_the_current_release_image_with_the_app_env_and_a_run_dyno(flow):
    flow.deploy(APP, flow.built("sha256:one"))
    assert oneoff.run(flow.ctx, APP, ["echo $GREETING"], True, NO_STREAMS) == 0
    [one_off] = flow.scheduler.one_offs
    assert (one_off.image, one_off.command, one_off.tty) == ("sha256:one", ["bash", "-c", "echo $GREETING"], True)
    assert one_off.env["GREETING"] == "hello" and one_off.env["DYNO"] == one_off.dyno
    assert one_off.dyno.startswith("run.")


def test_one_offs_beyond_the_cap_are_refused_naming_the_app(flow):
    flow.deploy(APP, flow.built("sha256:one"))
    for _ in range(oneoff.MAX_AT_ONCE):
        oneoff.run(flow.ctx, APP, ["sleep 60"], False, NO_STREAMS)
    with pytest.raises(ValidationError, match=f"^cat runs {oneoff.MAX_AT_ONCE} one-off containers already; try"):
        oneoff.run(flow.ctx, APP, ["ls"], False, NO_STREAMS)
    assert len(flow.scheduler.one_offs) == oneoff.MAX_AT_ONCE


def test_logs_of_one_process_type_are_prefixed_with_their_dyno(flow):
    flow.deploy(APP, flow.built("sha256:one"))
    assert list(logs.lines(flow.ctx, APP, follow=False, history=10, process="worker")) == [
        "2026-01-01T00:00:00Z app[worker.1]: output of cat.worker.1"
    ]
    with pytest.raises(NotFound, match="cat has no process 'clock'; its processes: web.1, worker.1"):
        list(logs.lines(flow.ctx, APP, follow=False, history=10, process="clock"))
