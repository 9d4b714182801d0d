"""tarball.tree_entries packs a fetched folder (a buildpack) for a build container: a symbolic link
travels as a link, to be resolved inside the container, so nothing of this machine is read
through it."""

import io
import os
import tarfile
from pathlib import Path

import pytest
from helpers import git

from minidokku.build import gitrepo, tarball

SECRET = "export DATABASE_URL='postgres://victim:s3cret@db/victim'\n"


@pytest.fixture
def host_secret(tmp_path) -> Path:
    """Another app's ENV on this machine, and its folder."""
    victim = tmp_path / "home" / "victim"
    victim.mkdir(parents=True)
    (victim / "ENV").write_text(SECRET)
    return victim / "ENV"


@pytest.fixture
def fetched(tmp_path, host_secret) -> Path:
    """A buildpack as an attacker would publish it: links to the victim's files and folder."""
    folder = tmp_path / "buildpack"
    (folder / "bin").mkdir(parents=True)
    (folder / "bin" / "detect").write_text("#!/bin/sh\necho Evil\n")
    (folder / "bin" / "compile").symlink_to(host_secret)
    (folder / "bin" / "release").symlink_to("../../home/victim/ENV")
    (folder / "bin" / "helper").symlink_to("detect")
    (folder / "victim").symlink_to(host_secret.parent, target_is_directory=True)
    (folder / "dangling").symlink_to("/nowhere/at/all")
    (folder / "lib").mkdir()
    (folder / "lib" / "tool.sh").write_text("echo tool\n")
    os.mkfifo(folder / "lib" / "pipe")
    return folder


def members_of(entries: tarball.Entries) -> dict[str, tarfile.TarInfo]:
    with tarfile.open(fileobj=io.BytesIO(tarball.pack(entries))) as tar:
        return {member.name: member for member in tar.getmembers()}


def test_links_are_packed_as_links_and_no_host_file_is_read(fetched):
    entries = tarball.tree_entries(fetched, "tmp/buildpacks/01-evil/")

    assert all(SECRET.encode() not in content for content, _mode in entries.values())
    assert SECRET.encode() not in tarball.pack(entries)
    members = members_of(entries)
    links = {name: m.linkname for name, m in members.items() if m.issym()}
    assert links == {
        "tmp/buildpacks/01-evil/bin/compile": str(fetched.parent / "home" / "victim" / "ENV"),
        "tmp/buildpacks/01-evil/bin/release": "../../home/victim/ENV",
        "tmp/buildpacks/01-evil/bin/helper": "detect",
        "tmp/buildpacks/01-evil/victim": str(fetched.parent / "home" / "victim"),
        "tmp/buildpacks/01-evil/dangling": "/nowhere/at/all",
    }


def test_a_linked_folder_is_not_entered(fetched):
    names = set(tarball.tree_entries(fetched, "bp/"))
    assert not any(name.startswith("bp/victim/") for name in names)


def test_files_keep_their_content_and_bin_files_become_executable(fetched):
    entries = tarball.tree_entries(fetched, "bp/")
    assert entries["bp/bin/detect"] == (b"#!/bin/sh\necho Evil\n", 0o755)
    assert entries["bp/lib/tool.sh"] == (b"echo tool\n", 0o644)


def test_a_fifo_is_left_out_rather_than_read(fetched):
    assert "bp/lib/pipe" not in tarball.tree_entries(fetched, "bp/")


def test_python_caches_are_left_out(tmp_path):
    (tmp_path / "bp" / "__pycache__").mkdir(parents=True)
    (tmp_path / "bp" / "__pycache__" / "x.pyc").write_bytes(b"\0")
    (tmp_path / "bp" / "x.py").write_text("")
    assert set(tarball.tree_entries(tmp_path / "bp", "")) == {"x.py"}


def test_replace_file_puts_a_regular_file_in_place_of_a_link_or_folder_and_keeps_the_rest():
    tar = tarball.pack(
        {
            "app/": (b"", 0o755),
            "app/Procfile": (b"/etc/passwd", tarball.LINK),
            "app/Procfile.web": (b"web: x\n", 0o644),
            "app/x/": (b"", 0o755),
            "app/x/y": (b"y", 0o644),
        }
    )
    replaced = tarball.replace_file(tar, "app/Procfile", b"web: chosen\n")
    with tarfile.open(fileobj=io.BytesIO(replaced)) as archive:
        assert sorted(archive.getnames()) == ["app", "app/Procfile", "app/Procfile.web", "app/x", "app/x/y"]
        assert archive.getmember("app/Procfile").isfile()
    assert tarball.read_member(replaced, "app/Procfile") == b"web: chosen\n"
    folder_gone = tarball.replace_file(tar, "app/x", None)
    with tarfile.open(fileobj=io.BytesIO(folder_gone)) as archive:
        assert sorted(archive.getnames()) == ["app", "app/Procfile", "app/Procfile.web"]


def test_pack_onto_a_tar_keeps_its_members_as_they_are_and_adds_the_entries_after_them(tmp_path):
    """One archive for the build container: the pushed tree (git's tar, with its pax header and
    a link kept as a link) followed by the build's inputs."""
    work = tmp_path / "tree"
    work.mkdir()
    (work / "app.py").write_text("print('meow')\n")
    (work / "Procfile.link").symlink_to("/etc/passwd")
    git(work, "init", "-q", "-b", "main")
    git(work, "add", "-A")
    git(work, "commit", "-q", "-m", "tree")
    tree = gitrepo.archive(work, git(work, "rev-parse", "HEAD").stdout.strip(), prefix="app/")

    both = tarball.pack({"tmp/builder/build": (b"#!/bin/bash\n", 0o755), "tmp/env/": (b"", 0o700)}, onto=tree)

    with tarfile.open(fileobj=io.BytesIO(both)) as archive:
        members = {member.name: member for member in archive}
    assert list(members) == ["app", "app/Procfile.link", "app/app.py", "tmp/builder/build", "tmp/env"]
    assert members["app/Procfile.link"].issym() and members["app/Procfile.link"].linkname == "/etc/passwd"
    assert members["tmp/builder/build"].mode == 0o755 and members["tmp/env"].isdir()
    assert tarball.read_member(both, "app/app.py") == b"print('meow')\n"


def test_top_files_gives_the_files_right_under_a_folder_and_none_for_the_rest():
    tar = tarball.pack(
        {
            "outcome/": (b"", 0o755),
            "outcome/Procfile": (b"web: serve\n", 0o644),
            "outcome/link": (b"/etc/passwd", tarball.LINK),
            "outcome/deeper/": (b"", 0o755),
            "outcome/deeper/file": (b"x", 0o644),
            "elsewhere": (b"y", 0o644),
        }
    )
    assert tarball.top_files(tar, "outcome") == {"Procfile": b"web: serve\n", "link": None, "deeper": None}
