"""storage:* on a fake scheduler: entries, mounts, what containers get of them (for_phase), and what a
user key may do with them."""

import fcntl
import json
import os

import pytest
from fakes import make_flow

from minidokku.access import rules
from minidokku.errors import AlreadyExists, NotFound, PermissionDenied, ValidationError
from minidokku.ops import app_lifecycle
from minidokku.ops import storage as ops
from minidokku.records import docker_options, storage

APP = "cat"
USER = "eve"


@pytest.fixture
def flow(tmp_path, monkeypatch):
    flow = make_flow(tmp_path / "root", monkeypatch)
    flow.scheduler.add_image(flow.ctx.settings.stack_image)
    flow.create_app(APP)
    rules.set_role(flow.ctx.store, USER, rules.USER)
    return flow


def create(flow, name, key=None, path="", chown=None, mode="", policy=""):
    return ops.create(flow.ctx, name, path, chown, mode, policy, key)


def mount(flow, name, container_dir="/data", key=None, app=APP, process_type="_default_", readonly=False, phases=()):
    return ops.mount(flow.ctx, app, name, container_dir, process_type, readonly, list(phases), key)


def data_dir(flow, name):
    return flow.ctx.store.root / ".storage-data" / name


@pytest.mark.parametrize("name", ["Data", "-data", "data-", "a" * 46, "../x", "legacy-1", "da_ta", ""])
def test_entry_names_are_dns_labels_without_the_legacy_prefix(name):
    with pytest.raises(ValidationError):
        storage.validate_name(name)


@pytest.mark.parametrize("path", ["data", "/", "//", "/a/../b", "/a:b", "/a,b", "/a b", "/x/..", "/" + "a" * 255])
def test_container_paths_are_absolute_without_dots_or_separators(path):
    with pytest.raises(ValidationError):
        storage.validate_container_path(path)


def test_chown_presets_are_dokku_s_and_modes_get_four_digits():
    assert [storage.chown_uid(v) for v in ("herokuish", "heroku", "paketo", "root", "false", "123")] == [
        32767, 1000, 2000, 0, None, 123
    ]  # fmt: skip
    for bad in ("nobody", "-1", "65536", "１２"):
        with pytest.raises(ValidationError, match="Unsupported chown"):
            storage.chown_uid(bad)
    assert storage.normalize_mode("770") == "0770"
    with pytest.raises(ValidationError, match="3 or 4 digit octal"):
        storage.normalize_mode("0999")


def test_create_makes_the_directory_and_gives_it_to_root_in_a_helper_container(flow):
    create(flow, "data", mode="0770")
    assert data_dir(flow, "data").is_dir()
    assert [command for _image, command, _env in flow.scheduler.tasks] == [
        ["chmod", "0770", "/data"],
        ["chown", "--no-dereference", "0:0", "/data"],
    ]
    saved = json.loads((flow.ctx.store.root / ".storage" / "data.json").read_text())
    assert saved == {
        "name": "data",
        "scheduler": "docker-local",
        "host_path": str(data_dir(flow, "data")),
        "chown": "root",
        "mode": "0770",
        "schema_version": 1,
    }
    create(flow, "data")  # again: left in place, set again
    assert "Storage entry data already exists, leaving in place" in flow.output


def test_a_directory_planted_as_a_link_is_never_chowned_nor_mounted(flow, tmp_path):
    target = tmp_path / "elsewhere"
    target.mkdir()
    data_dir(flow, "data").parent.mkdir(parents=True)
    os.symlink(target, data_dir(flow, "data"))
    with pytest.raises(ValidationError, match="is not a directory \\(a link is never mounted\\)"):
        create(flow, "data")
    assert flow.scheduler.tasks == []
    assert storage.find(flow.ctx.store, "data") is None


def test_custom_paths_are_not_chowned_and_delete_only_applies_to_the_default_path(flow, tmp_path):
    with pytest.raises(ValidationError, match="--chown is only supported when the storage entry uses the default"):
        create(flow, "shared", path=str(tmp_path / "shared"), chown="herokuish")
    create(flow, "shared", path=str(tmp_path / "shared"))
    assert (tmp_path / "shared").is_dir() and flow.scheduler.tasks == []
    with pytest.raises(ValidationError, match="Delete on the default path"):
        ops.set_property(flow.ctx, "shared", "reclaim-policy", "Delete", None)
    with pytest.raises(ValidationError, match="valid properties include: chown, mode, reclaim-policy"):
        ops.set_property(flow.ctx, "shared", "size", "1Gi", None)


def test_mounts_go_to_the_containers_of_their_phase_and_process_type(flow):
    create(flow, "data")
    create(flow, "webby")
    mount(flow, "data")
    mount(flow, "webby", "/web", process_type="web", readonly=True)
    data, webby = str(data_dir(flow, "data")), str(data_dir(flow, "webby"))

    def binds(phase, process_type=None):
        options = docker_options.for_phase(flow.ctx.store, APP, phase, process_type=process_type)
        return options.binds

    assert binds("deploy", "web") == [f"{data}:/data", f"{webby}:/web:ro"]
    assert binds("deploy", "worker") == binds("deploy", "release") == binds("run") == [f"{data}:/data"]
    assert binds("build") == []
    assert docker_options.for_phase(flow.ctx.store, None, "deploy").binds == []


def test_a_mount_again_at_the_same_place_updates_it_and_another_entry_there_is_refused(flow):
    create(flow, "data")
    create(flow, "other")
    assert mount(flow, "data") == "Storage entry data mounted at /data on cat"
    assert mount(flow, "data", readonly=True, phases=["run"]) == "Storage entry data mount at /data on cat updated"
    assert [m.as_json() for m in storage.mounts(flow.ctx.store, APP)] == [
        {"entry_name": "data", "container_path": "/data", "phases": ["run"], "process_type": "_default_",
         "readonly": True}
    ]  # fmt: skip
    with pytest.raises(AlreadyExists, match="cat has storage entry data mounted at /data"):
        mount(flow, "other", "/data/", process_type="web")
    with pytest.raises(NotFound, match='storage entry "nope" does not exist; create it first'):
        mount(flow, "nope")
    with pytest.raises(ValidationError, match="--container-dir is required"):
        mount(flow, "other", "")


def test_unmount_names_the_container_dir_when_there_are_several(flow):
    create(flow, "data")
    mount(flow, "data", "/a")
    mount(flow, "data", "/b")
    with pytest.raises(ValidationError, match=r"mounted at multiple paths on app \"cat\" \(/a, /b\); pass --container"):
        ops.unmount(flow.ctx, APP, "data", "", None)
    ops.unmount(flow.ctx, APP, "data", "/a", None)
    assert [m.container_path for m in storage.mounts(flow.ctx.store, APP)] == ["/b"]
    with pytest.raises(NotFound, match='storage entry "data" is not mounted at \'/a\' on app "cat"'):
        ops.unmount(flow.ctx, APP, "data", "/a", None)


def test_the_legacy_colon_form_of_an_admin_always_makes_a_legacy_entry(flow, tmp_path):
    create(flow, "data")
    mount(flow, f"{data_dir(flow, 'data')}:/data:ro", "")
    mount(flow, f"{tmp_path}:/host", "")
    names = [m.entry_name for m in storage.mounts(flow.ctx.store, APP)]
    # as Dokku's: an admin's colon form is always a legacy entry of that path, even a named entry's
    assert names == [storage.legacy_name(str(data_dir(flow, "data"))), storage.legacy_name(str(tmp_path))]
    with pytest.raises(AlreadyExists, match="^Mount path already exists.$"):
        mount(flow, f"{tmp_path}:/host", "")
    with pytest.raises(ValidationError, match="only ro \\(read-only\\) or rw"):
        mount(flow, f"{tmp_path}:/other:rshared", "")
    ops.unmount(flow.ctx, APP, f"{tmp_path}:/host", "", None)
    with pytest.raises(NotFound, match="^Mount path does not exist.$"):
        ops.unmount(flow.ctx, APP, f"{tmp_path}:/host", "", None)


def test_destroy_is_refused_while_mounted_and_removes_the_directory_only_when_asked(flow):
    create(flow, "data")
    mount(flow, "data")
    with pytest.raises(ValidationError, match='storage entry "data" is still mounted by app\\(s\\): cat'):
        ops.destroy(flow.ctx, "data", True, None)
    ops.unmount(flow.ctx, APP, "data", "", None)
    ops.destroy(flow.ctx, "data", False, None)
    assert data_dir(flow, "data").is_dir() and storage.find(flow.ctx.store, "data") is None
    create(flow, "data")
    ops.destroy(flow.ctx, "data", True, None)
    assert flow.scheduler.tasks[-1][1] == ["find", "/data", "-xdev", "-mindepth", "1", "-delete"]
    assert not data_dir(flow, "data").exists()


def test_an_app_destroyed_leaves_no_mount_and_keeps_the_entry_renamed_and_cloned_keeps_them(flow):
    create(flow, "data")
    mount(flow, "data")
    app_lifecycle.rename(flow.ctx, APP, "kitty", None, skip_deploy=True)
    assert [m.entry_name for m in storage.mounts(flow.ctx.store, "kitty")] == ["data"]
    app_lifecycle.clone(flow.ctx, "kitty", "twin", None, skip_deploy=True)
    assert storage.apps_using(flow.ctx.store, "data") == ["kitty", "twin"]
    app_lifecycle.destroy(flow.ctx, "kitty")
    app_lifecycle.destroy(flow.ctx, "twin")
    assert storage.apps_using(flow.ctx.store, "data") == [] and storage.find(flow.ctx.store, "data")


def test_a_clone_copies_the_mounts_under_the_storage_lock(flow, monkeypatch):
    """Never a mount of an entry storage:destroy is removing at that moment."""
    create(flow, "data")
    mount(flow, "data")
    held = []
    write = flow.ctx.store.write

    def watched(app, name, text, **kwargs):
        if name == storage.MOUNTS_FILE:
            with open(flow.ctx.store.path(None, f"{storage.REGISTRY}/.lock"), "a") as other:
                try:
                    fcntl.flock(other, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    held.append(False)
                    fcntl.flock(other, fcntl.LOCK_UN)
                except BlockingIOError:
                    held.append(True)
        return write(app, name, text, **kwargs)

    monkeypatch.setattr(flow.ctx.store, "write", watched)
    app_lifecycle.clone(flow.ctx, APP, "twin", None, skip_deploy=True)
    assert held == [True]


# -- user keys -----------------------------------------------------------------------------------
def test_a_user_key_creates_only_at_the_default_path_up_to_its_quota(flow, tmp_path):
    with pytest.raises(PermissionDenied, match="a custom PATH is for admin keys only"):
        create(flow, "mine", USER, path=str(tmp_path))
    for number in range(ops.MAX_ENTRIES_PER_USER_KEY):
        assert create(flow, f"mine-{number}", USER).created_by == USER
    with pytest.raises(PermissionDenied, match=f"{USER} has {ops.MAX_ENTRIES_PER_USER_KEY} storage entries"):
        create(flow, "one-more", USER)


def test_a_user_key_acts_only_on_its_own_entries(flow):
    create(flow, "admins")
    create(flow, "mine", USER)
    rules.grant(flow.ctx.store, APP, USER)
    assert [entry.name for entry in ops.visible_entries(flow.ctx, USER)] == ["mine"]
    refused = "storage entry admins is not eve's: a user key acts only on the entries it created"
    for attempt in (
        lambda: ops.owned(flow.ctx, "admins", USER),
        lambda: ops.set_property(flow.ctx, "admins", "mode", "0777", USER),
        lambda: ops.destroy(flow.ctx, "admins", True, USER),
        lambda: mount(flow, "admins", key=USER),
    ):
        with pytest.raises(PermissionDenied, match=refused):
            attempt()
    with pytest.raises(AlreadyExists, match='storage entry "admins" already exists'):
        create(flow, "admins", USER)
    for host in ("/etc", str(data_dir(flow, "admins"))):
        with pytest.raises(PermissionDenied, match="never another host path"):
            mount(flow, f"{host}:/x", "", key=USER)
    mount(flow, f"{data_dir(flow, 'mine')}:/own", "", key=USER)  # its own entry's directory: that entry
    assert storage.mounts(flow.ctx.store, APP)[-1].entry_name == "mine"
    ops.unmount(flow.ctx, APP, f"{data_dir(flow, 'mine')}:/own", "", USER)
    mount(flow, "mine", key=USER)
    mount(flow, "admins", "/shared", readonly=True)  # an admin grants it by mounting it
    ops.unmount(flow.ctx, APP, "admins", "", USER)


def test_a_tenant_app_never_gets_a_custom_path_whoever_mounted_it(flow, tmp_path):
    create(flow, "shared", path=str(tmp_path / "shared"))
    create(flow, "data")
    mount(flow, "shared", "/shared")
    mount(flow, "data")
    rules.grant(flow.ctx.store, APP, USER)  # the app becomes a tenant's after the mounts
    with pytest.raises(PermissionDenied, match="cat is a user key's app: it mounts only entries in the storage root"):
        mount(flow, "shared", "/again")
    options = docker_options.for_phase(flow.ctx.store, APP, "deploy", out=flow.ctx.out, process_type="web")
    assert options.binds == [f"{data_dir(flow, 'data')}:/data"]
    assert f"Not applied to cat, a user key's app: storage shared ({tmp_path / 'shared'})" in flow.output


def test_a_new_key_given_a_removed_key_s_name_owns_none_of_its_entries(flow, monkeypatch):
    monkeypatch.setenv("FINGERPRINT", "SHA256:first")
    create(flow, "mine", USER)
    monkeypatch.setenv("FINGERPRINT", "SHA256:second")
    assert ops.visible_entries(flow.ctx, USER) == []
    with pytest.raises(PermissionDenied, match="storage entry mine is not eve's"):
        ops.destroy(flow.ctx, "mine", True, USER)
    with pytest.raises(AlreadyExists, match='storage entry "mine" already exists'):
        create(flow, "mine", USER)


def test_an_admin_never_adopts_or_mounts_a_user_key_s_entry(flow):
    """A tenant squats a name (an admin app's, say): the admin's create (ensure-directory too),
    legacy mount of its directory and mount of it on an app not granted to it are refused."""
    create(flow, "blog", USER)
    (data_dir(flow, "blog") / "planted").mkdir()
    with pytest.raises(AlreadyExists, match=f'storage entry "blog" was created by user key {USER}'):
        create(flow, "blog")
    for inside in (data_dir(flow, "blog"), data_dir(flow, "blog") / "planted"):
        with pytest.raises(PermissionDenied, match=f"in storage entry blog's directory, user key {USER}'s"):
            mount(flow, f"{inside}:/app/storage", "")
    with pytest.raises(PermissionDenied, match=f"storage entry blog is user key {USER}'s: it mounts only on apps"):
        mount(flow, "blog")
    with pytest.raises(AlreadyExists, match=f"in storage entry blog's directory, user key {USER}'s"):
        create(flow, "other", path=str(data_dir(flow, "blog")))
    assert storage.mounts(flow.ctx.store, APP) == [] and storage.find(flow.ctx.store, "blog").created_by == USER


def test_a_user_key_never_takes_a_directory_already_there_or_an_admin_s_legacy_path(flow):
    """Retained data of a destroyed entry, a directory made by hand or an admin's legacy mount
    of the path: a user key's create is refused; an admin's adopts the directory (trusted)."""
    create(flow, "backups")
    (data_dir(flow, "backups") / "dump.sql").write_text("admin secrets\n")
    ops.destroy(flow.ctx, "backups", False, None)  # Retain: the data stays
    with pytest.raises(AlreadyExists, match=f"a directory is already at {data_dir(flow, 'backups')}; an admin"):
        create(flow, "backups", USER)
    assert storage.find(flow.ctx.store, "backups") is None
    assert create(flow, "backups").created_by == "" and (data_dir(flow, "backups") / "dump.sql").exists()
    mount(flow, f"{data_dir(flow, 'later')}:/later", "")  # an admin's legacy mounts, not made yet
    mount(flow, f"{data_dir(flow, 'outer')}/inner:/inner", "")
    for name in ("later", "outer"):
        with pytest.raises(AlreadyExists, match=f"{data_dir(flow, name)} holds storage entry legacy-"):
            create(flow, name, USER)
        assert not data_dir(flow, name).exists()


def test_a_user_key_s_entry_is_applied_only_while_its_creator_has_the_app(flow):
    rules.grant(flow.ctx.store, APP, USER)
    create(flow, "mine", USER)
    mount(flow, "mine", key=USER)
    assert docker_options.for_phase(flow.ctx.store, APP, "deploy", process_type="web").binds
    rules.revoke(flow.ctx.store, APP, USER)
    rules.grant(flow.ctx.store, APP, "bob")
    assert storage.binds(flow.ctx.store, APP, "deploy", "web", flow.ctx.out) == []
    assert f"Not applied to {APP}, an app not granted to {USER}, whose entry it is: storage mine" in flow.output


@pytest.mark.parametrize(
    ("first", "second", "message"),
    [
        (("/data", "_default_"), ("/data", "web"), "cat has storage entry mine mounted at /data"),
        (("/data", "web"), ("/data", "_default_"), "cat has storage entry mine mounted at /data"),
        (("/a", "_default_"), ("/a/b", "web"), "cat has storage entry mine mounted at /a: /a/b would nest with it"),
        (("/a/b", "web"), ("/a", "web"), "cat has storage entry mine mounted at /a/b: /a would nest with it"),
    ],
)
def test_mounts_at_one_or_nested_container_paths_of_one_process_type_are_refused(flow, first, second, message):
    create(flow, "mine")
    create(flow, "other")
    mount(flow, "mine", first[0], process_type=first[1])
    for name in ("mine", "other"):
        with pytest.raises((AlreadyExists, ValidationError), match=f"^{message}"):
            mount(flow, name, second[0], process_type=second[1])


def test_mounts_of_other_process_types_may_share_a_container_path(flow):
    create(flow, "mine")
    mount(flow, "mine", "/data", process_type="web")
    mount(flow, "mine", "/data", process_type="worker")
    mount(flow, "mine", "/data", process_type="web", readonly=True)  # the same mount, updated
    assert [(m.process_type, m.readonly) for m in storage.mounts(flow.ctx.store, APP)] == [
        ("web", True),
        ("worker", False),
    ]


def test_destroy_host_dir_written_to_again_is_one_line_and_keeps_the_entry(flow):
    create(flow, "mine", USER)
    (data_dir(flow, "mine") / "late").write_text("x")  # the fake helper removes nothing: as if written after
    with pytest.raises(ValidationError, match="could not remove .*; storage entry mine kept"):
        ops.destroy(flow.ctx, "mine", True, USER)
    assert storage.find(flow.ctx.store, "mine") is not None


def test_the_quota_counts_only_this_very_key_s_entries(flow, monkeypatch):
    monkeypatch.setenv("FINGERPRINT", "SHA256:first")
    for number in range(ops.MAX_ENTRIES_PER_USER_KEY):
        create(flow, f"old-{number}", USER)
    monkeypatch.setenv("FINGERPRINT", "SHA256:second")  # ssh-keys:remove, then add: another key
    assert create(flow, "new", USER).creator_fingerprint == "SHA256:second"
