"""A user key against every command it may not run.

What a user key may run is written out here, as the specification, independently of the
declarations it checks (minidokku/cli/declare.py): each command's declared scope must agree with
it. The command list comes from the CLI itself, so a command added later is covered (or fails here
until it is placed). Each command runs over ssh from a user key, with arguments click accepts, on
the victim, an app not granted to that key. Each must be refused by the rights check with one
clear line, leave no trace but a `denied` line in the audit trail, and change nothing.
"""

import click
import pytest
from helpers import git
from security_helpers import VICTIM, assert_refused, events_of, quoted, state_of

from minidokku.access import rules
from minidokku.access.rules import Scope
from minidokku.cli import all_commands
from minidokku.cli.declare import Runs

USER = "eve"
# A value click accepts for each argument name; what it says does not matter, it is never used.
ARGUMENT_VALUES = {
    "app": [VICTIM], "user": [USER], "key": ["X"], "value": ["1"], "buildpack": ["file:///etc"],
    "cert_file": ["/etc/shadow"], "key_file": ["/etc/shadow"], "domain": ["evil.test"],
    "process_types": ["web"], "pairs": ["web=2"], "keys": ["X"], "args": ["--global", "deploy", "-v /:/host"],
    "names": ["evil.test"], "target": ["web.1"], "command": ["id"], "source": ["-"],
    "image": ["minidokku/stack:latest"], "mappings": ["http:80:5000"], "proxy_type": ["nginx"],
    "container_ids": ["0123456789ab"], "release": ["v1"], "name": ["tester"], "keyfile": ["/etc/shadow"],
    "ref": ["main"], "new_app": ["thief"], "file": ["-"], "part": ["key"], "words": ["deploy-branch", "evil"],
    "build_id": ["0000000000000a"], "cron_id": ["0123456789"],
    "repository": ["https://example.com/app.git"], "host": ["github.com"], "username": ["bot"], "password": ["x"],
    "role": ["manager"], "node": ["node1"],
}  # fmt: skip


def _command_line(name: str, command: click.Command) -> list[str]:
    words = [name]
    for param in command.params:
        if isinstance(param, click.Argument):
            words += ARGUMENT_VALUES[param.name]
    return words


# The specification. What a user key may run on an app granted to it:
ON_A_GRANTED_APP = {
    "apps:clone", "apps:destroy", "apps:exists", "apps:lock", "apps:locked", "apps:rename", "apps:report",
    "apps:set", "apps:unlock",
    "builder:report", "buildpacks:list", "buildpacks:report",
    "app-json:report", "app-json:set", "builder-dockerfile:report", "builder-dockerfile:set",
    "builder-herokuish:report",
    "builds:cancel", "builds:info", "builds:list", "builds:output", "builds:prune", "builds:report", "builds:set",
    "certs:add", "certs:generate", "certs:remove", "certs:report", "certs:show", "certs:update",
    "checks:disable", "checks:enable", "checks:report", "checks:run", "checks:set", "checks:skip", "cleanup",
    "config:bundle", "config:clear", "config:export", "config:get", "config:import", "config:keys", "config:set",
    "config:show", "config:unset", "cron:list", "cron:report", "cron:resume", "cron:run", "cron:set", "cron:suspend",
    "docker-options:list",
    "domains:add", "domains:clear", "domains:disable", "domains:enable", "domains:remove", "domains:report",
    "domains:reset",
    "domains:set",
    "enter", "git-hook", "git:initialize", "git:report", "git:set", "git:sync",
    "letsencrypt:active", "letsencrypt:auto-renew", "letsencrypt:cleanup", "letsencrypt:disable",
    "letsencrypt:enable", "letsencrypt:report", "letsencrypt:revoke", "letsencrypt:set",
    "logs", "logs:failed", "logs:report",
    "logs:set", "network:report", "nginx:access-logs", "nginx:error-logs", "nginx:report",
    "ports:list", "ports:report", "proxy:report",
    "ps:inspect", "ps:rebuild", "ps:report", "ps:restart", "ps:scale", "ps:set", "ps:start", "ps:stop",
    "registry:report", "releases", "releases:rollback", "repo:gc", "repo:purge-cache", "run", "run:detached",
    "run:list", "run:logs",
    "run:retire", "run:stop", "scheduler:report", "storage:list", "storage:mount", "storage:report",
    "storage:unmount", "url", "urls",
}  # fmt: skip
# What any key may run, naming no app; and apps:create, up to a user key's quota (tests/e2e).
# The storage entry commands name no app: a user key acts on its own entries only (ops/storage.py,
# tests/security/test_storage_user_key.py).
BY_EVERY_KEY = {
    "apps:list", "help", "version",
    "storage:create", "storage:destroy", "storage:ensure-directory", "storage:info", "storage:list-entries",
    "storage:set",
}  # fmt: skip
UP_TO_A_QUOTA = {"apps:create"}
# Run by minidokku itself on the host, and refused over ssh to every key.
INTERNAL = {"cron:daemon", "git-hook", "ps:retire", "sample:deploy"}

REFUSED = {
    name: _command_line(name, command)
    for name, command in all_commands().items()
    if name not in BY_EVERY_KEY | UP_TO_A_QUOTA
}


def _specified_scope(name: str) -> Scope:
    if name in BY_EVERY_KEY:
        return Scope.FREE
    if name in UP_TO_A_QUOTA:
        return Scope.NEW_APP
    return Scope.APP if name in ON_A_GRANTED_APP else Scope.ADMIN


def test_the_specification_names_only_commands_there_are():
    assert ON_A_GRANTED_APP | BY_EVERY_KEY | UP_TO_A_QUOTA | INTERNAL <= set(all_commands())


@pytest.mark.parametrize("name", sorted(all_commands()))
def test_each_command_declares_the_scope_and_place_the_specification_gives_it(name):
    command = all_commands()[name]
    assert command.scope is _specified_scope(name)
    assert (command.runs is Runs.INTERNAL) == (name in INTERNAL)


@pytest.fixture(scope="module")
def user_key(ssh_client, victim):
    return ssh_client.with_key(USER, rules.USER)


@pytest.mark.parametrize("name", sorted(REFUSED))
def test_a_user_key_is_refused_every_command_it_has_no_right_to(platform, engine, user_key, name):
    words = REFUSED[name]
    before, events_before = state_of(platform, engine), events_of(platform)

    result = user_key.ssh(quoted(*words))

    if name in INTERNAL:  # refused over ssh for every key, before any right is looked at
        assert_refused(result, f"{name} is internal to minidokku: it is never run over ssh")
    elif name in ON_A_GRANTED_APP:
        assert_refused(result, f"App {VICTIM} does not exist")
    else:
        assert_refused(result, f"{name} is for admin keys only; {USER} is a user key")
    assert result.stdout == "", result.stdout
    assert state_of(platform, engine) == before
    added = [line.split("\t")[1:] for line in events_of(platform)[len(events_before) :]]
    target = VICTIM if "app" in {p.name for p in all_commands()[name].params} else ""
    action = "push" if name == "git-hook" else name
    assert added == [[USER, action, target or "-", "denied", ""]], added


@pytest.mark.parametrize("service", ["git-receive-pack", "git-upload-pack"])
def test_a_user_key_can_neither_push_to_nor_clone_an_app_not_granted(
    platform, engine, user_key, victim, tmp_path, service
):
    before = state_of(platform, engine)
    remote = f"{user_key.remote_prefix}{VICTIM}"

    if service == "git-receive-pack":
        result = git(victim.repo, "push", remote, "HEAD:main", check=False, env=user_key.git_env())
    else:
        result = git(tmp_path, "clone", remote, "stolen", check=False, env=user_key.git_env())
        assert not (tmp_path / "stolen").exists()

    assert_refused(result, f"{USER} has no access to {VICTIM}")
    assert state_of(platform, engine) == before
