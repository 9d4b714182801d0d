import io
import os
import stat
import tarfile
from pathlib import Path

import pytest
from helpers import git

from minidokku.build import archives, gitrepo
from minidokku.build.archives import extract
from minidokku.errors import ValidationError

SPECIAL_TYPES = (tarfile.DIRTYPE, tarfile.SYMTYPE, tarfile.LNKTYPE, tarfile.CHRTYPE, tarfile.BLKTYPE, tarfile.FIFOTYPE)


def tar_of(members: list[tuple], compression: str = "") -> bytes:
    """A tar from (name, content) files, (name, content, mode) files, or (name, TarInfo type, target)."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode=f"w:{compression}") as tar:
        for member in members:
            info = tarfile.TarInfo(member[0])
            if isinstance(member[1], bytes) and member[1] in SPECIAL_TYPES:
                info.type = member[1]
                info.linkname = member[2] if len(member) > 2 else ""
                info.mode = 0o755
                tar.addfile(info)
                continue
            data = member[1].encode() if isinstance(member[1], str) else member[1]
            info.size = len(data)
            info.mode = member[2] if len(member) > 2 else 0o644
            tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def files_under(root: Path) -> dict[str, str]:
    return {str(p.relative_to(root)): p.read_text() for p in sorted(root.rglob("*")) if p.is_file()}


def mode_of(path: Path) -> int:
    return stat.S_IMODE(path.lstat().st_mode)


# -- _extract ----------------------------------------------------------------------------------
@pytest.mark.parametrize("compression", ["", "gz", "bz2", "xz"])
def test_a_tar_in_any_compression_is_extracted(tmp_path, compression):
    archive = tar_of([("app.py", "print('hi')\n"), ("Procfile", "web: python app.py\n")], compression)
    root = extract(archive, tmp_path / "tree")
    assert root == tmp_path / "tree"
    assert files_under(root) == {"Procfile": "web: python app.py\n", "app.py": "print('hi')\n"}


def test_a_single_top_level_folder_is_taken_as_the_root(tmp_path):
    archive = tar_of(
        [
            ("shop-main", tarfile.DIRTYPE),
            ("shop-main/app.py", "x = 1\n"),
            ("shop-main/lib/util.py", "y = 2\n"),
        ],
        "gz",
    )
    root = extract(archive, tmp_path / "tree")
    assert root == tmp_path / "tree" / "shop-main"
    assert files_under(root) == {"app.py": "x = 1\n", "lib/util.py": "y = 2\n"}


def test_a_single_top_level_folder_without_its_own_entry_is_the_root(tmp_path):
    root = extract(tar_of([("project/app.py", "x\n")]), tmp_path / "tree")
    assert root == tmp_path / "tree" / "project"


def test_dot_slash_names_are_extracted_in_place(tmp_path):
    archive = tar_of([(".", tarfile.DIRTYPE), ("./app.py", "x\n"), ("./static/site.css", "a {}\n")])
    root = extract(archive, tmp_path / "tree")
    assert root == tmp_path / "tree"
    assert files_under(root) == {"app.py": "x\n", "static/site.css": "a {}\n"}


def test_several_top_level_entries_are_kept_as_they_are(tmp_path):
    archive = tar_of([("src/app.py", "x\n"), ("docs/readme.md", "# hi\n")])
    root = extract(archive, tmp_path / "tree")
    assert root == tmp_path / "tree"
    assert files_under(root) == {"docs/readme.md": "# hi\n", "src/app.py": "x\n"}


def test_a_single_top_level_file_is_not_taken_as_the_root(tmp_path):
    root = extract(tar_of([("index.html", "<h1>hi</h1>\n")]), tmp_path / "tree")
    assert root == tmp_path / "tree"
    assert (root / "index.html").read_text() == "<h1>hi</h1>\n"


@pytest.mark.parametrize("name", ["../x", "app/../../x", "/abs", "/etc/cron.d/evil"])
def test_unsafe_paths_are_refused_and_nothing_is_written(tmp_path, name):
    archive = tar_of([("app.py", "x\n"), (name, "owned\n")])
    with pytest.raises(ValidationError, match="unsafe path"):
        extract(archive, tmp_path / "scratch" / "tree")
    assert not (tmp_path / "scratch" / "tree").exists()
    assert not (tmp_path / "scratch" / "x").exists()
    assert not (tmp_path / "x").exists()


def test_an_unsafe_folder_is_refused(tmp_path):
    with pytest.raises(ValidationError, match="unsafe path"):
        extract(tar_of([("../outside", tarfile.DIRTYPE)]), tmp_path / "tree")


def test_symlinks_hardlinks_and_devices_are_skipped(tmp_path):
    archive = tar_of(
        [
            ("app.py", "x\n"),
            ("link-out", tarfile.SYMTYPE, "/etc/passwd"),
            ("link-up", tarfile.SYMTYPE, "../../secret"),
            ("hard", tarfile.LNKTYPE, "app.py"),
            ("null", tarfile.CHRTYPE),
            ("disk", tarfile.BLKTYPE),
            ("pipe", tarfile.FIFOTYPE),
        ]
    )
    root = extract(archive, tmp_path / "tree")
    assert sorted(p.name for p in root.iterdir()) == ["app.py"]


def test_a_file_below_a_skipped_symlink_lands_in_a_real_folder(tmp_path):
    archive = tar_of([("dir", tarfile.SYMTYPE, str(tmp_path / "elsewhere")), ("dir/file", "x\n"), ("other", "y\n")])
    (tmp_path / "elsewhere").mkdir()
    root = extract(archive, tmp_path / "tree")
    assert not (root / "dir").is_symlink()
    assert (root / "dir" / "file").read_text() == "x\n"
    assert list((tmp_path / "elsewhere").iterdir()) == []


def test_executable_files_become_0755_and_others_0644(tmp_path):
    archive = tar_of(
        [
            ("bin/start", "#!/bin/sh\n", 0o700),
            ("bin/group-exec", "#!/bin/sh\n", 0o610),
            ("secret.txt", "s\n", 0o600),
            ("setuid", "s\n", 0o4777),
            ("readonly", "r\n", 0o444),
        ]
    )
    root = extract(archive, tmp_path / "tree")
    assert mode_of(root / "bin" / "start") == 0o755
    assert mode_of(root / "bin" / "group-exec") == 0o755
    assert mode_of(root / "secret.txt") == 0o644
    assert mode_of(root / "setuid") == 0o755
    assert mode_of(root / "readonly") == 0o644


@pytest.mark.parametrize("data", [b"", b"this is not a tar archive\n" * 40, b"PK\x03\x04 a zip file"])
def test_something_that_is_not_a_tar_is_refused(tmp_path, data):
    with pytest.raises(ValidationError, match="cannot be unpacked"):
        extract(data, tmp_path / "tree")


@pytest.mark.parametrize(("compression", "fraction"), [("gz", 0.01), ("gz", 0.5), ("gz", 0.99), ("", 0.5)])
def test_a_truncated_archive_is_refused(tmp_path, compression, fraction):
    archive = tar_of([(f"file{i}", os.urandom(20000)) for i in range(3)], compression)
    with pytest.raises(ValidationError):
        extract(archive[: int(len(archive) * fraction)], tmp_path / "tree")


@pytest.mark.parametrize(
    "members", [[("a", "file"), ("a/b", "below a file")], [("a", tarfile.DIRTYPE), ("a", "file over a folder")]]
)
def test_an_archive_whose_paths_conflict_is_refused(tmp_path, members):
    with pytest.raises(ValidationError):
        extract(tar_of(members), tmp_path / "tree")


def test_an_empty_archive_is_refused(tmp_path):
    with pytest.raises(ValidationError, match="holds no files"):
        extract(tar_of([]), tmp_path / "tree")


def test_an_archive_of_only_links_is_refused(tmp_path):
    with pytest.raises(ValidationError, match="holds no files"):
        extract(tar_of([("link", tarfile.SYMTYPE, "/etc/passwd")], "gz"), tmp_path / "tree")


# -- gitrepo.commit_directory / move_branch / read_file ----------------------------------------
@pytest.fixture
def bare_repo(tmp_path) -> Path:
    repo = tmp_path / "app.git"
    git(tmp_path, "init", "-q", "--bare", str(repo))
    return repo


def tree_with(path: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        (path / name).parent.mkdir(parents=True, exist_ok=True)
        (path / name).write_text(text)
    return path


def parents_of(repo: Path, sha: str) -> list[str]:
    return git(repo, "rev-list", "--parents", "-n", "1", sha).stdout.split()[1:]


def test_the_first_commit_has_no_parent_and_does_not_move_the_branch(tmp_path, bare_repo):
    tree = tree_with(tmp_path / "one", {"app.py": "v = 1\n", "lib/util.py": "u\n"})
    sha = gitrepo.commit_directory(bare_repo, tree, "main", "Deploy of one.tar")
    assert len(sha) == 40
    assert parents_of(bare_repo, sha) == []
    assert gitrepo.branch_head(bare_repo, "main") is None
    assert git(bare_repo, "log", "-1", "--format=%s|%an|%ce", sha).stdout.strip() == (
        "Deploy of one.tar|minidokku|minidokku@localhost"
    )


def test_move_branch_points_the_branch_at_the_commit(tmp_path, bare_repo):
    sha = gitrepo.commit_directory(bare_repo, tree_with(tmp_path / "one", {"a": "1\n"}), "main", "one")
    gitrepo.move_branch(bare_repo, "main", sha)
    assert gitrepo.branch_head(bare_repo, "main") == sha


def test_the_second_commit_has_the_branch_head_as_parent(tmp_path, bare_repo):
    first = gitrepo.commit_directory(bare_repo, tree_with(tmp_path / "one", {"a": "1\n"}), "main", "one")
    gitrepo.move_branch(bare_repo, "main", first)
    second = gitrepo.commit_directory(bare_repo, tree_with(tmp_path / "two", {"a": "2\n"}), "main", "two")
    assert parents_of(bare_repo, second) == [first]
    assert gitrepo.branch_head(bare_repo, "main") == first
    gitrepo.move_branch(bare_repo, "main", second)
    assert gitrepo.branch_head(bare_repo, "main") == second


def test_a_commit_never_moved_to_is_not_the_next_ones_parent(tmp_path, bare_repo):
    first = gitrepo.commit_directory(bare_repo, tree_with(tmp_path / "one", {"a": "1\n"}), "main", "one")
    gitrepo.move_branch(bare_repo, "main", first)
    gitrepo.commit_directory(bare_repo, tree_with(tmp_path / "failed", {"a": "bad\n"}), "main", "failed deploy")
    third = gitrepo.commit_directory(bare_repo, tree_with(tmp_path / "three", {"a": "3\n"}), "main", "three")
    assert parents_of(bare_repo, third) == [first]


def test_the_commit_holds_exactly_the_directorys_files(tmp_path, bare_repo):
    first = tree_with(tmp_path / "one", {"old.txt": "gone later\n", "keep.txt": "k\n"})
    sha = gitrepo.commit_directory(bare_repo, first, "main", "one")
    gitrepo.move_branch(bare_repo, "main", sha)
    second = tree_with(tmp_path / "two", {"keep.txt": "k2\n", ".gitignore": "*.log\n", "debug.log": "kept\n"})
    sha = gitrepo.commit_directory(bare_repo, second, "main", "two")
    names = git(bare_repo, "ls-tree", "-r", "--name-only", sha).stdout.split()
    assert names == [".gitignore", "debug.log", "keep.txt"]


def test_read_file_returns_the_text_at_a_revision_or_none(tmp_path, bare_repo):
    sha = gitrepo.commit_directory(
        bare_repo, tree_with(tmp_path / "one", {"Procfile": "web: run\n", "sub/app.json": "{}\n"}), "main", "one"
    )
    assert gitrepo.read_file(bare_repo, sha, "Procfile") == "web: run\n"
    assert gitrepo.read_file(bare_repo, sha, "sub/app.json") == "{}\n"
    assert gitrepo.read_file(bare_repo, sha, "CHECKS") is None
    assert gitrepo.read_file(bare_repo, sha, "sub") is None  # a folder, not a file
    with pytest.raises(ValidationError, match="invalid object id"):  # a commit's full id, nothing else
        gitrepo.read_file(bare_repo, "main", "Procfile")
    assert gitrepo.branch_head(bare_repo, "main") is None  # the branch has not moved yet
    gitrepo.move_branch(bare_repo, "main", sha)
    assert gitrepo.branch_head(bare_repo, "main") == sha


def test_an_archive_that_unpacks_to_more_than_the_limit_is_refused_before_writing(tmp_path, monkeypatch):
    monkeypatch.setattr(archives, "MAX_UNPACKED_BYTES", 10_000)
    archive = tar_of([("a", b"\0" * 6000), ("b", b"\0" * 6000)], "gz")
    assert len(archive) < 1000
    with pytest.raises(ValidationError, match="unpacks to more than"):
        extract(archive, tmp_path / "tree")
    assert not (tmp_path / "tree").exists()


def test_a_commit_whose_files_unpack_past_the_limit_is_not_archived(tmp_path, bare_repo, monkeypatch):
    """A file of zeros packs to a thousandth of its size: the tree's sizes are read from git's
    tree objects, and the archive (held in memory for the build) is never made."""
    monkeypatch.setattr(gitrepo, "MAX_TREE_BYTES", 100_000)
    sha = gitrepo.commit_directory(bare_repo, tree_with(tmp_path / "one", {"zeros": "\0" * 200_000}), "main", "z")
    assert gitrepo.tree_size(bare_repo, sha) == 200_000
    with pytest.raises(ValidationError, match="add up to 0 MiB unpacked, more than 0 MiB"):
        gitrepo.archive(bare_repo, sha)


def test_a_fetched_ref_is_a_branch_tag_or_commit_never_an_option(tmp_path):
    with pytest.raises(ValidationError, match="invalid branch name '--upload-pack=touch /tmp/x'"):
        gitrepo.fetch_tree(str(tmp_path / "nowhere"), "--upload-pack=touch /tmp/x", tmp_path / "folder")
    assert not (tmp_path / "folder").exists()
