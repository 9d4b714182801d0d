import json

import pytest

from minidokku.errors import ValidationError
from minidokku.records import appjson
from minidokku.records.appjson import AppJson


def parse(document) -> AppJson:
    return appjson.parse(json.dumps(document))


@pytest.mark.parametrize("text", ["", "   ", "\n\t\n"])
def test_empty_text_is_an_empty_app_json(text):
    assert appjson.parse(text) == AppJson()


def test_an_empty_object_is_an_empty_app_json():
    assert appjson.parse("{}") == AppJson()


def test_formation_quantities_are_read_per_process_type():
    found = parse({"formation": {"web": {"quantity": 2}, "worker": {"quantity": 0}, "clock": {"quantity": 100}}})
    assert found.formation == {"web": 2, "worker": 0, "clock": 100}


@pytest.mark.parametrize("settings", [{}, {"size": "standard-1X"}, {"quantity": None}, "not an object", None])
def test_a_formation_entry_without_a_quantity_is_ignored(settings):
    assert parse({"formation": {"web": {"quantity": 1}, "worker": settings}}).formation == {"web": 1}


@pytest.mark.parametrize("quantity", [-1, True, False, 101, 1.5, 2.0, "2", [2]])
def test_bad_formation_quantities_are_refused_naming_the_process_type(quantity):
    with pytest.raises(ValidationError, match=r"formation\.worker\.quantity must be a whole number from 0 to 100"):
        parse({"formation": {"worker": {"quantity": quantity}}})


def test_a_formation_for_an_invalid_process_type_name_is_refused():
    with pytest.raises(ValidationError, match="invalid process type"):
        parse({"formation": {"bad name": {"quantity": 1}}})


@pytest.mark.parametrize("value", [[], "web=1", 3])
def test_a_formation_that_is_not_an_object_is_refused(value):
    with pytest.raises(ValidationError, match="app.json: formation must be an object"):
        parse({"formation": value})


def test_healthchecks_are_kept_as_written_per_process_type():
    web = [
        {"type": "startup", "name": "home", "path": "/", "content": "Welcome", "attempts": 3, "wait": 2},
        {"type": "liveness", "path": "/alive"},
    ]
    worker = [{"uptime": 5}]
    found = parse({"healthchecks": {"web": web, "worker": worker}})
    assert found.healthchecks == {"web": web, "worker": worker}


def test_a_healthcheck_of_an_unknown_type_is_refused():
    with pytest.raises(ValidationError, match="healthchecks.web: type must be one of startup, liveness, readiness"):
        parse({"healthchecks": {"web": [{"type": "warmup", "path": "/"}]}})


@pytest.mark.parametrize("key", appjson.CHECK_NUMBERS)
@pytest.mark.parametrize("value", [-1, 1.5, "3", True, None])
def test_healthcheck_numbers_must_be_whole_numbers_of_zero_or_more(key, value):
    with pytest.raises(ValidationError, match=f"healthchecks.web: {key} must be a whole number of 0 or more"):
        parse({"healthchecks": {"web": [{key: value}]}})


@pytest.mark.parametrize("key", appjson.CHECK_NUMBERS)
def test_healthcheck_numbers_of_zero_are_accepted(key):
    assert parse({"healthchecks": {"web": [{key: 0}]}}).healthchecks == {"web": [{key: 0}]}


@pytest.mark.parametrize("key", ["path", "content", "name"])
def test_healthcheck_texts_must_be_strings(key):
    with pytest.raises(ValidationError, match=f"healthchecks.web: {key} must be a string"):
        parse({"healthchecks": {"web": [{key: 5}]}})


def test_a_healthcheck_path_must_start_with_a_slash():
    with pytest.raises(ValidationError, match=r"path must start with / \(got 'health'\)"):
        parse({"healthchecks": {"web": [{"path": "health"}]}})


def test_a_command_healthcheck_is_refused_with_a_clear_message():
    with pytest.raises(ValidationError) as raised:
        parse({"healthchecks": {"web": [{"type": "startup", "command": ["curl", "localhost"]}]}})
    assert str(raised.value) == (
        "app.json: healthchecks.web: command checks are not supported; use path, content, uptime or listening"
    )


@pytest.mark.parametrize("entries", [{"path": "/"}, "/health", [{"path": "/"}, "/other"], [["/"]]])
def test_healthchecks_of_a_type_must_be_a_list_of_objects(entries):
    with pytest.raises(ValidationError, match="app.json: healthchecks.web must be a list of objects"):
        parse({"healthchecks": {"web": entries}})


def test_healthchecks_for_an_invalid_process_type_name_are_refused():
    with pytest.raises(ValidationError, match="invalid process type"):
        parse({"healthchecks": {"we b": []}})


def test_dokku_predeploy_and_postdeploy_scripts_are_read_and_trimmed():
    found = parse({"scripts": {"dokku": {"predeploy": "  python manage.py migrate \n", "postdeploy": "./notify"}}})
    assert (found.predeploy, found.postdeploy) == ("python manage.py migrate", "./notify")


def test_scripts_outside_scripts_dokku_are_ignored():
    found = parse({"scripts": {"postdeploy": "heroku-only", "dokku": {"predeploy": "./pre"}}})
    assert (found.predeploy, found.postdeploy) == ("./pre", "")


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ({"scripts": []}, "app.json: scripts must be an object"),
        ({"scripts": {"dokku": "./pre"}}, "app.json: scripts.dokku must be an object"),
        ({"scripts": {"dokku": {"predeploy": ["./pre"]}}}, "app.json: scripts.dokku.predeploy must be a string"),
        ({"scripts": {"dokku": {"postdeploy": 1}}}, "app.json: scripts.dokku.postdeploy must be a string"),
    ],
)
def test_badly_shaped_scripts_are_refused(document, message):
    with pytest.raises(ValidationError) as raised:
        parse(document)
    assert str(raised.value) == message


@pytest.mark.parametrize("text", ["{", "{'formation': {}}", '{"formation": {},}', "not json"])
def test_invalid_json_is_a_validation_error_naming_app_json(text):
    with pytest.raises(ValidationError, match="^app.json is not valid JSON: "):
        appjson.parse(text)


@pytest.mark.parametrize("text", ["[]", '[{"formation": {}}]', '"text"', "42", "null"])
def test_a_top_level_that_is_not_an_object_is_refused(text):
    with pytest.raises(ValidationError, match="app.json must hold a JSON object"):
        appjson.parse(text)


def test_unknown_keys_are_ignored():
    document = {
        "name": "my app",
        "env": {"SECRET": {"generator": "secret"}},
        "addons": ["heroku-postgresql"],
        "formation": {"web": {"quantity": 1, "size": "free"}},
        "scripts": {"dokku": {"predeploy": "./pre", "other": 3}},
    }
    assert parse(document) == AppJson(formation={"web": 1}, predeploy="./pre")
