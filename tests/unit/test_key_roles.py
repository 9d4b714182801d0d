"""A key and its role as one change (rules.add_key, remove_key, migrate): the order of the two
writes, the keys' lock, and the one-time migration of keys from before every key had a line."""

import multiprocessing
import shutil
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

from minidokku.access import rules
from minidokku.access.rules import Scope
from minidokku.access.sshkeys import RESTRICTIONS, AuthorizedKeys, entry, fingerprint
from minidokku.cli import cli
from minidokku.errors import AlreadyExists, PermissionDenied
from minidokku.records import properties
from minidokku.records import scheduler as selection
from minidokku.state import Store

pytestmark = pytest.mark.skipif(shutil.which("ssh-keygen") is None, reason="ssh-keygen is not installed")

PROGRAM = ["/usr/local/bin/dokku"]
NAMES = ["alice", "bob", "carol", "dave", "erin", "frank"]


@pytest.fixture(scope="module")
def keys(tmp_path_factory) -> dict[str, str]:
    folder = tmp_path_factory.mktemp("keys")
    for name in NAMES:
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(folder / name)], check=True)
    return {name: (folder / f"{name}.pub").read_text() for name in NAMES}


@pytest.fixture
def store(tmp_path) -> Store:
    (tmp_path / "cats").mkdir()
    (tmp_path / "cats" / "HEAD").write_text("ref: refs/heads/main\n")
    return Store(tmp_path)


def authorized(store: Store) -> AuthorizedKeys:
    return AuthorizedKeys(store.root / ".ssh" / "authorized_keys")


def add(store: Store, keys: dict, name: str, role: str) -> None:
    rules.add_key(store, authorized(store), name, keys[name], role, PROGRAM, store.root)


class Crash(BaseException):
    """The process killed between two writes."""


def test_an_admin_key_gets_its_role_line_too(store, keys):
    add(store, keys, "alice", "admin")
    add(store, keys, "bob", "user")
    assert store.read_lines(None, rules.ROLES_FILE) == ["alice admin", "bob user"]
    assert [key.name for key in authorized(store).list()] == ["alice", "bob"]


def test_a_crash_between_the_writes_of_an_add_leaves_no_key_and_a_retry_gives_the_new_role(store, keys, monkeypatch):
    def crash(*_):
        raise Crash

    monkeypatch.setattr(AuthorizedKeys, "append", crash)
    with pytest.raises(Crash):
        add(store, keys, "alice", "admin")
    assert authorized(store).list() == []  # nothing logs in with the line left behind
    monkeypatch.undo()
    add(store, keys, "alice", "user")
    assert rules.role(store, "alice") == "user"


def test_a_crash_between_the_writes_of_a_remove_leaves_the_key_gone(store, keys, monkeypatch):
    add(store, keys, "alice", "user")
    rules.grant(store, "cats", "alice")
    monkeypatch.setattr(rules, "_revoke_everywhere", lambda *_: (_ for _ in ()).throw(Crash()))
    with pytest.raises(Crash):
        rules.remove_key(store, authorized(store), "alice")
    assert authorized(store).list() == []
    monkeypatch.undo()
    add(store, keys, "alice", "user")  # a new key of that name does not inherit the old grants
    assert rules.granted(store, "cats") == []


def test_adding_a_name_taken_already_changes_no_role(store, keys):
    add(store, keys, "alice", "user")
    with pytest.raises(AlreadyExists):
        rules.add_key(store, authorized(store), "alice", keys["bob"], "admin", PROGRAM, store.root)
    assert rules.role(store, "alice") == "user"


def test_removing_a_key_takes_its_role_and_grants(store, keys):
    add(store, keys, "alice", "user")
    add(store, keys, "bob", "user")
    rules.grant(store, "cats", "alice")
    rules.grant(store, "cats", "bob")
    rules.remove_key(store, authorized(store), "alice")
    assert store.read_lines(None, rules.ROLES_FILE) == ["bob user"]
    assert rules.granted(store, "cats") == ["bob"]


def _add_in_a_process(root: str, name: str, key_text: str, role: str) -> None:
    store = Store(Path(root))
    rules.add_key(store, authorized(store), name, key_text, role, PROGRAM, store.root)


def test_keys_added_at_once_all_land_with_their_roles(store, keys):
    roles = {name: "admin" if index % 2 else "user" for index, name in enumerate(NAMES)}
    context = multiprocessing.get_context("fork")
    processes = [
        context.Process(target=_add_in_a_process, args=(str(store.root), name, keys[name], roles[name]))
        for name in NAMES
    ]
    for process in processes:
        process.start()
    for process in processes:
        process.join(timeout=30)
    assert [process.exitcode for process in processes] == [0] * len(NAMES)
    assert sorted(key.name for key in authorized(store).list()) == sorted(NAMES)
    assert {name: rules.role(store, name) for name in NAMES} == roles


def test_keys_from_before_become_admins_once(store, keys):
    """An older minidokku wrote lines for user keys only; every other key was an admin."""
    old_keys = authorized(store)
    for name in ("alice", "bob"):
        old_keys.add(name, keys[name], PROGRAM, store.root)
    store.write_lines(None, rules.ROLES_FILE, ["bob user"])
    assert rules.role(store, "alice") == "user"  # until migrated: fail closed

    assert rules.migrate(store, old_keys) == ["alice"]
    assert store.read_lines(None, rules.ROLES_FILE) == [rules.ROLES_HEADER, "bob user", "alice admin"]
    assert (rules.role(store, "alice"), rules.role(store, "bob")) == ("admin", "user")

    store.write_lines(None, rules.ROLES_FILE, [rules.ROLES_HEADER, "bob user"])  # alice's line lost later
    assert rules.migrate(store, old_keys) is None
    assert rules.role(store, "alice") == "user"


def test_a_new_root_is_migrated_with_nobody_to_promote(store, keys):
    assert rules.migrate(store, authorized(store)) == []
    add(store, keys, "alice", "admin")
    assert store.read_lines(None, rules.ROLES_FILE) == [rules.ROLES_HEADER, "alice admin"]


def test_old_entries_get_restrict(tmp_path, keys):
    path = tmp_path / "authorized_keys"
    old_options = "no-agent-forwarding,no-user-rc,no-X11-forwarding,no-port-forwarding"
    line = entry("alice", fingerprint(keys["alice"]), keys["alice"].strip(), PROGRAM, Path("/srv/my dokku"))
    foreign = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIForeignKeyForeignKeyForeignKeyForeignKey0 admin@host"
    path.write_text(line.replace(RESTRICTIONS, old_options) + "\n" + foreign + "\n")
    assert AuthorizedKeys(path).restrict_all() == 1
    assert path.read_text() == f"{line}\n{foreign}\n"
    assert AuthorizedKeys(path).restrict_all() == 0


def test_a_refused_key_without_a_line_is_pointed_at_the_migration_until_it_ran(store):
    with pytest.raises(PermissionDenied, match=r"tom is a user key \(no role line: .* run `dokku ssh-keys:migrate`"):
        rules.authorize(store, "tom", "events", Scope.ADMIN, None, 3)
    rules.migrate(store, authorized(store))
    with pytest.raises(PermissionDenied) as refused:
        rules.authorize(store, "tom", "events", Scope.ADMIN, None, 3)
    assert str(refused.value) == "events is for admin keys only; tom is a user key"


def test_the_keys_folder_is_made_0700(store, keys):
    add(store, keys, "alice", "user")
    assert (store.root / ".ssh").stat().st_mode & 0o777 == 0o700


def test_ssh_keys_migrate_brings_an_older_install_up_to_date(store, keys, monkeypatch):
    old_options = "no-agent-forwarding,no-user-rc,no-X11-forwarding,no-port-forwarding"
    for name in ("alice", "bob"):
        authorized(store).add(name, keys[name], PROGRAM, store.root)
    path = store.root / ".ssh" / "authorized_keys"
    path.write_text(path.read_text().replace(RESTRICTIONS, old_options))
    store.write_lines(None, rules.ROLES_FILE, ["bob user"])
    monkeypatch.setenv("DOKKU_ROOT", str(store.root))

    first = CliRunner().invoke(cli, ["ssh-keys:migrate"], catch_exceptions=False)
    assert first.output.splitlines() == [
        "       Keys of an older minidokku without a role line, now admins: alice",
        f"       Entries given `{RESTRICTIONS}`: 2",
    ]
    assert (rules.role(store, "alice"), rules.role(store, "bob")) == ("admin", "user")
    assert old_options not in path.read_text()
    again = CliRunner().invoke(cli, ["ssh-keys:migrate"], catch_exceptions=False)
    assert "Roles were migrated already" in again.output and f"`{RESTRICTIONS}`: 0" in again.output


def test_acl_add_refuses_an_app_on_the_swarm_until_its_last_service_is_gone(store, keys, monkeypatch):
    """A swarm task runs without no-new-privileges, so no user key may get an app there: one
    selected for the swarm, nor one moved back whose services are not all retired yet."""
    add(store, keys, "bob", "user")
    monkeypatch.setenv("DOKKU_ROOT", str(store.root))
    monkeypatch.setenv("MINIDOKKU_NGINX_COMMAND", "false")
    properties.set_value(store, "cats", selection.SELECTED, selection.SWARM)
    selection.mark_on_swarm(store, "cats")

    on_swarm = CliRunner().invoke(cli, ["acl:add", "cats", "bob"])
    properties.set_value(store, "cats", selection.SELECTED, selection.DOCKER_LOCAL)
    moving_back = CliRunner().invoke(cli, ["acl:add", "cats", "bob"])
    granted_meanwhile = rules.granted(store, "cats")
    selection.forget_swarm(store, "cats")
    back = CliRunner().invoke(cli, ["acl:add", "cats", "bob"])

    for refused in (on_swarm, moving_back):
        assert refused.exit_code == 1 and "cats runs on the swarm" in refused.output, refused.output
    assert granted_meanwhile == []
    assert back.exit_code == 0, back.output
    assert rules.granted(store, "cats") == ["bob"]


def _grant_then_revoke(root: str, user: str) -> None:
    store = Store(Path(root))
    for _ in range(5):
        rules.grant(store, "cats", user)
        rules.revoke(store, "cats", user)


def test_grants_changed_at_once_lose_no_revocation(store):
    context = multiprocessing.get_context("fork")
    processes = [context.Process(target=_grant_then_revoke, args=(str(store.root), name)) for name in NAMES[:4]]
    for process in processes:
        process.start()
    for process in processes:
        process.join(timeout=60)
    assert [process.exitcode for process in processes] == [0] * 4
    assert rules.granted(store, "cats") == []
