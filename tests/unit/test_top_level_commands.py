"""Dokku's top-level and admin commands without Docker: trace:on|off, events:list|on|off,
repo:gc, repo:purge-cache, cleanup and report."""

import os
import subprocess
import time
from pathlib import Path

import pytest
from click.testing import CliRunner
from fakes import FakeScheduler

from minidokku import __version__
from minidokku.access import rules
from minidokku.build import buildpack_choice, gitrepo
from minidokku.build.builders.buildpacks import cache_volume
from minidokku.cli import DOKKU_VERSION, all_commands, cli, tracing
from minidokku.errors import GitError
from minidokku.state import Store


@pytest.fixture
def dokku(tmp_path, monkeypatch):
    monkeypatch.setenv("DOKKU_ROOT", str(tmp_path))
    monkeypatch.delenv("NAME", raising=False)
    runner = CliRunner()
    return lambda *args: runner.invoke(cli, list(args), catch_exceptions=False)


def test_trace_on_makes_every_later_command_trace_until_off(dokku, tmp_path, monkeypatch):
    monkeypatch.setattr(tracing, "_tracing", False)
    assert dokku("trace:on").stdout == "-----> Enabling trace mode\n"
    traced = dokku("apps:create", "catmeow")
    assert traced.exit_code == 0 and "+ git init --quiet --bare" in traced.stderr
    assert dokku("trace:off").stdout == "-----> Disabling trace mode\n"
    monkeypatch.setattr(tracing, "_tracing", False)  # each command is its own process, off by default
    quiet = dokku("apps:create", "dogwoof")
    assert quiet.exit_code == 0 and "+ " not in quiet.stderr
    assert not (tmp_path / tracing.SWITCH).exists()


def test_events_on_logs_each_trigger_point_with_its_arguments_until_off(dokku, tmp_path):
    assert dokku("events:list").stderr == " !     Events logger disabled\n"
    assert dokku("events:on").stdout == "Enabling dokku events logger\n"
    listed = dokku("events:list").stdout.splitlines()
    assert listed[0] == "=====> Events currently logged" and {"post-create", "post-deploy"} <= set(listed[1:])
    assert "commands" not in listed
    dokku("apps:create", "catmeow")
    dokku("config:set", "--no-restart", "catmeow", "TOKEN=s3cret")
    assert dokku("events:off").stdout == "Disabling dokku events logger\n"
    dokku("apps:create", "dogwoof")
    trail = [line.split("\t")[2:] for line in dokku("events").stdout.splitlines()]
    assert ["trigger:post-create", "-", "invoked", "catmeow"] in trail
    assert ["trigger:post-config-update", "-", "invoked", "catmeow set TOKEN"] in trail
    assert ["trigger:post-create", "-", "invoked", "dogwoof"] not in trail
    assert ["apps:create", "dogwoof", "ok"] in trail  # the commands' lines are always written
    assert "s3cret" not in (tmp_path / "EVENTS").read_text()


def test_repo_gc_packs_the_apps_objects_and_keeps_its_branch(dokku, tmp_path):
    dokku("apps:create", "catmeow")
    repo, tree = tmp_path / "catmeow", tmp_path / "tree"
    tree.mkdir()
    (tree / "app.py").write_text("print('hi')\n")
    sha = gitrepo.commit_directory(repo, tree, "main", "first")
    gitrepo.move_branch(repo, "main", sha)

    result = dokku("repo:gc", "catmeow")

    assert (result.exit_code, result.stdout) == (0, "-----> Collected the garbage of the repo of catmeow\n")
    assert list((repo / "objects" / "pack").glob("*.pack"))
    assert not [path for path in (repo / "objects").glob("??/*")]  # no loose object left
    assert gitrepo.branch_head(repo, "main") == sha


def _pushed(tmp_path, dokku, app):
    dokku("apps:create", app)
    tree = tmp_path / f"{app}-tree"
    tree.mkdir()
    (tree / "app.py").write_text("print('hi')\n")
    gitrepo.move_branch(tmp_path / app, "main", gitrepo.commit_directory(tmp_path / app, tree, "main", "first"))
    return tmp_path / app


def test_repo_gc_is_bounded_and_aggressive_only_for_an_admins_app(dokku, tmp_path, monkeypatch):
    _pushed(tmp_path, dokku, "catmeow")
    _pushed(tmp_path, dokku, "tenant")
    rules.grant(Store(tmp_path), "tenant", "eve")
    run = []
    real_popen = subprocess.Popen
    monkeypatch.setattr(subprocess, "Popen", lambda argv, **kw: run.append(argv) or real_popen(argv, **kw))

    assert dokku("repo:gc", "catmeow").exit_code == 0
    assert dokku("repo:gc", "tenant").exit_code == 0

    limits = ["-c", "pack.windowMemory=256m", "-c", "pack.threads=1", "-c", "core.bigFileThreshold=16m"]
    assert run == [["git", *limits, "gc", "--aggressive", "--quiet"], ["git", *limits, "gc", "--quiet"]]


def test_repo_gc_refuses_while_another_command_holds_the_apps_lock(dokku, tmp_path):
    repo = _pushed(tmp_path, dokku, "catmeow")
    with Store(tmp_path).lock("catmeow"):  # a deploy under way
        result = dokku("repo:gc", "catmeow")
    assert (result.exit_code, result.output) == (
        1,
        " !     catmeow is locked by another deploy or command; try again when it ends\n",
    )
    assert list((repo / "objects").glob("??/*"))  # nothing was packed


def test_repo_gc_past_its_time_limit_is_killed_with_the_programs_it_started(tmp_path, monkeypatch):
    bin_dir, child = tmp_path / "bin", tmp_path / "child.pid"
    bin_dir.mkdir()
    (bin_dir / "git").write_text(f"#!/bin/sh\nsleep 60 &\necho $! > {child}\nwait\n")
    (bin_dir / "git").chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}:{os.environ['PATH']}")
    monkeypatch.setattr(gitrepo, "GC_TIMEOUT", 1)
    started = time.monotonic()

    with pytest.raises(GitError, match="took more than 1 s"):
        gitrepo.collect_garbage(tmp_path, aggressive=False)

    assert time.monotonic() - started < 10
    pid = int(child.read_text())
    for _ in range(50):
        status = Path(f"/proc/{pid}/status")
        if not status.exists() or "State:\tZ" in status.read_text():
            break
        time.sleep(0.1)
    else:
        pytest.fail("the program git started still runs")


def test_repo_purge_cache_removes_the_cache_volume_and_the_fetched_buildpacks(dokku, tmp_path, monkeypatch):
    scheduler = FakeScheduler([])
    monkeypatch.setattr("minidokku.runtime.docker_scheduler.DockerScheduler", lambda *_engine_network_lock: scheduler)
    dokku("apps:create", "catmeow")
    fetched = tmp_path / "catmeow" / buildpack_choice.CACHE / "python-1234"
    fetched.mkdir(parents=True)

    result = dokku("repo:purge-cache", "catmeow")

    assert result.exit_code == 0
    assert result.stdout == "-----> Purged the build cache of catmeow: its next build starts from scratch\n"
    assert scheduler.removed_volumes == [cache_volume("catmeow")]
    assert not fetched.parent.exists() and (tmp_path / "catmeow" / "HEAD").is_file()


def test_cleanup_of_an_app_or_of_every_app_goes_through_the_scheduler_under_each_apps_lock(
    dokku, tmp_path, monkeypatch
):
    scheduler = FakeScheduler([])
    monkeypatch.setattr("minidokku.runtime.docker_scheduler.DockerScheduler", lambda *_engine_network_lock: scheduler)
    dokku("apps:create", "catmeow")
    dokku("apps:create", "dogwoof")
    scheduler.dangling_images.update({"sha256:aaa": "catmeow", "sha256:bbb": "dogwoof"})

    one = dokku("cleanup", "catmeow")
    assert (one.exit_code, one.stdout) == (
        0,
        "-----> Cleaning up...\n       catmeow: removed 0 container(s), 1 dangling image(s)\n",
    )
    assert scheduler.journal == [("clean-up", "catmeow")] and scheduler.dangling_images == {"sha256:bbb": "dogwoof"}

    with Store(tmp_path).lock("dogwoof"):  # a deploy of dogwoof under way: skipped, said so
        every = dokku("cleanup")
    assert every.exit_code == 0 and scheduler.journal[1:] == [("clean-up", "catmeow")]
    assert (
        every.stderr
        == " !     Skipped dogwoof: dogwoof is locked by another deploy or command; try again when it ends\n"
    )


def test_report_gives_the_vitals_then_every_familys_report_of_the_app_or_of_every_app(dokku):
    dokku("apps:create", "catmeow")
    dokku("apps:create", "dogwoof")

    one = dokku("report", "catmeow")

    assert one.exit_code == 0, one.output
    lines = one.stdout.splitlines()
    assert lines[0].startswith("-----> uname: Linux ")
    assert f"-----> dokku version: dokku version {DOKKU_VERSION} (minidokku {__version__})" in lines
    assert "-----> dokku plugins:" in lines and any(line.split()[:1] == ["postgres"] for line in lines)
    assert " !     docker: the engine does not answer" in one.stderr  # no Docker in unit tests
    blocks = [line for line in lines if line.startswith("=====> ")]
    families = sorted(name.split(":")[0] for name in all_commands() if name.endswith(":report"))
    assert len(blocks) == len(families) and all(block.startswith("=====> catmeow ") for block in blocks)
    assert "=====> catmeow ps information" in blocks and "=====> catmeow git information" in blocks

    every = dokku("report", "--all").stdout.splitlines()
    assert {line.split()[1] for line in every if line.startswith("=====> ")} == {"catmeow", "dogwoof"}
    assert not [line for line in dokku("report").stdout.splitlines() if line.startswith("=====> ")]


def test_report_refuses_a_format_and_a_missing_app_as_dokku_does(dokku):
    refused = dokku("report", "--format", "json")
    assert (refused.exit_code, refused.output) == (1, " !     --format flag not supported on global report\n")
    missing = dokku("report", "ghost")
    assert (missing.exit_code, missing.output) == (20, " !     App ghost does not exist\n")
