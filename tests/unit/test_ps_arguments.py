"""Dokku's argument forms of ps:start|stop|restart|rebuild (`--parallel N`, `ps:restart --all PROCESS_NAME`)
and docker-options:list, as a script sends them (ps:restart APP PROCESS_NAME: test_flow_processes.py)."""

import os
import threading
import time

import pytest
from click.testing import CliRunner
from fakes import FakeScheduler

from minidokku.cli import cli
from minidokku.runtime import at_once, docker_scheduler


@pytest.fixture
def dokku(tmp_path, monkeypatch):
    fake = FakeScheduler([])
    monkeypatch.setattr(docker_scheduler, "DockerScheduler", lambda *_engine_network_lock: fake)
    monkeypatch.setenv("DOKKU_ROOT", str(tmp_path))
    monkeypatch.setenv("MINIDOKKU_NGINX_COMMAND", "true")
    runner = CliRunner()
    run = lambda *args: runner.invoke(cli, list(args), catch_exceptions=False, prog_name="dokku")  # noqa: E731
    for app in ("catmeow", "dogwoof"):
        assert run("apps:create", app).exit_code == 0
    return run


def test_ps_restart_of_an_unknown_process_type_is_one_line(dokku):
    result = dokku("ps:restart", "catmeow", "clock")
    assert (result.exit_code, result.stderr) == (1, " !     catmeow has not been deployed yet\n")
    result = dokku("ps:restart", "catmeow", "web\n-----> Done")
    assert (result.exit_code, result.stdout) == (1, "")
    assert (
        result.stderr.startswith(" !     invalid process type 'web\\n-----> Done'") and result.stderr.count("\n") == 1
    )
    result = dokku("ps:restart", "--all", "web")
    assert (result.exit_code, result.stderr) == (1, " !     a process type goes with an app name, not --all\n")


@pytest.fixture
def at_most(monkeypatch) -> list[int]:
    """How many apps at once each --all command was told to run."""
    told, real = [], at_once.each

    def each(work, items, at_most=at_once.AT_MOST):
        told.append(at_most)
        return real(work, items, at_most)

    monkeypatch.setattr(at_once, "each", each)
    return told


def test_parallel_says_how_many_apps_at_once_and_defaults_as_dokku(dokku, at_most):
    assert dokku("ps:stop", "--all", "--parallel", "3").exit_code == 0
    assert dokku("ps:stop", "--all").exit_code == 0  # stops wait out their grace: all at once
    assert dokku("ps:stop", "--all", "--parallel", "-1").exit_code == 0
    for name in ("ps:start", "ps:restart", "ps:rebuild"):  # neither app is deployed: each fails, listed
        assert dokku(name, "--all").exit_code == 1
    assert dokku("ps:restart", "--all", "--parallel", "2").exit_code == 1
    assert at_most == [3, at_once.AT_MOST, min(os.cpu_count() or 1, at_once.AT_MOST), 1, 1, 1, 2]


def test_parallel_one_stops_one_app_after_another(dokku, monkeypatch):
    scheduler = docker_scheduler.DockerScheduler(None, None)
    real, active, most = scheduler.stop, [0], [0]
    lock = threading.Lock()

    def stop(targets, grace):
        with lock:
            active[0] += 1
            most[0] = max(most[0], active[0])
        time.sleep(0.05)
        with lock:
            active[0] -= 1
        real(targets, grace)

    monkeypatch.setattr(scheduler, "stop", stop)
    assert dokku("ps:stop", "--all", "--parallel", "1").exit_code == 0
    assert most == [1]


@pytest.mark.parametrize(
    "words, line",
    [
        (["ps:stop", "--all", "--parallel", "0"], "--parallel takes 1 to 16 apps at once, or -1 for one per CPU"),
        (["ps:restart", "--all", "--parallel", "17"], "--parallel takes 1 to 16 apps at once, or -1 for one per CPU"),
        (["ps:start", "catmeow", "--parallel", "2"], "--parallel goes with --all"),
    ],
)
def test_a_bad_parallel_is_one_line_and_nothing_runs(dokku, words, line):
    result = dokku(*words)
    assert (result.exit_code, result.stderr) == (1, f" !     {line}\n")
    assert dokku("ps:report", "catmeow", "--restore").stdout == "true\n"  # not marked stopped


def test_docker_options_list_prints_the_apps_options_of_one_phase_one_a_line(dokku):
    assert dokku("docker-options:add", "catmeow", "deploy,run", "--memory 512m").exit_code == 0
    assert dokku("docker-options:add", "catmeow", "deploy", "-e FOO=bar").exit_code == 0
    assert dokku("docker-options:add", "--global", "deploy", "--cpus 1").exit_code == 0
    assert dokku("docker-options:list", "catmeow", "--phase", "deploy").stdout == "--memory 512m\n-e FOO=bar\n"
    assert dokku("docker-options:list", "catmeow", "--phase", "run").stdout == "--memory 512m\n"
    assert dokku("docker-options:list", "catmeow", "--phase", "build").stdout == ""


@pytest.mark.parametrize(
    "words, line",
    [
        ([], "give --phase with one of build, deploy, run"),
        (["--phase", "deploy,run"], "give --phase with one of build, deploy, run"),
        (
            ["--process", "web", "--phase", "deploy"],
            "docker options are kept per app (every process type gets them), not per process",
        ),
    ],
)
def test_docker_options_list_without_one_phase_or_with_a_process_is_one_line(dokku, words, line):
    result = dokku("docker-options:list", "catmeow", *words)
    assert (result.exit_code, result.stdout, result.stderr) == (1, "", f" !     {line}\n")
