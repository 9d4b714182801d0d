"""The laptop client run as a program in a git checkout, with no server: its `remote:*`
commands, the remote it refuses before anything runs, the ssh it starts (an `ssh` of the test's
on PATH records its argv and answers with an exit code, which comes back as the client's), and
shell completion as bash, zsh and fish ask for it. The real sshd: tests/e2e/test_client_over_ssh.py."""

import os
import shlex
import subprocess
from pathlib import Path

import pytest
from helpers import dokku_program, git


@pytest.fixture
def laptop(tmp_path) -> dict:
    """A laptop's environment: no minidokku root here, an `ssh` that records its argv (one per
    line) and exits 7."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    recorder = bin_dir / "ssh"
    recorder.write_text(f'#!/bin/sh\nprintf "%s\\n" "$@" > {tmp_path}/ssh-argv\nexit 7\n')
    recorder.chmod(0o755)
    env = dict(os.environ, DOKKU_ROOT=str(tmp_path / "no-server-here"), PATH=f"{bin_dir}:{os.environ['PATH']}")
    for name in ("SSH_ORIGINAL_COMMAND", "DOKKU_HOST", "DOKKU_PORT", "_DOKKU_COMPLETE"):
        env.pop(name, None)
    return env


@pytest.fixture
def checkout(tmp_path) -> Path:
    repo = tmp_path / "catmeow"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    return repo


def dokku(repo: Path, env: dict, *args: str, **extra_env: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [dokku_program(), *args], cwd=repo, env=dict(env, **extra_env), capture_output=True, text=True, check=False
    )


def ssh_argv(tmp_path: Path) -> list[str]:
    return (tmp_path / "ssh-argv").read_text().splitlines()


def test_a_command_goes_over_ssh_with_the_remotes_app_and_its_exit_code_comes_back(laptop, checkout, tmp_path):
    git(checkout, "remote", "add", "dokku", "ssh://dokku@example.com:2222/catmeow")
    done = dokku(checkout, laptop, "config:set", "GREETING=hello world")
    assert done.returncode == 7
    assert ssh_argv(tmp_path) == [
        "-o", "LogLevel=ERROR", "-p", "2222", "-l", "dokku", "--", "example.com",
        "--app", "catmeow", "config:set", "'GREETING=hello world'",
    ]  # fmt: skip


def test_another_remote_and_dokku_host_are_taken_as_dokkus_client_takes_them(laptop, checkout, tmp_path):
    git(checkout, "remote", "add", "dokku", "dokku@example.com:catmeow")
    git(checkout, "remote", "add", "staging", "dokku@staging.example.com:catmeow-staging")
    dokku(checkout, laptop, "--remote", "staging", "logs", "-t")
    assert ssh_argv(tmp_path)[-6:] == ["--", "staging.example.com", "--app", "catmeow-staging", "logs", "-t"]
    dokku(checkout, laptop, "apps:report", DOKKU_PORT="2200")
    assert ssh_argv(tmp_path)[:9] == ["-o", "LogLevel=ERROR", "-p", "2200", "-l", "dokku", "--", "example.com", "--app"]
    dokku(checkout, laptop, "apps:list", DOKKU_HOST="root@10.0.0.5", DOKKU_PORT="2200")
    assert ssh_argv(tmp_path) == ["-o", "LogLevel=ERROR", "-p", "2200", "-l", "root", "--", "10.0.0.5", "apps:list"]


@pytest.mark.parametrize(
    "url",
    ["dokku@-oProxyCommand=touch${IFS}PWNED:catmeow", "ssh://-oProxyCommand=touch${IFS}PWNED@host/catmeow"],
)
def test_a_hostile_remote_is_refused_before_ssh_runs(laptop, checkout, tmp_path, url):
    pwned = tmp_path / "pwned"
    git(checkout, "remote", "add", "dokku", url.replace("PWNED", str(pwned)))
    done = dokku(checkout, laptop, "apps:list")
    assert done.returncode == 1
    assert done.stderr.startswith(" !     ") and done.stderr.count("\n") == 1
    assert not (tmp_path / "ssh-argv").exists() and not pwned.exists()


def test_without_a_server_the_client_says_how_to_name_one(laptop, checkout):
    done = dokku(checkout, laptop, "apps:list")
    assert done.returncode == 20
    assert "DOKKU_HOST" in done.stderr and "git remote add dokku" in done.stderr


def test_the_remote_commands_keep_the_remotes_and_the_chosen_one_in_the_repository(laptop, checkout, tmp_path):
    refused = dokku(checkout, laptop, "remote:add", "staging", "dokku@-oProxyCommand=x:app")
    assert refused.returncode == 1 and git(checkout, "remote").stdout == ""
    assert dokku(checkout, laptop, "remote:add", "staging", "ssh://dokku@example.com:2222/cat").returncode == 0
    assert dokku(checkout, laptop, "remote").stdout == "dokku\n"
    assert dokku(checkout, laptop, "remote:set", "staging").returncode == 0
    assert dokku(checkout, laptop, "remote").stdout == "staging\n"
    shown = dokku(checkout, laptop, "remote:show").stdout
    assert "dokku-app: cat\n" in shown and "dokku-port: 2222\n" in shown
    assert dokku(checkout, laptop, "remote:list").stdout == "staging\n"
    assert dokku(checkout, laptop, "remote:remove", "staging").returncode == 0
    assert dokku(checkout, laptop, "remote").stdout == "dokku\n"  # forgotten with the remote
    assert not (tmp_path / "ssh-argv").exists()  # none of them reached a server


def test_bash_completes_command_names_with_colons_from_the_command_table(laptop, tmp_path):
    program = Path(dokku_program())
    script = f"""
        source <(_DOKKU_COMPLETE=bash_source {shlex.quote(str(program))})
        for line in "dokku apps:cr" "dokku --quiet config:" "dokku remote:se"; do
            COMP_LINE="$line"; COMP_POINT=${{#line}}; COMPREPLY=()
            _dokku_completion dokku
            echo "$line => ${{COMPREPLY[*]}}"
        done
    """
    env = dict(laptop, PATH=f"{program.parent}:{laptop['PATH']}")
    done = subprocess.run(["bash", "-c", script], env=env, capture_output=True, text=True, check=True)
    lines = done.stdout.splitlines()
    assert lines[0] == "dokku apps:cr => create"  # bash replaces what follows the last colon
    assert lines[1].startswith("dokku --quiet config: => ") and "set" in lines[1].split() and "get" in lines[1].split()
    assert lines[2] == "dokku remote:se => set"


@pytest.mark.parametrize(
    "shell, words, cword",
    [("zsh", "dokku ps:rest", "1"), ("fish", "dokku ps:rest", "ps:rest")],
)
def test_zsh_and_fish_complete_command_names(laptop, shell, words, cword):
    env = dict(laptop, _DOKKU_COMPLETE=f"{shell}_complete", COMP_WORDS=words, COMP_CWORD=cword)
    done = subprocess.run([dokku_program()], env=env, capture_output=True, text=True, check=True)
    assert "ps:restart" in done.stdout.replace("\\:", ":") and "ps:restore" in done.stdout.replace("\\:", ":")
    assert "ps:scale" not in done.stdout.replace("\\:", ":")


def test_every_completion_script_is_given(laptop):
    for shell in ("bash", "zsh", "fish"):
        env = dict(laptop, _DOKKU_COMPLETE=f"{shell}_source")
        done = subprocess.run([dokku_program()], env=env, capture_output=True, text=True, check=True)
        assert "_DOKKU_COMPLETE" in done.stdout


def test_an_ssh_keys_session_is_the_server_whatever_dokku_host_it_was_given(laptop, tmp_path):
    server = dict(laptop, DOKKU_ROOT=str(tmp_path), SSH_ORIGINAL_COMMAND="apps:list", DOKKU_HOST="elsewhere")
    done = subprocess.run([dokku_program()], env=server, capture_output=True, text=True, check=False)
    assert done.stdout == "=====> My Apps\n"
    assert not (tmp_path / "ssh-argv").exists()


def test_a_keys_shell_request_is_the_server_and_drops_what_would_make_it_a_client(laptop, tmp_path):
    """`ssh dokku@HOST` asks for a shell: sshd runs the forced command with no SSH_ORIGINAL_COMMAND,
    but with the NAME and FINGERPRINT of the key's entry."""
    server = dict(laptop, DOKKU_ROOT=str(tmp_path), NAME="alice", FINGERPRINT="SHA256:abc")
    done = subprocess.run(
        [dokku_program()], env=dict(server, DOKKU_HOST="internal-db.lan", DOKKU_PORT="5432"),
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert done.returncode == 0 and "Usage: dokku" in done.stdout
    assert not (tmp_path / "ssh-argv").exists()
    session = dict(server, SSH_ORIGINAL_COMMAND="apps:list", _DOKKU_COMPLETE="bash_source")
    done = subprocess.run([dokku_program()], env=session, capture_output=True, text=True, check=False)
    assert done.stdout == "=====> My Apps\n"  # its command, not completion


def test_on_a_server_only_a_named_remote_or_host_makes_the_client(laptop, tmp_path):
    server = dict(laptop, DOKKU_ROOT=str(tmp_path), DOKKU_HOST="")
    done = subprocess.run([dokku_program(), "apps:list"], env=server, capture_output=True, text=True, check=False)
    assert done.stdout == "=====> My Apps\n"
    done = subprocess.run([dokku_program(), "--app"], env=server, capture_output=True, text=True, check=False)
    assert done.returncode != 0 and "DOKKU_HOST" not in done.stderr  # the server's error, not the client's help
    assert not (tmp_path / "ssh-argv").exists()


def test_an_empty_app_or_remote_is_refused_not_taken_for_the_checkouts(laptop, checkout, tmp_path):
    git(checkout, "remote", "add", "dokku", "dokku@example.com:catmeow")
    for argv in (["--app", "", "apps:destroy", "--force"], ["--app=", "config"], ["--remote", "", "apps:list"]):
        done = dokku(checkout, laptop, *argv)
        assert done.returncode == 1 and done.stderr.startswith(" !     ") and done.stderr.count("\n") == 1
    assert not (tmp_path / "ssh-argv").exists()
    assert git(checkout, "remote").stdout == "dokku\n"


def test_remote_show_prints_no_host_but_a_checked_one(laptop, checkout, tmp_path):
    git(checkout, "remote", "add", "dokku", "dokku@[::1%\x1b[2J\x1b[31mFAKE\nline2]:catmeow")
    done = dokku(checkout, laptop, "remote:show")
    assert done.returncode == 1 and done.stdout == "" and "\x1b" not in done.stderr
    assert done.stderr.count("\n") == 1


def test_commands_go_where_git_pushes(laptop, checkout, tmp_path):
    git(checkout, "remote", "add", "dokku", "dokku@fetch.example.com:catmeow")
    git(checkout, "remote", "set-url", "--push", "dokku", "dokku@push.example.com:catmeow")
    dokku(checkout, laptop, "apps:report")
    assert ssh_argv(tmp_path)[4:6] == ["--", "push.example.com"]


def answering_ssh(tmp_path: Path, code: int) -> None:
    (tmp_path / "bin" / "ssh").write_text(f'#!/bin/sh\nprintf "%s\\n" "$@" > {tmp_path}/ssh-argv\nexit {code}\n')


def test_destroying_the_app_forgets_its_remote_as_the_chosen_one(laptop, checkout, tmp_path):
    answering_ssh(tmp_path, 0)
    git(checkout, "remote", "add", "prod", "dokku@example.com:catmeow")
    assert dokku(checkout, laptop, "remote:set", "prod").returncode == 0
    done = dokku(checkout, laptop, "apps:destroy", "catmeow", "--force")
    assert done.returncode == 0 and "Git remote prod removed" in done.stdout
    assert git(checkout, "remote").stdout == ""
    assert dokku(checkout, laptop, "remote").stdout == "dokku\n"


def test_exit_code_255_is_told_as_ssh_or_the_remote_command(laptop, checkout, tmp_path):
    answering_ssh(tmp_path, 255)
    git(checkout, "remote", "add", "dokku", "dokku@example.com:catmeow")
    done = dokku(checkout, laptop, "run", "sh", "-c", "exit 255")
    assert done.returncode == 255 and "ssh or the remote command exited 255" in done.stderr


def test_version_and_help_are_answered_by_the_client(laptop, checkout, tmp_path):
    for flag in ("--version", "-v"):
        done = dokku(checkout, laptop, flag)
        assert done.returncode == 0 and done.stdout.startswith("dokku version ")
    for flag in ("-h", "--help"):
        done = dokku(checkout, laptop, flag)
        assert done.returncode == 0 and done.stdout.startswith("Usage: dokku") and "remote:show" in done.stdout
    assert not (tmp_path / "ssh-argv").exists()


def test_a_hostile_chosen_remote_name_never_reaches_git_or_ssh(laptop, checkout, tmp_path):
    git(checkout, "remote", "add", "dokku", "dokku@example.com:catmeow")
    git(checkout, "config", "dokku.remote", f"--upload-pack=touch {tmp_path}/pwned")
    done = dokku(checkout, laptop, "config:show")
    assert done.returncode == 1 and done.stderr.startswith(" !     invalid git remote name")
    assert not (tmp_path / "ssh-argv").exists() and not (tmp_path / "pwned").exists()
    unset = dokku(checkout, laptop, "remote:unset")  # the way out, with the client
    assert unset.returncode == 0 and dokku(checkout, laptop, "remote").stdout == "dokku\n"
