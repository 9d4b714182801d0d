import json
import stat
from dataclasses import asdict

import pytest

from minidokku.build.builders import BuildResult
from minidokku.errors import NotFound, ValidationError
from minidokku.records import releases
from minidokku.records.appjson import AppJson
from minidokku.records.releases import Release
from minidokku.state import Store

APP = "catmeow"
APP_JSON = AppJson(
    formation={"web": 2, "worker": 1},
    healthchecks={"web": [{"type": "startup", "path": "/", "content": "Welcome", "attempts": 4}]},
    predeploy="python manage.py migrate",
    postdeploy="./notify",
)
CHECKS_FILE = "WAIT=2\n/health ok\n"


def make_store(tmp_path) -> Store:
    (tmp_path / APP).mkdir()
    (tmp_path / APP / "HEAD").write_text("ref: refs/heads/master\n")
    return Store(tmp_path)


def deploy(store: Store, sha="a" * 40, image="sha256:one", config=None, app_json=APP_JSON) -> Release:
    release = releases.prepare(
        store,
        APP,
        sha=sha,
        image_id=image,
        description=f"Deploy {sha[:7]}",
        config=config if config is not None else {"SECRET": "s3cr3t"},
        build=built({"web": "gunicorn app", "worker": "python worker.py"}, app_json, CHECKS_FILE),
    )
    releases.save(store, APP, release)
    return release


def built(processes: dict, app_json: AppJson = APP_JSON, checks_file: str = "") -> BuildResult:
    return BuildResult(image_id="sha256:built", processes=processes, app_json=app_json, checks_file=checks_file)


def release(number: int, image: str) -> Release:
    return Release(number=number, sha="a" * 40, image_id=image, processes={}, description="", created=0.0)


def test_an_app_without_releases_has_no_history_and_no_current(tmp_path):
    store = make_store(tmp_path)
    assert releases.history(store, APP) == []
    assert releases.current(store, APP) is None


def test_prepare_numbers_the_releases_one_two_three(tmp_path):
    store = make_store(tmp_path)
    assert [deploy(store).number for _ in range(3)] == [1, 2, 3]
    assert [r.name for r in releases.history(store, APP)] == ["v1", "v2", "v3"]


def test_a_prepared_release_is_not_saved(tmp_path):
    store = make_store(tmp_path)
    deploy(store)
    unsaved = releases.prepare(store, APP, "b" * 40, "sha256:two", "Deploy", {}, built({"web": "run"}, AppJson()))
    assert unsaved.number == 2
    assert releases.current(store, APP).number == 1


def test_a_prepared_release_does_not_share_the_callers_dicts(tmp_path):
    store = make_store(tmp_path)
    processes, config = {"web": "run"}, {"A": "1"}
    prepared = releases.prepare(store, APP, "b" * 40, "sha256:two", "Deploy", config, built(processes, AppJson()))
    processes["worker"] = "x"
    config["A"] = "2"
    assert (prepared.processes, prepared.config) == ({"web": "run"}, {"A": "1"})


def test_a_saved_release_round_trips_with_its_config_app_json_and_checks_file(tmp_path):
    store = make_store(tmp_path)
    saved = deploy(store, config={"SECRET": 'it\'s "quoted"\nand multi-line', "EMPTY": ""})
    [loaded] = releases.history(store, APP)
    assert loaded == saved
    assert releases.current(store, APP) == saved
    assert loaded.settings == APP_JSON
    assert loaded.checks_file == CHECKS_FILE
    assert list(loaded.processes) == ["web", "worker"]


def test_history_is_ordered_by_number_not_by_file_name(tmp_path):
    store = make_store(tmp_path)
    for _ in range(11):
        deploy(store)
    assert [r.number for r in releases.history(store, APP)] == list(range(1, 12))
    assert releases.current(store, APP).number == 11


def test_the_saved_file_is_readable_by_its_owner_only(tmp_path):
    store = make_store(tmp_path)
    deploy(store)
    assert stat.S_IMODE((tmp_path / APP / "releases" / "v1.json").stat().st_mode) == 0o600


@pytest.mark.parametrize("name", ["v2", "2", "v02"])
def test_find_takes_vn_or_n(tmp_path, name):
    store = make_store(tmp_path)
    for _ in range(3):
        deploy(store)
    assert releases.find(store, APP, name).number == 2


def test_find_of_a_missing_release_is_not_found(tmp_path):
    store = make_store(tmp_path)
    deploy(store)
    with pytest.raises(NotFound, match="catmeow has no release v9"):
        releases.find(store, APP, "v9")


@pytest.mark.parametrize("name", ["x", "", "v", "vv2", "V2", "v-1", "v1.0", "latest"])
def test_find_of_a_malformed_name_is_a_validation_error(tmp_path, name):
    with pytest.raises(ValidationError, match="expected a release like v3"):
        releases.find(make_store(tmp_path), APP, name)


def test_find_of_a_name_in_unicode_superscript_digits_is_a_validation_error(tmp_path):
    with pytest.raises(ValidationError):
        releases.find(make_store(tmp_path), APP, "v²")


def test_a_successor_keeps_the_image_processes_and_app_json_with_the_new_config(tmp_path):
    store = make_store(tmp_path)
    base = deploy(store)
    deploy(store, sha="b" * 40, image="sha256:two", app_json=AppJson())
    following = releases.successor(store, APP, base, "Rollback to v1", {"NEW": "value"})
    assert following.number == 3
    assert (following.sha, following.image_id, following.processes) == (base.sha, base.image_id, base.processes)
    assert following.settings == APP_JSON
    assert following.checks_file == CHECKS_FILE
    assert (following.description, following.config) == ("Rollback to v1", {"NEW": "value"})


def test_beyond_kept_is_the_releases_older_than_the_last_keep():
    history = [release(n, f"sha256:{n}") for n in range(1, 6)]
    assert [r.number for r in releases.beyond_kept(history, 2)] == [1, 2, 3]
    assert releases.beyond_kept(history, 5) == []
    assert releases.beyond_kept(history, 50) == []
    assert releases.beyond_kept([], 3) == []


@pytest.mark.parametrize("keep", [0, -3])
def test_beyond_kept_always_keeps_the_current_release(keep):
    history = [release(n, f"sha256:{n}") for n in range(1, 4)]
    assert [r.number for r in releases.beyond_kept(history, keep)] == [1, 2]


def test_images_beyond_are_those_only_old_releases_use():
    history = [
        release(1, "sha256:a"),
        release(2, "sha256:b"),
        release(3, "sha256:a"),  # a config change of v1's image
        release(4, "sha256:c"),
        release(5, "sha256:a"),  # a rollback to v1's image
        release(6, "sha256:d"),
    ]
    assert releases.images_beyond(history, 2) == {"sha256:b", "sha256:c"}


def test_keep_larger_than_the_history_prunes_no_image():
    history = [release(1, "sha256:a"), release(2, "sha256:b")]
    assert releases.images_beyond(history, 10) == set()


def test_release_files_written_before_config_app_json_and_checks_file_still_load(tmp_path):
    store = make_store(tmp_path)
    old = {
        "number": 1,
        "sha": "a" * 40,
        "image_id": "sha256:old",
        "processes": {"web": "run"},
        "description": "Deploy aaaaaaa",
        "created": 1700000000.5,
    }
    (tmp_path / APP / "releases").mkdir()
    (tmp_path / APP / "releases" / "v1.json").write_text(json.dumps(old))
    [loaded] = releases.history(store, APP)
    assert (loaded.config, loaded.app_json, loaded.checks_file) == ({}, {}, "")
    assert loaded.settings == AppJson()
    assert releases.prepare(store, APP, "b" * 40, "sha256:new", "", {}, built({}, AppJson())).number == 2


def test_a_release_saved_from_an_old_one_writes_the_new_fields(tmp_path):
    store = make_store(tmp_path)
    old = release(1, "sha256:old")
    following = releases.successor(store, APP, old, "Config change", {"A": "1"})
    releases.save(store, APP, following)
    saved = json.loads((tmp_path / APP / "releases" / "v1.json").read_text())
    assert saved == asdict(following)
    assert (saved["config"], saved["app_json"], saved["checks_file"]) == ({"A": "1"}, asdict(AppJson()), "")


# -- recording a release that serves: a crash between its two writes --------------------------
def test_a_whole_record_saves_the_release_and_env_and_leaves_no_journal(tmp_path):
    store = make_store(tmp_path)
    release = releases.prepare(store, APP, "a" * 40, "sha256:one", "Deploy", {"K": "new"}, built({"web": "w"}))
    releases.begin_record(store, APP, release)
    releases.end_record(store, APP)
    assert releases.current(store, APP) == release
    assert store.read_env(APP) == {"K": "new"}
    assert releases.unfinished_record(store, APP) is None


def test_a_record_killed_after_the_release_was_saved_is_handed_to_the_next_command(tmp_path):
    store = make_store(tmp_path)
    store.write_env(APP, {"K": "old"})
    release = releases.prepare(store, APP, "a" * 40, "sha256:one", "Deploy", {"K": "new"}, built({"web": "w"}))
    store.write(APP, releases.RECORDING, "v1\n")  # the journal, then the release; ENV never written
    releases.save(store, APP, release)
    assert releases.unfinished_record(store, APP) == release


def test_a_journal_of_a_release_never_saved_is_dropped_and_env_kept(tmp_path):
    store = make_store(tmp_path)
    store.write_env(APP, {"K": "old"})
    store.write(APP, releases.RECORDING, "v1\n")
    assert releases.unfinished_record(store, APP) is None
    assert store.read(APP, releases.RECORDING) is None
    assert store.read_env(APP) == {"K": "old"}
    assert releases.history(store, APP) == []
