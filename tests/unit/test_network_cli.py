"""network:* as a script sees it (cli/network.py): Dokku's output, json and exit codes."""

import json

import test_ps_run_logs_cli as ps_cli
from click.testing import CliRunner

from minidokku.cli import cli

# The CLI on the fake scheduler with catmeow made, as the ps and run commands' tests have it.
scheduler, dokku = ps_cli.scheduler, ps_cli.dokku


def test_create_list_info_and_exists_in_dokkus_words(dokku, scheduler):
    scheduler.create_network("bridge", {})
    assert dokku("network:create", "backend").output == "-----> Creating network backend\n"
    assert dokku("network:list").output == "=====> Networks\nbackend\nbridge\n"
    assert dokku("--quiet", "network:list", "--dokku-managed").output == "backend\n"
    listed = json.loads(dokku("network:list", "--format", "json").output)
    assert [(n["Name"], n["DokkuManaged"]) for n in listed] == [("backend", True), ("bridge", False)]
    assert list(listed[0]) == [
        "CreatedAt",
        "DokkuManaged",
        "Driver",
        "ID",
        "Internal",
        "IPv6",
        "Labels",
        "Name",
        "Scope",
    ]
    info = dokku("network:info", "backend").output.splitlines()
    assert info[0] == "=====> backend network information"
    assert info[2:] == [
        "       Name:           backend",
        "       Driver:         bridge",
        "       Scope:          local",
        "       Dokku managed:  true",
    ]
    assert json.loads(dokku("network:info", "backend", "--format", "json").output) == listed[0]
    assert (dokku("network:exists", "backend").exit_code, dokku("network:exists", "backend").output) == (
        0,
        "-----> Network exists\n",
    )


def test_a_missing_network_or_a_bad_format_is_one_line_and_exit_1(dokku):
    for args in (("network:exists", "nope"), ("network:info", "nope"), ("network:destroy", "nope", "--force")):
        result = dokku(*args)
        assert (result.exit_code, result.output) == (1, " !     Network does not exist\n")
    result = dokku("network:info", "nope", "--format", "yaml")
    assert (result.exit_code, result.output) == (1, " !     Invalid format specified, use either text or json\n")
    result = dokku("network:exists", "--network=host")
    assert result.exit_code != 0 and "Traceback" not in result.output


def test_destroy_asks_unless_forced(dokku):
    dokku("network:create", "backend")
    asked = dokku("network:destroy", "backend")
    assert asked.exit_code == 1 and "network:destroy backend --force" in asked.output
    assert dokku("--force", "network:destroy", "backend").output == "-----> Destroying network backend\n"
    assert dokku("network:exists", "backend").exit_code == 1


def test_set_per_app_and_global_and_the_report(dokku):
    dokku("network:create", "backend")
    dokku("network:create", "cache")
    set_ = dokku("network:set", "catmeow", "attach-post-create", "backend", "cache")
    assert set_.output.splitlines() == [
        "-----> Setting attach-post-create to backend,cache",
        "       It takes effect on the next deploy or `dokku ps:restart catmeow` (now: dokku network:rebuild catmeow)",
    ]
    assert dokku("network:set", "--global", "tld", "svc.local").output == "-----> Setting tld to svc.local\n"
    report = dokku("network:report", "catmeow").output.splitlines()
    assert report[0] == "=====> catmeow network information"
    assert "       Network attach post create:           backend,cache" in report
    assert "       Network computed bind all interfaces: false" in report
    assert "       Network computed tld:                 svc.local" in report
    assert len(report) == 17
    assert dokku("network:report", "catmeow", "--network-computed-tld").output == "svc.local\n"
    keys = json.loads(dokku("network:report", "catmeow", "--format", "json").output)
    assert (keys["attach-post-create"], keys["network-attach-post-create"], keys["global-tld"]) == (
        "backend,cache",
        "backend,cache",
        "svc.local",
    )
    assert dokku("network:report", "--global", "--network-global-tld").output == "svc.local\n"
    bad_flag = dokku("network:report", "catmeow", "--network-static-web-listener")
    assert bad_flag.exit_code == 1 and "Invalid flag passed, valid flags:" in bad_flag.output
    assert dokku("network:set", "catmeow", "attach-post-create").output.startswith(
        "-----> Unsetting attach-post-create\n"
    )


def test_set_refuses_bad_words_in_one_line(dokku):
    for args, message in (
        (("network:set", "catmeow", "attach-post-create", "host"), "Invalid network name specified for attach: host"),
        (("network:set", "catmeow", "attach-post-create", "nope"), "Network nope does not exist"),
        (("network:set", "catmeow", "static-web-listener", "x"), "Invalid property specified"),
        (("network:set", "catmeow"), "No property specified"),
        (("network:set",), "Please specify an app to run the command on"),
        (("network:set", "catmeow", "tld", "a b"), "invalid tld"),
    ):
        result = dokku(*args)
        assert result.exit_code == 1, args
        assert result.output.startswith(f" !     {message}"), (args, result.output)
        assert len(result.output.splitlines()) == 1


def test_rebuildall_without_apps_says_so(tmp_path, monkeypatch, scheduler):
    monkeypatch.setenv("DOKKU_ROOT", str(tmp_path))
    result = CliRunner().invoke(cli, ["network:rebuildall"], catch_exceptions=False)
    assert (result.exit_code, result.output) == (0, " !     You haven't deployed any applications yet\n")


def test_bind_all_interfaces_true_warns_that_the_port_skips_nginx(dokku):
    set_ = dokku("network:set", "catmeow", "bind-all-interfaces", "true")
    assert set_.exit_code == 0
    assert (
        "       Warning: catmeow's web port is then reached by every container and from outside, not only through "
        "nginx\n" in set_.output
    )
    assert "Warning" in dokku("network:set", "--global", "bind-all-interfaces", "true").output
    assert "Warning" not in dokku("network:set", "catmeow", "bind-all-interfaces", "false").output
