"""storage:* against a user key with an app of its own: it creates entries in the storage root only
(never a PATH), acts on and mounts only the entries it created, on its own apps only; another app's
entry, a host path, the victim app and names or paths that leave their place are refused with one
line that changes nothing. Links planted in an entry's directory (what the app's container could
write there) are never followed by what runs as root: chown, chmod and --destroy-host-dir change
the directory itself, inside a container that sees nothing else of the host."""

import os

import pytest
from security_helpers import VICTIM, assert_refused, key_with_own_app, quoted, state_of
from test_ps_properties_user_key import refused_without_change

from minidokku.ops import storage as ops

USER = "mallory"
OWN = "mallorys"
NOT_HERS = f"storage entry victim-data is not {USER}'s: a user key acts only on the entries it created"


@pytest.fixture(scope="module")
def user_key(platform, ssh_client, victim):
    key = key_with_own_app(ssh_client, USER, OWN)
    platform.dokku("storage:create", "victim-data")
    platform.dokku("storage:mount", VICTIM, "victim-data", "--container-dir", "/data")
    return key


@pytest.mark.parametrize(
    ("words", "message"),
    [
        (("storage:create", "mine", "/etc"), "a custom PATH is for admin keys only"),
        (("storage:create", "victim-data"), 'storage entry "victim-data" already exists'),
        (("storage:create", "../victim"), "must be a DNS-1123 label"),
        (("storage:create", "--", "--chown"), "must be a DNS-1123 label"),
        (("storage:create", "legacy-0123456789"), "must not start with reserved prefix"),
        (("storage:create", "mine", "--chown", "nobody"), "Unsupported chown permissions"),
        (("storage:info", "victim-data"), NOT_HERS),
        (("storage:set", "victim-data", "mode", "0777"), NOT_HERS),
        (("storage:set", "victim-data", "chown", "1000"), NOT_HERS),
        (("storage:destroy", "victim-data", "--force", "--destroy-host-dir"), NOT_HERS),
        (("storage:mount", OWN, "victim-data", "--container-dir", "/steal"), NOT_HERS),
        (("storage:mount", OWN, "/etc:/host"), "never another host path"),
        (("storage:mount", OWN, "/:/host:ro"), "must be an absolute path other than /"),
        (("storage:mount", OWN, "/var/lib/docker:/host"), "never another host path"),
        (("storage:mount", VICTIM, "victim-data", "--container-dir", "/x"), f"App {VICTIM} does not exist"),
        (("storage:unmount", VICTIM, "victim-data"), f"App {VICTIM} does not exist"),
        (("storage:list", VICTIM), f"App {VICTIM} does not exist"),
        (("storage:report",), "storage:report is for admin keys only"),
        (("storage:exec", "victim-data", "--", "cat", "/data/x"), "storage:exec is for admin keys only"),
    ],
)  # fmt: skip
def test_another_s_entry_a_host_path_or_the_victim_is_refused(platform, engine, user_key, words, message):
    refused_without_change(platform, engine, user_key, words, message)


def test_the_legacy_form_of_another_s_entry_path_is_refused(platform, engine, user_key):
    path = platform.root / ".storage-data" / "victim-data"
    refused = "a user key mounts only storage entries it created"
    refused_without_change(platform, engine, user_key, ("storage:mount", OWN, f"{path}:/steal"), refused)


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (("--container-dir", "/"), "must be an absolute path other than /"),
        (("--container-dir", "/app/../../etc"), "without .."),
        (("--container-dir", "relative"), "must be an absolute path"),
        (("--container-dir", "/a:/b"), "must be an absolute path"),
        (("--container-dir", "/x", "--process-type", "../web"), "invalid process type"),
        (("--container-dir", "/x", "--phase", "build"), "attachment phase 'build' is not supported"),
    ],
)
def test_bad_container_dirs_process_types_and_phases_are_refused(platform, engine, user_key, flags, message):
    assert user_key.ssh(quoted("storage:create", "mallory-bad")).returncode in (0,)
    refused_without_change(platform, engine, user_key, ("storage:mount", OWN, "mallory-bad", *flags), message)


def test_the_user_key_sees_and_mounts_its_own_entries_only(platform, user_key):
    assert user_key.ssh(quoted("storage:create", "mallory-data")).returncode == 0
    listed = user_key.ssh(quoted("storage:list-entries")).stdout
    assert "mallory-data" in listed and "victim-data" not in listed
    mounted = user_key.ssh(quoted("storage:mount", OWN, "mallory-data", "--container-dir", "/data"))
    assert mounted.returncode == 0, mounted.stderr
    path = platform.root / ".storage-data" / "mallory-data"
    assert user_key.ssh(quoted("storage:list", OWN)).stdout.splitlines() == [
        f"-----> {OWN} volume bind-mounts:",
        f"       {path}:/data",
    ]
    assert user_key.ssh(quoted("storage:unmount", OWN, "mallory-data")).returncode == 0


def test_links_planted_in_the_entry_are_never_followed_by_chown_chmod_or_removal(platform, user_key, tmp_path):
    assert user_key.ssh(quoted("storage:create", "mallory-links")).returncode == 0
    folder = platform.root / ".storage-data" / "mallory-links"
    target = tmp_path / "host-file"
    target.write_text("host's own\n")
    target.chmod(0o600)
    os.symlink(target, folder / "to-host-file")
    os.symlink(tmp_path, folder / "to-host-dir")

    for words in (("storage:set", "mallory-links", "chown", "1000"), ("storage:set", "mallory-links", "mode", "0777")):
        result = user_key.ssh(quoted(*words))
        assert result.returncode == 0, result.stderr
    assert (folder.stat().st_uid, oct(folder.stat().st_mode & 0o7777)) == (1000, "0o777")
    assert (target.stat().st_uid, oct(target.stat().st_mode & 0o7777)) == (0, "0o600")
    assert oct(tmp_path.stat().st_mode & 0o777) != "0o777"

    destroyed = user_key.ssh(quoted("storage:destroy", "mallory-links", "--force", "--destroy-host-dir"))
    assert destroyed.returncode == 0, destroyed.stderr
    assert not folder.exists() and target.read_text() == "host's own\n"


def test_an_entry_directory_that_became_a_link_is_refused(platform, engine, user_key, tmp_path):
    assert user_key.ssh(quoted("storage:create", "mallory-swap")).returncode == 0
    folder = platform.root / ".storage-data" / "mallory-swap"
    folder.rmdir()
    os.symlink(tmp_path, folder)
    mode = tmp_path.stat().st_mode
    refused_without_change(
        platform, engine, user_key, ("storage:set", "mallory-swap", "mode", "0777"), "a link is never mounted"
    )
    assert tmp_path.stat().st_mode == mode


def test_an_admin_cannot_hand_a_tenant_app_a_custom_path(platform, engine, user_key, tmp_path):
    platform.dokku("storage:create", "admin-path", str(tmp_path))
    before = state_of(platform, engine)
    result = platform.dokku("storage:mount", OWN, "admin-path", "--container-dir", "/x", check=False)
    assert_refused(result, f"{OWN} is a user key's app: it mounts only entries in the storage root")
    assert state_of(platform, engine) == before


def test_a_name_the_user_key_created_is_never_an_admin_app_s(platform, engine, user_key):
    """The key squats a name an admin app would use: the admin's create, legacy mount of its
    directory and mount of it on the admin's app are refused; the admin app gets nothing of it."""
    assert user_key.ssh(quoted("storage:create", "squat-blog")).returncode == 0
    path = platform.root / ".storage-data" / "squat-blog"
    before = state_of(platform, engine)
    for words, message in (
        (("storage:create", "squat-blog"), f'storage entry "squat-blog" was created by user key {USER}'),
        (("storage:ensure-directory", "squat-blog"), f'storage entry "squat-blog" was created by user key {USER}'),
        (("storage:mount", VICTIM, f"{path}:/app/storage"), "in storage entry squat-blog's directory, user key"),
        (("storage:mount", VICTIM, "squat-blog", "--container-dir", "/x"), "it mounts only on apps granted to it"),
    ):
        assert_refused(platform.dokku(*words, check=False), message)
    assert state_of(platform, engine) == before


def test_a_destroyed_entry_s_retained_data_is_never_a_user_key_s(platform, engine, user_key):
    platform.dokku("storage:create", "retained")
    (platform.root / ".storage-data" / "retained" / "dump.sql").write_text("admin's\n")
    platform.dokku("storage:destroy", "retained", "--force")  # Retain: the directory stays
    message = "a directory is already at"
    refused_without_change(platform, engine, user_key, ("storage:create", "retained"), message)


def test_the_user_key_sees_no_host_path_its_app_does_not_get(platform, user_key, tmp_path):
    platform.dokku("apps:create", "mallory-shared")
    platform.dokku("storage:create", "secret-path", str(tmp_path / "customer-x"))
    platform.dokku("storage:mount", "mallory-shared", "secret-path", "--container-dir", "/s")
    platform.dokku("acl:add", "mallory-shared", USER)  # granted after the admin's mount
    for words in (("storage:list", "mallory-shared"), ("storage:report", "mallory-shared")):
        shown = user_key.ssh(quoted(*words))
        assert shown.returncode == 0, shown.stderr
        assert "customer-x" not in shown.stdout and f"{ops.HIDDEN}:/s" in shown.stdout
    assert "customer-x" in platform.dokku("storage:list", "mallory-shared").stdout
