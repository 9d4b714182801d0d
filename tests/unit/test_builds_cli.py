"""builds:list|info|output|report|set|prune|cancel on the command line, on records as a deploy
leaves them (records/builds.py): Dokku 0.38's shapes, messages and flags."""

import json
import os
import time

import pytest
import test_reports

from minidokku.ops import builds as tracking
from minidokku.records import builds
from minidokku.records.builds import Build
from minidokku.state import Store

dokku = test_reports.dokku  # the CLI on a root with the app catmeow
STARTED = 1_767_225_600.0  # 2026-01-01T00:00:00Z


def record(root, number: int, **fields) -> Build:
    """A finished build of catmeow that started number minutes after STARTED, with two lines of output."""
    store = Store(root)
    build = Build(f"0000000000{number:04d}", "catmeow", "build", "git-hook", "alice", 4242, "", STARTED + 60 * number)
    build = builds.finish(store, build, builds.SUCCEEDED, 0, image=f"sha256:{number}", release=f"v{number}")
    build = Build(**{**build.__dict__, "finished_at": build.started_at + 74, **fields})
    builds.write(store, build)
    written = builds.append_output(store, build, f"-----> Building catmeow {number}", 0)
    builds.append_output(store, build, "       done", written)
    return build


def test_list_shows_the_builds_the_last_first_and_filters_them(dokku, tmp_path):
    assert dokku("builds:list", "catmeow") == (0, "No builds recorded for this app\n")
    record(tmp_path, 1)
    record(tmp_path, 2, status="failed", exit_code=1, kind="deploy", source="config:set")
    assert dokku("builds:list", "catmeow") == (0, "\n".join([
        "Build ID        Kind    Status     PID   Source      Started               Duration",
        "00000000000002  deploy  failed     4242  config:set  2026-01-01T00:02:00Z  1m14s",
        "00000000000001  build   succeeded  4242  git-hook    2026-01-01T00:01:00Z  1m14s",
    ]) + "\n")  # fmt: skip
    code, output = dokku("builds:list", "catmeow", "--status", "failed", "--format", "json")
    [shown] = json.loads(output)
    assert (shown["id"], shown["display_status"], shown["duration"]) == ("00000000000002", "failed", "1m14s")
    assert json.loads(dokku("builds:list", "catmeow", "--kind", "build", "--format", "json")[1])[0]["id"].endswith("1")
    assert dokku("builds:list", "catmeow", "--kind", "nosuch")[1] == (
        ' !     Invalid --kind value "nosuch" (allowed: build, deploy)\n'
    )


def test_list_without_an_app_shows_the_builds_running_anywhere(dokku, tmp_path):
    assert dokku("builds:list") == (0, "No builds currently running\n")
    live = Build("0000000000zzzz", "catmeow", "build", "git-hook", "alice", os.getpid(),
                 tracking.process_start(os.getpid()), STARTED)  # fmt: skip
    builds.write(Store(tmp_path), live)
    record(tmp_path, 1)
    assert dokku("builds:list") == (0, "\n".join([
        "App      Build ID        Kind   PID" + " " * (len(str(os.getpid())) - 1) + "Source    Started",
        f"catmeow  0000000000zzzz  build  {os.getpid()}  git-hook  2026-01-01T00:00:00Z",
    ]) + "\n")  # fmt: skip


def test_info_shows_one_build_and_json_the_same(dokku, tmp_path):
    build = record(tmp_path, 3, commit="c" * 40)
    assert dokku("builds:info", "catmeow", build.id) == (0, "\n".join([
        "Build ID:   00000000000003",
        "App:        catmeow",
        "Kind:       build",
        "Status:     succeeded",
        "PID:        4242",
        "Source:     git-hook",
        "By:         alice",
        "Started:    2026-01-01T00:03:00Z",
        "Finished:   2026-01-01T00:04:14Z",
        "Duration:   1m14s",
        "Exit Code:  0",
        f"Commit:     {'c' * 40}",
        "Image:      sha256:3",
        "Release:    v3",
    ]) + "\n")  # fmt: skip
    shown = json.loads(dokku("builds:info", "catmeow", build.id, "--format", "json")[1])
    assert (shown["status"], shown["release"], shown["finished_at"]) == ("succeeded", "v3", "2026-01-01T00:04:14Z")


@pytest.mark.parametrize("build_id", ["../../victim/builds/00000000000001", "00000000000001.json", "x"])
def test_info_and_output_take_only_a_build_id(dokku, tmp_path, build_id):
    record(tmp_path, 1)
    for command in ("builds:info", "builds:output"):
        code, output = dokku(command, "catmeow", build_id)
        assert code == 1 and output.startswith(" !     ") and "is not a build id" in output


def test_output_prints_a_finished_builds_output_and_current_says_when_none_runs(dokku, tmp_path):
    build = record(tmp_path, 1)
    assert dokku("builds:output", "catmeow", build.id) == (0, "-----> Building catmeow 1\n       done\n")
    assert dokku("builds:output", "catmeow") == (0, "-----> App not currently deploying\n")
    assert dokku("builds:output", "catmeow", "0000000000000b") == (
        1, " !     No build record found for catmeow/0000000000000b\n"
    )  # fmt: skip


def test_cancel_without_a_running_build_says_so(dokku):
    assert dokku("builds:cancel", "catmeow") == (0, "-----> App not currently deploying\n")


def test_report_shows_the_last_build_and_the_retention(dokku, tmp_path):
    record(tmp_path, 1)
    record(tmp_path, 2, status="failed", exit_code=1)
    assert dokku("builds:report", "catmeow", "--build-status") == (0, "failed\n")
    assert dokku("builds:set", "catmeow", "retention", "5") == (0, "-----> Setting retention to 5\n")
    assert dokku("builds:set", "--global", "retention", "7") == (0, "-----> Setting retention to 7\n")
    code, block = dokku("builds:report", "catmeow")
    assert code == 0 and block.splitlines() == [
        "=====> catmeow builds information",
        "       Build id:                   00000000000002",
        "       Build kind:                 build",
        "       Build status:               failed",
        "       Build pid:                  4242",
        "       Build source:               git-hook",
        "       Build started at:           2026-01-01T00:02:00Z",
        "       Build finished at:          2026-01-01T00:03:14Z",
        "       Build exit code:            1",
        "       Builds computed retention:  5",
        "       Builds global retention:    7",
        "       Builds retention:           5",
    ]
    shown = json.loads(dokku("builds:report", "catmeow", "--format", "json")[1])
    assert (shown["build-id"], shown["retention"], shown["builds-global-retention"]) == ("00000000000002", "5", "7")
    assert dokku("builds:report", "--global", "--builds-computed-retention") == (0, "7\n")


def test_prune_applies_a_lowered_retention(dokku, tmp_path):
    for number in range(1, 5):
        record(tmp_path, number)
    dokku("builds:set", "catmeow", "retention", "1")
    assert dokku("builds:prune", "catmeow") == (0, "-----> Pruned 3 build records of catmeow\n")
    assert [build.id for build in builds.history(Store(tmp_path), "catmeow")] == ["00000000000004"]
    assert dokku("builds:prune") == (1, " !     Please specify an app or --all-apps\n")
    assert dokku("builds:prune", "--all-apps") == (0, "-----> Pruned 0 build records of catmeow\n")


def test_a_retention_out_of_bounds_is_refused_and_the_old_one_stays(dokku):
    dokku("builds:set", "catmeow", "retention", "5")
    assert dokku("builds:set", "catmeow", "retention", "1000") == (
        1, " !     Invalid retention '1000': must be a whole number from 1 to 100\n"
    )  # fmt: skip
    assert dokku("builds:report", "catmeow", "--builds-retention") == (0, "5\n")
    assert dokku("builds:set", "catmeow", "depth", "5")[1] == (
        " !     Invalid property specified, valid properties include: retention\n"
    )


def test_a_running_build_shows_abandoned_once_its_process_is_gone(dokku, tmp_path):
    builds.write(Store(tmp_path), Build("0000000000zzzz", "catmeow", "build", "git-hook", "a", 1, "1", time.time()))
    assert dokku("builds:report", "catmeow", "--build-status") == (0, "abandoned\n")


def test_output_of_the_running_build_follows_it_to_its_end(dokku, tmp_path, monkeypatch):
    monkeypatch.setattr("minidokku.cli.builds.FOLLOW_INTERVAL", 0.01)
    store = Store(tmp_path)
    live = Build("0000000000zzzz", "catmeow", "build", "git-hook", "alice", os.getpid(),
                 tracking.process_start(os.getpid()), time.time())  # fmt: skip
    builds.write(store, live)
    written = builds.append_output(store, live, "-----> Building catmeow ...", 0)
    looks = []
    real_sleep = time.sleep

    def build_goes_on(seconds):  # the deploy, elsewhere, meanwhile
        looks.append(seconds)
        if len(looks) == 2:
            builds.append_output(store, live, "       still building", written)
        if len(looks) == 4:
            builds.finish(store, live, builds.SUCCEEDED, 0)
        real_sleep(seconds)

    monkeypatch.setattr("minidokku.cli.builds.time.sleep", build_goes_on)
    assert dokku("builds:output", "catmeow") == (0, "-----> Building catmeow ...\n       still building\n")
    assert len(looks) == 4
