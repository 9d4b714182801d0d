"""Dokku's conventions of the command line, without Docker: global flags before the command,
`dokku help` and a family's help, `dokku version`, and the messages and exit codes of an unknown
command or a missing argument, as a script written for Dokku reads them."""

import logging
import re

import click
import pytest
from click.testing import CliRunner

from minidokku import __version__
from minidokku.access import ssh
from minidokku.cli import DOKKU_VERSION, FAMILIES, USAGE, all_commands, cli, serve_ssh, tracing
from minidokku.cli.declare import global_option
from minidokku.cli.inputs import confirm_by_name
from minidokku.records import envfile

NOT_A_COMMAND = [
    " !     `nope:nothing catmeow` is not a dokku command.",
    " !     See `dokku help` for a list of available commands.",
]


@pytest.fixture
def dokku(tmp_path, monkeypatch):
    monkeypatch.setenv("DOKKU_ROOT", str(tmp_path))
    runner = CliRunner()
    return lambda *args, input=None: runner.invoke(
        cli, list(args), input=input, catch_exceptions=False, prog_name="dokku"
    )


@pytest.fixture
def catmeow(dokku, tmp_path):
    assert dokku("apps:create", "catmeow").exit_code == 0
    return tmp_path / "catmeow"


def test_quiet_leaves_out_the_headers_and_keeps_the_values(dokku, catmeow):
    assert dokku("apps:list").stdout == "=====> My Apps\ncatmeow\n"
    assert dokku("--quiet", "apps:list").stdout == "catmeow\n"
    assert dokku("--quiet", "apps:create", "other").stdout == ""
    assert dokku("--quiet", "config:set", "--no-restart", "catmeow", "A=1").stdout == "       A:  (set)\n"


def test_quiet_leaves_out_a_tables_header_lines(dokku, catmeow):
    assert dokku("ps:scale", "catmeow", "web=2").exit_code == 0  # not deployed: only recorded
    shown = "-----> Scaling for catmeow\nproctype: qty\n--------: ---\nweb:  2\n"
    assert dokku("ps:scale", "catmeow").stdout == shown
    assert dokku("--quiet", "ps:scale", "catmeow").stdout == "web:  2\n"


def test_global_force_confirms_a_destroy_as_the_commands_own_force_does(dokku, catmeow):
    refused = dokku("apps:destroy", "catmeow")  # no terminal, no --force: nothing goes
    assert refused.exit_code == 1 and catmeow.is_dir()
    destroyed = dokku("--force", "apps:destroy", "catmeow")
    assert destroyed.exit_code == 0 and not catmeow.exists()


def test_confirm_by_name_needs_no_answer_under_the_global_force():
    @click.group()
    @click.option("--force", is_flag=True)
    def group(force):
        pass

    @group.command()
    def destroy():
        confirm_by_name("app catmeow", "catmeow", "dokku apps:destroy catmeow --force")
        click.echo("destroyed")

    runner = CliRunner()
    assert runner.invoke(group, ["--force", "destroy"]).stdout == "destroyed\n"
    assert "not on a terminal" in runner.invoke(group, ["destroy"]).output


def test_global_app_is_the_commands_app_and_the_words_after_are_its_other_arguments(dokku, catmeow):
    assert dokku("--app", "catmeow", "config:set", "--no-restart", "A=1", "B=two words").exit_code == 0
    assert envfile.parse((catmeow / "ENV").read_text()) == {"A": "1", "B": "two words"}
    assert dokku("--app", "catmeow", "config:get", "B").stdout == "two words\n"
    assert dokku("--app", "catmeow", "config:show").stdout == dokku("config:show", "catmeow").stdout
    assert dokku("--app", "catmeow", "apps:report").stdout == dokku("apps:report", "catmeow").stdout


def test_global_app_is_ignored_by_a_command_without_an_app_as_by_dokkus(dokku, catmeow):
    assert dokku("--app", "catmeow", "apps:list").stdout == "=====> My Apps\ncatmeow\n"


def test_a_positional_app_after_the_global_one_is_an_extra_argument_and_nothing_changes(dokku, catmeow, tmp_path):
    dokku("apps:create", "other")
    result = dokku("--app", "catmeow", "apps:destroy", "--force", "other")
    assert result.exit_code == 1
    assert result.stderr == " !     Got unexpected extra argument (other)\n"
    assert catmeow.is_dir() and (tmp_path / "other").is_dir()


@pytest.mark.parametrize("value", ["--force", "-h", "../catmeow", "Cat", "catmeow;id"])
def test_a_global_app_that_is_not_an_app_name_is_refused_before_any_command_runs(dokku, catmeow, value):
    result = dokku("--app", value, "apps:destroy", "catmeow")
    assert result.exit_code == 1
    assert result.stderr.startswith(f" !     Invalid value for '--app': invalid app name {value!r}")
    assert result.stderr.count("\n") == 1 and catmeow.is_dir()


def test_global_flags_parse_as_such_over_ssh(dokku, catmeow, capsys):
    assert ssh.parse("--quiet --app catmeow config:show") == ssh.CommandRequest(
        ["--quiet", "--app", "catmeow", "config:show"]
    )
    dokku("config:set", "--no-restart", "catmeow", "A=1")
    with pytest.raises(SystemExit) as done:
        serve_ssh("--quiet --app catmeow config:show")
    assert done.value.code == 0 and capsys.readouterr().out == "A:  1\n"


@pytest.mark.parametrize("args", [[], ["help"], ["-h"], ["--help"], ["--quiet", "--help", "apps:destroy", "x"]])
def test_dokku_alone_and_dokku_help_print_dokkus_usage_then_the_families(dokku, args):
    result = dokku(*args)
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    assert lines[0] == USAGE == "Usage: dokku [--quiet|--trace|--force] COMMAND <app> [command-specific-options]"
    assert lines[4] == "Commands:"
    assert re.fullmatch(r" {4}app-json +Manage app.json settings for an app", lines[lines.index("Commands:") + 3])
    assert re.fullmatch(r" {4}apps +Manage apps", lines[lines.index("Commands:") + 4])
    assert any(re.fullmatch(r" {4}version +Print dokku's version \(and minidokku's\)", line) for line in lines)
    assert not any("apps:create" in line for line in lines)


def test_help_all_lists_every_command_with_its_arguments(dokku):
    lines = dokku("help", "--all").stdout.splitlines()
    assert any(re.fullmatch(r" {4}apps:destroy <app> \[--force\] +Destroys an app: .*", line) for line in lines)
    assert any(
        re.fullmatch(r" {4}ps:report \[options\] \[<app>\] +Shows the processes of one app, or of every app", line)
        for line in lines
    )
    assert not any("git-hook" in line for line in lines)  # internal: hidden


@pytest.mark.parametrize("args", [["domains"], ["domains:help"]])
def test_a_family_and_its_help_print_the_familys_help_in_dokkus_form(dokku, args):
    result = dokku(*args)
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    assert lines[:5] == [
        "Usage: dokku domains[:COMMAND]",
        "",
        "Manage domains used by the proxy",
        "",
        "Additional commands:",
    ]
    listed = [line.split()[0] for line in lines[5:]]
    assert listed == sorted(name for name in all_commands() if name.startswith("domains:"))
    assert re.fullmatch(
        r" {4}domains:add <app> <names>\.\.\. +Adds domains to an app \(instead of APP\.GLOBAL\)", lines[5]
    )


def test_apps_alone_lists_the_apps_as_in_dokku_and_apps_help_is_the_familys_help(dokku, catmeow):
    assert dokku("apps").stdout == "=====> My Apps\ncatmeow\n"
    assert dokku("apps:help").stdout.splitlines()[:3] == ["Usage: dokku apps[:COMMAND]", "", "Manage apps"]


def test_every_command_belongs_to_a_described_family_or_is_a_top_level_command(dokku):
    for name, command in all_commands().items():
        family = name.split(":", 1)[0]
        assert family in FAMILIES or (":" not in name and command.help), name


@pytest.mark.parametrize("args", [["version"], ["-v"], ["--version"], ["--quiet", "version"]])
def test_version_prints_the_dokku_version_first_then_minidokkus(dokku, args):
    result = dokku(*args)
    assert result.exit_code == 0
    assert result.stdout == f"dokku version {DOKKU_VERSION} (minidokku {__version__})\n"
    assert re.search(r"\d+\.\d+\.\d+", result.stdout).group() == DOKKU_VERSION


def test_an_unknown_command_is_told_as_dokku_tells_it(dokku):
    result = dokku("nope:nothing", "catmeow")
    assert (result.exit_code, result.stdout, result.stderr.splitlines()) == (1, "", NOT_A_COMMAND)


def test_a_missing_app_is_told_in_dokkus_words(dokku):
    for args in (["config:show"], ["apps:destroy", "--force"], ["config"]):
        result = dokku(*args)
        assert (result.exit_code, result.stderr) == (1, " !     Please specify an app to run the command on\n"), args


def test_another_missing_argument_or_a_bad_option_is_one_line_and_exit_1(dokku, catmeow):
    missing = dokku("ps:set", "catmeow")
    assert missing.exit_code == 1
    assert missing.stderr == " !     Missing argument 'KEY'. Usage: dokku ps:set [OPTIONS] APP KEY [VALUE]\n"
    bad = dokku("--bogus", "apps:list")
    assert (bad.exit_code, bad.stderr) == (1, " !     No such option '--bogus'.\n")


def test_global_option_is_none_outside_the_dokku_group():
    @click.command()
    @click.argument("app")
    def alone(app):
        click.echo(repr(global_option(click.get_current_context(), "app")))

    assert CliRunner().invoke(alone, ["catmeow"]).stdout == "None\n"


def test_trace_prints_each_program_run_with_a_urls_password_masked(dokku, monkeypatch):
    monkeypatch.setattr(tracing, "_tracing", False)  # back off after the test
    result = dokku("--trace", "apps:create", "catmeow")
    assert result.exit_code == 0
    assert "+ git init --quiet --bare --end-of-options " in result.stderr
    assert tracing.masked("git clone https://me:s3cret@example.com/b.git") == "git clone https://***@example.com/b.git"


def test_trace_shows_an_engine_request_without_its_query_string(monkeypatch):
    monkeypatch.setattr(tracing, "_tracing", True)
    args = (
        "http",
        "localhost",
        None,
        "POST",
        "/v1.41/build?t=x&buildargs=%7B%22SECRET%22%3A%22purr%22%7D",
        "HTTP/1.1",
        200,
        None,
    )
    record = logging.LogRecord("urllib3.connectionpool", logging.DEBUG, __file__, 1, tracing.REQUEST_FORMAT, args, None)
    assert tracing._request_line(record) and record.getMessage() == "+ engine POST /v1.41/build 200"
    other = logging.LogRecord(
        "urllib3.connectionpool", logging.DEBUG, __file__, 1, "Starting new HTTP connection", (), None
    )
    assert not tracing._request_line(other)
