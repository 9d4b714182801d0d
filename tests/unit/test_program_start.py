"""What a command loads before it runs: a command that never talks to Docker or downloads anything
(`apps:list`) starts without requests, urllib3 or urllib.request (about a third of the start-up),
which the Engine client, the checks and the downloads import when first used."""

import os
import subprocess
import sys

LOADED = """
import sys
from minidokku.cli import cli
try:
    cli.main(["apps:list"], prog_name="dokku")
except SystemExit:
    pass
print(sorted(name for name in ("requests", "urllib3", "urllib.request") if name in sys.modules))
"""


def test_a_command_that_never_talks_to_docker_starts_without_an_http_client(tmp_path):
    env = dict(os.environ, DOKKU_ROOT=str(tmp_path))
    env.pop("SSH_ORIGINAL_COMMAND", None)
    done = subprocess.run([sys.executable, "-c", LOADED], env=env, capture_output=True, text=True, timeout=60)
    assert done.stdout.splitlines()[-1] == "[]", done.stderr
