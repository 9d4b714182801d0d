import pytest

from minidokku.errors import ValidationError
from minidokku.records import scale
from minidokku.state import Store

PROCFILE = {"web": "gunicorn app", "release": "./migrate", "worker": "python worker.py", "clock": "./clock"}


def test_good_pairs_are_read_in_order():
    assert list(scale.parse_pairs(["web=2", "worker=0", "clock=100", "my_type-2=007"]).items()) == [
        ("web", 2),
        ("worker", 0),
        ("clock", 100),
        ("my_type-2", 7),
    ]


def test_no_pairs_is_no_change():
    assert scale.parse_pairs([]) == {}


def test_a_later_pair_for_the_same_type_wins():
    assert scale.parse_pairs(["web=1", "web=3"]) == {"web": 3}


@pytest.mark.parametrize("pair", ["web", "web:2", "web 2", ""])
def test_a_pair_without_an_equals_sign_is_refused(pair):
    with pytest.raises(ValidationError, match="expected PROCESS=COUNT"):
        scale.parse_pairs([pair])


@pytest.mark.parametrize("count", ["", "-1", "two", "1.5", " 2", "+2", "0x2"])
def test_a_count_that_is_not_a_whole_number_is_refused(count):
    with pytest.raises(ValidationError, match="web: the count must be a whole number from 0 to 100"):
        scale.parse_pairs([f"web={count}"])


def test_a_count_above_100_is_refused():
    with pytest.raises(ValidationError, match="from 0 to 100"):
        scale.parse_pairs(["web=101"])


def test_a_count_in_unicode_superscript_digits_is_a_validation_error():
    with pytest.raises(ValidationError):
        scale.parse_pairs(["web=²"])


@pytest.mark.parametrize("count", ["0", "1"])
def test_release_cannot_be_scaled(count):
    with pytest.raises(ValidationError, match="release is run once per deploy, it cannot be scaled"):
        scale.parse_pairs([f"release={count}"])


@pytest.mark.parametrize("name", ["", "we b", "web.1", "wéb", "w" * 64])
def test_invalid_process_type_names_are_refused(name):
    with pytest.raises(ValidationError, match="invalid process type"):
        scale.parse_pairs([f"{name}=1"])


def test_by_default_web_runs_one_container_and_the_others_none():
    assert scale.effective({}, PROCFILE, {}) == {"web": 1, "worker": 0, "clock": 0}


def test_a_procfile_without_web_runs_nothing_by_default():
    assert scale.effective({}, {"worker": "python worker.py"}, {}) == {"worker": 0}


def test_formation_fills_the_types_not_scaled_by_hand():
    assert scale.effective({"web": 3}, PROCFILE, {"worker": 2, "web": 5}) == {"web": 3, "worker": 2, "clock": 0}


def test_a_saved_scale_wins_over_the_formation_even_at_zero():
    assert scale.effective({"web": 0, "worker": 1}, PROCFILE, {"web": 2, "worker": 4}) == {
        "web": 0,
        "worker": 1,
        "clock": 0,
    }


def test_release_never_runs_whatever_the_formation_says():
    assert "release" not in scale.effective({}, PROCFILE, {"release": 1})
    assert "release" not in scale.effective({"release": 1}, PROCFILE, {})


def test_types_not_in_the_procfile_are_left_out():
    assert scale.effective({"old": 2}, {"web": "run"}, {"gone": 1}) == {"web": 1}


def test_the_order_follows_the_procfile_not_the_saved_scale():
    processes = {"worker": "w", "web": "s", "clock": "c"}
    counts = scale.effective({"clock": 1, "web": 2}, processes, {"worker": 1})
    assert list(counts) == ["worker", "web", "clock"]


def make_app(tmp_path, app="catmeow") -> Store:
    (tmp_path / app).mkdir()
    (tmp_path / app / "HEAD").write_text("ref: refs/heads/master\n")
    return Store(tmp_path)


def test_an_app_never_scaled_reads_as_empty(tmp_path):
    assert scale.read(make_app(tmp_path), "catmeow") == {}


def test_scale_round_trips_through_the_store_as_pairs(tmp_path):
    store = make_app(tmp_path)
    scale.write(store, "catmeow", {"web": 2, "worker": 0})
    assert scale.read(store, "catmeow") == {"web": 2, "worker": 0}
    assert (tmp_path / "catmeow" / "SCALE").read_text() == "web=2\nworker=0\n"


def test_writing_an_empty_scale_forgets_every_type(tmp_path):
    store = make_app(tmp_path)
    scale.write(store, "catmeow", {"web": 2})
    scale.write(store, "catmeow", {})
    assert scale.read(store, "catmeow") == {}


def test_an_app_runs_at_most_20_containers_however_they_are_asked_for(tmp_path):
    store = Store(tmp_path)
    scale.write(store, "catmeow", {"web": 10, "worker": 10})
    with pytest.raises(ValidationError, match="21 containers is more than an app may run: at most 20"):
        scale.write(store, "catmeow", {"web": 10, "worker": 11})
    assert scale.read(store, "catmeow") == {"web": 10, "worker": 10}
    with pytest.raises(ValidationError, match="at most 20, every process type together"):
        scale.effective({"web": 20}, PROCFILE, {"clock": 1})  # app.json's formation counts too
