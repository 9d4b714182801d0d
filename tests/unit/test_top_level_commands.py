"""Dokku's top-level and admin commands without Docker: trace:on|off, events:list|on|off."""

import pytest
from click.testing import CliRunner

from minidokku.cli import cli, tracing


@pytest.fixture
def dokku(tmp_path, monkeypatch):
    monkeypatch.setenv("DOKKU_ROOT", str(tmp_path))
    monkeypatch.delenv("NAME", raising=False)
    runner = CliRunner()
    return lambda *args: runner.invoke(cli, list(args), catch_exceptions=False)


def test_trace_on_makes_every_later_command_trace_until_off(dokku, tmp_path, monkeypatch):
    monkeypatch.setattr(tracing, "_tracing", False)
    assert dokku("trace:on").stdout == "-----> Enabling trace mode\n"
    traced = dokku("apps:create", "catmeow")
    assert traced.exit_code == 0 and "+ git init --quiet --bare" in traced.stderr
    assert dokku("trace:off").stdout == "-----> Disabling trace mode\n"
    monkeypatch.setattr(tracing, "_tracing", False)  # each command is its own process, off by default
    quiet = dokku("apps:create", "dogwoof")
    assert quiet.exit_code == 0 and "+ " not in quiet.stderr
    assert not (tmp_path / tracing.SWITCH).exists()


def test_events_on_logs_each_trigger_point_with_its_arguments_until_off(dokku, tmp_path):
    assert dokku("events:list").stderr == " !     Events logger disabled\n"
    assert dokku("events:on").stdout == "Enabling dokku events logger\n"
    listed = dokku("events:list").stdout.splitlines()
    assert listed[0] == "=====> Events currently logged" and {"post-create", "post-deploy"} <= set(listed[1:])
    assert "commands" not in listed
    dokku("apps:create", "catmeow")
    dokku("config:set", "--no-restart", "catmeow", "TOKEN=s3cret")
    assert dokku("events:off").stdout == "Disabling dokku events logger\n"
    dokku("apps:create", "dogwoof")
    trail = [line.split("\t")[2:] for line in dokku("events").stdout.splitlines()]
    assert ["trigger:post-create", "-", "invoked", "catmeow"] in trail
    assert ["trigger:post-config-update", "-", "invoked", "catmeow set TOKEN"] in trail
    assert ["trigger:post-create", "-", "invoked", "dogwoof"] not in trail
    assert ["apps:create", "dogwoof", "ok"] in trail  # the commands' lines are always written
    assert "s3cret" not in (tmp_path / "EVENTS").read_text()
