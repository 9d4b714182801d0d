"""What root acts on: files and plugins only root can change (state.read_trusted,
root_only_problem, registry.runnable_by_root). Run as root, as the whole suite is: files owned
by `nobody` stand for what the dokku user could write."""

import os
import pwd
import re
import shutil
import stat
import sys
from pathlib import Path

import pytest

from minidokku.context import Context
from minidokku.errors import PermissionDenied
from minidokku.output import RecordingOutput
from minidokku.plugins import install, registry, triggers
from minidokku.settings import Settings, program_command
from minidokku.state import Store, make_root_only, read_trusted, root_only_problem, root_only_tree_problem

RECORDER = Path(__file__).parents[1] / "plugins" / "recorder"
pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="the rule is root's: run as root")
NOBODY = pwd.getpwnam("nobody").pw_uid


@pytest.fixture
def root(tmp_path, monkeypatch) -> Path:
    """The state root: tmp_path itself (root's, under the sticky /tmp)."""
    monkeypatch.setenv("DOKKU_ROOT", str(tmp_path))
    return tmp_path


def test_root_reads_its_own_file(tmp_path):
    path = tmp_path / "SETTINGS"
    path.write_text("export HTTP_PORT='8080'\n")
    path.chmod(0o644)
    assert read_trusted(path) == "export HTTP_PORT='8080'\n"
    assert read_trusted(tmp_path / "absent") is None


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda path: os.chown(path, NOBODY, NOBODY), "belongs to nobody, not root"),
        (lambda path: path.chmod(0o664), "is writable by others than root (mode 0664)"),
        (lambda path: path.chmod(0o646), "is writable by others than root (mode 0646)"),
        (lambda path: os.link(path, path.parent / "other-name"), "has other hard links"),
    ],
)
def test_root_refuses_a_file_someone_else_could_write(tmp_path, change, message):
    path = tmp_path / "SETTINGS"
    path.write_text("export NGINX_COMMAND='/tmp/evil'\n")
    path.chmod(0o644)
    change(path)
    with pytest.raises(PermissionDenied, match=re.escape(message)) as refused:
        read_trusted(path)
    assert "root does not act on it" in str(refused.value) and "\n" not in str(refused.value)


def test_root_follows_no_link_to_a_file(tmp_path):
    target = tmp_path / "target"
    target.write_text("export NGINX_COMMAND='/tmp/evil'\n")
    (tmp_path / "SETTINGS").symlink_to(target)
    with pytest.raises(PermissionDenied, match="is a symbolic link"):
        read_trusted(tmp_path / "SETTINGS")


def test_settings_the_dokku_user_wrote_are_refused_to_root(root):
    (root / "SETTINGS").write_text("export NGINX_COMMAND='/tmp/evil'\n")
    os.chown(root / "SETTINGS", NOBODY, NOBODY)
    with pytest.raises(PermissionDenied, match=f"{root}/SETTINGS belongs to nobody"):
        Settings.load()
    os.chown(root / "SETTINGS", 0, 0)
    assert Settings.load().nginx_command == ["/tmp/evil"]


def test_a_program_path_someone_else_wrote_is_not_what_root_hands_on(root):
    (root / ".sshcommand").write_text("/tmp/evil\n")
    assert program_command(root) == ["/tmp/evil"]  # root's own file
    os.chown(root / ".sshcommand", NOBODY, NOBODY)
    assert program_command(root) == [os.path.abspath(sys.argv[0])]  # ourselves


def test_a_path_is_root_only_when_every_folder_above_it_is(tmp_path):
    folder = tmp_path / "a" / "b"
    folder.mkdir(parents=True)
    assert root_only_problem(folder) is None  # /tmp above is sticky: others cannot move root's entries
    os.chown(tmp_path / "a", NOBODY, NOBODY)
    assert root_only_problem(folder) == f"{tmp_path / 'a'} belongs to nobody, not root"
    os.chown(tmp_path / "a", 0, 0)
    (tmp_path / "a").chmod(0o777)  # world-writable without the sticky bit: b could be swapped
    assert root_only_problem(folder) == f"{tmp_path / 'a'} is writable by others than root (mode 0777)"
    (tmp_path / "link").symlink_to(folder)
    assert root_only_problem(tmp_path / "link") == f"{tmp_path / 'link'} is a symbolic link"


def test_a_tree_is_root_only_when_everything_in_it_is(tmp_path):
    tree = tmp_path / "tree"
    (tree / "lib").mkdir(parents=True)
    (tree / "lib" / "functions").write_text("x")
    assert root_only_tree_problem(tree) is None
    os.chown(tree / "lib" / "functions", NOBODY, NOBODY)
    assert root_only_tree_problem(tree) == f"{tree}/lib/functions belongs to nobody, not root"
    os.chown(tree / "lib" / "functions", 0, 0)
    outside = tmp_path / "outside"
    outside.write_text("x")
    os.chown(outside, NOBODY, NOBODY)
    (tree / "lib" / "more").symlink_to(outside)
    assert root_only_tree_problem(tree).startswith(f"{tree}/lib/more links to a place others can change")


def test_making_a_tree_root_only_takes_write_and_set_id_bits_away(tmp_path):
    tree = tmp_path / "tree"
    tree.mkdir(mode=0o777)
    (tree / "run").write_text("#!/bin/sh\n")
    (tree / "run").chmod(0o6777)
    (tree / "data").write_text("x")
    (tree / "data").chmod(0o666)
    for path in (tree, tree / "run", tree / "data"):
        os.chown(path, NOBODY, NOBODY)
    make_root_only(tree)
    modes = {path.name: (stat.S_IMODE(path.stat().st_mode), path.stat().st_uid) for path in tree.iterdir()}
    assert modes == {"run": (0o755, 0), "data": (0o644, 0)}
    assert (stat.S_IMODE(tree.stat().st_mode), tree.stat().st_uid) == (0o755, 0)
    assert root_only_tree_problem(tree) is None


def test_plugins_live_in_the_root_only_when_root_alone_can_change_it(tmp_path):
    roots, dokkus = tmp_path / "roots", tmp_path / "dokkus"
    roots.mkdir()
    dokkus.mkdir()
    os.chown(dokkus, NOBODY, NOBODY)  # an install.sh machine: the dokku user owns /home/dokku
    assert registry.plugin_path(Store(roots)) == roots / ".plugins"
    assert registry.plugin_path(Store(dokkus)) == Path("/var/lib/minidokku/plugins")


def test_an_installed_plugin_is_roots_alone_whatever_its_source_said(root, tmp_path):
    source = Path(shutil.copytree(RECORDER, tmp_path / "src" / "recorder"))
    (source / "record").chmod(0o777)
    os.chown(source / "record", NOBODY, NOBODY)
    ctx = Context(Settings.load(), RecordingOutput())
    plugin = install.install(ctx, str(source))
    assert root_only_tree_problem(plugin.folder) is None
    assert stat.S_IMODE((plugin.folder / "record").stat().st_mode) == 0o755


def test_root_runs_no_plugin_someone_else_could_change(root, tmp_path):
    ctx = Context(Settings.load(), RecordingOutput())
    install.install(ctx, str(shutil.copytree(RECORDER, tmp_path / "src" / "recorder")))
    (root / "recorder.log").unlink()
    folder = root / ".plugins" / "recorder"
    os.chown(folder / "record", NOBODY, NOBODY)  # sourced by every trigger's executable
    with pytest.raises(PermissionDenied, match=f"root does not run plugin recorder: {folder}/record belongs to nobody"):
        triggers.fire(ctx, "post-create", "catmeow")
    with pytest.raises(PermissionDenied, match="root does not run plugin recorder"):
        triggers.run_command(ctx, ["recorder:hello"])
    assert not (root / "recorder.log").exists()
    os.chown(folder / "record", 0, 0)
    triggers.fire(ctx, "post-create", "catmeow")
    assert (root / "recorder.log").read_text().startswith("post-create catmeow\t")


def test_root_appends_through_no_link(root, tmp_path):
    target = tmp_path / "elsewhere"
    target.write_text("")
    (root / "EVENTS").symlink_to(target)
    with pytest.raises(PermissionDenied, match="is a symbolic link"):
        Store(root).append_line(None, "EVENTS", "a line")
    assert target.read_text() == ""


def test_root_takes_no_lock_through_a_link(root, tmp_path):
    (root / "catmeow").mkdir()
    (root / "catmeow" / ".lock").symlink_to(tmp_path / "nologin")
    with pytest.raises(PermissionDenied, match="is a symbolic link"):
        with Store(root).lock("catmeow"):
            pass
    assert not (tmp_path / "nologin").exists()
