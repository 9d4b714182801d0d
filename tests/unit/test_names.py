import pytest

from minidokku.errors import ValidationError
from minidokku.records import names


@pytest.mark.parametrize("name", ["catmeow", "a", "0app", "my-app-2", "a" * 48, "app-"])
def test_good_app_names_are_returned_unchanged(name):
    assert names.validate_app_name(name) == name


@pytest.mark.parametrize(
    "name",
    ["", "-app", "App", "my_app", "my.app", "my app", "a/b", "..", "a" * 49, "café"],
)
def test_bad_app_names_are_refused(name):
    with pytest.raises(ValidationError):
        names.validate_app_name(name)


@pytest.mark.parametrize("name", sorted(names.RESERVED_APP_NAMES))
def test_reserved_app_names_are_refused(name):
    with pytest.raises(ValidationError, match="reserved"):
        names.validate_app_name(name)


@pytest.mark.parametrize("name", ["alice", "alice@laptop", "ci.bot_2", "A-1", "k" * 64])
def test_good_key_names_are_accepted(name):
    assert names.validate_key_name(name) == name


@pytest.mark.parametrize("name", ["", "a;b", "alice laptop", '"x', "-alice", ".hidden", "k" * 65, "a/b", "a=b"])
def test_bad_key_names_are_refused(name):
    with pytest.raises(ValidationError):
        names.validate_key_name(name)


def test_app_name_with_trailing_newline_is_refused():
    with pytest.raises(ValidationError):
        names.validate_app_name("catmeow\n")


def test_key_name_with_trailing_newline_is_refused():
    with pytest.raises(ValidationError):
        names.validate_key_name("alice\n")


def test_whole_numbers_are_ascii_digits_of_bounded_length():
    assert names.is_whole_number("0") and names.is_whole_number("9" * 18)
    assert not names.is_whole_number("²")
    assert not names.is_whole_number("9" * 5000)  # int() refuses it past 4300 digits; sleep() past 2**63
    assert not names.is_whole_number("")
