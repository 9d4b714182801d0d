"""An admin's git:sync over ssh, end to end: the dokku user's deploy key (git:generate-deploy-key),
authorized on another minidokku (here the same one, through its sshd on a loopback port), and that
host's key in the dokku user's known_hosts; git:sync --build then fetches an app's repository and
deploys it, and --build-if-changes of the same commit builds nothing."""

import subprocess

from helpers import APPS, git, make_git_repo, wait_until_serving


def test_an_admin_syncs_and_deploys_an_app_from_a_known_ssh_host(platform, ssh_client, tmp_path):
    repo = make_git_repo(tmp_path / "upstream", APPS / "procs")
    assert ssh_client.push(repo, "upstream").returncode == 0
    sha = git(repo, "rev-parse", "HEAD").stdout.strip()
    url = f"ssh://root@127.0.0.1:{ssh_client.port}/upstream"
    platform.dokku("apps:create", "synced")

    unknown = platform.dokku("git:sync", "synced", url, check=False)
    assert unknown.returncode == 1
    assert unknown.stderr == (
        f" !     [127.0.0.1]:{ssh_client.port} is not a known host: run `dokku git:allow-host 127.0.0.1` first\n"
    )

    generated = platform.dokku("git:generate-deploy-key")
    assert "Your identification has been saved" in generated.stdout
    platform.dokku("ssh-keys:add", "deploy-key", str(platform.root / ".ssh" / "id_ed25519.pub"))
    scanned = subprocess.run(
        ["ssh-keyscan", "-p", str(ssh_client.port), "127.0.0.1"], capture_output=True, text=True, check=True
    )
    with (platform.root / ".ssh" / "known_hosts").open("a") as known_hosts:
        known_hosts.write(scanned.stdout)

    synced = platform.dokku("git:sync", "--build", "synced", url, check=False)

    assert synced.returncode == 0, synced.stderr
    assert f"-----> Cloning synced from {url}#" in synced.stdout
    wait_until_serving(platform, "synced.example.test", "hello from web.1")
    assert platform.dokku("git:report", "synced", "--git-sha").stdout == f"{sha}\n"
    assert platform.dokku("apps:report", "synced", "--app-deploy-source-metadata").stdout == f"{url}#{sha}\n"

    again = platform.dokku("git:sync", "--build-if-changes", "synced", url)
    assert again.stdout.splitlines()[-1] == "       Skipping build as no changes were detected"
    assert len(list((platform.root / "synced" / "releases").glob("v*.json"))) == 1
    platform.dokku("apps:destroy", "synced", "--force")
    platform.dokku("apps:destroy", "upstream", "--force")
