"""The ps, run and logs commands added for Dokku's scripts, as a script sees them: their output
in Dokku's form, their exit codes, and what they store."""

import json
import threading
import time

import pytest
from click.testing import CliRunner
from fakes import FakeScheduler

from minidokku.cli import cli
from minidokku.cli.run import _human_duration
from minidokku.runtime import docker_scheduler
from minidokku.runtime.scheduler import OneOffContainer


@pytest.fixture
def scheduler(monkeypatch):
    fake = FakeScheduler([])
    monkeypatch.setattr(docker_scheduler, "DockerScheduler", lambda *_engine_network_lock: fake)
    return fake


@pytest.fixture
def dokku(tmp_path, monkeypatch, scheduler):
    monkeypatch.setenv("DOKKU_ROOT", str(tmp_path))
    runner = CliRunner()
    run = lambda *args: runner.invoke(cli, list(args), catch_exceptions=False, prog_name="dokku")  # noqa: E731
    assert run("apps:create", "catmeow").exit_code == 0
    return run


def add_run_container(scheduler, app: str, number: int, created: float) -> OneOffContainer:
    container = OneOffContainer(f"r{number}", f"{app}.run.{number}", "running", "/exec sleep 15", int(created))
    scheduler.detached[container.id] = container
    scheduler.app_of[container.id] = app
    return container


def test_ps_scale_prints_dokkus_lines_and_json(dokku):
    assert dokku("ps:scale", "--skip-deploy", "catmeow", "web=2", "worker=1").exit_code == 0
    assert dokku("--quiet", "ps:scale", "catmeow").stdout == "web:  2\nworker: 1\n"
    assert json.loads(dokku("ps:scale", "catmeow", "--format", "json").stdout) == [
        {"process_type": "web", "quantity": 2},
        {"process_type": "worker", "quantity": 1},
    ]


def test_ps_set_global_sets_what_apps_without_their_own_get(dokku, tmp_path):
    result = dokku("ps:set", "--global", "stop-timeout-seconds", "20")
    assert (result.exit_code, result.stdout) == (0, "-----> Setting stop-timeout-seconds to 20\n")
    assert dokku("ps:report", "catmeow", "--ps-computed-stop-timeout-seconds").stdout == "20\n"
    assert dokku("ps:report", "--global", "--ps-global-stop-timeout-seconds").stdout == "20\n"
    assert dokku("ps:set", "--global", "stop-timeout-seconds").stdout == "-----> Unsetting stop-timeout-seconds\n"
    assert dokku("ps:report", "--global", "--format", "json").stdout.startswith('{"computed-procfile-path":')
    refused = dokku("ps:set", "--global", "restore", "false")
    assert (refused.exit_code, refused.stderr) == (
        1,
        " !     unknown global ps property 'restore'; known: procfile-path, restart-policy, skip-deploy, "
        "stop-timeout-seconds\n",
    )


def test_ps_inspect_prints_a_json_list(dokku):
    assert json.loads(dokku("ps:inspect", "catmeow").stdout) == []


def test_run_list_prints_dokkus_table_quiet_lines_and_json(dokku, scheduler):
    add_run_container(scheduler, "catmeow", 28689, time.time() - 20 * 60 - 20)  # the minutes hold on a slow machine
    add_run_container(scheduler, "other", 1, time.time())
    assert dokku("run:list", "catmeow").stdout.splitlines() == [
        "=====> catmeow run containers",
        "NAMES               COMMAND            CREATED",
        'catmeow.run.28689   "/exec sleep 15"   20 minutes ago',
    ]
    assert dokku("--quiet", "run:list", "catmeow").stdout == 'catmeow.run.28689\t"/exec sleep 15"\t20 minutes ago\n'
    [listed] = json.loads(dokku("run:list", "catmeow", "--format", "json").stdout)
    assert set(listed) == {"name", "state", "command", "created_at"}
    assert (listed["name"], listed["state"], listed["created_at"][-9:]) == ("catmeow.run.28689", "running", "+0000 UTC")


def test_run_stop_prints_what_it_stopped_and_refuses_another_apps_container(dokku, scheduler):
    add_run_container(scheduler, "catmeow", 1234, time.time())
    add_run_container(scheduler, "other", 99, time.time())
    other = dokku("run:stop", "catmeow", "--container", "other.run.99")
    assert (other.exit_code, other.stderr) == (
        1,
        " !     catmeow has no run container 'other.run.99'; `dokku run:list catmeow` lists them\n",
    )
    assert dokku("run:stop", "--container", "catmeow.run.1234").stdout == "catmeow.run.1234\n"
    assert dokku("run:stop", "catmeow").stdout == "No run containers exist\n"
    assert [c.name for c in scheduler.detached.values()] == ["other.run.99"]
    nothing = dokku("run:stop")
    assert (nothing.exit_code, nothing.stderr) == (1, " !     No container or app specified\n")


def test_run_logs_of_one_container_or_all(dokku, scheduler):
    add_run_container(scheduler, "catmeow", 1234, time.time())
    shown = "2026-01-01T00:00:00Z app[run.1234]: output of catmeow.run.1234\n"
    assert dokku("run:logs", "catmeow").stdout == shown
    assert dokku("run:logs", "catmeow", "catmeow.run.1234", "-n", "5").stdout == shown
    assert dokku("run:logs", "--container", "catmeow.run.1234", "-q").stdout == (
        "2026-01-01T00:00:00Z output of catmeow.run.1234\n"
    )


def test_logs_set_and_report_max_size(dokku):
    assert dokku("logs:set", "catmeow", "max-size", "20m").exit_code == 0
    assert dokku("logs:set", "--global", "max-size", "unlimited").exit_code == 0
    assert json.loads(dokku("logs:report", "catmeow", "--format", "json").stdout) == {
        "computed-max-size": "20m", "logs-computed-max-size": "20m",
        "global-max-size": "unlimited", "logs-global-max-size": "unlimited",
        "max-size": "20m", "logs-max-size": "20m",
    }  # fmt: skip
    assert dokku("logs:report", "--global", "--logs-computed-max-size").stdout == "unlimited\n"
    bad = dokku("logs:set", "catmeow", "max-size", "20")
    assert (bad.exit_code, bad.stderr) == (
        1,
        " !     Invalid max-size value, must be a number followed by a unit of measure [k, m, g], or unlimited\n",
    )
    assert dokku("logs:report", "catmeow", "--logs-max-size").stdout == "20m\n"


def test_logs_failed_prints_the_kept_output_or_dokkus_warning(dokku, tmp_path):
    nothing = dokku("logs:failed", "catmeow")
    assert (nothing.exit_code, nothing.stdout, nothing.stderr) == (0, "", " !     No failed containers found\n")
    (tmp_path / "catmeow" / "FAILED_LOGS").write_text("Traceback\nKeyError: 'PORT'\n")
    assert dokku("logs:failed", "catmeow").stdout == "Traceback\nKeyError: 'PORT'\n"
    assert dokku("logs:failed", "--all").stdout == (
        "-----> Running logs:failed against app catmeow\nTraceback\nKeyError: 'PORT'\n"
    )


@pytest.mark.parametrize(
    ("seconds", "said"),
    [(0.2, "Less than a second"), (1, "1 second"), (59, "59 seconds"), (61, "About a minute"),
     (600, "10 minutes"), (3600, "About an hour"), (7200, "2 hours"), (3 * 86400, "3 days"),
     (20 * 86400, "2 weeks"), (90 * 86400, "3 months"), (800 * 86400, "2 years")],
)  # fmt: skip
def test_how_long_ago_is_said_as_docker_says_it(seconds, said):
    assert _human_duration(seconds) == said


def files_of(root) -> dict[str, bytes]:
    """Every file under root with its content, but the audit trail (which records failures too)."""
    return {str(path): path.read_bytes() for path in root.rglob("*") if path.is_file() and path.name != "EVENTS"}


@pytest.mark.parametrize(
    "words",
    [["../victim/Procfile"], ["/etc/passwd"], ["a/../../Procfile"], ["-x"], ["--", "-x"], ["--end-of-options", "-P"]],
)
def test_ps_set_refuses_a_procfile_path_out_of_the_tree_with_one_line(dokku, tmp_path, words):
    assert dokku("ps:set", "catmeow", "procfile-path", "web/Procfile").exit_code == 0
    before = files_of(tmp_path)
    result = dokku("ps:set", "catmeow", "procfile-path", *words)
    assert result.exit_code != 0 and result.stdout == ""
    assert result.stderr.startswith(" !     ") and result.stderr.count("\n") == 1, result.stderr
    assert files_of(tmp_path) == before
    assert dokku("ps:report", "catmeow", "--ps-computed-procfile-path").stdout == "web/Procfile\n"


def test_ps_set_procfile_path_per_app_and_global_shows_in_the_report(dokku):
    assert dokku("ps:set", "--global", "procfile-path", "Procfile.all").stdout == (
        "-----> Setting procfile-path to Procfile.all\n"
    )
    assert dokku("ps:report", "catmeow", "--ps-computed-procfile-path").stdout == "Procfile.all\n"
    assert dokku("ps:set", "catmeow", "procfile-path", ".dokku/Procfile").exit_code == 0
    report = json.loads(dokku("ps:report", "catmeow", "--format", "json").stdout)
    assert {key: report[key] for key in ("procfile-path", "global-procfile-path", "computed-procfile-path")} == {
        "procfile-path": ".dokku/Procfile",
        "global-procfile-path": "Procfile.all",
        "computed-procfile-path": ".dokku/Procfile",
    }
    assert dokku("ps:set", "catmeow", "procfile-path").stdout.startswith("-----> Unsetting procfile-path\n")
    assert dokku("ps:set", "--global", "procfile-path").exit_code == 0
    assert dokku("ps:report", "catmeow", "--ps-computed-procfile-path").stdout == "Procfile\n"


def _each_call_waits_for_the_other(monkeypatch, scheduler, method: str) -> list[int]:
    """scheduler.method returns only once a second call has begun: one app after another, the
    first never returns (and fails after 5 s). Returns the graces the calls got."""
    both_waiting, real, graces = threading.Barrier(2, timeout=5), getattr(scheduler, method), []

    def waiting(targets, grace):
        graces.append(grace)
        both_waiting.wait()
        real(targets, grace)

    monkeypatch.setattr(scheduler, method, waiting)
    return graces


def test_ps_stop_all_stops_every_app_at_once_each_with_its_grace(dokku, scheduler, monkeypatch):
    monkeypatch.setenv("MINIDOKKU_NGINX_COMMAND", "true")
    assert dokku("apps:create", "dogwoof").exit_code == 0
    assert dokku("ps:set", "dogwoof", "stop-timeout-seconds", "600").exit_code == 0
    graces = _each_call_waits_for_the_other(monkeypatch, scheduler, "stop")

    result = dokku("ps:stop", "--all")

    assert result.exit_code == 0, result.output
    assert sorted(graces) == [10, 600]


def test_run_retire_of_every_app_retires_them_at_once(dokku, scheduler, monkeypatch):
    assert dokku("apps:create", "dogwoof").exit_code == 0
    assert dokku("ps:set", "dogwoof", "stop-timeout-seconds", "600").exit_code == 0
    for number, app in enumerate(("catmeow", "dogwoof"), 1):
        container = OneOffContainer(f"r{number}", f"{app}.run.{number}", "running", "sleep", 0, ttl_seconds=60)
        scheduler.detached[container.id], scheduler.app_of[container.id] = container, app
    graces = _each_call_waits_for_the_other(monkeypatch, scheduler, "retire")

    result = dokku("run:retire")

    assert result.exit_code == 0, result.output
    assert result.stdout == (
        "-----> Retiring all run containers\n       Retired catmeow.run.1\n       Retired dogwoof.run.2\n"
    )
    assert sorted(graces) == [10, 600] and scheduler.detached == {}
