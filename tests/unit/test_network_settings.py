"""The network properties (records/network_settings.py): how `network:set` reads its words, what
it refuses, and what an app uses when it has no value of its own."""

import pytest

from minidokku.errors import ValidationError
from minidokku.records import network_settings
from minidokku.records.network_settings import (
    ATTACH_POST_CREATE,
    ATTACH_POST_DEPLOY,
    BIND_ALL_INTERFACES,
    INITIAL_NETWORK,
    TLD,
)
from minidokku.state import Store


@pytest.fixture
def store(tmp_path) -> Store:
    store = Store(tmp_path)
    for app in ("catmeow", "other"):
        store.app_dir(app).mkdir()
    return store


@pytest.mark.parametrize(
    ("words", "stored"),
    [
        (["backend"], "backend"),
        (["backend", "cache"], "backend,cache"),  # Dokku's space list
        (["backend,cache"], "backend,cache"),  # and its comma-separated one
        (["backend, cache", "jobs"], "backend,cache,jobs"),
        (["backend", "backend,cache"], "backend,cache"),  # each once
        ([], ""),  # no value unsets
        ([","], ""),
    ],
)
def test_attach_keys_take_networks_as_words_or_comma_separated(words, stored):
    assert network_settings.value_of(ATTACH_POST_CREATE, words) == stored
    assert network_settings.value_of(ATTACH_POST_DEPLOY, words) == stored
    assert network_settings.networks_in(stored) == [name for name in stored.split(",") if name]


@pytest.mark.parametrize("engine_network", ["host", "bridge", "none", "default"])
def test_no_app_is_attached_to_the_engines_own_networks(engine_network):
    with pytest.raises(ValidationError, match=f"Invalid network name specified for attach: {engine_network}"):
        network_settings.value_of(ATTACH_POST_CREATE, ["backend", engine_network])
    with pytest.raises(ValidationError, match=f"for initial-network: {engine_network}"):
        network_settings.value_of(INITIAL_NETWORK, [engine_network])


@pytest.mark.parametrize(
    "name",
    ["-x", "--network=host", "../etc", "a/b", "back end", "a:b", "container:victim", "", ".hidden", "x" * 49, "é"],
)
def test_network_names_are_the_engines_form_and_never_an_option_or_a_path(name):
    with pytest.raises(ValidationError, match="invalid network name"):
        network_settings.value_of(ATTACH_POST_DEPLOY, [name] if name else ["a,,b", "-"])


@pytest.mark.parametrize(
    "name", ["minidokku-apps", "minidokku-services", "dokku.postgres.links.victim", "x-dokku.postgres.y"]
)
def test_network_create_never_makes_a_name_minidokku_gives_its_own(name):
    network_settings.validate_network_name(name)  # a valid name, which the engine could have
    with pytest.raises(ValidationError, match="gives its own networks"):
        network_settings.validate_new_network_name(name)


def test_single_value_keys_take_one_word():
    assert network_settings.value_of(INITIAL_NETWORK, ["backend"]) == "backend"
    assert network_settings.value_of(BIND_ALL_INTERFACES, ["true"]) == "true"
    assert network_settings.value_of(TLD, ["svc.cluster.local"]) == "svc.cluster.local"
    with pytest.raises(ValidationError, match="initial-network takes one value"):
        network_settings.value_of(INITIAL_NETWORK, ["a", "b"])
    with pytest.raises(ValidationError, match="bind-all-interfaces is true or false"):
        network_settings.value_of(BIND_ALL_INTERFACES, ["yes"])


@pytest.mark.parametrize("tld", ["Svc.local", "svc..local", "-svc", "svc.", "a_b", "a b", "x" * 64, "a." * 120])
def test_a_tld_is_lowercase_dns_labels(tld):
    with pytest.raises(ValidationError, match="invalid tld"):
        network_settings.value_of(TLD, [tld])


def test_an_unknown_or_missing_property_is_dokkus_refusal():
    with pytest.raises(
        ValidationError, match="Invalid property specified, valid properties include: attach-post-create, "
    ):
        network_settings.value_of("static-web-listener", ["127.0.0.1:80"])


def test_an_app_uses_its_own_value_else_the_global_one_else_the_default(store):
    assert network_settings.computed(store, "catmeow", BIND_ALL_INTERFACES) == "false"
    assert network_settings.computed(store, "catmeow", TLD) == ""
    network_settings.put(store, None, TLD, "svc.local")
    network_settings.put(store, "other", TLD, "other.local")
    assert network_settings.computed(store, "catmeow", TLD) == "svc.local"
    assert network_settings.computed(store, "other", TLD) == "other.local"
    assert network_settings.own(store, "catmeow", TLD) == ""
    network_settings.put(store, "other", TLD, "")
    assert network_settings.computed(store, "other", TLD) == "svc.local"
    assert (store.root / "properties" / "network").read_text() == "export TLD='svc.local'\n"


def test_one_network_is_not_both_attached_after_create_and_after_deploy(store):
    network_settings.put(store, "catmeow", ATTACH_POST_DEPLOY, "cache")
    network_settings.put(store, None, ATTACH_POST_CREATE, "jobs")
    assert network_settings.conflict(store, "catmeow", ATTACH_POST_CREATE, "backend,cache") == "cache"
    assert network_settings.conflict(store, "catmeow", ATTACH_POST_DEPLOY, "jobs") == "jobs"  # the global value counts
    assert network_settings.conflict(store, "catmeow", ATTACH_POST_CREATE, "backend") is None
    assert network_settings.conflict(store, "catmeow", INITIAL_NETWORK, "cache") is None


def test_the_apps_and_globals_naming_a_network_are_found(store):
    network_settings.put(store, "catmeow", ATTACH_POST_CREATE, "backend,cache")
    network_settings.put(store, "other", INITIAL_NETWORK, "cache")
    network_settings.put(store, None, ATTACH_POST_DEPLOY, "jobs")
    assert network_settings.apps_naming(store, ["catmeow", "other"], "cache") == ["catmeow", "other"]
    assert network_settings.apps_naming(store, ["catmeow", "other"], "jobs") == ["--global"]
    assert network_settings.apps_naming(store, ["catmeow", "other"], "back") == []
