"""ps:set's properties, ps:scale --skip-deploy, ps:inspect, logs max-size and logs:failed on a
fake scheduler: each property takes effect on the next deploy (or stop), the app's over the global."""

import pytest
from fakes import make_flow

from minidokku.access import rules
from minidokku.errors import DeployFailed, ValidationError
from minidokku.ops import deploy, logs, processes
from minidokku.records import docker_options, log_settings, ps_settings, releases, scale
from minidokku.records.appjson import AppJson

APP = "cat"


@pytest.fixture
def flow(tmp_path, monkeypatch):
    flow = make_flow(tmp_path / "root", monkeypatch)
    flow.create_app(APP, {"SECRET_KEY": "hunter2"})
    flow.deploy(APP, flow.built("sha256:one"))
    flow.journal.clear()
    return flow


def restart(flow):
    with deploy.exclusive(flow.ctx, APP):
        deploy.restart(flow.ctx, APP)


def test_skip_deploy_records_the_counts_without_starting_or_stopping_anything(flow):
    before = flow.scheduler.names(APP)
    assert processes.set_scale(flow.ctx, APP, ["worker=3"], skip_deploy=True) == {"worker": 3}
    assert (flow.scheduler.names(APP), flow.journal) == (before, [])
    assert scale.read(flow.ctx.store, APP) == {"web": 1, "worker": 3}
    restart(flow)  # the next deploy runs them
    assert [c.dyno for c in flow.scheduler.running(APP)].count("worker.3") == 1


def test_the_stop_timeout_of_the_app_wins_over_the_global_one_for_ps_stop(flow):
    ps_settings.set_property(flow.ctx.store, None, "stop-timeout-seconds", "45")
    processes.stop(flow.ctx, APP)
    ps_settings.set_property(flow.ctx.store, APP, "stop-timeout-seconds", "3")
    processes.stop(flow.ctx, APP)
    assert flow.scheduler.grace[-2:] == [45, 3]


def test_a_deploy_retires_the_old_containers_with_the_stop_timeout(flow):
    ps_settings.set_property(flow.ctx.store, APP, "stop-timeout-seconds", "25")
    restart(flow)
    assert flow.scheduler.grace[-1] == 25


def test_the_global_restart_policy_reaches_apps_without_their_own(flow):
    ps_settings.set_property(flow.ctx.store, None, "restart-policy", "always")
    assert ps_settings.restart_policy(flow.ctx.store, APP) == {"Name": "always"}
    ps_settings.set_property(flow.ctx.store, APP, "restart-policy", "no")
    assert ps_settings.restart_policy(flow.ctx.store, APP) == {"Name": ""}
    assert ps_settings.computed(flow.ctx.store, APP, "restart-policy") == "no"
    assert ps_settings.computed(flow.ctx.store, None, "restart-policy") == "always"


def test_restore_false_keeps_ps_restore_from_bringing_the_app_back(flow):
    ps_settings.set_property(flow.ctx.store, APP, "restore", "false")
    flow.scheduler.retire([c.id for c in flow.scheduler.containers(APP)])
    assert processes.restore(flow.ctx, APP) is None
    assert flow.scheduler.names(APP) == []
    ps_settings.set_property(flow.ctx.store, APP, "restore", "")
    assert processes.restore(flow.ctx, APP) == "redeployed"


@pytest.mark.parametrize(
    ("app", "key", "value", "message"),
    [
        (APP, "restore", "yes", "restore must be true or false"),
        (APP, "stop-timeout-seconds", "601", "from 0 to 600"),
        (APP, "stop-timeout-seconds", "-1", "from 0 to 600"),
        (APP, "restart-policy", "sometimes", "restart policy"),
        (None, "restore", "false", "unknown global ps property 'restore'"),
        (None, "start-cmd", "x", "unknown global ps property 'start-cmd'"),
        (None, "dockerfile-start-cmd", "x", "unknown global ps property 'dockerfile-start-cmd'"),
        (APP, "start-cmd", "node a.js\nrm -rf /", "one line"),
        (APP, "start-cmd", "node\0", "without NUL"),
        (APP, "start-cmd", "x" * 4097, "at most 4096 characters"),
        (APP, "dockerfile-start-cmd", "'unclosed", "cannot be split into words"),
        (APP, "dockerfile-start-cmd", "   ", "must have a word"),
    ],
)
def test_a_bad_ps_value_is_refused_and_nothing_is_stored(flow, app, key, value, message):
    with pytest.raises(ValidationError, match=message):
        ps_settings.set_property(flow.ctx.store, app, key, value)
    assert ps_settings.get(flow.ctx.store, app, key) == ""


def test_ps_inspect_masks_config_values_and_keeps_dokkus_shown_ones(flow):
    [web] = [c for c in flow.scheduler.running(APP) if c.process_type == "web"]
    flow.scheduler.configs[web.id]["DYNO"] = "web.1"
    described = processes.inspect(flow.ctx, APP)
    assert len(described) == 2
    env = next(d for d in described if d["Id"] == web.id)["Config"]["Env"]
    assert "SECRET_KEY=XXXXXX" in env and "DYNO=web.1" in env
    assert not any("hunter2" in entry for entry in env)


def test_ps_inspect_shows_only_an_exact_list_of_variables(flow):
    [web] = [c for c in flow.scheduler.running(APP) if c.process_type == "web"]
    flow.scheduler.configs[web.id].update(
        DOKKU_POSTGRES_BLUE_URL="postgres://u:hunter2@db/x", DOCKER_TOKEN="hunter2", DOKKU_APP_TYPE="herokuish"
    )
    env = next(d for d in processes.inspect(flow.ctx, APP) if d["Id"] == web.id)["Config"]["Env"]
    assert {"DOKKU_POSTGRES_BLUE_URL=XXXXXX", "DOCKER_TOKEN=XXXXXX", "DOKKU_APP_TYPE=herokuish"} <= set(env)
    assert not any("hunter2" in entry for entry in env)


def test_ps_inspect_of_a_user_keys_app_leaves_out_the_hosts_paths(flow, monkeypatch):
    monkeypatch.setattr(
        flow.scheduler,
        "inspect",
        lambda containers: [{"Id": c.id, "LogPath": "/var/lib/docker/x.log", "GraphDriver": {}} for c in containers],
    )
    assert all("LogPath" in d for d in processes.inspect(flow.ctx, APP))
    rules.grant(flow.ctx.store, APP, "tenant")
    assert [set(d) for d in processes.inspect(flow.ctx, APP)] == [{"Id", "Config"}] * 2


def test_ps_inspect_of_a_user_keys_app_leaves_out_its_mounts_host_folders(flow, monkeypatch):
    mount = {"Type": "bind", "Source": "/srv/secret-place", "Destination": "/data", "RW": True}
    monkeypatch.setattr(
        flow.scheduler,
        "inspect",
        lambda containers: [
            {"Id": c.id, "Mounts": [mount], "HostConfig": {"Binds": ["/srv/secret-place:/data"], "Init": True}}
            for c in containers
        ],
    )
    assert processes.inspect(flow.ctx, APP)[0]["Mounts"] == [mount]
    rules.grant(flow.ctx.store, APP, "tenant")
    shown = processes.inspect(flow.ctx, APP)[0]
    assert shown["Mounts"] == [{"Type": "bind", "Destination": "/data", "RW": True}]
    assert shown["HostConfig"] == {"Init": True}
    assert "secret-place" not in repr(shown)


def test_the_log_max_size_reaches_the_next_deploys_containers(flow):
    assert set(flow.scheduler.log_sizes.values()) == {"10m"}
    log_settings.set_property(flow.ctx.store, None, "max-size", "unlimited")
    log_settings.set_property(flow.ctx.store, APP, "max-size", "20m")
    restart(flow)
    assert [flow.scheduler.log_sizes[c.id] for c in flow.scheduler.running(APP)] == ["20m", "20m"]
    log_settings.set_property(flow.ctx.store, APP, "max-size", "")
    restart(flow)
    assert {flow.scheduler.log_sizes[c.id] for c in flow.scheduler.running(APP)} == {"unlimited"}


@pytest.mark.parametrize("value", ["10", "10mb", "m", "0m", "1.5g", "10M", "unlimited ", "9999999999k"])
def test_a_max_size_not_in_dokkus_form_is_refused(flow, value):
    with pytest.raises(ValidationError, match="Invalid max-size value"):
        log_settings.set_property(flow.ctx.store, APP, "max-size", value)
    assert log_settings.get(flow.ctx.store, APP) == ""


def test_a_user_keys_app_keeps_its_logs_bounded_whoever_set_them(flow):
    log_settings.set_property(flow.ctx.store, None, "max-size", "unlimited")
    log_settings.set_property(flow.ctx.store, APP, "max-size", "2g")  # before the app was granted
    rules.grant(flow.ctx.store, APP, "tenant")
    assert log_settings.computed(flow.ctx.store, APP) == log_settings.TENANT_MAX_SIZE == "10m"
    for value in ("unlimited", "11m", "100m", "1g"):
        with pytest.raises(ValidationError, match="user key's app"):
            log_settings.set_property(flow.ctx.store, APP, "max-size", value)
    log_settings.set_property(flow.ctx.store, APP, "max-size", "10m")
    log_settings.set_property(flow.ctx.store, APP, "max-size", "5m")  # a user key may only lower it
    assert log_settings.computed(flow.ctx.store, APP) == "5m"


def test_a_failed_deploy_keeps_what_its_containers_printed_for_logs_failed(flow):
    assert logs.failed(flow.ctx, APP) is None
    flow.scheduler.failing_releases.add("v2")
    with pytest.raises(DeployFailed):
        flow.deploy(APP, flow.built("sha256:two"))
    kept = logs.failed(flow.ctx, APP)
    assert kept is not None and kept.count("(the last lines of") == 2
    assert [c.release for c in flow.scheduler.running(APP)] == ["v1", "v1"]  # the old release serves on


def test_a_deploy_reads_the_docker_options_files_once_whatever_its_containers(flow, monkeypatch):
    processes.set_scale(flow.ctx, APP, ["web=3", "worker=2"], skip_deploy=True)
    read = []
    real = docker_options.lines
    monkeypatch.setattr(
        docker_options, "lines", lambda store, app, phase: read.append((app, phase)) or real(store, app, phase)
    )
    restart(flow)
    assert len(flow.scheduler.running(APP)) == 5
    assert read == [(None, "deploy"), (APP, "deploy")]


def test_skip_deploy_builds_but_leaves_the_running_release_and_its_containers(flow):
    before = flow.scheduler.names(APP)
    ps_settings.set_property(flow.ctx.store, None, "skip-deploy", "true")  # the global one
    predeploy = AppJson(predeploy="migrate")
    assert flow.deploy(APP, flow.built("sha256:two", app_json=predeploy)) is None
    assert (flow.scheduler.names(APP), flow.journal) == (before, [])  # no predeploy task, no container
    assert [r.image_id for r in releases.history(flow.ctx.store, APP)] == ["sha256:one"]
    assert "-----> Skipping deployment" in flow.output
    ps_settings.set_property(flow.ctx.store, APP, "skip-deploy", "false")  # the app's wins
    assert flow.deploy(APP, flow.built("sha256:two")).image_id == "sha256:two"


def test_skip_deploy_is_true_or_false(flow):
    with pytest.raises(ValidationError, match="skip-deploy must be true or false, not 'yes'"):
        ps_settings.set_property(flow.ctx.store, APP, "skip-deploy", "yes")
    assert ps_settings.get(flow.ctx.store, APP, "skip-deploy") == ""
