"""File arguments typed as root are read by root, before it becomes the state root's owner
(cli/inputs.py read_files_as_caller), wherever the command's words put them."""

import pytest

from minidokku.cli import cli, inputs


@pytest.fixture
def pair(tmp_path):
    crt, key = tmp_path / "server.crt", tmp_path / "server.key"
    crt.write_bytes(b"the chain")
    key.write_bytes(b"the key")
    return str(crt), str(key)


def read_by_root(words: list[str], global_options: tuple[str, ...] = ()) -> dict:
    """What root reads for `dokku GLOBAL_OPTIONS WORDS` (the command, its words)."""
    with cli.make_context("dokku", [*global_options, "version"]) as click_ctx:
        _, command, rest = cli.resolve_command(click_ctx, words)
        assert click_ctx.meta[inputs.WORDS] == rest
        inputs.read_files_as_caller(click_ctx, command)
        return click_ctx.meta.get(inputs.READ_BY_ROOT, {})


def test_the_files_of_certs_add_are_read_with_the_app_given_either_way(pair):
    crt, key = pair
    expected = {crt: b"the chain", key: b"the key"}
    assert read_by_root(["certs:add", "catmeow", crt, key]) == expected
    assert read_by_root(["certs:update", crt, key], global_options=("--app", "catmeow")) == expected


def test_ssh_keys_add_s_file_is_read_but_never_stdin_nor_another_word(pair, tmp_path):
    crt, _ = pair
    assert read_by_root(["ssh-keys:add", "--role", "user", "alice", crt]) == {crt: b"the chain"}
    assert read_by_root(["ssh-keys:add", "alice", "-"]) == {}
    assert read_by_root(["ssh-keys:add", "alice"]) == {}
    assert read_by_root(["config:set", "--global", f"KEY={crt}"]) == {}
    missing = read_by_root(["ssh-keys:add", "alice", str(tmp_path / "gone.pub")])
    assert isinstance(missing[str(tmp_path / "gone.pub")], FileNotFoundError)


def test_at_most_one_byte_more_than_a_file_argument_may_hold_is_read(tmp_path):
    big = tmp_path / "big.pub"
    big.write_bytes(b"x" * (inputs.MAX_FILE_BYTES + 10))
    assert len(read_by_root(["ssh-keys:add", "alice", str(big)])[str(big)]) == inputs.MAX_FILE_BYTES + 1
