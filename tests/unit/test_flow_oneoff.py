"""run and logs on a fake scheduler: what a one-off gets, the cap on one-offs, whose lines logs reads."""

import pytest
from fakes import make_flow

from minidokku.errors import NotFound, ValidationError
from minidokku.ops import logs, oneoff
from minidokku.records import ps_settings
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


def test_run_detached_returns_the_container_name_and_counts_against_the_cap(flow):
    flow.deploy(APP, flow.built("sha256:one"))
    name = oneoff.run_detached(flow.ctx, APP, ["sleep", "60"])
    assert name.startswith("cat.run.")
    [one_off] = flow.scheduler.one_offs
    assert (one_off.image, one_off.command, one_off.tty) == ("sha256:one", ["sleep", "60"], False)
    assert [c.name for c in oneoff.run_containers(flow.ctx, APP)] == [name]
    for _ in range(oneoff.MAX_AT_ONCE - 1):
        oneoff.run_detached(flow.ctx, APP, ["sleep", "60"])
    with pytest.raises(ValidationError, match=f"^cat runs {oneoff.MAX_AT_ONCE} one-off containers already"):
        oneoff.run_detached(flow.ctx, APP, ["ls"])


def test_a_run_container_is_found_among_its_apps_own_never_by_its_name_alone(flow):
    flow.create_app("dog")
    for app in (APP, "dog"):
        flow.deploy(app, flow.built(f"sha256:{app}"))
    theirs = oneoff.run_detached(flow.ctx, "dog", ["sleep", "60"])
    web = flow.scheduler.running(APP)[0].name
    for name in (theirs, web, "cat.run.1234", f"cat.run.{theirs}"):
        with pytest.raises(NotFound, match="cat has no run container"):
            oneoff.find_run_container(flow.ctx, APP, name)
        with pytest.raises(NotFound):
            oneoff.stop_runs(flow.ctx, APP, name)
    assert [c.name for c in oneoff.run_containers(flow.ctx, "dog")] == [theirs]


def test_run_stop_stops_one_or_every_run_container_with_the_stop_timeout(flow):
    flow.deploy(APP, flow.built("sha256:one"))
    first, second = (oneoff.run_detached(flow.ctx, APP, ["sleep", "60"]) for _ in range(2))
    ps_settings.set_property(flow.ctx.store, APP, "stop-timeout-seconds", "4")
    assert oneoff.stop_runs(flow.ctx, APP, first) == [first]
    assert [c.name for c in oneoff.run_containers(flow.ctx, APP)] == [second]
    assert oneoff.stop_runs(flow.ctx, APP) == [second]
    assert oneoff.run_containers(flow.ctx, APP) == [] and flow.scheduler.grace[-1] == 4
    assert oneoff.stop_runs(flow.ctx, APP) == []


def test_run_logs_read_the_run_containers_with_their_dyno(flow):
    flow.deploy(APP, flow.built("sha256:one"))
    name = oneoff.run_detached(flow.ctx, APP, ["sleep", "60"])
    dyno = name.removeprefix("cat.")
    assert list(logs.run_lines(flow.ctx, APP, name, follow=False, history=7)) == [
        f"2026-01-01T00:00:00Z app[{dyno}]: output of {name}"
    ]
    assert flow.scheduler.log_requests[-1][1:] == (False, 7, True)
    assert list(logs.run_lines(flow.ctx, APP, None, follow=True, history=5, quiet=True)) == [
        f"2026-01-01T00:00:00Z output of {name}"
    ]
    with pytest.raises(NotFound):
        list(logs.run_lines(flow.ctx, APP, "cat.web.1", follow=False, history=5))


def test_the_app_of_a_run_container_is_the_one_whose_label_it_has(flow):
    flow.create_app("catnip")
    for app in (APP, "catnip"):
        flow.deploy(app, flow.built(f"sha256:{app}"))
    name = oneoff.run_detached(flow.ctx, "catnip", ["sleep", "60"])
    assert oneoff.app_of_run_container(flow.ctx, [APP, "catnip"], name) == "catnip"
    with pytest.raises(NotFound, match="No run container named 'cat.run.1'"):
        oneoff.app_of_run_container(flow.ctx, [APP, "catnip"], "cat.run.1")


def test_run_extra_env_and_ttl_reach_the_one_off(flow):
    flow.deploy(APP, flow.built("sha256:one"))
    extra = oneoff.Extra.parse(("GREETING=hi", "MODE=a=b"), "600")
    oneoff.run(flow.ctx, APP, ["ls"], False, NO_STREAMS, extra)
    [one_off] = flow.scheduler.one_offs
    assert (one_off.env["GREETING"], one_off.env["MODE"], one_off.ttl_seconds) == ("hi", "a=b", 600)
    assert oneoff.Extra().ttl_seconds == oneoff.DEFAULT_TTL_SECONDS


@pytest.mark.parametrize(
    ("pairs", "ttl", "message"),
    [(("NOEQUALS",), "60", "expected KEY=VALUE"), (("1BAD=x",), "60", "invalid config key"), ((), "0", "--ttl-seconds"),
     ((), "-5", "--ttl-seconds"), ((), "9999999999", "--ttl-seconds"), ((), "1h", "--ttl-seconds")],
)  # fmt: skip
def test_bad_run_extras_are_refused(pairs, ttl, message):
    with pytest.raises(ValidationError, match=message):
        oneoff.Extra.parse(pairs, ttl)


def test_run_retire_stops_only_the_run_containers_past_their_ttl(flow):
    flow.deploy(APP, flow.built("sha256:one"))
    short = oneoff.run_detached(flow.ctx, APP, ["sleep", "600"], oneoff.Extra(ttl_seconds=60))
    long = oneoff.run_detached(flow.ctx, APP, ["sleep", "600"])
    started = {c.name: c.created for c in oneoff.run_containers(flow.ctx, APP)}
    assert oneoff.retire_expired(flow.ctx, APP, started[short] + 30) == []
    assert oneoff.retire_expired(flow.ctx, APP, started[short] + 61) == [short]
    assert [c.name for c in oneoff.run_containers(flow.ctx, APP)] == [long]
    assert len(flow.scheduler.running(APP)) == 2  # the processes are no one-offs
