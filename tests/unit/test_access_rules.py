import pytest

from minidokku.access import rules
from minidokku.access.rules import Scope
from minidokku.errors import PermissionDenied, ValidationError
from minidokku.state import Store

QUOTA = 2


@pytest.fixture
def store(tmp_path) -> Store:
    for app in ("cats", "dogs"):
        (tmp_path / app).mkdir()
        (tmp_path / app / "HEAD").write_text("ref: refs/heads/main\n")
    return Store(tmp_path)


def test_an_admin_key_may_do_anything(store):
    rules.set_role(store, "tom", "admin")
    assert rules.role(store, "tom") == "admin"
    rules.authorize(store, "tom", "docker-options:add", Scope.ADMIN, None, QUOTA)
    rules.authorize(store, "tom", "config:set", Scope.APP, "cats", QUOTA)


def test_a_key_without_a_role_line_is_a_user(store):
    """Roles fail closed: a lost line (a crash, a hand edit) never makes an admin."""
    assert rules.role(store, "tom") == "user"
    with pytest.raises(PermissionDenied, match="docker-options:add is for admin keys only; tom is a user key"):
        rules.authorize(store, "tom", "docker-options:add", Scope.ADMIN, None, QUOTA)
    rules.set_role(store, "tom", "admin")
    store.write_lines(None, rules.ROLES_FILE, [])
    assert rules.role(store, "tom") == "user"


def test_commands_on_the_host_carry_no_key_and_are_not_restricted(store):
    rules.authorize(store, None, "ssh-keys:add", Scope.ADMIN, None, QUOTA)


def test_a_user_reaches_only_granted_apps_with_app_commands(store):
    rules.set_role(store, "alice", "user")
    rules.grant(store, "cats", "alice")
    rules.authorize(store, "alice", "config:set", Scope.APP, "cats", QUOTA)
    with pytest.raises(PermissionDenied, match="^App dogs does not exist$"):
        rules.authorize(store, "alice", "config:set", Scope.APP, "dogs", QUOTA)
    with pytest.raises(PermissionDenied, match="^App nosuch does not exist$"):
        rules.authorize(store, "alice", "config:set", Scope.APP, "nosuch", QUOTA)
    refused = [
        ("docker-options:add", Scope.ADMIN, None),
        ("ps:restart", Scope.APP, None),
        ("acl:add", Scope.ADMIN, "cats"),
        ("events", Scope.ADMIN, None),
    ]
    for command, scope, app in refused:
        with pytest.raises(PermissionDenied, match=f"{command} is for admin keys only"):
            rules.authorize(store, "alice", command, scope, app, QUOTA)
    assert rules.visible_apps(store, "alice", ["cats", "dogs"]) == ["cats"]


def test_any_key_may_run_a_free_command(store):
    rules.set_role(store, "alice", "user")
    rules.authorize(store, "alice", "apps:list", Scope.FREE, None, QUOTA)
    rules.authorize(store, "alice", "apps:list", Scope.FREE, "dogs", QUOTA)


def test_a_user_creates_apps_up_to_the_quota_and_gets_them(store):
    rules.set_role(store, "bob", "user")
    rules.authorize(store, "bob", "apps:create", Scope.NEW_APP, "birds", QUOTA)
    rules.check_quota(store, "bob", QUOTA)
    rules.after_create(store, "bob", "cats")
    rules.after_create(store, "bob", "dogs")
    with pytest.raises(PermissionDenied, match="quota"):
        rules.authorize(store, "bob", "apps:create", Scope.NEW_APP, "birds", QUOTA)
    with pytest.raises(PermissionDenied, match="quota"):
        rules.authorize_push(store, "bob", "birds", creating=True, quota=QUOTA)
    with pytest.raises(PermissionDenied, match="bob has 2 apps, its quota"):
        rules.check_quota(store, "bob", QUOTA)
    rules.check_quota(store, None, QUOTA)  # the host has no quota
    rules.authorize_push(store, "bob", "cats", creating=False, quota=QUOTA)


def test_an_admin_creating_an_app_gets_no_grant(store):
    rules.set_role(store, "tom", "admin")
    rules.after_create(store, "tom", "cats")
    assert rules.granted(store, "cats") == []


def test_an_unknown_role_is_refused(store):
    with pytest.raises(ValidationError, match="unknown role"):
        rules.set_role(store, "alice", "root")
