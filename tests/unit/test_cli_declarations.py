"""Every command declares its rules (minidokku/cli/declare.py), and the run follows them: the
rights check, the refusal of internal commands, root only where declared, the audit record."""

import sys

import click
import pytest
from click.testing import CliRunner

from minidokku import cli as cli_module
from minidokku.access.rules import Scope
from minidokku.cli import DokkuGroup, PluginCommand, all_commands, cli, declare
from minidokku.cli.declare import DeclaredCommand, Runs, command
from minidokku.context import Context
from minidokku.output import Output
from minidokku.settings import Settings

# The specification of the audit trail: the commands that change nothing and are left out of it
# (unless refused). Every other command is recorded.
NOT_RECORDED = {
    "apps:exists", "apps:list", "apps:locked", "apps:report", "builder:report", "buildpacks:list", "buildpacks:report",
    "app-json:report", "builder-dockerfile:report", "builder-herokuish:report",
    "builds:info", "builds:list", "builds:output", "builds:report",
    "certs:report", "certs:show", "checks:report", "config:bundle", "config:export", "config:get", "config:keys",
    "config:show", "cron:daemon", "cron:list", "cron:report",
    "docker-options:list", "docker-options:report",
    "domains:report", "events", "events:list", "git:auth-status", "git:public-key", "git:report", "help",
    "letsencrypt:active", "letsencrypt:list", "letsencrypt:report", "logs",
    "logs:failed", "logs:report", "nginx:access-logs", "nginx:error-logs", "nginx:report", "nginx:show-config",
    "nginx:validate-config", "network:exists", "network:info", "network:list", "network:report",
    "plugin:installed", "plugin:list", "ports:list", "ports:report", "postgres:export", "postgres:info",
    "postgres:list", "postgres:logs", "proxy:report", "ps:inspect", "ps:report", "ps:retire", "registry:report",
    "releases", "report", "scheduler-swarm:join-token", "scheduler-swarm:nodes", "scheduler-swarm:report",
    "scheduler:report",
    "resource:report", "run:list", "run:logs", "ssh-keys:list",
    "storage:info", "storage:list", "storage:list-entries", "storage:report", "url", "urls", "version",
}  # fmt: skip
# Run by root as root: plugin management must be, stack:build debootstraps. Others run as the owner.
ONLY_AS_ROOT = {"plugin:install", "plugin:update", "plugin:uninstall", "plugin:enable", "plugin:disable"}
AS_CALLER = {"stack:build"}


@pytest.mark.parametrize("name", sorted(all_commands()))
def test_every_command_declares_its_scope_place_and_whether_it_changes_state(name):
    declared = all_commands()[name]
    assert isinstance(declared, DeclaredCommand)
    assert isinstance(declared.scope, Scope)
    assert isinstance(declared.runs, Runs)
    assert declared.changes is (name not in NOT_RECORDED)
    assert (declared.runs is Runs.ONLY_AS_ROOT) == (name in ONLY_AS_ROOT)
    assert (declared.runs is Runs.AS_CALLER) == (name in AS_CALLER)


def test_the_specification_names_only_commands_there_are():
    assert NOT_RECORDED | ONLY_AS_ROOT | AS_CALLER <= set(all_commands())


def test_a_push_is_recorded_as_a_push():
    assert all_commands()["git-hook"].audit_as == "push"
    assert {name for name, declared in all_commands().items() if declared.audit_as != name} == {"git-hook"}


@pytest.fixture
def dokku(tmp_path, monkeypatch):
    """A group of commands declared here, run as the real group runs them."""
    monkeypatch.setenv("DOKKU_ROOT", str(tmp_path))
    monkeypatch.delenv("NAME", raising=False)
    (tmp_path / "catmeow").mkdir()
    (tmp_path / "catmeow" / "HEAD").write_text("ref: refs/heads/main\n")

    @click.group(cls=DokkuGroup)
    @click.pass_context
    def group(click_ctx: click.Context) -> None:
        click_ctx.obj = Context(Settings.load(), Output(sys.stdout))

    for name, scope, changes, runs in [
        ("test:change", Scope.APP, True, Runs.AS_OWNER),
        ("test:look", Scope.APP, False, Runs.AS_OWNER),
        ("test:admin", Scope.ADMIN, False, Runs.AS_OWNER),
        ("test:root", Scope.ADMIN, True, Runs.ONLY_AS_ROOT),
    ]:
        group.add_command(
            command(name, scope=scope, changes=changes, runs=runs)(click.argument("app")(lambda app: None))
        )

    def run(*args: str, key: str = ""):
        if key:
            monkeypatch.setenv("NAME", key)
        return CliRunner().invoke(group, list(args))

    def events() -> list[list[str]]:
        path = tmp_path / "EVENTS"
        return [line.split("\t")[1:5] for line in path.read_text().splitlines()] if path.exists() else []

    run.events = events
    return run


def test_a_command_that_changes_state_is_recorded_and_one_that_looks_is_not(dokku):
    assert dokku("test:look", "catmeow").exit_code == 0
    assert dokku.events() == []
    assert dokku("test:change", "catmeow").exit_code == 0
    assert [event[1:] for event in dokku.events()] == [["test:change", "catmeow", "ok"]]


def test_a_refusal_is_recorded_even_for_a_command_that_only_looks(dokku, tmp_path):
    (tmp_path / ".ssh").mkdir()
    (tmp_path / ".ssh" / "ROLES").write_text("alice user\n")
    refused = dokku("test:admin", "catmeow", key="alice")
    assert refused.exit_code == 1
    assert "test:admin is for admin keys only; alice is a user key" in refused.output
    looked = dokku("test:look", "catmeow", key="alice")
    assert (looked.exit_code, looked.output) == (20, " !     App catmeow does not exist\n")
    assert dokku.events() == [["alice", "test:admin", "catmeow", "denied"], ["alice", "test:look", "catmeow", "denied"]]


def test_a_command_declared_only_as_root_is_refused_to_others(dokku, monkeypatch):
    monkeypatch.setattr(declare.os, "geteuid", lambda: 1000)
    refused = dokku("test:root", "catmeow")
    assert refused.exit_code == 1
    assert "test:root must be run as root on the host (sudo dokku test:root ...), as in Dokku" in refused.output
    assert [event[1:] for event in dokku.events()] == [["test:root", "catmeow", "denied"]]
    monkeypatch.setattr(declare.os, "geteuid", lambda: 0)
    assert dokku("test:root", "catmeow").exit_code == 0


@pytest.mark.parametrize(
    "words, reruns",
    [
        (["version"], True),
        (["plugin:list"], True),
        (["plugin:install", "--help"], False),
        (["stack:build", "--help"], False),
    ],
)
def test_root_runs_as_the_owner_all_but_the_commands_declared_to_run_as_root(tmp_path, monkeypatch, words, reruns):
    monkeypatch.setenv("DOKKU_ROOT", str(tmp_path))
    calls = []
    monkeypatch.setattr(cli_module.users, "act_as_owner_of", lambda root, folders, program: calls.append(root))
    assert CliRunner().invoke(cli, words).exit_code == 0
    assert bool(calls) is reruns


def test_a_plugin_s_command_is_for_admin_keys_and_recorded_unless_a_report():
    assert (PluginCommand("hello:world").scope, PluginCommand("hello:world").changes) == (Scope.ADMIN, True)
    assert PluginCommand("hello:report").changes is False
    assert PluginCommand("hello:world").reruns_as_owner()
