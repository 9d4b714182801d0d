import subprocess

import pytest

from minidokku.errors import ValidationError
from minidokku.records import envfile

AWKWARD_VALUES = {
    "plain": "value",
    "spaces": "a b  c ",
    "single_quotes": "it's 'quoted'",
    "double_quotes": 'say "hi"',
    "equals": "a=b==c",
    "newlines": "line1\nline2\n\n",
    "command_substitution": "$(touch pwned) ${HOME} $HOME",
    "backticks": "`touch pwned`",
    "empty": "",
    "unicode": "héllo wörld ✓ 日本",
    "hash": "#not a comment",
    "backslashes": "C:\\path\\ \\n \\'",
    "shell_ops": "a; b && c | d > e < f & g",
    "big": "x" * 65536,
}


@pytest.mark.parametrize("name", sorted(AWKWARD_VALUES))
def test_values_round_trip_exactly(name):
    env = {"KEY": AWKWARD_VALUES[name]}
    assert envfile.parse(envfile.render(env)) == env


def test_a_whole_env_round_trips():
    env = {f"K_{name.upper()}": value for name, value in AWKWARD_VALUES.items()}
    assert envfile.parse(envfile.render(env)) == env


def test_render_writes_sorted_single_quoted_export_lines():
    assert envfile.render({"B": "2", "A": "x y"}) == "export A='x y'\nexport B='2'\n"


def test_parse_accepts_lines_without_export_and_comments():
    assert envfile.parse("# settings\nA=1\nexport B='two words'  # note\n") == {"A": "1", "B": "two words"}


def test_parse_of_empty_text_is_empty():
    assert envfile.parse("") == {}


def test_parse_refuses_a_word_without_equals():
    with pytest.raises(ValidationError):
        envfile.parse("export A\n")


@pytest.mark.parametrize("name", sorted(AWKWARD_VALUES))
def test_rendered_file_sourced_by_bash_gives_back_the_exact_value(name, tmp_path):
    value = AWKWARD_VALUES[name]
    env_file = tmp_path / "ENV"
    env_file.write_text(envfile.render({"KEY": value, "OTHER": "x"}), encoding="utf-8")
    marker = tmp_path / "pwned"
    result = subprocess.run(
        ["bash", "-c", 'source "$1" && printf %s "$KEY"', "bash", str(env_file)],
        capture_output=True,
        check=True,
        env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)},
        cwd=tmp_path,
    )
    assert result.stdout.decode("utf-8") == value
    assert result.stderr == b""
    assert not marker.exists()


@pytest.mark.parametrize("key", ["A", "_", "a_b", "KEY_2", "_PRIVATE"])
def test_good_keys_are_accepted(key):
    assert envfile.validate_key(key) == key


@pytest.mark.parametrize("key", ["1A", "A-B", "LD PRELOAD", "", "A=B", "A.B", "É"])
def test_bad_keys_are_refused(key):
    with pytest.raises(ValidationError):
        envfile.validate_key(key)


@pytest.mark.parametrize("key", ["1A", "A-B", "LD PRELOAD"])
def test_render_output_with_a_bad_key_is_refused_by_parse(key):
    with pytest.raises(ValidationError):
        envfile.parse(envfile.render({key: "v"}))


def test_assignment_splits_at_the_first_equals():
    assert envfile.parse_assignment("K=a=b") == ("K", "a=b")


def test_assignment_may_have_an_empty_value():
    assert envfile.parse_assignment("K=") == ("K", "")


@pytest.mark.parametrize("pair", ["K", "1A=b", "A-B=c", "=v"])
def test_bad_assignments_are_refused(pair):
    with pytest.raises(ValidationError):
        envfile.parse_assignment(pair)


def test_key_with_trailing_newline_is_refused():
    with pytest.raises(ValidationError):
        envfile.parse_assignment("A\n=b")
