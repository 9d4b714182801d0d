import multiprocessing
import os
import stat
import time
from pathlib import Path

import pytest

from minidokku.errors import Locked
from minidokku.state import Store, atomic_write, file_lock


def test_atomic_write_creates_parents_and_leaves_no_temp_files(tmp_path):
    path = tmp_path / "app" / "ENV"
    atomic_write(path, "one\n")
    atomic_write(path, "two\n")
    assert path.read_text() == "two\n"
    assert os.listdir(path.parent) == ["ENV"]


def test_atomic_write_sets_the_mode(tmp_path):
    path = tmp_path / "secret"
    atomic_write(path, "x", mode=0o600)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    atomic_write(path, "y")
    assert stat.S_IMODE(path.stat().st_mode) == 0o644


def test_atomic_write_of_a_bad_text_keeps_the_old_file_and_no_temp(tmp_path):
    path = tmp_path / "file"
    atomic_write(path, "old")
    with pytest.raises(UnicodeEncodeError):
        atomic_write(path, "\udcff")
    assert path.read_text() == "old"
    assert os.listdir(tmp_path) == ["file"]


def test_env_round_trips_through_the_store_with_mode_0600(tmp_path):
    store = Store(tmp_path)
    env = {"DATABASE_URL": "postgres://u:p@h/db", "MULTI": "a\nb", "QUOTE": "it's", "EMPTY": ""}
    store.write_env("app", env)
    assert store.read_env("app") == env
    assert stat.S_IMODE((tmp_path / "app" / "ENV").stat().st_mode) == 0o600


def test_missing_env_reads_as_empty(tmp_path):
    assert Store(tmp_path).read_env("app") == {}


def test_lines_are_stripped_and_blank_lines_dropped(tmp_path):
    store = Store(tmp_path)
    store.write_lines(None, "VHOST", ["a.example.com", "b.example.com"])
    (tmp_path / "VHOST").write_text((tmp_path / "VHOST").read_text() + "\n   \n  c.example.com  \n")
    assert store.read_lines(None, "VHOST") == ["a.example.com", "b.example.com", "c.example.com"]
    assert store.read_lines("app", "VHOST") == []


def test_list_apps_lists_only_dirs_holding_head(tmp_path):
    for name in ["beta", "alpha", ".hidden", "nohead"]:
        (tmp_path / name).mkdir()
    for name in ["beta", "alpha", ".hidden"]:
        (tmp_path / name / "HEAD").write_text("ref: refs/heads/master\n")
    (tmp_path / "VHOST").write_text("example.com\n")
    (tmp_path / "odd").mkdir()
    (tmp_path / "odd" / "HEAD").mkdir()
    store = Store(tmp_path)
    assert store.list_apps() == ["alpha", "beta"]
    assert store.app_exists("alpha")
    assert not store.app_exists("nohead")


def test_list_apps_of_a_missing_root_is_empty(tmp_path):
    assert Store(tmp_path / "absent").list_apps() == []


def _try_lock(root: str, app: str, results) -> None:
    try:
        with Store(Path(root)).lock(app):
            results.put("acquired")
    except Locked as error:
        results.put(f"locked: {error}")


def _lock_in_child(root, app: str) -> str:
    context = multiprocessing.get_context("spawn")
    results = context.Queue()
    child = context.Process(target=_try_lock, args=(str(root), app, results))
    child.start()
    child.join(timeout=20)
    assert child.exitcode == 0
    return results.get(timeout=5)


def test_a_held_app_lock_fails_at_once_in_another_process(tmp_path):
    store = Store(tmp_path)
    with store.lock("catmeow"):
        outcome = _lock_in_child(tmp_path, "catmeow")
    assert outcome.startswith("locked: catmeow is locked")


def test_locks_of_different_apps_do_not_conflict(tmp_path):
    with Store(tmp_path).lock("catmeow"):
        assert _lock_in_child(tmp_path, "other") == "acquired"


def test_app_lock_is_released_after_the_block(tmp_path):
    store = Store(tmp_path)
    with store.lock("catmeow"):
        pass
    assert _lock_in_child(tmp_path, "catmeow") == "acquired"


def test_app_lock_is_released_when_the_block_raises(tmp_path):
    store = Store(tmp_path)
    with pytest.raises(RuntimeError), store.lock("catmeow"):
        raise RuntimeError("boom")
    with store.lock("catmeow"):
        pass


def _wait_for_lock(path: str, results) -> None:
    results.put("waiting")
    with file_lock(Path(path)):
        results.put("acquired")


def test_lock_without_busy_message_waits_for_the_holder(tmp_path):
    context = multiprocessing.get_context("spawn")
    results = context.Queue()
    path = tmp_path / ".nginx.lock"
    with file_lock(path):
        child = context.Process(target=_wait_for_lock, args=(str(path), results))
        child.start()
        assert results.get(timeout=20) == "waiting"
        time.sleep(0.2)
        assert results.empty()
    assert results.get(timeout=20) == "acquired"
    child.join(timeout=20)


@pytest.mark.skipif(os.geteuid() != 0, reason="only root can give a file away")
def test_a_line_root_appends_first_leaves_the_file_to_the_roots_owner(tmp_path):
    """stack:build runs as root and records an event; the dokku user must append after it."""
    os.chown(tmp_path, 4242, 4243)
    Store(tmp_path).append_line(None, "EVENTS", "first")
    owner = (tmp_path / "EVENTS").stat()
    assert (owner.st_uid, owner.st_gid) == (4242, 4243)
    assert (tmp_path / "EVENTS").read_text() == "first\n"
