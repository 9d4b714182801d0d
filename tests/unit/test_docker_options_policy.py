"""docker_options.for_phase: the one place that decides what an app's containers get."""

import pytest
from click.testing import CliRunner

from minidokku.access import rules
from minidokku.cli import cli
from minidokku.errors import ValidationError
from minidokku.output import RecordingOutput
from minidokku.records import docker_options
from minidokku.state import Store

CA = "/etc/ssl/certs/ca-certificates.crt"
HOST_NETWORK = f"--network=host -v {CA}:{CA}:ro"


@pytest.fixture
def store(tmp_path) -> Store:
    store = Store(tmp_path)
    for app in ("adminapp", "tenantapp"):
        store.app_dir(app).mkdir()
        (store.app_dir(app) / "HEAD").write_text("ref: refs/heads/main\n")  # what makes it an app
    rules.grant(store, "tenantapp", "eve")
    return store


def test_an_admins_app_gets_every_option(store):
    docker_options.add(store, None, ["build"], HOST_NETWORK)
    out = RecordingOutput()
    options = docker_options.for_phase(store, "adminapp", "build", out=out)
    assert (options.network, options.binds) == ("host", [f"{CA}:{CA}:ro"])
    assert out.lines == []


@pytest.mark.parametrize("phase", ["build", "deploy", "run"])
def test_a_tenants_app_gets_global_options_without_the_host_and_one_line_says_so(store, phase):
    docker_options.add(store, None, [phase], HOST_NETWORK + " -v /srv:/srv -e K=V")
    out = RecordingOutput()
    options = docker_options.for_phase(store, "tenantapp", phase, out=out)
    assert (options.network, options.binds, options.env) == (None, [f"{CA}:{CA}:ro"], ["K=V"])
    assert out.lines == ["       Not applied to tenantapp, a user key's app: --network host, -v /srv:/srv"]


def test_options_from_plugins_are_confined_too(store):
    own = "--network dokku.postgres.links.tenantapp"  # what the postgres plugin gives a linked app
    assert docker_options.for_phase(store, "tenantapp", "deploy", ["--network host", own]).network == own.split()[1]
    assert docker_options.for_phase(store, "tenantapp", "deploy", [own, "--net=host"]).network is None
    assert docker_options.for_phase(store, "tenantapp", "deploy", ["--network services"]).network is None


def test_app_options_stored_before_the_app_was_granted_are_confined(store):
    docker_options.add(store, "adminapp", ["deploy"], "--network host")
    rules.grant(store, "adminapp", "mallory")
    assert docker_options.for_phase(store, "adminapp", "deploy").network is None


def test_a_phase_gets_the_global_options_then_the_apps_then_the_plugins(store):
    docker_options.add(store, None, ["deploy"], "--memory 1g -e FROM=global")
    docker_options.add(store, "adminapp", ["deploy"], "--memory 2g -e FROM=app")
    docker_options.add(store, "adminapp", ["run"], "--memory 4g")
    without_plugins = docker_options.for_phase(store, "adminapp", "deploy")
    assert (without_plugins.memory, without_plugins.env) == (2 * 1024**3, ["FROM=global", "FROM=app"])
    with_plugins = docker_options.for_phase(store, "adminapp", "deploy", ["--memory 3g"])
    assert with_plugins.memory == 3 * 1024**3


def test_without_an_app_a_phase_gets_the_global_options_as_an_admin_set_them(store):
    docker_options.add(store, None, ["build"], HOST_NETWORK)
    docker_options.add(store, "adminapp", ["build"], "--memory 2g")
    options = docker_options.for_phase(store, None, "build")
    assert (options.network, options.binds, options.memory) == ("host", [f"{CA}:{CA}:ro"], None)


def test_what_a_tenants_app_does_not_get_is_said_only_where_an_output_is_given(store):
    out = RecordingOutput()
    docker_options.for_phase(store, "tenantapp", "deploy", ["--network host"], out)
    docker_options.for_phase(store, "tenantapp", "deploy", ["--network host"])
    assert out.lines == ["       Not applied to tenantapp, a user key's app: --network host"]


@pytest.mark.parametrize(
    "option", ["--network=host", "--net container:x", "--network backend", "-v /:/host", f"-v {CA}:{CA}"]
)
def test_adding_a_host_option_to_a_tenants_app_is_refused_and_nothing_stored(store, option):
    with pytest.raises(ValidationError, match="tenantapp is a user key's app: it cannot get"):
        docker_options.add(store, "tenantapp", ["build", "deploy"], option)
    assert docker_options.lines(store, "tenantapp", "build") == []
    assert docker_options.lines(store, "tenantapp", "deploy") == []


def test_a_tenants_app_may_get_the_ca_bundle_and_host_names(store):
    option = f"-v {CA}:{CA}:ro --add-host pypi.org:151.101.0.223"
    docker_options.add(store, "tenantapp", ["build"], option)
    assert docker_options.lines(store, "tenantapp", "build") == [option]


def test_adding_a_global_host_option_says_what_user_keys_apps_will_not_get(store):
    assert docker_options.add(store, None, ["build"], HOST_NETWORK) == ["--network host"]
    assert docker_options.add(store, "adminapp", ["build"], "--network=host") == ["--network host"]
    assert docker_options.add(store, None, ["build"], "-m 1g") == []


def test_the_cli_says_when_a_global_option_will_not_reach_user_keys_apps(store, monkeypatch):
    monkeypatch.setenv("DOKKU_ROOT", str(store.root))
    added = CliRunner().invoke(cli, ["docker-options:add", "--global", "run", "--net=host"], catch_exceptions=False)
    assert added.exit_code == 0
    assert (
        added.output.splitlines()[-1]
        == "       Apps of user keys do not get --network host (it reaches the host or other apps)"
    )
    refused = CliRunner().invoke(cli, ["docker-options:add", "tenantapp", "run", "--net=host"], catch_exceptions=False)
    assert refused.exit_code == 1
    assert "tenantapp is a user key's app: it cannot get --network host" in refused.output
