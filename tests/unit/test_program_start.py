"""What a command loads before it runs: a command that never talks to Docker or downloads anything
(`apps:list`) starts without requests, urllib3 or urllib.request (about a third of the start-up),
which the Engine client, the checks and the downloads import when first used; and without the
modules that build, deploy or talk to Docker or nginx, nor the other families' commands (the
`dokku` group loads only the command's own family module, cli/command_table.py); and, on the
server, none of the laptop client but its command-line reader (entry.py asks it about `--remote`)."""

import json
import os
import subprocess
import sys

import pytest

LOADED = """
import json
import sys
from minidokku.entry import main
sys.argv = ARGV
try:
    main()
except SystemExit:
    pass
print(json.dumps(sorted(name for name in NAMES if name in sys.modules)))
"""
HTTP = ("requests", "urllib3", "urllib.request")
# What deploys, builds, runs containers, writes nginx's config, installs plugins or reads
# docker-options (and with them the storage records and hashlib), and three
# other families' commands (git's: an ssh session loads it for a git transfer only).
CORE = (
    "minidokku.ops.deploy",
    "minidokku.ops.app_lifecycle",
    "minidokku.build.builds",
    "minidokku.build.builders",
    "minidokku.engine.client",
    "minidokku.runtime.docker_scheduler",
    "minidokku.routing.nginx",
    "minidokku.plugins.registry",
    "minidokku.records.docker_options",
    "minidokku.cli.app_lifecycle",
    "minidokku.cli.config",
    "minidokku.cli.git",
)
# The laptop client's modules past client/command_line.py: its remotes read git's config and URLs
# with many regexes, a fifth of a command's start-up.
CLIENT = ("minidokku.client.dispatch", "minidokku.client.remotes", "minidokku.access.git_remotes")
# Loaded when first needed: logging when a command traces (cli/tracing.py), secrets when the client
# makes up an app's name (client/command_line.py), letsencrypt's records for apps:report.
WHEN_NEEDED = ("logging", "secrets", "minidokku.records.letsencrypt")
# On the host (`dokku apps:list`), and as an ssh key's forced command (no arguments).
WAYS = {"host": (["dokku", "apps:list"], None), "ssh": (["dokku"], "apps:list")}


def loaded_by_apps_list(tmp_path, way: str, names: tuple[str, ...]) -> list[str]:
    argv, ssh_command = WAYS[way]
    env = dict(os.environ, DOKKU_ROOT=str(tmp_path))
    env.pop("SSH_ORIGINAL_COMMAND", None)
    if ssh_command is not None:
        env["SSH_ORIGINAL_COMMAND"] = ssh_command
    program = f"ARGV = {argv!r}\nNAMES = {names!r}\n{LOADED}"
    done = subprocess.run([sys.executable, "-c", program], env=env, capture_output=True, text=True, timeout=60)
    assert done.stdout.splitlines()[0] == "=====> My Apps", done.stderr  # it ran
    return json.loads(done.stdout.splitlines()[-1])


@pytest.mark.parametrize("way", sorted(WAYS))
def test_a_command_that_never_talks_to_docker_starts_without_an_http_client(tmp_path, way):
    assert loaded_by_apps_list(tmp_path, way, HTTP) == []


@pytest.mark.parametrize("way", sorted(WAYS))
def test_listing_the_apps_loads_nothing_that_deploys_nor_the_other_families(tmp_path, way):
    assert loaded_by_apps_list(tmp_path, way, CORE) == []


@pytest.mark.parametrize("way", sorted(WAYS))
def test_the_server_loads_nothing_of_the_laptop_client(tmp_path, way):
    assert loaded_by_apps_list(tmp_path, way, CLIENT) == []


@pytest.mark.parametrize("way", sorted(WAYS))
def test_listing_the_apps_loads_neither_logging_nor_secrets(tmp_path, way):
    assert loaded_by_apps_list(tmp_path, way, WHEN_NEEDED) == []
