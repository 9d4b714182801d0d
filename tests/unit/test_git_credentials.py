"""The dokku user's credentials for git:sync, as Dokku manages them: its deploy key
(git:generate-deploy-key, git:public-key) and its netrc entries (git:auth, git:auth-status).
All are admin-only (tests/security/test_user_key.py); the tenant's fetches never use them."""

import stat

import pytest
import test_reports
from click.testing import CliRunner

from minidokku.access import git_remotes
from minidokku.cli import cli
from minidokku.records import netrc

dokku = test_reports.dokku


def test_a_deploy_key_is_made_once_and_its_public_half_shown(dokku, tmp_path):
    code, output = dokku("git:public-key")
    assert code == 1 and output.splitlines() == [
        " !     There is no deploy key associated with the dokku user.",
        " !     Generate an ssh key with the following command:",
        " !       dokku git:generate-deploy-key",
        " !     As an alternative, configure the netrc authentication via the git:auth command",
    ]

    code, output = dokku("git:generate-deploy-key")
    assert code == 0 and "Your public key has been saved in ROOT/.ssh/id_ed25519.pub" in output
    key = tmp_path / ".ssh" / "id_ed25519"
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    assert dokku("git:public-key") == (0, key.with_suffix(".pub").read_text())
    assert dokku("git:public-key")[1].startswith("ssh-ed25519 ")

    assert dokku("git:generate-deploy-key") == (0, " !     A deploy key already exists for this host\n")
    assert git_remotes.deploy_keys(tmp_path) == (key,)


def test_git_auth_sets_replaces_and_removes_a_hosts_credentials(dokku, tmp_path):
    assert dokku("git:auth", "github.com", "bot", "tok1") == (
        0,
        "-----> Setting netrc auth entry for host github.com\n",
    )
    assert dokku("git:auth", "gitlab.com", "bot", "tok2")[0] == 0
    assert dokku("git:auth", "github.com", "bot", "tok3")[0] == 0
    assert netrc.read(tmp_path) == {"github.com": ("bot", "tok3"), "gitlab.com": ("bot", "tok2")}
    assert stat.S_IMODE((tmp_path / ".netrc").stat().st_mode) == 0o600

    assert dokku("git:auth-status", "github.com", "bot", "tok3") == (0, "")
    assert dokku("git:auth-status", "github.com", "bot", "tok1") == (1, "")
    assert dokku("git:auth-status", "example.com") == (0, "")

    assert dokku("git:auth", "github.com") == (0, "-----> Removing netrc auth entry for host github.com\n")
    assert netrc.read(tmp_path) == {"gitlab.com": ("bot", "tok2")}
    assert dokku("git:auth-status", "github.com") == (0, "")
    assert dokku("git:auth-status", "gitlab.com") == (1, "")


def test_the_password_may_come_on_stdin(dokku, tmp_path):
    result = CliRunner().invoke(cli, ["git:auth", "github.com", "bot"], input="piped-token\n")
    assert result.exit_code == 0, result.output
    assert netrc.read(tmp_path) == {"github.com": ("bot", "piped-token")}
    checked = CliRunner().invoke(cli, ["git:auth-status", "github.com", "bot"], input="piped-token\n")
    assert checked.exit_code == 0


@pytest.mark.parametrize(
    ("words", "message"),
    [
        ([], "Please supply a git host"),
        (["github.com", "bot"], "Missing password for netrc auth entry"),
        (["--", "-oProxyCommand=id", "bot", "x"], "invalid host"),
        (["github.com", "bot", "two words"], "the password must be one word"),
        (["github.com", "bot\nmachine", "x"], "the user name must be one word"),
        (["github.com", "bot", 'a"b'], "the password must be one word"),
    ],
)
def test_bad_git_auth_words_are_one_line_and_write_nothing(dokku, tmp_path, words, message):
    code, output = dokku("git:auth", *words)
    assert code == 1 and len(output.splitlines()) == 1 and output.startswith(f" !     {message}"), output
    assert not (tmp_path / ".netrc").exists()


def test_a_netrc_written_by_hand_is_read_and_only_its_entries_kept(tmp_path):
    (tmp_path / ".netrc").write_text("machine a.example\n  login x\n  password y\ndefault login anon password z\n")
    assert netrc.read(tmp_path) == {"a.example": ("x", "y")}
    netrc.set_entry(tmp_path, "b.example", "u", "p")
    assert (tmp_path / ".netrc").read_text() == (
        "machine a.example login x password y\nmachine b.example login u password p\n"
    )
