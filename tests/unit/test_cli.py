"""The command line without Docker: commands that only read and write state."""

import subprocess

import pytest
from click.testing import CliRunner

from minidokku.access import rules
from minidokku.cli import cli
from minidokku.records import envfile
from minidokku.state import Store


@pytest.fixture
def dokku(tmp_path, monkeypatch):
    monkeypatch.setenv("DOKKU_ROOT", str(tmp_path))
    runner = CliRunner()

    def run(*args: str, input: str = None):
        return runner.invoke(cli, list(args), input=input, catch_exceptions=False)

    return run


def test_apps_create_then_list(dokku, tmp_path):
    assert dokku("apps:create", "catmeow").exit_code == 0
    assert (tmp_path / "catmeow" / "hooks" / "pre-receive").is_file()
    assert dokku("apps:list").output == "=====> My Apps\ncatmeow\n"


def test_creating_an_app_twice_is_a_clear_error(dokku):
    dokku("apps:create", "catmeow")
    result = dokku("apps:create", "catmeow")
    assert result.exit_code == 1
    assert "Name is already taken: catmeow" in result.output


@pytest.mark.parametrize("name", ["Cat", "cat;rm", "../x", "a" * 60, "tls", "caf\u00e9"])
def test_bad_app_names_are_refused_and_nothing_is_created(dokku, tmp_path, name):
    result = dokku("apps:create", name)
    assert result.exit_code == 1
    assert "invalid app name" in result.output
    assert not any(path.name not in ("SETTINGS", "EVENTS") for path in tmp_path.iterdir())
    assert (tmp_path / "EVENTS").read_text().split("\t")[2:5] == ["apps:create", " ".join(name.split()), "failed"]


def test_config_values_round_trip_through_export(dokku, tmp_path):
    dokku("apps:create", "catmeow")
    tricky = {"A": "two words", "B": 'it\'s "quoted"', "C": "k=v=w", "D": "line1\nline2", "E": "$(id) `id`"}
    pairs = [f"{key}={value}" for key, value in tricky.items()]
    assert dokku("config:set", "--no-restart", "catmeow", *pairs).exit_code == 0
    exported = dokku("config:export", "catmeow").output
    assert envfile.parse(exported) == tricky
    sourced = subprocess.run(
        ["bash", "-c", exported + 'printf %s "$D"'], capture_output=True, text=True, check=True
    ).stdout
    assert sourced == "line1\nline2"
    assert dokku("config:get", "catmeow", "C").output == "k=v=w\n"
    assert oct((tmp_path / "catmeow" / "ENV").stat().st_mode & 0o777) == "0o600"


def test_config_get_of_a_missing_key_fails_silently_as_in_dokku(dokku):
    dokku("apps:create", "catmeow")
    result = dokku("config:get", "catmeow", "NOPE")
    assert result.exit_code == 1
    assert result.output == ""


def test_config_unset_removes_only_the_named_keys(dokku):
    dokku("apps:create", "catmeow")
    dokku("config:set", "--no-restart", "catmeow", "A=1", "B=2")
    dokku("config:unset", "--no-restart", "catmeow", "A")
    assert envfile.parse(dokku("config:export", "catmeow").output) == {"B": "2"}


def test_config_set_refuses_a_bad_key_and_keeps_the_old_values(dokku):
    dokku("apps:create", "catmeow")
    dokku("config:set", "--no-restart", "catmeow", "A=1")
    result = dokku("config:set", "--no-restart", "catmeow", "B=2", "LD PRELOAD=/x")
    assert result.exit_code == 1
    assert envfile.parse(dokku("config:export", "catmeow").output) == {"A": "1"}


def test_commands_on_a_missing_app_say_so(dokku):
    result = dokku("config:show", "ghost")
    assert result.exit_code == 20
    assert result.output.strip() == "!     App ghost does not exist"


def test_unsupported_docker_option_is_refused_when_added(dokku, tmp_path):
    dokku("apps:create", "catmeow")
    result = dokku("docker-options:add", "catmeow", "deploy", "--privileged")
    assert result.exit_code == 1
    assert "unsupported docker option '--privileged'" in result.output
    assert not (tmp_path / "catmeow" / "DOCKER_OPTIONS_DEPLOY").exists()


def test_global_build_options_are_stored_and_reported(dokku, tmp_path):
    option = "--network=host -v /etc/ssl/certs/ca-certificates.crt:/etc/ssl/certs/ca-certificates.crt:ro"
    assert dokku("docker-options:add", "--global", "build", option).exit_code == 0
    assert (tmp_path / "DOCKER_OPTIONS_BUILD").read_text() == option + "\n"
    assert option in dokku("docker-options:report", "--global").output


def test_destroy_without_a_terminal_needs_force(dokku, tmp_path):
    dokku("apps:create", "catmeow")
    result = dokku("apps:destroy", "catmeow")
    assert result.exit_code == 1
    assert "--force" in result.output
    assert (tmp_path / "catmeow").is_dir()


def test_domains_default_to_the_app_under_each_global_domain(dokku):
    dokku("apps:create", "catmeow")
    dokku("domains:set-global", "example.test")
    assert "catmeow.example.test" in dokku("domains:report", "catmeow").output
    result = dokku("domains:set-global", "bad domain")
    assert result.exit_code == 1 and "invalid domain" in result.output


def test_ssh_keys_add_of_a_missing_file_is_a_usage_error(dokku, tmp_path):
    result = dokku("ssh-keys:add", "alice", str(tmp_path / "missing.pub"))
    assert result.exit_code == 1
    assert "No such file or directory" in result.output
    assert not (tmp_path / ".ssh" / "authorized_keys").exists()


def test_events_name_who_did_what_and_never_a_config_value(dokku, tmp_path, monkeypatch):
    monkeypatch.setenv("NAME", "alice")
    rules.set_role(Store(tmp_path), "alice", rules.ADMIN)
    dokku("apps:create", "catmeow")
    dokku("config:set", "--no-restart", "catmeow", "SECRET=hunter2", "MODE=fast")
    dokku("config:unset", "--no-restart", "catmeow", "MODE")
    dokku("config:show", "catmeow")
    lines = dokku("events").output.splitlines()
    assert [line.split("\t")[1:] for line in lines] == [
        ["alice", "apps:create", "catmeow", "ok"],
        ["alice", "config:set", "catmeow", "ok", "SECRET MODE"],
        ["alice", "config:unset", "catmeow", "ok", "MODE"],
    ]
    assert "hunter2" not in (tmp_path / "EVENTS").read_text()


def test_an_app_named_after_another_apps_domain_is_refused(dokku, tmp_path):
    """Its default name (shop.example.test) would give it the victim's traffic: nginx serves the
    first of two server blocks with one name."""
    dokku("domains:set-global", "example.test")
    dokku("apps:create", "victim")
    dokku("domains:add", "victim", "shop.example.test")
    result = dokku("apps:create", "shop")
    assert result.exit_code == 1
    assert "shop.example.test is already a domain of app victim" in result.output
    assert not (tmp_path / "shop").exists()


def test_a_new_app_does_not_inherit_what_an_interrupted_destroy_left(dokku, tmp_path):
    leftovers = tmp_path / "catmeow"
    (leftovers / "tls").mkdir(parents=True)
    (leftovers / "ENV").write_text("export SECRET='of the app before'\n")
    (leftovers / "ACL").write_text("eve\n")
    assert dokku("apps:create", "catmeow").exit_code == 0
    assert sorted(p.name for p in leftovers.iterdir() if p.name in ("tls", "ENV", "ACL")) == []
    assert dokku("config:show", "catmeow").output.count("SECRET") == 0
