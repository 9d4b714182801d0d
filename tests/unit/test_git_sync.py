"""git:sync: gitrepo.fetch_commit against real repositories (a local one through git's file
protocol, which only a test's Remote names: the rules of access/git_remotes.py never let a user
name it; and a dumb HTTP server on 127.0.0.2 under a name no resolver knows, reached only through
the pinned address), then the sync flows on the fake scheduler: the deploy branch moves, a build
deploys, the same commit again builds nothing."""

import os
import socket
import time

import pytest
import test_flow_push
from fakes import make_flow
from helpers import commit_all, git
from servers import RecordingServer, served_over_dumb_http

from minidokku.access import git_remotes, rules, urls
from minidokku.access.git_remotes import Remote
from minidokku.access.urls import Destination
from minidokku.build import builds, gitrepo
from minidokku.errors import AppNotGranted, GitError, Locked, NotFound, ValidationError
from minidokku.ops import push, sources
from minidokku.records import app_properties, releases
from minidokku.state import file_lock

APP = "cat"


@pytest.fixture
def upstream(tmp_path):
    """A repository with main (two commits), a branch `staging` and a tag v1 on main's first commit."""
    repo = tmp_path / "upstream"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    (repo / "Procfile").write_text("web: serve\n")
    commit_all(repo, "first")
    git(repo, "tag", "v1")
    git(repo, "checkout", "-q", "-b", "staging")
    (repo / "staging.txt").write_text("staging\n")
    commit_all(repo, "staging")
    git(repo, "checkout", "-q", "main")
    (repo / "app.py").write_text("print('meow')\n")
    commit_all(repo, "second")
    return repo


def local(repo) -> Remote:
    return Remote(f"file://{repo}", f"file://{repo}", "file")


def head(repo, ref: str) -> str:
    return git(repo, "rev-parse", f"{ref}^{{commit}}").stdout.strip()


@pytest.fixture
def bare(tmp_path):
    target = tmp_path / "app"
    gitrepo.init_bare(target)
    return target


# -- the fetch -----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("ref", "expected", "branch"), [("", "main", "main"), ("staging", "staging", "staging"), ("v1", "v1", "")]
)
def test_a_branch_a_tag_or_the_default_branch_is_fetched_and_no_ref_moves(upstream, bare, ref, expected, branch):
    fetched = gitrepo.fetch_commit(bare, local(upstream), ref, 10 * 2**20)
    assert fetched == gitrepo.Fetched(head(upstream, expected), branch)
    assert git(bare, "cat-file", "-t", fetched.sha).stdout.strip() == "commit"
    assert git(bare, "for-each-ref").stdout == ""


def test_without_a_head_the_first_default_branch_the_remote_has_is_fetched(upstream, bare, tmp_path):
    """minidokku's own app repos: HEAD names master, pushes land on main."""
    served = tmp_path / "served.git"
    git(tmp_path, "clone", "-q", "--bare", str(upstream), str(served))
    git(served, "symbolic-ref", "HEAD", "refs/heads/nosuch")
    fetched = gitrepo.fetch_commit(bare, local(served), "", 10 * 2**20, default_branches=("trunk", "main", "master"))
    assert fetched == gitrepo.Fetched(head(upstream, "main"), "main")
    with pytest.raises(GitError, match="the repository has no default branch: name a branch, tag or commit"):
        gitrepo.fetch_commit(bare, local(served), "", 10 * 2**20, default_branches=("trunk",))


def test_a_commit_is_fetched_by_its_id(upstream, bare):
    sha = head(upstream, "staging")
    assert gitrepo.fetch_commit(bare, local(upstream), sha, 10 * 2**20) == gitrepo.Fetched(sha, "")


@pytest.mark.parametrize(
    ("ref", "error", "message"),
    [
        ("nosuch", GitError, "the repository has no branch or tag nosuch"),
        ("--upload-pack=touch /tmp/owned", ValidationError, "invalid branch name"),
        ("a..b", ValidationError, "invalid branch name"),
    ],
)
def test_a_ref_that_is_not_there_or_not_a_name_is_refused(upstream, bare, ref, error, message):
    with pytest.raises(error, match=message):
        gitrepo.fetch_commit(bare, local(upstream), ref, 10 * 2**20)
    assert not list((bare / "objects" / "pack").iterdir())


def test_a_repository_beyond_the_size_limit_is_stopped_and_nothing_lands(upstream, bare):
    (upstream / "big").write_bytes(os.urandom(3_000_000))
    commit_all(upstream, "a big file")
    with pytest.raises(GitError, match="git fetch failed: the repository is larger than 1 MiB"):
        gitrepo.fetch_commit(bare, local(upstream), "main", 2**20)
    assert not list((bare / "objects" / "pack").iterdir())


def test_a_server_that_never_answers_is_given_up_on_in_time(bare):
    with socket.socket() as silent:  # connections are taken (the backlog) and never answered
        silent.bind(("127.0.0.2", 0))
        silent.listen(4)
        url = f"http://127.0.0.2:{silent.getsockname()[1]}/app.git"
        pinned = Destination(url, "http", "127.0.0.2", silent.getsockname()[1], "127.0.0.2", "", "/app.git")
        started = time.monotonic()
        with pytest.raises(GitError, match="git ls-remote failed: it took more than 1 s"):
            gitrepo.fetch_commit(bare, Remote(url, url, "http", pinned), "main", 10 * 2**20, timeout=1)
    assert time.monotonic() - started < 10


def test_what_the_server_writes_to_stderr_counts_in_the_size_bound(bare, tmp_path):
    """A server can stream `remote:` lines for as long as it likes: they are written to a
    temporary file, which counts like the objects."""
    quarantine = tmp_path / "quarantine.git"
    gitrepo.init_bare(quarantine)  # an alias stands for git talking to such a server
    git(quarantine, "config", "alias.noisy", "!head -c 3000000 /dev/zero >&2; sleep 10")
    remote_git = gitrepo._RemoteGit(local(bare), tmp_path, quarantine, 2**20, timeout=5)
    started = time.monotonic()
    with pytest.raises(GitError, match="git noisy failed: the repository is larger than 1 MiB"):
        remote_git.run("noisy", [])
    assert time.monotonic() - started < 4


def test_submodules_are_not_followed(upstream, bare, tmp_path):
    inner = tmp_path / "inner"
    inner.mkdir()
    git(inner, "init", "-q", "-b", "main")
    (inner / "secret").write_text("inner\n")
    commit_all(inner, "inner")
    git(upstream, "-c", "protocol.file.allow=always", "submodule", "add", "-q", str(inner), "inner")
    sha = commit_all(upstream, "with a submodule")
    fetched = gitrepo.fetch_commit(bare, local(upstream), "main", 10 * 2**20)
    assert fetched.sha == sha
    assert git(bare, "cat-file", "-e", head(inner, "main"), check=False).returncode != 0


def test_a_pinned_fetch_connects_to_the_checked_address_only(upstream, bare):
    """sync.test resolves nowhere: the fetch works only because git connects to 127.0.0.2."""
    served = served_over_dumb_http(upstream)
    with RecordingServer("127.0.0.2", folder=served.parent) as server:
        url = f"http://sync.test:{server.port}/{served.name}"
        pinned = Destination(url, "http", "sync.test", server.port, "127.0.0.2", "", f"/{served.name}")
        fetched = gitrepo.fetch_commit(bare, Remote(url, url, "http", pinned), "main", 10 * 2**20)
    assert fetched.sha == head(upstream, "main")
    assert all(request.endswith(f"sync.test:{server.port}") for request in server.requests), server.requests


# -- the flows -----------------------------------------------------------------------------------
@pytest.fixture
def flow(tmp_path, monkeypatch, upstream):
    """The app cat; git:sync's URL `https://git.example/upstream.git` stands for upstream."""
    flow = make_flow(tmp_path / "root", monkeypatch)
    flow.create_app(APP)
    real = git_remotes.remote

    def remote(url, tenant, root):
        checked = real(url, tenant, root)  # the rules run; the fetch then reads upstream
        return Remote(f"file://{upstream}", checked.shown, "file")

    monkeypatch.setattr(git_remotes, "remote", remote)
    return flow


built = test_flow_push.built  # the commits the builder was asked for
URL = "https://tok:secret@git.example/upstream.git"
SHOWN = "https://***@git.example/upstream.git"


def test_sync_without_build_moves_the_deploy_branch_and_deploys_nothing(flow, built, upstream):
    assert sources.sync(flow.ctx, APP, URL) is None
    assert push.deploy_branch_head(flow.ctx.store, APP) == head(upstream, "main")
    assert built == [] and releases.current(flow.ctx.store, APP) is None
    assert flow.ctx.out.lines[1:] == [f"-----> Cloning {APP} from {SHOWN}#"]
    assert app_properties.get(flow.ctx.store, APP, app_properties.SOURCE) == ""


def test_sync_with_build_deploys_and_records_where_from(flow, built, upstream):
    release = sources.sync(flow.ctx, APP, URL, "", sources.BUILD)
    sha = head(upstream, "main")
    assert built == [sha] and release.sha == sha
    assert push.deploy_branch_head(flow.ctx.store, APP) == sha
    assert app_properties.get(flow.ctx.store, APP, app_properties.SOURCE) == "git-sync"
    assert app_properties.get(flow.ctx.store, APP, app_properties.METADATA) == f"{SHOWN}#{sha}"
    assert "secret" not in "\n".join(flow.ctx.out.lines)


def test_build_if_changes_builds_only_a_new_commit(flow, built, upstream):
    sources.sync(flow.ctx, APP, URL, "", sources.BUILD_IF_CHANGES)
    assert sources.sync(flow.ctx, APP, URL, "", sources.BUILD_IF_CHANGES) is None
    assert flow.ctx.out.lines[-1] == "       Skipping build as no changes were detected"
    assert built == [head(upstream, "main")]

    (upstream / "new.txt").write_text("new\n")
    sha = commit_all(upstream, "third")
    assert sources.sync(flow.ctx, APP, URL, "", sources.BUILD_IF_CHANGES).sha == sha
    assert f"       Fetching remote code for {APP} from {SHOWN}#" in flow.ctx.out.lines
    assert built[-1] == sha


def test_build_deploys_the_same_commit_again_as_dokku_does(flow, built, upstream):
    sources.sync(flow.ctx, APP, URL, "", sources.BUILD)
    sources.sync(flow.ctx, APP, URL, "", sources.BUILD)
    assert built == [head(upstream, "main")] * 2


def test_a_branch_named_on_the_first_sync_becomes_the_deploy_branch(flow, built, upstream):
    sources.sync(flow.ctx, APP, URL, "staging", sources.BUILD)
    assert "       Detected branch, setting deploy-branch to staging" in flow.ctx.out.lines
    assert push.deploy_branches(flow.ctx.store, APP) == ("staging",)
    assert push.deploy_branch_head(flow.ctx.store, APP) == head(upstream, "staging")


def test_skip_deploy_branch_keeps_it_and_a_tag_lands_on_the_deploy_branch(flow, built, upstream):
    sources.sync(flow.ctx, APP, URL, "staging", "", skip_deploy_branch=True)
    assert "       Detected branch staging, skipping deploy-branch setting" in flow.ctx.out.lines
    assert push.deploy_branches(flow.ctx.store, APP) == ("main", "master")
    assert push.deploy_branch_head(flow.ctx.store, APP) == head(upstream, "staging")
    sources.sync(flow.ctx, APP, URL, "v1")
    assert push.deploy_branch_head(flow.ctx.store, APP) == head(upstream, "v1")


def test_a_failed_build_leaves_the_deploy_branch_where_it_was(flow, upstream, monkeypatch):
    def build_commit(ctx, app, sha, env):
        raise GitError("the build failed")

    monkeypatch.setattr(builds, "build_commit", build_commit)
    with pytest.raises(GitError, match="the build failed"):
        sources.sync(flow.ctx, APP, URL, "", sources.BUILD)
    assert push.deploy_branch_head(flow.ctx.store, APP) == ""


@pytest.mark.parametrize("url", ["file:///etc", "https://127.0.0.1/x.git", "git@github.com:a/b.git"])
def test_a_tenant_apps_sync_follows_the_tenant_rules(flow, built, url, monkeypatch):
    monkeypatch.setattr(urls.rules, "is_tenant_app", lambda store, app: True)
    with pytest.raises(ValidationError):
        sources.sync(flow.ctx, APP, url, "", sources.BUILD)
    assert built == [] and push.deploy_branch_head(flow.ctx.store, APP) == ""


def test_one_sync_of_an_app_at_a_time(flow, built, upstream):
    with file_lock(flow.ctx.store.path(APP, sources.SYNC_LOCK)):  # a sync of the app in progress
        with pytest.raises(Locked, match=f"{APP} is being synced by another git:sync"):
            sources.sync(flow.ctx, APP, URL, "", sources.BUILD)
    assert built == [] and push.deploy_branch_head(flow.ctx.store, APP) == ""
    assert not list((flow.ctx.store.app_dir(APP) / "objects" / "pack").iterdir())
    sources.sync(flow.ctx, APP, URL, "", sources.BUILD)  # once it ended
    assert built == [head(upstream, "main")]


def during_the_fetch(monkeypatch, change):
    """Runs change once git:sync's (unlocked) fetch has brought the commit."""
    real = gitrepo.fetch_commit

    def fetch_commit(*args, **kwargs):
        fetched = real(*args, **kwargs)
        change()
        return fetched

    monkeypatch.setattr(gitrepo, "fetch_commit", fetch_commit)


def test_a_key_whose_grant_is_revoked_during_the_fetch_syncs_nothing(flow, built, monkeypatch):
    rules.set_role(flow.ctx.store, "alice", rules.USER)
    rules.grant(flow.ctx.store, APP, "alice")
    monkeypatch.setattr(rules, "is_tenant_app", lambda store, app: False)  # the test's URL is no public one
    during_the_fetch(monkeypatch, lambda: rules.revoke(flow.ctx.store, APP, "alice"))
    with pytest.raises(AppNotGranted):
        sources.sync(flow.ctx, APP, URL, "", sources.BUILD, key="alice")
    assert built == [] and push.deploy_branch_head(flow.ctx.store, APP) == ""


def test_an_app_destroyed_and_made_again_during_the_fetch_gets_nothing(flow, built, monkeypatch):
    def again():
        flow.ctx.store.remove_app(APP)
        flow.create_app(APP)

    during_the_fetch(monkeypatch, again)
    with pytest.raises(NotFound, match=f"^{APP} was destroyed or replaced while git:sync fetched; nothing was synced$"):
        sources.sync(flow.ctx, APP, URL, "", sources.BUILD)
    assert built == [] and push.deploy_branch_head(flow.ctx.store, APP) == ""
