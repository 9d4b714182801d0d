"""The nginx template routing uses: the one the release's build read from the pushed tree, never
a git read; a release recorded before releases kept it still finds it in git at its commit.
Either way it applies only where an admin allowed the app one, and a long one is refused."""

import json
from pathlib import Path

import pytest
from helpers import git

from minidokku.build import gitrepo
from minidokku.build.builders import BuildResult
from minidokku.build.tree import MAX_NGINX_TEMPLATE_CHARACTERS
from minidokku.context import Context
from minidokku.errors import ValidationError
from minidokku.output import RecordingOutput
from minidokku.records import releases
from minidokku.records.appjson import AppJson
from minidokku.routing import nginx_settings, proxy
from minidokku.settings import Settings

APP = "catmeow"
TEMPLATE = "server { listen {{ .NGINX_PORT }}; }\n"
IGNORED = (
    "       nginx.conf.template ignored: custom templates are off for catmeow; an admin turns them on with "
    "`dokku nginx:set catmeow allow-custom-template true`"
)


@pytest.fixture
def ctx(tmp_path, monkeypatch) -> Context:
    root = tmp_path / "root"
    root.mkdir()
    monkeypatch.setenv("DOKKU_ROOT", str(root))
    git(root, "init", "-q", "--bare", APP)
    return Context(Settings.load(), RecordingOutput())


def pushed(ctx: Context, tmp_path: Path, files: dict[str, str]) -> str:
    folder = tmp_path / "pushed"
    folder.mkdir()
    for name, text in files.items():
        (folder / name).write_text(text)
    return gitrepo.commit_directory(ctx.store.app_dir(APP), folder, "main", "push")


def built(template) -> BuildResult:
    return BuildResult("sha256:one", {"web": "run"}, AppJson(), "", nginx_template=template)


def allow(ctx: Context) -> None:
    nginx_settings.put(ctx.store, APP, nginx_settings.ALLOW_TEMPLATE, "true")


def template_for(ctx: Context, release) -> str:
    return proxy.site(ctx, APP, [], release).template


@pytest.fixture
def no_git_reads(monkeypatch):
    def refuse(*args):
        raise AssertionError(f"read from git: {args}")

    monkeypatch.setattr(gitrepo, "read_file", refuse)
    monkeypatch.setattr(gitrepo, "read_files", refuse)


def test_a_release_carries_its_builds_template_to_routing_without_a_git_read(ctx, no_git_reads):
    allow(ctx)
    release = releases.prepare(ctx.store, APP, "a" * 40, "sha256:one", "Deploy", {}, built(TEMPLATE))
    releases.save(ctx.store, APP, release)
    assert template_for(ctx, releases.current(ctx.store, APP)) == TEMPLATE
    following = releases.successor(ctx.store, APP, release, "Config change", {"A": "1"})
    assert template_for(ctx, following) == TEMPLATE


def test_a_template_an_admin_did_not_allow_is_ignored_saying_so(ctx, no_git_reads):
    release = releases.prepare(ctx.store, APP, "a" * 40, "sha256:one", "Deploy", {}, built(""))
    assert template_for(ctx, release) == ""
    assert ctx.out.lines == [IGNORED]


def test_a_release_whose_tree_had_no_template_gets_our_config_silently(ctx, no_git_reads):
    release = releases.prepare(ctx.store, APP, "a" * 40, "sha256:one", "Deploy", {}, built(None))
    assert template_for(ctx, release) == ""
    assert ctx.out.lines == []


def test_an_allowed_template_longer_than_the_limit_is_refused(ctx, no_git_reads):
    allow(ctx)
    too_long = "#" * (MAX_NGINX_TEMPLATE_CHARACTERS + 1)
    release = releases.prepare(ctx.store, APP, "a" * 40, "sha256:one", "Deploy", {}, built(too_long))
    with pytest.raises(ValidationError, match="longer than 65536 characters"):
        template_for(ctx, release)


def record_from_before(ctx: Context, sha: str) -> None:
    """A release file as releases were written before they kept the template."""
    old = {"number": 1, "sha": sha, "image_id": "sha256:old", "processes": {"web": "run"}, "description": "Deploy",
           "created": 1700000000.5}  # fmt: skip
    ctx.store.write(APP, "releases/v1.json", json.dumps(old))


def test_a_release_recorded_before_releases_kept_the_template_reads_it_from_git(ctx, tmp_path):
    allow(ctx)
    record_from_before(ctx, pushed(ctx, tmp_path, {"nginx.conf.template": TEMPLATE, "app.py": ""}))
    old = releases.current(ctx.store, APP)
    assert (old.nginx_template, old.nginx_template_recorded) == (None, False)
    assert template_for(ctx, old) == TEMPLATE
    following = releases.successor(ctx.store, APP, old, "Config change", {"A": "1"})
    assert template_for(ctx, following) == TEMPLATE


def test_a_release_recorded_before_whose_commit_has_no_template_gets_our_config(ctx, tmp_path):
    allow(ctx)
    record_from_before(ctx, pushed(ctx, tmp_path, {"app.py": ""}))
    assert template_for(ctx, releases.current(ctx.store, APP)) == ""
    assert ctx.out.lines == []


def test_a_release_of_a_ready_image_has_no_template(ctx, no_git_reads):
    allow(ctx)
    release = releases.prepare(ctx.store, APP, "", "sha256:one", "Deploy image", {}, built(None))
    assert template_for(ctx, release) == ""
