"""What git:sync may fetch from (access/git_remotes.py): https for everyone, ssh to a known host
for a trusted caller; for a tenant app, https to public addresses only, pinned to the address
checked. Every refusal is one line; nothing is looked up or fetched for a refused form."""

import re
import subprocess
from pathlib import Path

import pytest

from minidokku.access import git_remotes
from minidokku.errors import NotFound, ValidationError


@pytest.fixture
def root(tmp_path) -> Path:
    return tmp_path


def known(root: Path, host: str) -> None:
    """Gives known_hosts a real host key line for host."""
    key = root / "hostkey"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(key)], check=True)
    public = key.with_suffix(".pub").read_text().split()
    (root / ".ssh").mkdir(exist_ok=True)
    with (root / ".ssh" / "known_hosts").open("a") as known_hosts:
        known_hosts.write(f"{host} {public[0]} {public[1]}\n")


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("", "Missing GIT_REMOTE parameter"),
        ("file:///home/dokku/victim", "is not a repository git:sync fetches"),
        ("/home/dokku/victim", "is not a repository git:sync fetches"),
        ("../victim", "is not a repository git:sync fetches"),
        ("ext::sh -c id", "holds spaces or control characters"),
        ("ext::sh", "git transport helpers (ext::, fd::) never run"),
        ("fd::3", "git transport helpers (ext::, fd::) never run"),
        ("--upload-pack=touch /tmp/owned", "holds spaces"),
        ("--upload-pack=id", "starts with a dash"),
        ("-oProxyCommand=id", "starts with a dash"),
        ("http://example.com/app.git", "is not a repository git:sync fetches"),
        ("git://example.com/app.git", "is not a repository git:sync fetches"),
        ("https://example.com/app.git?upload-pack=x", "is not a plain https://HOST[:PORT]/PATH URL"),
        ("https://example.com\\@127.0.0.1/app.git", "is not a plain https://HOST[:PORT]/PATH URL"),
        ("https://example.com/app.git\nhttps://evil", "control characters"),
        ("https://user:pa%0Ass@example.com/app.git", "credentials hold a control character"),
        ("https://user%0d:x@example.com/app.git", "credentials hold a control character"),
        ("ssh://git@-oProxyCommand=id/app.git", "invalid host"),
        ("git@example.com:app.git", "example.com is not a known host: run `dokku git:allow-host example.com` first"),
        ("ssh://git@example.com:2222/app.git", "[example.com]:2222 is not a known host"),
    ],
)
def test_forms_git_sync_never_fetches_from(root, url, message):
    with pytest.raises(ValidationError, match=re.escape(message)) as refused:
        git_remotes.remote(url, tenant=False, root=root)
    assert "\n" not in str(refused.value)


@pytest.mark.parametrize(
    ("url", "why"),
    [
        ("https://127.0.0.1/victim.git", "a loopback address"),
        ("https://localhost/victim.git", "localhost is 127.0.0.1, a loopback address"),
        ("https://[::1]/victim.git", "a loopback address"),
        ("https://169.254.169.254/latest/meta-data/", "a link-local address"),
        ("https://[fe80::1]/victim.git", "a link-local address"),
        ("https://10.1.2.3/victim.git", "a private address"),
        ("https://192.168.1.1/victim.git", "a private address"),
        ("https://[fd00::1]/victim.git", "a private address"),
        ("https://224.0.0.1/victim.git", "not an address of a host"),
        ("https://[::ffff:127.0.0.1]/victim.git", "(as 127.0.0.1)"),
        ("https://2130706433/victim.git", "2130706433 is 127.0.0.1, a loopback address"),
    ],
)
def test_a_tenants_https_url_must_reach_public_addresses_only(root, url, why):
    with pytest.raises(ValidationError, match=re.escape(why)):
        git_remotes.remote(url, tenant=True, root=root)


@pytest.mark.parametrize("url", ["git@example.com:app.git", "ssh://git@example.com/app.git"])
def test_a_tenant_never_fetches_over_ssh_even_from_a_known_host(root, url):
    known(root, "example.com")
    with pytest.raises(ValidationError, match="is not allowed for a tenant app: only https:// repositories"):
        git_remotes.remote(url, tenant=True, root=root)


def test_a_tenants_url_is_pinned_to_the_checked_address(root):
    remote = git_remotes.remote("https://tok:secret@1.1.1.1:8443/team/app.git", tenant=True, root=root)
    assert (remote.protocol, remote.pinned.address, remote.pinned.port) == ("https", "1.1.1.1", 8443)
    assert remote.shown == "https://***@1.1.1.1:8443/team/app.git"
    assert remote.known_hosts is None


def test_an_admins_https_url_is_not_looked_up(root):
    remote = git_remotes.remote("https://git.internal.example/team/app.git", tenant=False, root=root)
    assert (remote.protocol, remote.pinned, remote.shown) == (
        "https",
        None,
        "https://git.internal.example/team/app.git",
    )


@pytest.mark.parametrize(
    ("url", "host"),
    [
        ("git@example.com:team/app.git", "example.com"),
        ("ssh://git@example.com:2222/team/app.git", "[example.com]:2222"),
    ],
)
def test_an_admin_fetches_over_ssh_from_a_known_host_with_the_deploy_key(root, url, host):
    known(root, host)
    (root / ".ssh" / "id_ed25519").write_text("a private key")
    remote = git_remotes.remote(url, tenant=False, root=root)
    assert (remote.protocol, remote.known_hosts) == ("ssh", root / ".ssh" / "known_hosts")
    assert remote.deploy_keys == (root / ".ssh" / "id_ed25519",)


@pytest.mark.parametrize("host", ["-oProxyCommand=id", "a b", "host/path", "a..b", "", "[::1]", "host:22"])
def test_allow_host_takes_a_host_name_only(root, host):
    with pytest.raises(ValidationError, match="invalid host"):
        git_remotes.allow_host(root / ".ssh" / "known_hosts", host)
    assert not (root / ".ssh").exists()


def test_allow_host_adds_each_scanned_key_once(root, tmp_path, monkeypatch):
    """ssh-keyscan stands in for a host on port 22: a script printing two host key lines."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    scan = bin_dir / "ssh-keyscan"
    keys = 'echo "git.example ssh-ed25519 AAAAkey1"\necho "git.example ssh-rsa AAAAkey2"'
    scan.write_text(f'#!/bin/sh\necho "# $*"\n{keys}\n')
    scan.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}:/usr/bin:/bin")
    known_hosts = git_remotes.known_hosts_file(root)

    assert git_remotes.allow_host(known_hosts, "git.example") == 2
    assert git_remotes.allow_host(known_hosts, "git.example") == 0
    assert known_hosts.read_text() == "git.example ssh-ed25519 AAAAkey1\ngit.example ssh-rsa AAAAkey2\n"


def test_allow_host_says_when_a_host_offers_no_key(root, tmp_path, monkeypatch):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "ssh-keyscan").write_text("#!/bin/sh\nexit 1\n")
    (bin_dir / "ssh-keyscan").chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}:/usr/bin:/bin")
    with pytest.raises(NotFound, match="nowhere.example offered no ssh host key"):
        git_remotes.allow_host(git_remotes.known_hosts_file(root), "nowhere.example")
    assert not git_remotes.known_hosts_file(root).exists()
