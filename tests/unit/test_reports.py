"""`FAMILY:report [APP] [--global] [--format stdout|json] [--FLAG]` as Dokku reads it
(minidokku/cli/family.py): a flag prints its one value, json the same properties under Dokku's
keys, --global the global properties for admin keys only. An app never deployed, whose reports
touch neither Docker nor nginx (ROOT: the state root); the stdout blocks are pinned in
test_cli_shapes.py."""

import json

import pytest
from click.testing import CliRunner

from minidokku.access import rules
from minidokku.cli import cli
from minidokku.cli.family import json_keys
from minidokku.state import Store

# Per family: the words that set something up, then {flag: value} and the json object.
FAMILIES = {
    "apps:report": (
        [],
        {"--app-dir": "ROOT/catmeow", "--app-deploy-source": "", "--app-locked": "false"},
        {
            "deploy-source": "", "app-deploy-source": "", "deploy-source-metadata": "",
            "app-deploy-source-metadata": "", "dir": "ROOT/catmeow", "app-dir": "ROOT/catmeow",
            "global-disable-autocreation": "", "app-global-disable-autocreation": "",
            "letsencrypt-failure": "", "app-letsencrypt-failure": "",
            "locked": "false", "app-locked": "false", "url": "http://localhost:10000",
            "app-url": "http://localhost:10000",
        },
    ),
    "buildpacks:report": (
        [["buildpacks:add", "catmeow", "https://example.com/bp.git"], ["buildpacks:add", "catmeow", "python"]],
        {"--buildpacks-list": "https://example.com/bp.git,python"},
        {"list": "https://example.com/bp.git,python", "buildpacks-list": "https://example.com/bp.git,python"},
    ),
    "builder:report": (
        [["builder:set", "catmeow", "selected", "dockerfile"]],
        {"--builder-selected": "dockerfile"},
        {"selected": "dockerfile", "builder-selected": "dockerfile"},
    ),
    "certs:report": (
        [],
        {"--ssl-enabled": "false", "--ssl-hostnames": "", "--ssl-dir": "ROOT/catmeow/tls"},
        {
            "dir": "ROOT/catmeow/tls", "enabled": "false", "hostnames": "", "expires-at": "", "issuer": "",
            "starts-at": "", "subject": "", "verified": "",
        },
    ),
    "checks:report": (
        [["checks:disable", "catmeow", "worker"], ["checks:set", "catmeow", "wait-to-retire", "30"]],
        {"--checks-disabled-list": "worker", "--checks-skipped-list": "none", "--checks-computed-wait-to-retire": "30"},
        {"disabled-list": "worker", "skipped-list": "none", "computed-wait-to-retire": "30"},
    ),
    "docker-options:report": (
        [["docker-options:add", "catmeow", "deploy,run", "--memory 256m"]],
        {"--docker-options-deploy": "--memory 256m", "--docker-options-build": ""},
        {
            "build": "", "deploy": "--memory 256m", "run": "--memory 256m", "docker-options-build": "",
            "docker-options-deploy": "--memory 256m", "docker-options-run": "--memory 256m",
        },
    ),
    "domains:report": (
        [["domains:add", "catmeow", "cats.example.com", "www.cats.example.com"]],
        {"--domains-app-vhosts": "cats.example.com www.cats.example.com", "--domains-global-enabled": "false"},
        {
            "app-enabled": "true", "app-vhosts": "cats.example.com www.cats.example.com",
            "app-url": "http://cats.example.com", "global-enabled": "false", "global-vhosts": "",
        },
    ),
    "nginx:report": (
        [["nginx:set", "catmeow", "client-max-body-size", "5m"]],
        {"--nginx-computed-client-max-body-size": "5m", "--nginx-computed-access-log-path": ""},
        {"computed-client-max-body-size": "5m", "computed-hsts": "true", "computed-access-log-path": ""},
    ),
    "ports:report": (
        [],
        {"--ports-map": "", "--ports-map-detected": "http:10000:5000"},
        {"map": "", "ports-map": "", "map-detected": "http:10000:5000", "ports-map-detected": "http:10000:5000"},
    ),
    "proxy:report": (
        [],
        {"--proxy-enabled": "true", "--proxy-type": "nginx", "--proxy-port-map": "http:10000:5000"},
        {"enabled": "true", "proxy-enabled": "true", "type": "nginx", "url": "http://localhost:10000"},
    ),
    "ps:report": (
        [["ps:set", "catmeow", "restart-policy", "always"]],
        {"--deployed": "false", "--processes": "0", "--ps-restart-policy": "always", "--running": "false"},
        {
            "deployed": "false", "processes": "0", "release": "", "ps-release": "", "scale": "", "ps-scale": "",
            "restart-policy": "always", "ps-restart-policy": "always", "running": "false", "restore": "true",
        },
    ),
    "resource:report": (
        [["resource:limit", "--memory", "300", "--process-type", "web", "catmeow"]],
        {"--resource-web.limit.memory": "300m", "--resource-_default_.limit.memory": "512m"},
        {"web.limit.memory": "300m", "resource-web.limit.memory": "300m", "_build_.limit.memory": "1g"},
    ),
}  # fmt: skip


@pytest.fixture
def dokku(tmp_path, monkeypatch):
    monkeypatch.setenv("DOKKU_ROOT", str(tmp_path))
    monkeypatch.delenv("NAME", raising=False)
    runner = CliRunner()

    def run(*words: str):
        result = runner.invoke(cli, list(words))
        return result.exit_code, result.output.replace(str(tmp_path), "ROOT")

    run("apps:create", "catmeow")
    return run


@pytest.mark.parametrize("name", sorted(FAMILIES))
def test_a_flag_prints_its_value_alone_and_json_the_same_properties(dokku, name):
    setup, values, keys = FAMILIES[name]
    for words in setup:
        assert dokku(*words)[0] == 0, words
    for flag, value in values.items():
        assert dokku(name, "catmeow", flag) == (0, value + "\n"), flag
        assert dokku(name, flag, "catmeow") == (0, value + "\n"), flag  # Dokku's flags stand anywhere
    code, output = dokku(name, "catmeow", "--format", "json")
    shown = json.loads(output)
    assert code == 0 and output.count("\n") == 1
    assert {key: shown[key] for key in keys} == keys
    assert all(isinstance(value, str) for value in shown.values())
    assert dokku(name, "--format=json", "catmeow") == (0, output)


@pytest.mark.parametrize("name", sorted(FAMILIES))
def test_every_property_of_the_stdout_block_is_in_the_json_once_or_under_both_names(dokku, name):
    _code, block = dokku(name, "catmeow")
    code, output = dokku(name, "catmeow", "--format", "json")
    rows = len(block.splitlines()) - 1
    assert code == 0 and rows <= len(json.loads(output)) <= 2 * rows


def test_the_json_keys_are_the_flags_without_the_family_head_and_with_it_where_dokku_keeps_both():
    assert json_keys("--domains-app-vhosts", "--domains-", legacy=False) == ["app-vhosts"]
    assert json_keys("--ps-restart-policy", "--ps-", legacy=True) == ["restart-policy", "ps-restart-policy"]
    assert json_keys("--deployed", "--ps-", legacy=True) == ["deployed"]


def test_an_unknown_flag_is_dokkus_error_naming_the_valid_ones(dokku):
    assert dokku("domains:report", "catmeow", "--domains-nope") == (
        1,
        " !     Invalid flag passed, valid flags: --domains-app-enabled, --domains-app-url, --domains-app-vhosts,"
        " --domains-global-enabled, --domains-global-vhosts\n",
    )


@pytest.mark.parametrize(
    ("words", "message"),
    [
        (["catmeow", "--ps-restart-policy", "--running"], "ps:report command allows only a single flag"),
        (
            ["catmeow", "--format", "json", "--running"],
            "--format flag cannot be specified when specifying an info flag",
        ),
        (["catmeow", "--format", "yaml"], 'Format must be "stdout" or "json": "yaml"'),
        (["catmeow", "--format"], 'Format must be "stdout" or "json": ""'),
    ],
)
def test_bad_words_are_one_line_and_exit_1(dokku, words, message):
    code, output = dokku("ps:report", *words)
    assert (code, output.splitlines()) == (1, [f" !     {message}"])


def test_without_an_app_every_app_is_reported_one_json_object_or_value_each(dokku):
    dokku("apps:create", "dogwoof")
    dokku("ps:set", "dogwoof", "restart-policy", "no")
    code, output = dokku("ps:report", "--format", "json")
    assert code == 0
    assert [json.loads(line)["restart-policy"] for line in output.splitlines()] == ["", "no"]
    assert dokku("ps:report", "--ps-restart-policy") == (0, "\nno\n")


def test_without_apps_dokkus_warning_and_nothing_else(tmp_path, monkeypatch):
    monkeypatch.setenv("DOKKU_ROOT", str(tmp_path))
    monkeypatch.delenv("NAME", raising=False)
    result = CliRunner().invoke(cli, ["ps:report", "--format", "json"])
    assert (result.exit_code, result.output) == (0, " !     You haven't deployed any applications yet\n")


def test_global_reports_the_global_properties_and_wins_over_an_app_as_in_dokku(dokku):
    dokku("domains:set-global", "example.org")
    dokku("docker-options:add", "--global", "build", "--label team=cats")
    dokku("resource:limit", "--global", "--memory", "400")
    assert dokku("domains:report", "--global", "--domains-global-vhosts") == (0, "example.org\n")
    assert dokku("domains:report", "catmeow", "--global", "--format", "json") == (
        0,
        '{"global-enabled":"true","global-vhosts":"example.org"}\n',
    )
    assert json.loads(dokku("docker-options:report", "--global", "--format", "json")[1])["build"] == "--label team=cats"
    assert dokku("resource:report", "--global", "--resource-_default_.limit.memory") == (0, "400\n")
    # a family without global properties: an empty report, as Dokku's
    assert dokku("certs:report", "--global", "--format", "json") == (0, "{}\n")
    assert dokku("certs:report", "--global") == (0, "=====> global ssl information\n")


@pytest.fixture
def user_key(dokku, tmp_path, monkeypatch):
    """Runs as the user key eve, granted catmeow only; dogwoof is another's."""
    store = Store(tmp_path)
    dokku("apps:create", "dogwoof")
    rules.set_role(store, "eve", rules.USER)
    rules.grant(store, "catmeow", "eve")
    monkeypatch.setenv("NAME", "eve")
    return dokku


def test_a_user_key_reports_on_its_own_app(user_key):
    assert user_key("domains:report", "catmeow", "--domains-app-enabled") == (0, "true\n")
    assert json.loads(user_key("ps:report", "--format", "json", "catmeow")[1])["deployed"] == "false"


@pytest.mark.parametrize(
    ("words", "message"),
    [
        (["domains:report"], "domains:report is for admin keys only; eve is a user key"),
        (["domains:report", "--global"], "domains:report is for admin keys only; eve is a user key"),
        (
            ["domains:report", "catmeow", "--global"],
            "domains:report is for admin keys only; eve is a user key",
        ),
        (["ps:report", "--global", "catmeow", "--format", "json"], "ps:report is for admin keys only"),
        (["resource:report", "catmeow"], "resource:report is for admin keys only"),
    ],
)
def test_a_user_key_never_reports_on_every_app_the_global_properties_or_another_app(user_key, words, message):
    code, output = user_key(*words)
    assert code == 1
    assert len(output.splitlines()) == 1 and output.startswith(f" !     {message}"), output
