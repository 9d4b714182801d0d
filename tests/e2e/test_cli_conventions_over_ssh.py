"""Dokku's command-line conventions over a real sshd, as a script sends them: global flags before
the command in SSH_ORIGINAL_COMMAND, a family's help, the version, an unknown command.

The ssh client reads a word starting with `-` after the host as one of its own options (glibc's
getopt permutes), so a command line starting with a global flag follows `--`, as Dokku's own
client sends it: `ssh dokku@host -- --quiet apps:list`."""

import re

APP = "flags"


def test_quiet_and_app_reach_the_command_over_ssh(platform, ssh_client):
    assert ssh_client.ssh("apps:create", APP).returncode == 0
    quiet = ssh_client.ssh("--", "--quiet", "apps:list")
    assert (quiet.returncode, quiet.stdout) == (0, f"{APP}\n")
    assert ssh_client.ssh("apps:list").stdout == f"=====> My Apps\n{APP}\n"

    assert ssh_client.ssh("--", "--app", APP, "config:set", "--no-restart", "GREETING=purr").returncode == 0
    shown = ssh_client.ssh("--", "--quiet", "--app", APP, "config:show")
    assert (shown.returncode, shown.stdout) == (0, "GREETING:  purr\n")
    assert platform.dokku("config:get", APP, "GREETING").stdout == "purr\n"

    refused = ssh_client.ssh("--", "--app", "--force", "apps:destroy", APP)
    assert refused.returncode == 1 and refused.stderr.startswith(" !     Invalid value for '--app'")
    assert (platform.root / APP).is_dir()
    destroyed = ssh_client.ssh("--", "--force", "apps:destroy", APP)
    assert destroyed.returncode == 0, destroyed.stderr
    assert not (platform.root / APP).exists()


def test_help_version_and_unknown_command_over_ssh(ssh_client):
    family = ssh_client.ssh("apps:help")
    assert family.returncode == 0
    assert family.stdout.splitlines()[:5] == [
        "Usage: dokku apps[:COMMAND]",
        "",
        "Manage apps",
        "",
        "Additional commands:",
    ]
    assert any(re.fullmatch(r" {4}apps:create <app> +Creates an app", line) for line in family.stdout.splitlines())
    assert ssh_client.ssh("domains").stdout.startswith(
        "Usage: dokku domains[:COMMAND]\n\nManage domains used by the proxy\n"
    )
    assert ssh_client.ssh("apps").stdout.startswith("=====> My Apps\n")

    usage = ssh_client.ssh("help")
    assert usage.stdout.startswith("Usage: dokku [--quiet|--trace|--force] COMMAND <app> [command-specific-options]\n")

    for words in (["version"], ["--", "--version"], ["--", "-v"]):
        version = ssh_client.ssh(*words)
        assert version.returncode == 0 and re.fullmatch(
            r"dokku version \d+\.\d+\.\d+ \(minidokku .+\)\n", version.stdout
        )

    unknown = ssh_client.ssh("apps:nothing", APP)
    assert unknown.returncode == 1 and unknown.stdout == ""
    assert unknown.stderr.splitlines() == [
        f" !     `apps:nothing {APP}` is not a dokku command.",
        " !     See `dokku help` for a list of available commands.",
    ]
    missing = ssh_client.ssh("config:show")
    assert (missing.returncode, missing.stderr) == (1, " !     Please specify an app to run the command on\n")
