"""A real sshd on a loopback port, with its own config, whose authorized_keys is the one
minidokku manages; and an ssh client key registered with `dokku ssh-keys:add`."""

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
from helpers import free_port, git, wait_for_port


@dataclass
class SshClient:
    port: int
    key: Path
    platform: object

    @property
    def ssh_command(self) -> list:
        return [
            "ssh", "-i", str(self.key), "-p", str(self.port), "-o", "BatchMode=yes", "-o", "IdentitiesOnly=yes",
            "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null", "-o", "LogLevel=ERROR",
        ]  # fmt: skip

    @property
    def remote_prefix(self) -> str:
        return "root@127.0.0.1:"

    def ssh(self, *words: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [*self.ssh_command, "root@127.0.0.1", *words], capture_output=True, text=True, stdin=subprocess.DEVNULL
        )

    def with_key(self, name: str, role: str) -> "SshClient":
        """Another client of the same sshd, with a new key added under name with role."""
        key = self.key.parent / f"{name}_key"
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(key)], check=True)
        self.platform.dokku("ssh-keys:add", "--role", role, name, f"{key}.pub")
        return SshClient(port=self.port, key=key, platform=self.platform)

    def push(self, repo: Path, app: str, branch: str = "main") -> subprocess.CompletedProcess:
        pushed = git(repo, "push", f"{self.remote_prefix}{app}", f"{branch}:{branch}", env=self.git_env(), check=False)
        if pushed.returncode != 0:  # shown with a failing test's captured output (an assert cuts it short)
            sys.stderr.write(f"git push to {app} failed ({pushed.returncode}):\n{pushed.stdout}{pushed.stderr}")
        return pushed

    def git_env(self) -> dict:
        """git's environment for talking to the server over this client's ssh."""
        env = dict(os.environ, GIT_SSH_COMMAND=" ".join(self.ssh_command))
        env.pop("DOKKU_ROOT", None)  # the server side knows its root from the key's forced command
        return env


@pytest.fixture
def ssh_client(platform, tmp_path_factory) -> SshClient:
    directory = tmp_path_factory.mktemp("sshd")
    port = free_port()
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(directory / "host_key")], check=True)
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(directory / "client_key")], check=True)
    config = directory / "sshd_config"
    # SetEnv SHLVL=1: the bash that sshd starts for a session reads root's ~/.bashrc only as the
    # first shell, and a machine's rc printed into the sessions' stderr (pyenv's rehash, racing
    # another session's: "pyenv: cannot rehash")
    config.write_text(
        f"""Port {port}
ListenAddress 127.0.0.1
HostKey {directory}/host_key
PidFile {directory}/sshd.pid
AuthorizedKeysFile {platform.root}/.ssh/authorized_keys
StrictModes no
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
PermitRootLogin forced-commands-only
LogLevel ERROR
SetEnv SHLVL=1
"""
    )
    Path("/run/sshd").mkdir(exist_ok=True)
    log = open(directory / "sshd.log", "w")  # closed with the daemon below
    sshd = subprocess.Popen(["/usr/sbin/sshd", "-D", "-e", "-f", str(config)], stderr=log)
    wait_for_port(port)
    platform.dokku("ssh-keys:add", "tester", str(directory / "client_key.pub"))
    yield SshClient(port=port, key=directory / "client_key", platform=platform)
    sshd.terminate()
    sshd.wait(timeout=10)
    log.close()
