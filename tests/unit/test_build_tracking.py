"""Build tracking (records/builds.py, ops/builds.py): every deploy on the fake scheduler leaves a
record and its output; a failure, a cancel and a killed command each end their record; retention
and the output's size are bounded; an id a user gives names no other file."""

import json
import os
import subprocess
import time

import pytest
from fakes import make_flow

from minidokku.errors import BuildFailed, DeployFailed, NotFound, ValidationError
from minidokku.ops import builds as tracking
from minidokku.ops import deploy
from minidokku.records import builds, properties, releases
from minidokku.records.builds import Build

APP = "cat"


@pytest.fixture
def flow(tmp_path, monkeypatch):
    flow = make_flow(tmp_path / "root", monkeypatch)
    flow.create_app(APP)
    return flow


def test_a_deploy_is_one_record_with_its_output_its_image_and_its_release(flow):
    flow.deploy(APP, flow.built("sha256:one"), sha="b" * 40)
    [build] = builds.history(flow.ctx.store, APP)
    assert (build.kind, build.status, build.exit_code, build.commit) == ("build", "succeeded", 0, "b" * 40)
    assert (build.image, build.release, build.pid) == ("sha256:one", "v1", os.getpid())
    assert build.started_at <= build.finished_at <= time.time()
    logged = builds.read_output(flow.ctx.store, APP, build.id).decode()
    assert "-----> Releasing cat ..." in logged and "-----> Deploying cat ..." in logged
    assert logged.splitlines()[-1] == "       http://cat.example.test"
    assert "-----> Releasing cat ..." in flow.output  # still shown as it happens


def test_a_restart_is_a_deploy_record(flow):
    flow.deploy(APP, flow.built("sha256:one"))
    with deploy.exclusive(flow.ctx, APP):
        deploy.restart(flow.ctx, APP)
    kinds = [(build.kind, build.status) for build in builds.history(flow.ctx.store, APP)]
    assert kinds == [("deploy", "succeeded"), ("build", "succeeded")]


def test_a_failed_deploy_is_recorded_failed_with_its_reason_and_the_old_release_serves(flow):
    flow.deploy(APP, flow.built("sha256:one"))
    flow.scheduler.failing_releases.add("v2")
    with pytest.raises(DeployFailed):
        flow.deploy(APP, flow.built("sha256:broken"))
    last = builds.history(flow.ctx.store, APP)[0]
    assert (last.status, last.exit_code, last.image, last.release) == ("failed", 1, "", "")
    assert "failed the check" in last.error
    assert releases.current(flow.ctx.store, APP).name == "v1"


def test_a_cancel_during_the_deploy_fails_it_as_canceled_and_removes_only_that_apps_task_containers(flow):
    flow.create_app("other")
    flow.deploy(APP, flow.built("sha256:one"))
    flow.scheduler.leftover_tasks.update({"task-of-cat": APP, "task-of-other": "other"})
    start = flow.scheduler.start

    def start_then_cancel(app, release, *args, **kwargs):
        assert tracking.cancel(flow.ctx, APP).status == "running"  # what builds:cancel does from elsewhere
        flow.scheduler.failing_releases.add(release.name)  # its containers go, as a build's would
        return start(app, release, *args, **kwargs)

    flow.scheduler.start = start_then_cancel
    with pytest.raises(BuildFailed, match=r"^the deploy of cat was canceled \(builds:cancel\); v1 serves on$"):
        flow.deploy(APP, flow.built("sha256:two"))
    assert flow.scheduler.leftover_tasks == {"task-of-other": "other"}
    last = builds.history(flow.ctx.store, APP)[0]
    assert (last.status, last.exit_code) == ("canceled", 1)
    assert releases.current(flow.ctx.store, APP).name == "v1"
    assert sorted(p.name for p in flow.ctx.store.path(APP, "builds").iterdir() if p.suffix == ".cancel") == []


def test_a_cancel_without_a_running_build_does_nothing(flow):
    flow.deploy(APP, flow.built("sha256:one"))
    flow.scheduler.leftover_tasks["task-of-cat"] = APP
    assert tracking.cancel(flow.ctx, APP) is None
    assert flow.scheduler.leftover_tasks == {"task-of-cat": APP}


def test_a_cancel_signals_no_process_whose_build_ended_meanwhile(flow, monkeypatch):
    """One process deploys many apps in turn (ps:rebuild --all): a cancel landing as the build
    ends must leave the process alone (here a sleep stands for it)."""
    with subprocess.Popen(["sleep", "30"]) as sleeper:
        try:
            build = Build(builds.new_id(), APP, "build", "ps:rebuild", "alice", sleeper.pid,
                          tracking.process_start(sleeper.pid), time.time())  # fmt: skip
            builds.write(flow.ctx.store, build)
            monkeypatch.setattr(
                flow.scheduler,
                "remove_leftover_tasks",
                lambda _name: builds.finish(flow.ctx.store, build, "succeeded", 0),
            )
            assert tracking.cancel(flow.ctx, APP) == build
            time.sleep(0.2)
            assert sleeper.poll() is None, "the process was signalled"
        finally:
            sleeper.kill()


def test_the_deploying_process_unwinds_on_a_cancel_only_while_the_canceled_build_runs(flow):
    def asked_to_stop():
        os.kill(os.getpid(), tracking.CANCEL_SIGNAL)
        time.sleep(0.05)  # the handler runs meanwhile

    with tracking.recorded(flow.ctx, APP, builds.BUILD):
        asked_to_stop()  # a cancel of an earlier build of this process: ignored
    asked_to_stop()  # between two builds: ignored
    with pytest.raises(BuildFailed, match="the deploy of cat was canceled"):
        with tracking.recorded(flow.ctx, APP, builds.BUILD):
            builds.mark_canceled(flow.ctx.store, tracking.running(flow.ctx.store, APP))
            asked_to_stop()
    assert [build.status for build in builds.history(flow.ctx.store, APP)] == ["canceled", "succeeded"]


def abandoned(flow, **fields) -> Build:
    """A record a killed deploy left: running, its process gone (a start time no process has)."""
    build = Build(builds.new_id(), APP, "build", "git-hook", "alice", os.getpid(), "1", time.time() - 60, **fields)
    builds.write(flow.ctx.store, build)
    return build


def test_a_record_whose_process_is_gone_shows_abandoned_and_the_next_deploy_ends_it_failed(flow):
    left = abandoned(flow)
    assert tracking.shown_status(left) == "abandoned" and tracking.running(flow.ctx.store, APP) is None
    flow.deploy(APP, flow.built("sha256:one"))
    ended = builds.read(flow.ctx.store, APP, left.id)
    assert (ended.status, ended.exit_code) == ("failed", -1)


def test_only_the_last_retention_builds_are_kept_record_and_output_together(flow):
    properties.set_value(flow.ctx.store, APP, builds.RETENTION, "2")
    for image in ("sha256:one", "sha256:two", "sha256:three"):
        flow.deploy(APP, flow.built(image))
    kept = builds.history(flow.ctx.store, APP)
    assert [build.image for build in kept] == ["sha256:three", "sha256:two"]
    folder = flow.ctx.store.path(APP, "builds")
    assert sorted(p.name for p in folder.iterdir() if not p.name.startswith(".")) == sorted(
        f"{build.id}.{suffix}" for build in kept for suffix in ("json", "log")
    )


def test_prune_keeps_a_running_build_and_removes_outputs_left_without_a_record(flow):
    properties.set_value(flow.ctx.store, APP, builds.RETENTION, "1")
    live = Build(builds.new_id(time.time() - 3600), APP, "build", "git-hook", "alice", os.getpid(),
                 tracking.process_start(os.getpid()), time.time() - 3600)  # fmt: skip
    builds.write(flow.ctx.store, live)
    flow.ctx.store.write(APP, "builds/0000000000zzzz.log", "a prune cut short left this\n")
    flow.deploy(APP, flow.built("sha256:one"))
    flow.deploy(APP, flow.built("sha256:two"))
    assert [build.image or build.status for build in builds.history(flow.ctx.store, APP)] == ["sha256:two", "running"]
    assert not flow.ctx.store.path(APP, "builds/0000000000zzzz.log").exists()


def test_the_output_kept_is_bounded_with_a_last_line_saying_so(flow, monkeypatch):
    monkeypatch.setattr(builds, "MAX_OUTPUT_BYTES", 100)
    build = abandoned(flow)
    written = 0
    for number in range(20):
        written = builds.append_output(flow.ctx.store, build, f"line {number:02d} of the build", written)
    kept = builds.read_output(flow.ctx.store, APP, build.id).decode().splitlines()
    assert kept == [f"line {n:02d} of the build" for n in range(4)] + ["... the rest is left out: 100 bytes kept"]


def test_ids_sort_as_builds_start_and_nothing_else_is_an_id():
    earlier, later = builds.new_id(1_700_000_000.0), builds.new_id(1_700_000_000.5)
    assert earlier[:8] < later[:8] and len(earlier) == 14 and builds.ID.fullmatch(earlier)
    for bad in ["../../other/builds/x", "0000000000000A", "00000000000000.json", "", "0" * 15, "current/.."]:
        with pytest.raises(ValidationError, match="is not a build id"):
            builds.validate_id(bad)


def test_a_missing_build_says_so_by_name(flow):
    with pytest.raises(NotFound, match=f"No build record found for {APP}/0000000000000a"):
        builds.read(flow.ctx.store, APP, "0000000000000a")


def test_a_record_is_readable_json_written_whole(flow):
    flow.deploy(APP, flow.built("sha256:one"))
    [build] = builds.history(flow.ctx.store, APP)
    data = json.loads(flow.ctx.store.read(APP, f"builds/{build.id}.json"))
    assert data["id"] == build.id and data["status"] == "succeeded" and data["by"].endswith("(on the host)")


@pytest.mark.parametrize("value", ["0", "101", "-1", "ten", "1.5"])
def test_a_retention_out_of_bounds_is_refused(flow, value):
    with pytest.raises(ValidationError, match="Invalid retention"):
        properties.set_value(flow.ctx.store, APP, builds.RETENTION, value)


def test_a_renamed_apps_records_are_its_own_and_ending_one_writes_in_its_folder(flow):
    left = abandoned(flow)
    flow.ctx.store.move_app(APP, "kitten")
    assert [build.app for build in builds.history(flow.ctx.store, "kitten")] == ["kitten"]
    flow.deploy("kitten", flow.built("sha256:one"))
    assert builds.read(flow.ctx.store, "kitten", left.id).status == "failed"
    assert not flow.ctx.store.path(APP, "builds").exists()  # nothing written under the old name
