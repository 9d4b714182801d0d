import pytest

from minidokku.errors import ValidationError
from minidokku.records import properties, ps_settings
from minidokku.state import Store

APP = "catmeow"


def test_a_property_never_set_reads_as_the_default(tmp_path):
    store = Store(tmp_path)
    assert properties.get(store, APP, "checks", "wait-to-retire") == ""
    assert properties.get(store, APP, "checks", "wait-to-retire", default="60") == "60"
    assert properties.read_all(store, APP, "checks") == {}


def test_put_then_get_round_trips_any_value(tmp_path):
    store = Store(tmp_path)
    value = 'it\'s "quoted" with = and spaces\nand a second line'
    properties.put(store, APP, "nginx", "client-max-body-size", value)
    assert properties.get(store, APP, "nginx", "client-max-body-size") == value


def test_dashed_keys_are_stored_upper_case_with_underscores(tmp_path):
    store = Store(tmp_path)
    properties.put(store, APP, "checks", "wait-to-retire", "30")
    assert properties.read_all(store, APP, "checks") == {"WAIT_TO_RETIRE": "30"}
    assert (tmp_path / APP / "properties" / "checks").read_text() == "export WAIT_TO_RETIRE='30'\n"
    assert properties.get(store, APP, "checks", "WAIT_TO_RETIRE") == "30"


@pytest.mark.parametrize("cleared", [None, ""])
def test_putting_none_or_empty_clears_only_that_key(tmp_path, cleared):
    store = Store(tmp_path)
    properties.put(store, APP, "checks", "wait-to-retire", "30")
    properties.put(store, APP, "checks", "disabled", "web")
    properties.put(store, APP, "checks", "wait-to-retire", cleared)
    assert properties.read_all(store, APP, "checks") == {"DISABLED": "web"}
    assert properties.get(store, APP, "checks", "wait-to-retire", default="60") == "60"


def test_clearing_a_key_never_set_is_harmless(tmp_path):
    store = Store(tmp_path)
    properties.put(store, APP, "checks", "skipped", None)
    assert properties.read_all(store, APP, "checks") == {}


def test_families_and_apps_are_kept_apart(tmp_path):
    store = Store(tmp_path)
    properties.put(store, APP, "checks", "running", "x")
    properties.put(store, APP, "ps", "running", "false")
    properties.put(store, "dogwoof", "ps", "running", "true")
    assert properties.get(store, APP, "checks", "running") == "x"
    assert properties.get(store, APP, "ps", "running") == "false"
    assert properties.get(store, "dogwoof", "ps", "running") == "true"


def test_the_restart_policy_is_the_default_until_set(tmp_path):
    assert ps_settings.restart_policy(Store(tmp_path), APP) is None


@pytest.mark.parametrize(
    ("value", "policy"),
    [
        ("on-failure:3", {"Name": "on-failure", "MaximumRetryCount": 3}),
        ("always", {"Name": "always"}),
        ("unless-stopped", {"Name": "unless-stopped"}),
        ("no", {"Name": ""}),
    ],
)
def test_a_valid_restart_policy_is_kept_and_given_as_the_engine_wants_it(tmp_path, value, policy):
    store = Store(tmp_path)
    ps_settings.set_property(store, APP, "restart-policy", value)
    assert properties.get(store, APP, ps_settings.FAMILY, "restart-policy") == value
    assert ps_settings.restart_policy(store, APP) == policy


def test_an_empty_restart_policy_restores_the_default(tmp_path):
    store = Store(tmp_path)
    ps_settings.set_property(store, APP, "restart-policy", "always")
    ps_settings.set_property(store, APP, "restart-policy", "")
    assert ps_settings.restart_policy(store, APP) is None


@pytest.mark.parametrize("value", ["sometimes", "on-failure:x", "always:3", "ALWAYS"])
def test_an_invalid_restart_policy_is_refused_and_the_old_one_kept(tmp_path, value):
    store = Store(tmp_path)
    ps_settings.set_property(store, APP, "restart-policy", "always")
    with pytest.raises(ValidationError, match="restart policy"):
        ps_settings.set_property(store, APP, "restart-policy", value)
    assert ps_settings.restart_policy(store, APP) == {"Name": "always"}


@pytest.mark.parametrize("key", ["restart_policy", "running", "procfile_path"])
def test_an_unknown_ps_property_is_refused_naming_the_known_ones(tmp_path, key):
    store = Store(tmp_path)
    with pytest.raises(ValidationError, match=f"unknown ps property '{key}'; known: dockerfile-start-cmd, "):
        ps_settings.set_property(store, APP, key, "false")
    assert properties.read_all(store, APP, ps_settings.FAMILY) == {}


def test_the_procfile_path_is_the_apps_else_the_global_else_procfile(tmp_path):
    store = Store(tmp_path)
    assert ps_settings.procfile_path(store, APP) == "Procfile"
    ps_settings.set_property(store, None, "procfile-path", "global/Procfile")
    assert ps_settings.procfile_path(store, APP) == "global/Procfile"
    ps_settings.set_property(store, APP, "procfile-path", ".dokku/Procfile.web")
    assert ps_settings.procfile_path(store, APP) == ".dokku/Procfile.web"
    ps_settings.set_property(store, APP, "procfile-path", "")
    assert ps_settings.procfile_path(store, APP) == "global/Procfile"


@pytest.mark.parametrize(
    "value", ["../Procfile", "/etc/passwd", "a/../../Procfile", "./Procfile", "a//Procfile", "--help", "a/-x", "a\\b"]
)
def test_a_procfile_path_outside_the_tree_is_refused_and_the_old_one_kept(tmp_path, value):
    store = Store(tmp_path)
    ps_settings.set_property(store, APP, "procfile-path", "web/Procfile")
    with pytest.raises(ValidationError, match="procfile-path must be a relative path inside the repository"):
        ps_settings.set_property(store, APP, "procfile-path", value)
    assert ps_settings.procfile_path(store, APP) == "web/Procfile"


def test_an_app_is_not_stopped_until_marked(tmp_path):
    assert not ps_settings.is_stopped(Store(tmp_path), APP)


def test_mark_stopped_then_mark_running(tmp_path):
    store = Store(tmp_path)
    ps_settings.mark_stopped(store, APP)
    assert ps_settings.is_stopped(store, APP)
    assert properties.get(store, APP, ps_settings.FAMILY, "running") == "false"
    ps_settings.mark_running(store, APP)
    assert not ps_settings.is_stopped(store, APP)
    assert properties.read_all(store, APP, ps_settings.FAMILY) == {}


def test_marking_keeps_the_restart_policy(tmp_path):
    store = Store(tmp_path)
    ps_settings.set_property(store, APP, "restart-policy", "on-failure:5")
    ps_settings.mark_stopped(store, APP)
    ps_settings.mark_running(store, APP)
    assert ps_settings.restart_policy(store, APP) == {"Name": "on-failure", "MaximumRetryCount": 5}


def test_mark_running_of_a_running_app_changes_nothing(tmp_path):
    store = Store(tmp_path)
    ps_settings.mark_running(store, APP)
    assert not ps_settings.is_stopped(store, APP)
    assert not (tmp_path / APP / "properties" / "ps").exists()
