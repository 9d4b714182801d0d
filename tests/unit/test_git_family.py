"""git:set deploy-branch and git:report: a push deploys the app's deploy branch (else the global
one, else main or master, as before any is set); a push of another branch lands and deploys
nothing, with Dokku's warning. The branch is a user's word: validated, never an option of git."""

import json

import pytest
import test_flow_push
import test_reports
from test_flow_push import APP, NEW, OLD, OTHER, archive

from minidokku.build import gitrepo
from minidokku.errors import NotFound, ValidationError
from minidokku.ops import push, sources
from minidokku.records import names, releases

# The fixtures of the push flows (flow: the app cat on fakes; built: the commits built) and of the
# reports (dokku: the CLI on a root with the app catmeow).
flow, built, dokku = test_flow_push.flow, test_flow_push.built, test_reports.dokku
WARNING = "-----> WARNING: deploy did not complete, you must push to production."


def pushed(flow, branch: str, new: str = NEW):
    return push.deploy_ref_updates(flow.ctx, APP, push.parse_ref_updates(f"{OLD} {new} refs/heads/{branch}\n".encode()))


def test_a_set_deploy_branch_is_the_one_a_push_deploys(flow, built):
    push.set_deploy_branch(flow.ctx.store, APP, "production")

    assert pushed(flow, "main") is None
    assert built == [] and releases.current(flow.ctx.store, APP) is None
    assert flow.ctx.out.lines[-1] == WARNING

    tag = push.parse_ref_updates(f"{names.ZERO_OBJECT_ID} {OTHER} refs/tags/v1\n".encode())
    assert push.deploy_ref_updates(flow.ctx, APP, tag) is None
    assert flow.ctx.out.lines[-2:] == [WARNING, WARNING]

    release = pushed(flow, "production")
    assert built == [NEW] and release.sha == NEW


def test_the_global_deploy_branch_is_for_apps_without_their_own(flow, built):
    push.set_deploy_branch(flow.ctx.store, None, "production")
    assert push.deploy_branches(flow.ctx.store, APP) == ("production",)
    push.set_deploy_branch(flow.ctx.store, APP, "release/v2")
    assert push.deploy_branches(flow.ctx.store, APP) == ("release/v2",)

    assert pushed(flow, "production") is None
    assert pushed(flow, "release/v2", OTHER).sha == OTHER
    assert built == [OTHER]


def test_unset_it_is_main_or_master_again(flow, built):
    push.set_deploy_branch(flow.ctx.store, APP, "production")
    push.set_deploy_branch(flow.ctx.store, APP, "")
    assert push.deploy_branches(flow.ctx.store, APP) == ("main", "master")
    assert pushed(flow, "master").sha == NEW


@pytest.mark.parametrize("branch", ["--upload-pack=id", "-x", "a..b", "HEAD", "x y", "a~1", "refs/heads/.lock"])
def test_a_bad_branch_name_is_refused_and_nothing_is_stored(flow, branch):
    with pytest.raises(ValidationError, match="invalid branch name"):
        push.set_deploy_branch(flow.ctx.store, APP, branch)
    assert push.deploy_branches(flow.ctx.store, APP) == ("main", "master")


def test_an_archive_lands_on_the_deploy_branch_and_rebuild_builds_its_head(flow, built):
    push.set_deploy_branch(flow.ctx.store, APP, "production")
    with pytest.raises(NotFound, match="cat has no pushed production branch to rebuild"):
        push.rebuild(flow.ctx, APP)

    release = sources.from_archive(flow.ctx, APP, archive({"Procfile": "web: serve\n"}), "upload.tar.gz")

    repo = flow.ctx.store.app_dir(APP)
    assert gitrepo.branch_head(repo, "production") == release.sha
    assert gitrepo.branch_head(repo, "main") is None
    assert push.rebuild(flow.ctx, APP).sha == release.sha


def test_git_set_and_report_as_dokku_prints_them(dokku, tmp_path):
    assert dokku("git:report", "catmeow", "--git-deploy-branch") == (0, "main\n")
    assert dokku("git:set", "catmeow", "deploy-branch", "production") == (
        0,
        "-----> Setting deploy-branch to production\n",
    )
    assert dokku("git:set", "--global", "deploy-branch", "staging") == (0, "-----> Setting deploy-branch to staging\n")

    assert dokku("git:report", "catmeow", "--git-deploy-branch") == (0, "production\n")
    assert dokku("git:report", "--global", "--git-global-deploy-branch") == (0, "staging\n")
    assert json.loads(dokku("git:report", "catmeow", "--format", "json")[1]) == {
        "computed-deploy-branch": "production", "computed-keep-git-dir": "false", "deploy-branch": "production",
        "global-deploy-branch": "staging",
        "global-keep-git-dir": "", "keep-git-dir": "", "rev-env-var": "GIT_REV", "sha": "", "source-image": "",
    }  # fmt: skip
    code, block = dokku("git:report", "catmeow")
    assert code == 0 and block.splitlines() == [
        "=====> catmeow git information",
        "       Git computed deploy branch: production",
        "       Git computed keep git dir:  false",
        "       Git deploy branch:          production",
        "       Git global deploy branch:   staging",
        "       Git global keep git dir:    ",
        "       Git keep git dir:           ",
        "       Git rev env var:            GIT_REV",
        "       Git sha:                    ",
        "       Git source image:           ",
    ]

    assert dokku("git:set", "catmeow", "deploy-branch") == (0, "-----> Unsetting deploy-branch\n")
    assert dokku("git:report", "catmeow", "--git-deploy-branch") == (0, "staging\n")


def test_git_report_sha_is_the_deploy_branchs_head(dokku, tmp_path):
    dokku("git:set", "catmeow", "deploy-branch", "production")
    sha = gitrepo.commit_directory(tmp_path / "catmeow", _tree(tmp_path), "production", "first")
    assert dokku("git:report", "catmeow", "--git-sha") == (0, "\n")  # committed, the branch not moved yet
    gitrepo.move_branch(tmp_path / "catmeow", "production", sha)
    assert dokku("git:report", "catmeow", "--git-sha") == (0, sha + "\n")


def _tree(tmp_path):
    folder = tmp_path / "tree"
    folder.mkdir()
    (folder / "Procfile").write_text("web: serve\n")
    return folder


@pytest.mark.parametrize(
    ("words", "message"),
    [
        (["catmeow"], "No key specified"),
        (
            ["catmeow", "nope", "x"],
            "Invalid key specified, valid keys include: deploy-branch, keep-git-dir, rev-env-var",
        ),
        (["catmeow", "keep-git-dir", "yes"], "keep-git-dir is true or false"),
        (["catmeow", "rev-env-var", "1X"], "rev-env-var: invalid config key '1X'"),
        (["catmeow", "rev-env-var", "A=B"], "rev-env-var: invalid config key"),
        (["catmeow", "source-image", "nginx"], "source-image is what git:from-image deployed; it is not set by hand"),
        (["catmeow", "deploy-branch", "--upload-pack=touch /tmp/x"], "No such option '--upload-pack'"),
        (["catmeow", "deploy-branch", "--", "--upload-pack=touch /tmp/x"], "invalid branch name"),
        (["catmeow", "deploy-branch", "a..b"], "invalid branch name"),
        (["catmeow", "deploy-branch", "a", "b"], "expected KEY [VALUE]"),
        ([], "Please specify an app to run the command on"),
    ],
)
def test_bad_git_set_words_are_one_line_and_store_nothing(dokku, tmp_path, words, message):
    code, output = dokku("git:set", *words)
    assert code == 1 and len(output.splitlines()) == 1 and output.startswith(f" !     {message}"), output
    assert not (tmp_path / "catmeow" / "properties" / "git").exists()
    assert not (tmp_path / "properties" / "git").exists()
