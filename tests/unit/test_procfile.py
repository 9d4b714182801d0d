import pytest

from minidokku.errors import ValidationError
from minidokku.records import procfile


def test_entries_are_parsed_in_file_order_with_whitespace_trimmed():
    text = "  web:   gunicorn app:app --bind 0.0.0.0:$PORT  \nworker: python worker.py\n"
    assert list(procfile.parse(text).items()) == [
        ("web", "gunicorn app:app --bind 0.0.0.0:$PORT"),
        ("worker", "python worker.py"),
    ]


def test_comment_and_blank_lines_are_skipped():
    text = "# a comment\n\n// another\n   # indented comment\nweb: ./run\n"
    assert procfile.parse(text) == {"web": "./run"}


def test_trailing_comments_are_stripped():
    text = "web: ./run --fast # the web server\nclock: ./clock // the scheduler\n"
    assert procfile.parse(text) == {"web": "./run --fast", "clock": "./clock"}


def test_hash_and_slashes_without_leading_space_stay_in_the_command():
    text = "web: curl http://example.com/#anchor\n"
    assert procfile.parse(text) == {"web": "curl http://example.com/#anchor"}


def test_names_may_use_letters_digits_dash_and_underscore():
    assert procfile.parse("Web_2-x: run") == {"Web_2-x": "run"}


def test_name_of_63_characters_is_accepted():
    name = "w" * 63
    assert procfile.parse(f"{name}: run") == {name: "run"}


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("w" * 64 + ": run\n", id="name-too-long"),
        pytest.param("web: a\nweb: b\n", id="duplicate-name"),
        pytest.param("web:\n", id="empty-command"),
        pytest.param("web:    \n", id="blank-command"),
        pytest.param("<<<<<<< HEAD\nweb: a\n=======\nweb: b\n>>>>>>> branch\n", id="merge-conflict"),
        pytest.param("web: a\njust some words\n", id="stray-line"),
        pytest.param("web.x: a\n", id="dot-in-name"),
        pytest.param("", id="empty-file"),
        pytest.param("# nothing\n\n// here\n", id="comments-only"),
    ],
)
def test_bad_procfiles_are_refused(text):
    with pytest.raises(ValidationError):
        procfile.parse(text)


def test_comment_in_place_of_command_is_refused():
    with pytest.raises(ValidationError):
        procfile.parse("web: # only a comment\n")


def test_only_the_last_trailing_comment_is_stripped_as_procfile_util_does():
    text = "web: sh -c 'echo # not a comment' # the comment\n"
    assert procfile.parse(text) == {"web": "sh -c 'echo # not a comment'"}
