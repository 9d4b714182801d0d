"""Resource limits: values as typed, which setting wins, and the Engine fields they become."""

import threading
import time

import pytest
from click.testing import CliRunner

from minidokku.cli import cli
from minidokku.errors import ValidationError
from minidokku.records import docker_options, resources
from minidokku.state import Store

MB = 1024**2


@pytest.fixture
def store(tmp_path) -> Store:
    (tmp_path / "catmeow").mkdir()
    (tmp_path / "catmeow" / "HEAD").write_text("ref: refs/heads/main\n")  # an app, as far as the store knows
    return Store(tmp_path)


# -- values -------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "kind, key, text, engine_value",
    [
        ("limit", "memory", "256", 256 * MB),  # Dokku: megabytes without a unit
        ("limit", "memory", "1.5g", 1536 * MB),
        ("limit", "memory", "512m", 512 * MB),
        ("limit", "memory", "0", 0),  # no limit
        ("limit", "memory-swap", "-1", -1),
        ("limit", "cpu", "0.5", 500_000_000),
        ("limit", "cpu", "0", 0),
        ("limit", "pids", "100", 100),
        ("reserve", "cpu", "0.5", 512),  # CpuShares: 1024 a CPU
        ("reserve", "memory", "128", 128 * MB),
    ],
)
def test_good_values_become_engine_values(kind, key, text, engine_value):
    assert resources.validate(kind, key, text) == text
    assert resources.engine_value(kind, key, text) == engine_value


@pytest.mark.parametrize(
    "kind, key, text, message",
    [
        ("limit", "memory", "lots", "must be a number with an optional unit"),
        ("limit", "memory", "3k", "below the engine's minimum of 6m"),
        ("limit", "memory", "-5", "must be a number"),
        ("limit", "cpu", "-1", "must be a positive number of CPUs"),
        ("limit", "cpu", "nan", "must be a positive number of CPUs"),
        ("limit", "pids", "-3", "pids '-3' must be a whole number from 0"),
        ("limit", "pids", "99999999", "to 4194304"),
        ("limit", "pids", "²", "must be a number with no spaces"),
        ("limit", "memory", "512m\n", "must be a number with no spaces"),
        ("limit", "memory", "", "must be a number with an optional unit"),
        ("limit", "network", "10", "network cannot be a resource limit"),
        ("reserve", "pids", "10", "pids cannot be a resource reserve"),
        ("reserve", "memory-swap", "10", "memory-swap cannot be a resource reserve"),
    ],
)
def test_bad_values_are_refused_in_one_line(kind, key, text, message):
    with pytest.raises(ValidationError, match=message):
        resources.validate(kind, key, text)


# -- which setting wins -------------------------------------------------------------------
def test_without_settings_every_container_gets_the_defaults(store):
    assert resources.for_process(store, "catmeow", "web") == resources.PROCESS_DEFAULTS
    assert resources.for_build(store, "catmeow") == resources.BUILD_DEFAULTS


def test_the_app_type_beats_the_app_default_beats_global_type_beats_global_default(store):
    resources.set_values(store, None, "_default_", "limit", {"memory": "100", "cpu": "0.25", "pids": "50"})
    resources.set_values(store, None, "web", "limit", {"memory": "200", "cpu": "0.5"})
    resources.set_values(store, "catmeow", "_default_", "limit", {"memory": "300"})
    resources.set_values(store, "catmeow", "web", "limit", {"memory": "400"})

    web = resources.for_process(store, "catmeow", "web")
    worker = resources.for_process(store, "catmeow", "worker")

    assert (web.memory, web.nano_cpus, web.pids) == (400 * MB, 500_000_000, 50)
    assert (worker.memory, worker.nano_cpus, worker.pids) == (300 * MB, 250_000_000, 50)
    assert resources.for_build(store, "catmeow") == resources.BUILD_DEFAULTS, "process limits never bound builds"


def test_build_settings_never_reach_a_process_whatever_the_procfile_calls_it(store):
    resources.set_values(store, "catmeow", "_build_", "limit", {"memory": "4g", "pids": "0"})

    assert resources.for_build(store, "catmeow").memory == 4096 * MB
    assert resources.for_process(store, "catmeow", "_build_") == resources.PROCESS_DEFAULTS


def test_clear_removes_one_value_or_one_type_or_every_type(store):
    resources.set_values(store, "catmeow", "web", "limit", {"memory": "400", "cpu": "2"})
    resources.set_values(store, "catmeow", "worker", "limit", {"memory": "300"})
    resources.set_values(store, "catmeow", "web", "reserve", {"memory": "100"})

    resources.set_values(store, "catmeow", "web", "limit", {"cpu": "clear"})
    assert resources.read(store, "catmeow") == {
        "web.limit.memory": "400",
        "worker.limit.memory": "300",
        "web.reserve.memory": "100",
    }
    resources.clear(store, "catmeow", "worker", "limit")
    assert set(resources.read(store, "catmeow")) == {"web.limit.memory", "web.reserve.memory"}
    resources.clear(store, "catmeow", None, "limit")
    assert resources.read(store, "catmeow") == {"web.reserve.memory": "100"}


def test_swap_below_memory_is_refused_when_set_and_the_old_settings_stay(store):
    resources.set_values(store, None, "_default_", "limit", {"memory": "1g"})
    with pytest.raises(ValidationError, match="memory-swap limit must be at least the memory limit"):
        resources.set_values(store, "catmeow", "_default_", "limit", {"memory-swap": "512"})
    assert resources.read(store, "catmeow") == {}
    with pytest.raises(ValidationError, match="reservation must not exceed the memory limit"):
        resources.set_values(store, None, "_default_", "reserve", {"memory": "2g"})
    assert resources.read(store, None) == {"_default_.limit.memory": "1g"}


def test_a_bad_process_type_is_refused(store):
    with pytest.raises(ValidationError, match="invalid process type"):
        resources.set_values(store, "catmeow", "web;rm", "limit", {"memory": "100"})


# -- the Engine's fields ------------------------------------------------------------------
def test_the_default_host_config_bounds_pids_memory_without_swap_cpu_and_logs():
    assert resources.host_config(resources.PROCESS_DEFAULTS) == {
        "NanoCpus": 1_000_000_000,
        "Memory": 512 * MB,
        "MemorySwap": 512 * MB,
        "PidsLimit": 512,
        "LogConfig": {"Type": "json-file", "Config": {"max-size": "10m", "max-file": "3"}},
    }


def test_reservations_and_unlimited_values_in_the_host_config():
    limits = resources.Limits(nano_cpus=0, memory=0, pids=0, cpu_shares=512, memory_reservation=64 * MB)
    fields = resources.host_config(limits)
    assert (fields["NanoCpus"], fields["Memory"], fields["PidsLimit"]) == (0, 0, 0)
    assert "MemorySwap" not in fields, "the Engine refuses a swap limit without a memory limit"
    assert (fields["CpuShares"], fields["MemoryReservation"]) == (512, 64 * MB)


def test_apply_keeps_the_containers_own_settings_and_an_admins_docker_options():
    config = {"Image": "x", "HostConfig": {"Init": True, "RestartPolicy": {"Name": "always"}}}
    admin = docker_options.parse(["--memory 2g --cpus 2"]).apply(config)

    applied = resources.apply(admin, resources.PROCESS_DEFAULTS)

    host = applied["HostConfig"]
    assert (host["Init"], host["RestartPolicy"]) == (True, {"Name": "always"})
    assert (host["Memory"], host["NanoCpus"], host["MemorySwap"]) == (2048 * MB, 2_000_000_000, 2048 * MB)
    assert host["PidsLimit"] == 512 and host["LogConfig"]["Type"] == "json-file"
    assert config["HostConfig"] == {"Init": True, "RestartPolicy": {"Name": "always"}}, "the input is not changed"


def test_build_parameters_of_a_dockerfile_build():
    assert resources.build_parameters(resources.BUILD_DEFAULTS) == {
        "memory": 1024 * MB,
        "memswap": 1024 * MB,
        "cpuperiod": 100_000,
        "cpuquota": 100_000,
    }
    assert resources.build_parameters(resources.Limits(nano_cpus=0, memory=0, pids=0)) == {}


def test_time_limit_calls_back_once_the_time_is_up_and_not_before():
    called = threading.Event()
    with resources.time_limit(0.05, called.set) as expired:
        assert called.wait(2)
    assert expired.is_set()
    with resources.time_limit(5, called.clear) as expired:
        time.sleep(0.01)
    assert called.is_set() and not expired.is_set()


# -- the commands ---------------------------------------------------------------------------
@pytest.fixture
def dokku(tmp_path, monkeypatch):
    monkeypatch.setenv("DOKKU_ROOT", str(tmp_path))
    runner = CliRunner()

    def run(*args: str):
        return runner.invoke(cli, list(args), catch_exceptions=False)

    run("apps:create", "catmeow")
    return run


def test_resource_limit_sets_and_shows_values_as_dokku_does(dokku, tmp_path):
    result = dokku("resource:limit", "--memory", "256", "--pids", "100", "--process-type", "worker", "catmeow")
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[:3] == [
        "=====> Setting resource limits for catmeow (worker)",
        "       memory: 256",
        "       pids: 100",
    ]
    assert (tmp_path / "catmeow" / "RESOURCES").read_text() == "worker.limit.memory=256\nworker.limit.pids=100\n"
    shown = dokku("resource:limit", "--process-type", "worker", "catmeow").output.splitlines()
    assert shown == [
        "=====> resource limits catmeow information (worker)",
        "       cpu:",
        "       memory: 256",
        "       memory-swap:",
        "       pids: 100",
    ]
    assert dokku("resource:reserve", "--global", "--memory", "64").output.startswith(
        "=====> Setting default resource reservation\n       memory: 64\n"
    )


def test_resource_report_shows_what_each_type_gets_and_one_value_with_a_flag(dokku):
    dokku("resource:limit", "--cpu", "0.5", "catmeow")
    report = dokku("resource:report", "catmeow").output.splitlines()
    assert report[0] == "=====> catmeow resource information"
    assert "       _default_ limit cpu:           0.5" in report
    assert "       _default_ limit memory swap:   512m" in report
    assert "       _build_ limit memory:          1g" in report
    assert dokku("resource:report", "catmeow", "--resource-_default_.limit.pids").output == "512\n"
    unknown = dokku("resource:report", "catmeow", "--resource-web.limit.disk")
    assert unknown.exit_code == 1
    assert "Invalid flag passed, valid flags: --resource-_build_.limit.cpu," in unknown.output


@pytest.mark.parametrize(
    "args, message",
    [
        (["resource:limit", "--network", "10", "catmeow"], "--network is not a resource limit minidokku's scheduler"),
        (["resource:reserve", "--pids", "10", "catmeow"], "--pids is not a resource reserve"),
        (["resource:limit", "--global", "--memory", "1", "catmeow"], "name an app or use --global, not both"),
        (["resource:limit", "--memory", "100"], "Please specify an app"),
    ],
)
def test_bad_resource_commands_fail_in_one_line_and_store_nothing(dokku, tmp_path, args, message):
    result = dokku(*args)
    assert result.exit_code == 1
    assert result.output.startswith(" !     ") and message in result.output, result.output
    assert not (tmp_path / "catmeow" / "RESOURCES").exists() and not (tmp_path / "RESOURCES").exists()


def test_limit_clear_without_an_app_clears_the_defaults(dokku, tmp_path):
    dokku("resource:limit", "--global", "--memory", "1g")
    dokku("resource:limit", "--memory", "300", "catmeow")
    assert dokku("resource:limit-clear").output == "-----> Clearing default resource limits\n"
    assert dokku("resource:limit-clear", "catmeow").output == "-----> Clearing resource limit for catmeow\n"
    assert (tmp_path / "RESOURCES").read_text() == "" and (tmp_path / "catmeow" / "RESOURCES").read_text() == ""
