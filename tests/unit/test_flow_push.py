"""A push's pre-receive lines on a fake scheduler and proxy: only the deploy branch's new commit is
built and deployed; other refs just land. The build itself is the builders' (tests/integration)."""

import io
import tarfile

import pytest
from fakes import make_flow

from minidokku.build import builds, gitrepo
from minidokku.errors import DeployFailed, NotFound, ValidationError
from minidokku.ops import push, sources
from minidokku.records import names, releases

APP = "cat"
OLD, NEW, OTHER = "1" * 40, "2" * 40, "3" * 40


@pytest.fixture
def flow(tmp_path, monkeypatch):
    flow = make_flow(tmp_path / "root", monkeypatch)
    flow.create_app(APP)
    return flow


@pytest.fixture
def built(flow, monkeypatch) -> list[str]:
    """The commits the builder was asked for; each becomes the image `sha256:<sha>`."""
    asked: list[str] = []

    def build_commit(ctx, app, sha, env):
        asked.append(sha)
        return flow.built(f"sha256:{sha[:7]}")

    monkeypatch.setattr(builds, "build_commit", build_commit)
    return asked


def lines(*updates: tuple[str, str, str]) -> bytes:
    return "".join(f"{old} {new} {ref}\n" for old, new, ref in updates).encode()


def test_only_the_deploy_branch_of_a_push_is_deployed(flow, built):
    updates = push.parse_ref_updates(
        lines(
            (OLD, OTHER, "refs/heads/feature"),
            (names.ZERO_OBJECT_ID, OTHER, "refs/tags/v1"),
            (OLD, NEW, "refs/heads/main"),
        )
    )
    release = push.deploy_ref_updates(flow.ctx, APP, updates)
    assert built == [NEW]
    assert (release.name, release.sha, release.description) == ("v1", NEW, f"Deploy {NEW[:7]}")
    assert releases.current(flow.ctx.store, APP).image_id == "sha256:2222222"
    assert flow.proxy.routes[APP] == [c.id for c in flow.scheduler.web_containers(APP)]


def test_master_is_a_deploy_branch_too(flow, built):
    push.deploy_ref_updates(flow.ctx, APP, push.parse_ref_updates(lines((OLD, NEW, "refs/heads/master"))))
    assert built == [NEW]


def test_a_push_of_other_refs_or_a_deleted_main_deploys_nothing(flow, built):
    updates = push.parse_ref_updates(
        lines((OLD, NEW, "refs/heads/feature"), (OLD, names.ZERO_OBJECT_ID, "refs/heads/main"))
    )
    assert push.deploy_ref_updates(flow.ctx, APP, updates) is None
    assert built == []
    assert flow.scheduler.started == []


@pytest.mark.parametrize(
    "data",
    [
        b"1111 2222 refs/heads/main\n",  # not full object ids
        lines((OLD, NEW, "refs/heads/-main")),  # a branch starting with a dash
        lines((names.ZERO_OBJECT_ID, names.ZERO_OBJECT_ID, "refs/heads/main")),  # created and deleted at once
        f"{OLD} {NEW}\n".encode(),  # not three words
        b"\xff\xfe refs/heads/main\n",  # not UTF-8
    ],
)
def test_malformed_hook_lines_are_refused_before_anything_runs(flow, built, data):
    with pytest.raises(ValidationError):
        push.deploy_ref_updates(flow.ctx, APP, push.parse_ref_updates(data))
    assert built == []


def test_a_deploy_of_a_push_that_fails_its_checks_leaves_the_last_release_serving(flow, built):
    push.deploy_ref_updates(flow.ctx, APP, push.parse_ref_updates(lines((OLD, NEW, "refs/heads/main"))))
    flow.scheduler.failing_releases.add("v2")
    with pytest.raises(DeployFailed):
        push.deploy_ref_updates(flow.ctx, APP, push.parse_ref_updates(lines((NEW, OTHER, "refs/heads/main"))))
    assert releases.current(flow.ctx.store, APP).sha == NEW
    assert {c.release for c in flow.scheduler.containers(APP)} == {"v1"}


def test_rebuild_without_a_pushed_deploy_branch_is_refused(flow, built):
    with pytest.raises(NotFound, match="cat has no pushed main or master branch to rebuild"):
        push.rebuild(flow.ctx, APP)
    assert built == []


def archive(files: dict[str, str]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for name, text in files.items():
            data = text.encode()
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def test_an_archive_is_committed_on_main_and_deployed_and_rebuild_builds_that_commit_again(flow, built):
    release = sources.from_archive(flow.ctx, APP, archive({"Procfile": "web: serve\n"}), "upload.tar.gz")
    repo = flow.ctx.store.app_dir(APP)
    assert gitrepo.branch_head(repo, "main") == release.sha == built[0]
    assert gitrepo.read_file(repo, release.sha, "Procfile") == "web: serve\n"
    rebuilt = push.rebuild(flow.ctx, APP)
    assert built == [release.sha, release.sha]
    assert rebuilt.name == "v2"


def test_the_branch_moves_only_once_the_archive_release_serves(flow, built):
    flow.scheduler.failing_releases.add("v1")
    with pytest.raises(DeployFailed):
        sources.from_archive(flow.ctx, APP, archive({"Procfile": "web: serve\n"}), "upload.tar.gz")
    assert len(built) == 1
    assert gitrepo.branch_head(flow.ctx.store.app_dir(APP), "main") is None
    assert releases.current(flow.ctx.store, APP) is None
