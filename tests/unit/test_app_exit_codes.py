"""Dokku's verify_app_name: every command that takes an APP answers a missing app with
` !     App APP does not exist` and exit code 20, which scripts test for; and a user key naming an
app not granted to it gets exactly that line and code, so it learns nothing of other apps."""

import click
import pytest
from click.testing import CliRunner

from minidokku.access import rules
from minidokku.cli import all_commands, cli
from minidokku.cli.declare import DeclaredCommand
from minidokku.state import Store

MISSING = " !     App ghost does not exist\n"
# Words that pass a command's own argument checks, which (as in Dokku) come before the app's.
VALID_WORDS = {
    "certs:show": ["crt"],
    "config:get": ["KEY"],
    "config:set": ["KEY=1"],
    "config:unset": ["KEY"],
    "config:import": ["-"],
    "git:from-archive": ["-"],
    "builder:set": ["selected", "dockerfile"],
    "checks:set": ["wait-to-retire", "5"],
    "logs:set": ["max-size", "10m"],
    "nginx:set": ["hsts", "true"],
    "ps:set": ["restart-policy", "always"],
}
# apps:exists answers by its exit code alone; acl:add names a key first; apps:create makes the app.
OWN_CONTRACT = {"apps:exists", "acl:add", "apps:create"}


def _app_commands() -> list[str]:
    return sorted(
        name
        for name, declared in all_commands().items()
        if isinstance(declared, DeclaredCommand)
        and any(param.name == "app" for param in declared.params)
        and name not in OWN_CONTRACT
    )


def _words(name: str, app: str) -> list[str]:
    if name in VALID_WORDS:
        return [app, *VALID_WORDS[name]]
    words = []
    for param in all_commands()[name].params:
        if param.name == "app":
            words.append(app)
        elif isinstance(param, click.Argument) and param.required:
            words.append("x")
    return words


@pytest.fixture
def dokku(tmp_path, monkeypatch):
    monkeypatch.setenv("DOKKU_ROOT", str(tmp_path))
    monkeypatch.setenv("MINIDOKKU_NGINX_COMMAND", "false")
    monkeypatch.delenv("NAME", raising=False)
    runner = CliRunner()
    return lambda *words: runner.invoke(cli, list(words), input="")


def test_there_are_app_commands_to_check():
    assert {"config:show", "ps:scale", "url", "run", "logs", "git:report"} <= set(_app_commands())


@pytest.mark.parametrize("name", _app_commands())
def test_a_missing_app_is_dokkus_line_and_exit_20(dokku, tmp_path, name):
    result = dokku(name, *_words(name, "ghost"))
    assert (result.exit_code, result.output) == (20, MISSING)
    assert not (tmp_path / "ghost").exists()


def test_the_global_app_flag_gets_the_same_answer(dokku):
    result = dokku("--app", "ghost", "config:show")
    assert (result.exit_code, result.output) == (20, MISSING)


@pytest.mark.parametrize("name", ["config:show", "ps:report", "url", "domains:report", "git:report"])
def test_a_user_key_cannot_tell_another_keys_app_from_a_missing_one(dokku, tmp_path, monkeypatch, name):
    assert dokku("apps:create", "dogwoof").exit_code == 0
    rules.set_role(Store(tmp_path), "eve", rules.USER)
    monkeypatch.setenv("NAME", "eve")
    theirs = dokku(name, *_words(name, "dogwoof"))
    missing = dokku(name, *_words(name, "ghost"))
    assert (theirs.exit_code, theirs.output) == (20, " !     App dogwoof does not exist\n")
    assert (missing.exit_code, missing.output) == (20, MISSING)
    denied = [line.split("\t")[1:5] for line in (tmp_path / "EVENTS").read_text().splitlines()]
    assert denied[1:] == [["eve", name, "dogwoof", "denied"], ["eve", name, "ghost", "denied"]]


@pytest.mark.parametrize("name", ["ps:inspect", "config:show", "run:list", "logs", "repo:gc"])
def test_a_user_key_naming_a_path_through_an_app_learns_nothing_of_it(dokku, tmp_path, monkeypatch, name):
    """`victim/HEAD` would read victim/HEAD/ACL (a file, so NotADirectoryError) and `victim/ACL`
    would tell a tenant's app; the name is refused before any file of it is read, the same way
    whether the app exists or not."""
    assert dokku("apps:create", "dogwoof").exit_code == 0
    assert dokku("apps:create", "mine").exit_code == 0
    store = Store(tmp_path)
    rules.grant(store, "dogwoof", "bob")
    rules.grant(store, "mine", "eve")
    rules.set_role(store, "eve", rules.USER)
    monkeypatch.setenv("NAME", "eve")
    answers = {}
    for app in ("dogwoof/HEAD", "ghost/HEAD", "dogwoof/ACL", "ghost/ACL", "mine/../dogwoof", "dogwoof/../mine"):
        result = dokku(name, *_words(name, app))
        assert result.exit_code == 1 and result.output.startswith(f" !     invalid app name {app!r}")
        assert len(result.output.splitlines()) == 1
        answers[app] = result.output.replace(app, "APP")
    assert len(set(answers.values())) == 1
