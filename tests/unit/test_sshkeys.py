import shutil
import stat
import subprocess
from pathlib import Path

import pytest

from minidokku.access.sshkeys import RESTRICTIONS, AuthorizedKeys, Key, fingerprint, parse_public_key
from minidokku.errors import AlreadyExists, NotFound, ValidationError

pytestmark = pytest.mark.skipif(shutil.which("ssh-keygen") is None, reason="ssh-keygen is not installed")

PROGRAM = ["/usr/local/bin/dokku"]
ROOT = Path("/home/dokku")


@pytest.fixture(scope="module")
def keys(tmp_path_factory) -> dict[str, str]:
    """Two real ed25519 public keys, made once for the module."""
    folder = tmp_path_factory.mktemp("keys")
    made = {}
    for name in ["alice", "bob"]:
        path = folder / name
        subprocess.run(
            ["ssh-keygen", "-t", "ed25519", "-N", "", "-C", f"{name}@laptop", "-f", str(path), "-q"], check=True
        )
        made[name] = (folder / f"{name}.pub").read_text()
    return made


def ssh_keygen_fingerprint(public_key: str) -> str:
    result = subprocess.run(["ssh-keygen", "-l", "-f", "/dev/stdin"], input=public_key, capture_output=True, text=True)
    return result.stdout.split()[1]


def test_fingerprint_is_sha256_as_ssh_keygen_prints_it(keys):
    assert fingerprint(keys["alice"]) == ssh_keygen_fingerprint(keys["alice"])
    assert fingerprint(keys["alice"]).startswith("SHA256:")


def test_add_writes_a_forced_command_entry_with_restrictions_and_mode_0600(tmp_path, keys):
    path = tmp_path / ".ssh" / "authorized_keys"
    key = AuthorizedKeys(path).add("alice", keys["alice"], PROGRAM, ROOT)
    assert key == Key("alice", fingerprint(keys["alice"]))
    [line] = path.read_text().splitlines()
    assert line.startswith(f'command="NAME=alice FINGERPRINT={key.fingerprint} ')
    assert line.startswith('command="NAME=alice FINGERPRINT=SHA256:')
    assert f'DOKKU_ROOT=/home/dokku /usr/local/bin/dokku",{RESTRICTIONS} ' in line
    assert RESTRICTIONS == "restrict,pty"
    assert line.endswith(keys["alice"].strip())
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700


def test_written_entry_is_a_valid_authorized_keys_line(tmp_path, keys):
    path = tmp_path / "authorized_keys"
    AuthorizedKeys(path).add("alice", keys["alice"], PROGRAM, Path("/srv/my dokku"))
    result = subprocess.run(["ssh-keygen", "-l", "-f", str(path)], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert fingerprint(keys["alice"]) in result.stdout


def test_program_words_are_shell_quoted_inside_the_command(tmp_path, keys):
    path = tmp_path / "authorized_keys"
    AuthorizedKeys(path).add("alice", keys["alice"], ["/usr/bin/python3", "-m", "minidokku"], Path("/srv/my dokku"))
    line = path.read_text()
    assert "DOKKU_ROOT='/srv/my dokku' /usr/bin/python3 -m minidokku\"," in line


def test_list_shows_added_keys_and_ignores_foreign_lines(tmp_path, keys):
    path = tmp_path / "authorized_keys"
    path.write_text("# managed by hand\n" + keys["bob"])
    store = AuthorizedKeys(path)
    store.add("alice", keys["alice"], PROGRAM, ROOT)
    assert store.list() == [Key("alice", fingerprint(keys["alice"]))]


def test_list_of_a_missing_file_is_empty(tmp_path):
    assert AuthorizedKeys(tmp_path / "absent").list() == []


def test_duplicate_name_is_refused(tmp_path, keys):
    store = AuthorizedKeys(tmp_path / "authorized_keys")
    store.add("alice", keys["alice"], PROGRAM, ROOT)
    with pytest.raises(AlreadyExists, match="alice"):
        store.add("alice", keys["bob"], PROGRAM, ROOT)


def test_same_key_under_another_name_is_refused(tmp_path, keys):
    store = AuthorizedKeys(tmp_path / "authorized_keys")
    store.add("alice", keys["alice"], PROGRAM, ROOT)
    with pytest.raises(AlreadyExists, match="already added, as alice"):
        store.add("alice2", keys["alice"], PROGRAM, ROOT)
    assert [k.name for k in store.list()] == ["alice"]


def test_remove_keeps_the_other_lines(tmp_path, keys):
    path = tmp_path / "authorized_keys"
    foreign = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIForeignKeyForeignKeyForeignKeyForeignKey0 admin@host"
    path.write_text(foreign + "\n")
    store = AuthorizedKeys(path)
    store.add("alice", keys["alice"], PROGRAM, ROOT)
    store.add("alice2", keys["bob"], PROGRAM, ROOT)
    store.remove("alice")
    lines = path.read_text().splitlines()
    assert lines[0] == foreign
    assert len(lines) == 2
    assert [k.name for k in store.list()] == ["alice2"]


def test_remove_of_an_unknown_name_is_not_found(tmp_path, keys):
    store = AuthorizedKeys(tmp_path / "authorized_keys")
    store.add("alice", keys["alice"], PROGRAM, ROOT)
    with pytest.raises(NotFound):
        store.remove("bob")


@pytest.mark.parametrize(
    "text",
    [
        "",
        "hello",
        "ssh-ed25519 AAAAnotakeyatall",
        "ssh-ed25519 not base64!",
        "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\n-----END OPENSSH PRIVATE KEY-----\n",
    ],
)
def test_garbage_keys_are_refused(tmp_path, text):
    path = tmp_path / "authorized_keys"
    with pytest.raises(ValidationError):
        AuthorizedKeys(path).add("alice", text, PROGRAM, ROOT)
    assert not path.exists()


def test_a_key_carrying_its_own_options_is_refused(tmp_path, keys):
    with pytest.raises(ValidationError):
        AuthorizedKeys(tmp_path / "authorized_keys").add("x", 'command="/bin/sh" ' + keys["alice"], PROGRAM, ROOT)


def test_two_keys_in_one_text_are_refused(tmp_path, keys):
    with pytest.raises(ValidationError):
        AuthorizedKeys(tmp_path / "authorized_keys").add("x", keys["alice"] + keys["bob"], PROGRAM, ROOT)


def test_parse_public_key_skips_blank_and_comment_lines(keys):
    assert parse_public_key("# my key\n\n" + keys["alice"] + "\n") == keys["alice"].strip()


@pytest.mark.parametrize("name", ["a;b", "alice laptop", 'a"b', "a,b", "", "$(id)"])
def test_bad_key_names_are_refused(tmp_path, keys, name):
    path = tmp_path / "authorized_keys"
    with pytest.raises(ValidationError):
        AuthorizedKeys(path).add(name, keys["alice"], PROGRAM, ROOT)
    assert not path.exists()


def test_key_name_with_a_trailing_newline_cannot_split_the_entry(tmp_path, keys):
    path = tmp_path / "authorized_keys"
    with pytest.raises(ValidationError):
        AuthorizedKeys(path).add("alice\n", keys["alice"], PROGRAM, ROOT)
    assert not path.exists()
