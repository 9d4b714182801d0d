"""Where a deploy came from (Dokku's apps properties deploy-source and deploy-source-metadata),
`apps:set` and `apps:report`; the same archive or image again is "No changes detected", as
Dokku says it, and deploys nothing; `disable-autocreation` stops a push from creating an app;
`git:initialize` gives an app its repository and hook back."""

import json
import shutil

import pytest
import test_flow_push
import test_reports
from test_flow_push import APP, NEW, OLD, archive

from minidokku.access.ssh import GitRequest
from minidokku.build import gitrepo
from minidokku.errors import NothingChanged, PermissionDenied
from minidokku.ops import push, sources
from minidokku.records import app_properties, git_settings, ps_settings, releases
from minidokku.runtime.scheduler import Image

flow, built, dokku = test_flow_push.flow, test_flow_push.built, test_reports.dokku
IMAGE = "registry.example/cat:1.0"
CONFIG = {"Cmd": ["serve"], "WorkingDir": "/srv"}


def recorded(flow) -> tuple[str, str, str]:
    store = flow.ctx.store
    return (
        app_properties.get(store, APP, app_properties.SOURCE),
        app_properties.get(store, APP, app_properties.METADATA),
        git_settings.source_image(store, APP),
    )


def with_image(flow, image_id: str) -> None:
    flow.scheduler.images[IMAGE] = Image(image_id, CONFIG)
    flow.scheduler.images[image_id] = Image(image_id, CONFIG)


def test_a_push_records_git_push_and_its_commit(flow, built):
    push.deploy_ref_updates(flow.ctx, APP, push.parse_ref_updates(f"{OLD} {NEW} refs/heads/main\n".encode()))
    assert recorded(flow) == ("git-push", NEW, "")


def test_the_same_archive_again_is_no_change_and_deploys_nothing(flow, built):
    files = {"Procfile": "web: serve\n"}
    first = sources.from_archive(flow.ctx, APP, archive(files), "https://files.example/app.tar.gz")
    assert recorded(flow) == ("tar.gz", "https://files.example/app.tar.gz", "")
    started = list(flow.scheduler.started)

    with pytest.raises(NothingChanged):
        sources.from_archive(flow.ctx, APP, archive(files), "stdin")
    assert built == [first.sha] and flow.scheduler.started == started
    assert releases.current(flow.ctx.store, APP) == first
    assert push.deploy_branch_head(flow.ctx.store, APP) == first.sha
    assert recorded(flow) == ("tar.gz", "https://files.example/app.tar.gz", "")

    changed = sources.from_archive(flow.ctx, APP, archive({**files, "x": "y"}), "stdin")
    assert changed.sha != first.sha and built == [first.sha, changed.sha]


def test_the_image_the_app_runs_again_is_no_change_a_new_one_under_its_name_deploys(flow, built):
    with_image(flow, "sha256:one")
    first = sources.from_image(flow.ctx, APP, IMAGE)
    assert recorded(flow) == ("docker-image", IMAGE, IMAGE)

    with pytest.raises(NothingChanged):
        sources.from_image(flow.ctx, APP, IMAGE)
    assert releases.current(flow.ctx.store, APP) == first

    with_image(flow, "sha256:two")  # the name now names another image
    assert sources.from_image(flow.ctx, APP, IMAGE).image_id == "sha256:two"


def test_a_push_after_an_image_clears_source_image_and_the_image_deploys_again(flow, built):
    with_image(flow, "sha256:one")
    sources.from_image(flow.ctx, APP, IMAGE)
    push.deploy_ref_updates(flow.ctx, APP, push.parse_ref_updates(f"{OLD} {NEW} refs/heads/main\n".encode()))
    assert recorded(flow) == ("git-push", NEW, "")
    assert sources.from_image(flow.ctx, APP, IMAGE).image_id == "sha256:one"


def test_git_from_archive_says_no_changes_as_dokku_and_exits_1(dokku, tmp_path, monkeypatch):
    def unchanged(ctx, app, data, origin):
        raise NothingChanged(f"{origin} has the files of main already")

    monkeypatch.setattr(sources, "from_archive", unchanged)
    result = test_reports.CliRunner().invoke(test_reports.cli, ["git:from-archive", "catmeow", "-"], input=b"")
    assert result.exit_code == 1
    assert result.output == (
        " !     No changes detected, skipping git commit\n"
        " !     Call 'ps:rebuild' on app to rebuild the app from existing source\n"
    )


def test_apps_set_and_report_as_dokku(dokku):
    assert dokku("apps:set", "catmeow", "deploy-source", "docker-image") == (
        0,
        "-----> Setting deploy-source to docker-image\n",
    )
    assert dokku("apps:set", "catmeow", "deploy-source-metadata", "nginx:1.25") == (
        0,
        "-----> Setting deploy-source-metadata to nginx:1.25\n",
    )
    assert dokku("apps:set", "--global", "disable-autocreation", "true")[0] == 0
    assert dokku("apps:report", "catmeow", "--app-deploy-source") == (0, "docker-image\n")
    assert dokku("apps:report", "--global", "--app-global-disable-autocreation") == (0, "true\n")
    shown = json.loads(dokku("apps:report", "catmeow", "--format", "json")[1])
    assert (shown["deploy-source"], shown["deploy-source-metadata"]) == ("docker-image", "nginx:1.25")
    assert shown["global-disable-autocreation"] == "true"

    assert dokku("apps:set", "catmeow", "deploy-source") == (0, "-----> Unsetting deploy-source\n")
    assert dokku("apps:report", "catmeow", "--app-deploy-source") == (0, "\n")


@pytest.mark.parametrize(
    ("words", "message"),
    [
        (["catmeow"], "No property specified"),
        (["catmeow", "nope", "x"], "Invalid property specified, valid properties include: deploy-source, "
                                   "deploy-source-metadata, disable-autocreation"),
        (["catmeow", "disable-autocreation", "true"], "Property can only be specified globally"),
        (["--global", "deploy-source", "x"], "Property cannot be specified globally"),
        (["--global", "disable-autocreation", "maybe"], "disable-autocreation is true or false"),
        (["catmeow", "deploy-source", "a\nb"], "a deploy-source value is one line"),
        (["catmeow", "deploy-source-metadata", "a\x9bb"], "a deploy-source-metadata value is one line"),  # C1: CSI
        (["catmeow", "deploy-source-metadata", "a\u202eb"], "a deploy-source-metadata value is one line"),  # bidi
        (["catmeow", "deploy-source-metadata", "a\u2066b"], "a deploy-source-metadata value is one line"),
        (["catmeow", "deploy-source", "a", "b"], "expected KEY [VALUE]"),
        ([], "Please specify an app to run the command on"),
    ],
)  # fmt: skip
def test_bad_apps_set_words_are_one_line_and_store_nothing(dokku, tmp_path, words, message):
    code, output = dokku("apps:set", *words)
    assert code == 1 and len(output.splitlines()) == 1 and output.startswith(f" !     {message}"), output
    assert not (tmp_path / "catmeow" / "properties" / "apps").exists()
    assert not (tmp_path / "properties" / "apps").exists()


def test_with_autocreation_disabled_a_push_creates_no_app(flow):
    app_properties.set_property(flow.ctx.store, None, app_properties.DISABLE_AUTOCREATION, "true")
    request = GitRequest("git-receive-pack", "newcat")
    with pytest.raises(PermissionDenied, match="create an app with 'dokku apps:create newcat'"):
        push.serve(flow.ctx, request, None)
    assert not flow.ctx.store.app_exists("newcat")


def test_git_initialize_makes_a_missing_repo_and_writes_the_hook_again(dokku, tmp_path):
    hook = tmp_path / "catmeow" / "hooks" / "pre-receive"
    hook.write_text("#!/bin/sh\nexit 0\n")
    assert dokku("git:initialize", "catmeow") == (0, "-----> Initializing git repository for catmeow\n")
    assert "git-hook catmeow" in hook.read_text()

    for folder in ("refs", "objects", "hooks"):  # an app folder whose repo is gone (HEAD says it is an app)
        shutil.rmtree(tmp_path / "catmeow" / folder)
    assert dokku("git:initialize", "catmeow")[0] == 0
    assert gitrepo.branch_head(tmp_path / "catmeow", "main") is None
    assert (tmp_path / "catmeow" / "refs").is_dir() and "git-hook catmeow" in hook.read_text()
    code, output = dokku("git:initialize", "nosuch")
    assert code != 0 and output == " !     App nosuch does not exist\n"


def test_an_archive_that_skip_deploy_keeps_from_deploying_is_not_called_unchanged(flow, built):
    ps_settings.set_property(flow.ctx.store, APP, "skip-deploy", "true")

    assert sources.from_archive(flow.ctx, APP, archive({"Procfile": "web: serve\n"}), "stdin") is None
    assert len(built) == 1 and releases.current(flow.ctx.store, APP) is None
