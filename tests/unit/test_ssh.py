import pytest

from minidokku.access import ssh
from minidokku.errors import ValidationError


@pytest.mark.parametrize("repo", ["'catmeow'", "catmeow", "'/catmeow'", "'catmeow.git'", "'/catmeow.git'"])
def test_git_push_names_the_app(repo):
    assert ssh.parse(f"git-receive-pack {repo}") == ssh.GitRequest("git-receive-pack", "catmeow")


def test_git_fetch_names_the_app():
    assert ssh.parse("git-upload-pack 'my-app-2'") == ssh.GitRequest("git-upload-pack", "my-app-2")


@pytest.mark.parametrize(
    "repo",
    [
        "'../../etc'",
        "'app; rm -rf /'",
        "'/home/dokku/catmeow'",
        "'/catmeow/.git'",
        "'CatMeow'",
        "''",
        "'.git'",
        "'-catmeow'",
        "'git'",
    ],
)
def test_git_request_for_a_bad_repo_path_is_refused(repo):
    with pytest.raises(ValidationError):
        ssh.parse(f"git-receive-pack {repo}")


@pytest.mark.parametrize("command", ["git-receive-pack", "git-receive-pack 'a' 'b'"])
def test_git_request_needs_exactly_one_repo(command):
    with pytest.raises(ValidationError):
        ssh.parse(command)


def test_a_subcommand_becomes_a_command_request():
    assert ssh.parse("apps:list") == ssh.CommandRequest(["apps:list"])


def test_quoted_words_stay_whole():
    request = ssh.parse("""config:set app "A=b c" 'B=it''s' C=\\$(id)""")
    assert request == ssh.CommandRequest(["config:set", "app", "A=b c", "B=its", "C=$(id)"])


def test_shell_metacharacters_are_plain_words():
    assert ssh.parse("apps:list; bash") == ssh.CommandRequest(["apps:list;", "bash"])


def test_bash_is_only_a_word_for_the_cli_to_refuse():
    assert ssh.parse("bash") == ssh.CommandRequest(["bash"])


@pytest.mark.parametrize("command", ["", "   ", "config:set app 'A=b", 'config:set app "A=b'])
def test_empty_or_unbalanced_commands_are_refused(command):
    with pytest.raises(ValidationError):
        ssh.parse(command)


def test_repo_name_with_a_trailing_newline_is_refused():
    with pytest.raises(ValidationError):
        ssh.parse("git-receive-pack 'catmeow\n'")
