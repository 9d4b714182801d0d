"""Internal commands (git's hook, a deploy's retirement) are never run over ssh, for any key;
on the host, as git's hook calls them (with their command as arguments), they still run, even
with the SSH_ORIGINAL_COMMAND that the hook inherits from the push's ssh session."""

import io
import sys

import pytest
from click.testing import CliRunner

from minidokku import cli as cli_module
from minidokku.cli import all_commands, cli
from minidokku.cli.declare import Runs

INTERNAL = {"cron:daemon", "git-hook", "ps:retire", "sample:deploy"}


@pytest.fixture
def root(tmp_path, monkeypatch):
    monkeypatch.setenv("DOKKU_ROOT", str(tmp_path))
    monkeypatch.delenv("NAME", raising=False)
    CliRunner().invoke(cli, ["apps:create", "catmeow"], catch_exceptions=False)
    return tmp_path


def run_main(monkeypatch, capsys, argv: list[str], original_command: str, stdin: bytes = b"") -> tuple[int, str]:
    """minidokku's entry point as a process would run it: (exit code, stderr)."""
    monkeypatch.setattr(sys, "argv", ["dokku", *argv])
    monkeypatch.setenv("SSH_ORIGINAL_COMMAND", original_command)
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(stdin)))
    with pytest.raises(SystemExit) as exited:
        cli_module.main()
    return exited.value.code, capsys.readouterr().err


def test_the_internal_commands_are_declared_internal_and_hidden():
    assert {name for name, command in all_commands().items() if command.runs is Runs.INTERNAL} == INTERNAL
    assert {name for name, command in all_commands().items() if command.hidden} == INTERNAL


@pytest.mark.parametrize(
    "request_line",
    [
        "git-hook catmeow",
        "ps:retire --wait 0 0123456789ab",
        "-- git-hook catmeow",
        "--help git-hook catmeow",
    ],
)
@pytest.mark.parametrize("key", [None, "some-key"])
def test_an_internal_command_over_ssh_is_refused_for_every_key(root, monkeypatch, capsys, request_line, key):
    if key:
        monkeypatch.setenv("NAME", key)  # whatever its role: the rule comes before the rights check
    forged = f"{'0' * 40} --output={root}/written refs/heads/main\n".encode()
    code, err = run_main(monkeypatch, capsys, [], request_line, forged)
    if request_line.startswith("--help"):  # click answers the help and runs nothing
        assert code == 0
    else:
        name = request_line.removeprefix("-- ").split()[0]
        assert code == 1
        assert err == f" !     {name} is internal to minidokku: it is never run over ssh\n"
        assert (root / "EVENTS").read_text().splitlines()[-1].split("\t")[4] == "denied"
    assert not (root / "written").exists()


def test_git_s_hook_runs_with_the_ssh_session_s_environment(root, monkeypatch, capsys):
    """As git calls it during a push: argv `git-hook APP`, SSH_ORIGINAL_COMMAND inherited."""
    update = f"{'0' * 40} {'1' * 40} refs/tags/v1\n".encode()  # a tag lands, nothing to deploy
    code, err = run_main(monkeypatch, capsys, ["git-hook", "catmeow"], "git-receive-pack 'catmeow'", update)
    assert (code, err) == (0, "")


def test_git_s_hook_refuses_a_forged_line_in_one_line(root, monkeypatch, capsys):
    forged = f"{'0' * 40} --output={root}/written refs/heads/main\n".encode()
    code, err = run_main(monkeypatch, capsys, ["git-hook", "catmeow"], "git-receive-pack 'catmeow'", forged)
    assert code == 1
    shown = f"--output={root}/written"[:80]  # a long value is cut (records/names.py)
    assert err == f" !     invalid object id {shown!r}: expected 40 hexadecimal digits\n"
    assert not (root / "written").exists()
