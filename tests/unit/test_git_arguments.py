"""What a key could send toward git's argv, at the two places it would arrive: the pre-receive
hook's stdin (push.parse_ref_updates) and gitrepo's calls. Forged revisions that git would read
as options (`--output=FILE` writes a file for `git archive`) are refused before git runs, and no
file appears."""

import io
import tarfile
from pathlib import Path

import pytest
from helpers import git

from minidokku.build import gitrepo
from minidokku.errors import ValidationError
from minidokku.ops import push
from minidokku.records import names

ZERO = names.ZERO_OBJECT_ID
OLD = "1" * 40
NEW = "2" * 40


def test_git_s_own_lines_are_read():
    data = f"{ZERO} {NEW} refs/heads/main\n{OLD} {NEW} refs/tags/v1\n{OLD} {ZERO} refs/heads/gone\n".encode()
    updates = push.parse_ref_updates(data)
    assert [(u.old, u.new, u.ref, u.branch) for u in updates] == [
        (ZERO, NEW, "refs/heads/main", "main"),
        (OLD, NEW, "refs/tags/v1", None),
        (OLD, ZERO, "refs/heads/gone", "gone"),
    ]


@pytest.mark.parametrize(
    "line, message",
    [
        (f"{OLD} --output=/tmp/x refs/heads/main", "invalid object id '--output=/tmp/x'"),
        (f"--remote=x {NEW} refs/heads/main", "invalid object id '--remote=x'"),
        (f"{OLD} {NEW[:7]} refs/heads/main", "invalid object id"),
        (f"{OLD} HEAD~1 refs/heads/main", "invalid object id"),
        (f"{ZERO} {ZERO} refs/heads/main", "invalid object id"),  # git never sends both zero
        (f"{OLD} {NEW} refs/heads/a..b", "invalid ref"),
        (f"{OLD} {NEW} main", "invalid ref"),
        (f"{OLD} {NEW} --exec=id", "invalid ref"),
        (f"{OLD} {NEW} refs/heads/--output=/tmp/x", "invalid branch name"),
        (f"{OLD} {NEW} refs/heads/main\r", "invalid ref"),
        (f"{OLD} {NEW} refs/heads/main extra", "expected `OLD NEW REF` from git"),
        (f"{OLD}  {NEW} refs/heads/main", "expected `OLD NEW REF` from git"),
        (f"{OLD} {NEW}", "expected `OLD NEW REF` from git"),
    ],
)
def test_a_forged_hook_line_is_refused_in_one_line(line, message):
    data = f"{ZERO} {NEW} refs/heads/main\n{line}\n".encode()  # a good line first: all or nothing
    with pytest.raises(ValidationError) as refused:
        push.parse_ref_updates(data)
    assert message in str(refused.value)
    assert "\n" not in str(refused.value)


def test_hook_lines_that_are_not_utf8_are_refused():
    with pytest.raises(ValidationError, match="not UTF-8"):
        push.parse_ref_updates(f"{OLD} {NEW} refs/heads/".encode() + b"\xff\n")


@pytest.fixture
def repo_with_commit(tmp_path) -> tuple[Path, str]:
    repo = tmp_path / "app.git"
    git(tmp_path, "init", "-q", "--bare", str(repo))
    tree = tmp_path / "tree"
    tree.mkdir()
    (tree / "Procfile").write_text("web: run\n")
    sha = gitrepo.commit_directory(repo, tree, "main", "one")
    gitrepo.move_branch(repo, "main", sha)
    return repo, sha


@pytest.mark.parametrize("rev", ["--output={target}", "--remote={target}", "--exec=touch {target}", "main", "HEAD"])
def test_gitrepo_takes_only_full_object_ids_as_revisions(repo_with_commit, tmp_path, rev):
    repo, sha = repo_with_commit
    target = tmp_path / "written"
    rev = rev.replace("{target}", str(target))

    with pytest.raises(ValidationError, match="invalid object id"):
        gitrepo.archive(repo, rev)
    with pytest.raises(ValidationError, match="invalid object id"):
        gitrepo.read_file(repo, rev, "Procfile")
    with pytest.raises(ValidationError, match="invalid object id"):
        gitrepo.move_branch(repo, "main", rev)

    assert not target.exists()
    assert gitrepo.branch_head(repo, "main") == sha
    assert gitrepo.read_file(repo, sha, "Procfile") == "web: run\n"
    with tarfile.open(fileobj=io.BytesIO(gitrepo.archive(repo, sha))) as tar:
        assert tar.getnames() == ["app", "app/Procfile"]


@pytest.mark.parametrize("branch", ["--output=/tmp/x", "-d", "a..b", "main~1", "HEAD"])
def test_gitrepo_takes_only_valid_branch_names(repo_with_commit, tmp_path, branch):
    repo, sha = repo_with_commit
    with pytest.raises(ValidationError, match="invalid branch name"):
        gitrepo.branch_head(repo, branch)
    with pytest.raises(ValidationError, match="invalid branch name"):
        gitrepo.move_branch(repo, branch, sha)
    with pytest.raises(ValidationError, match="invalid branch name"):
        gitrepo.commit_directory(repo, tmp_path, branch, "x")
    assert git(repo, "for-each-ref", "--format=%(refname)").stdout.split() == ["refs/heads/main"]
