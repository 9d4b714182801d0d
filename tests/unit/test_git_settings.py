"""git:set keep-git-dir and rev-env-var (records/git_settings.py): with keep-git-dir the build's
tree has a .git in which git sees a clean checkout of the built commit and its history; a deploy
of a commit gives the app GIT_REV (or the var rev-env-var names, or none) set to its sha."""

import io
import tarfile

import test_flow_push
import test_reports
from helpers import git
from test_flow_push import APP, NEW, OLD

from minidokku.build import gitrepo
from minidokku.ops import push
from minidokku.records import git_settings, releases

flow, built, dokku = test_flow_push.flow, test_flow_push.built, test_reports.dokku


def commits(tmp_path):
    """A bare repo with two commits on main; returns it and the commits' shas."""
    work = tmp_path / "work"
    work.mkdir()
    git(work, "init", "-q", "-b", "main")
    shas = []
    for text in ("one", "two"):
        (work / "file.txt").write_text(text)
        git(work, "add", "-A")
        git(work, "commit", "-q", "-m", text)
        shas.append(git(work, "rev-parse", "HEAD").stdout.strip())
    bare = tmp_path / "app"
    git(tmp_path, "clone", "-q", "--bare", str(work), str(bare))
    return bare, shas


def unpacked(data: bytes, target):
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        tar.extractall(target, filter="tar")
    return target


def test_with_keep_git_dir_the_tree_is_a_clean_checkout_of_the_commit(tmp_path):
    bare, (first, second) = commits(tmp_path)
    tree = unpacked(gitrepo.archive(bare, first, prefix="app/", with_git_dir=True), tmp_path / "out") / "app"

    assert (tree / "file.txt").read_text() == "one"
    assert git(tree, "rev-parse", "HEAD").stdout.strip() == first
    assert git(tree, "status", "--porcelain").stdout == ""
    assert git(tree, "log", "--format=%s", "main").stdout.split() == ["two", "one"]
    assert not any((tree / ".git").glob("hooks/*"))  # none of the app repo's hooks
    assert "maxinputsize" not in (tree / ".git" / "config").read_text().lower()
    assert git(tree, "remote").stdout == ""  # nothing names the host's repository


def test_without_it_the_tree_has_no_git_dir(tmp_path):
    bare, (first, _second) = commits(tmp_path)
    with tarfile.open(fileobj=io.BytesIO(gitrepo.archive(bare, first, prefix=""))) as tar:
        assert not any(name == ".git" or name.startswith(".git/") for name in tar.getnames())


def test_keep_git_dir_is_the_apps_else_the_global_else_false(dokku, tmp_path):
    assert dokku("git:report", "catmeow", "--git-computed-keep-git-dir") == (0, "false\n")
    assert dokku("git:set", "--global", "keep-git-dir", "true") == (0, "-----> Setting keep-git-dir to true\n")
    assert dokku("git:report", "catmeow", "--git-computed-keep-git-dir") == (0, "true\n")
    assert dokku("git:set", "catmeow", "keep-git-dir", "false")[0] == 0
    assert dokku("git:report", "catmeow", "--git-computed-keep-git-dir") == (0, "false\n")
    assert dokku("git:set", "catmeow", "keep-git-dir") == (0, "-----> Unsetting keep-git-dir\n")
    assert dokku("git:report", "catmeow", "--git-keep-git-dir") == (0, "\n")


def deployed_config(flow) -> dict[str, str]:
    push.deploy_ref_updates(flow.ctx, APP, push.parse_ref_updates(f"{OLD} {NEW} refs/heads/main\n".encode()))
    return releases.current(flow.ctx.store, APP).config


def test_a_deploy_of_a_commit_sets_git_rev_to_its_sha(flow, built):
    assert deployed_config(flow)["GIT_REV"] == NEW
    assert flow.ctx.store.read_env(APP)["GIT_REV"] == NEW


def test_rev_env_var_names_another_var_or_none(flow, built):
    git_settings.set_property(flow.ctx.store, APP, git_settings.REV_ENV_VAR, "DOKKU_GIT_REV")
    config = deployed_config(flow)
    assert config["DOKKU_GIT_REV"] == NEW and "GIT_REV" not in config

    git_settings.set_property(flow.ctx.store, APP, git_settings.REV_ENV_VAR, "")
    assert git_settings.rev_env_var(flow.ctx.store, APP) == ""


def test_an_empty_rev_env_var_sets_none(flow, built):
    git_settings.set_property(flow.ctx.store, None, git_settings.REV_ENV_VAR, "GLOBAL_REV")
    assert git_settings.rev_env_var(flow.ctx.store, APP) == "GLOBAL_REV"
    git_settings.set_property(flow.ctx.store, APP, git_settings.REV_ENV_VAR, "")
    config = deployed_config(flow)
    assert not {"GIT_REV", "GLOBAL_REV"} & config.keys()
