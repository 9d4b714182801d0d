"""apps:rename and apps:clone on a fake scheduler and proxy: what follows the app, the order in
which the new name starts serving and the old one goes, a rename cut short and finished by running
it again, and what a user key is refused."""

import pytest
from fakes import make_flow

from minidokku.access import rules
from minidokku.build import gitrepo
from minidokku.errors import AlreadyExists, DeployFailed, PermissionDenied, ValidationError
from minidokku.ops import app_lifecycle, deploy
from minidokku.plugins.postgres import records as postgres
from minidokku.records import properties, ps_settings, registry, releases, scale
from minidokku.routing import domains

OLD, NEW = "cat", "kitten"


@pytest.fixture
def flow(tmp_path, monkeypatch):
    flow = make_flow(tmp_path / "root", monkeypatch)
    domains.set_global(flow.ctx.store, ["example.test"])
    flow.create_app(OLD, {"SECRET": "s3"})
    domains.set_app(flow.ctx.store, OLD, ["cat.example.test", "www.cat.test"])
    rules.grant(flow.ctx.store, OLD, "alice")
    flow.deploy(OLD, flow.built("sha256:one"), sha="1" * 40)
    flow.deploy(OLD, flow.built("sha256:two"), sha="2" * 40)
    flow.journal.clear()
    return flow


def _files(flow, app):
    store = flow.ctx.store
    return {
        "env": store.read_env(app),
        "acl": rules.granted(store, app),
        "scale": scale.read(store, app),
        "releases": [(r.name, r.image_id) for r in releases.history(store, app)],
    }


def test_rename_moves_everything_and_the_new_name_serves_before_the_old_goes(flow):
    before = _files(flow, OLD)
    old_ids = [c.id for c in flow.scheduler.containers(OLD)]

    app_lifecycle.rename(flow.ctx, OLD, NEW, None)

    assert not flow.ctx.store.app_exists(OLD) and flow.ctx.store.app_exists(NEW)
    assert _files(flow, NEW) == before
    assert domains.own_domains(flow.ctx.store, NEW) == ["kitten.example.test", "www.cat.test"]
    kinds = [entry[0] for entry in flow.journal]
    assert kinds.index("route") < kinds.index("retire") < kinds.index("remove-app") < kinds.index("unroute")
    assert ("route", NEW, ["kitten.web.1.upcoming-000005"]) in flow.journal
    assert ("unroute", OLD) in flow.journal
    assert flow.scheduler.names(OLD) == [] and not set(old_ids) & set(flow.scheduler.live)
    assert [c.release for c in flow.scheduler.containers(NEW)] == ["v2", "v2"]
    assert flow.scheduler.tags == {"dokku/kitten:v1": "sha256:one", "dokku/kitten:v2": "sha256:two"}
    assert "git-hook kitten" in (flow.ctx.store.app_dir(NEW) / "hooks" / "pre-receive").read_text()
    assert flow.ctx.store.read(NEW, app_lifecycle.RENAMED_FROM) is None


def test_a_rollback_after_a_rename_runs_the_earlier_image(flow):
    app_lifecycle.rename(flow.ctx, OLD, NEW, None)
    with deploy.exclusive(flow.ctx, NEW):
        release = deploy.rollback(flow.ctx, NEW)
    assert release.image_id == "sha256:one"
    assert flow.scheduler.tags["dokku/kitten:v3"] == "sha256:one"


def test_rename_with_skip_deploy_leaves_the_app_stopped_and_unrouted(flow):
    app_lifecycle.rename(flow.ctx, OLD, NEW, None, skip_deploy=True)
    assert not [entry for entry in flow.journal if entry[0] == "start"]
    assert flow.scheduler.names(OLD) == [] and flow.scheduler.names(NEW) == []
    assert ("unroute", NEW) in flow.journal


def test_a_rename_whose_deploy_failed_keeps_the_old_containers_serving_and_finishes_when_run_again(flow):
    flow.scheduler.failing_releases.add("v2")
    routed = flow.proxy.routes[OLD]

    with pytest.raises(DeployFailed):
        app_lifecycle.rename(flow.ctx, OLD, NEW, None)

    assert flow.ctx.store.app_exists(NEW) and not flow.ctx.store.app_exists(OLD)
    assert flow.ctx.store.read(NEW, app_lifecycle.RENAMED_FROM) == f"{OLD}\n"
    assert flow.proxy.routes[OLD] == routed and all(flow.scheduler.live[i].running for i in routed)
    assert f"run `dokku apps:rename {OLD} {NEW}` again" in flow.output

    flow.scheduler.failing_releases.clear()
    app_lifecycle.rename(flow.ctx, OLD, NEW, None)

    assert flow.scheduler.names(OLD) == [] and len(flow.scheduler.names(NEW)) == 2
    assert flow.ctx.store.read(NEW, app_lifecycle.RENAMED_FROM) is None


def test_the_old_name_is_not_free_until_a_rename_cut_short_has_finished(flow):
    """Its containers still serve, and the rename's end removes them: an app another key made
    under the name meanwhile would lose its own containers with them."""
    flow.scheduler.failing_releases.add("v2")
    with pytest.raises(DeployFailed):
        app_lifecycle.rename(flow.ctx, OLD, NEW, None)
    flow.create_app("other")
    for taking in (
        lambda: app_lifecycle.create(flow.ctx, OLD, "bob"),
        lambda: app_lifecycle.rename(flow.ctx, "other", OLD, None),
        lambda: app_lifecycle.clone(flow.ctx, "other", OLD, None),
    ):
        with pytest.raises(AlreadyExists, match=f"{OLD} is being renamed to {NEW}"):
            taking()
    assert not flow.ctx.store.app_exists(OLD) and flow.ctx.store.app_exists("other")

    flow.scheduler.failing_releases.clear()
    app_lifecycle.rename(flow.ctx, OLD, NEW, None)
    app_lifecycle.create(flow.ctx, OLD, None)
    assert flow.ctx.store.app_exists(OLD) and len(flow.scheduler.names(NEW)) == 2


@pytest.mark.parametrize("new", [OLD, "taken", "Bad_Name"])
def test_rename_refuses_a_name_taken_or_invalid_and_changes_nothing(flow, new):
    flow.create_app("taken")
    before, journal = _files(flow, OLD), list(flow.journal)
    with pytest.raises((AlreadyExists, ValidationError)):
        app_lifecycle.rename(flow.ctx, OLD, new, None)
    assert _files(flow, OLD) == before and flow.journal == journal


def test_a_user_key_cannot_rename_onto_a_name_that_claims_another_apps_domain(flow):
    flow.create_app("shop")
    domains.set_app(flow.ctx.store, "shop", ["www.example.test"])
    before = _files(flow, OLD)
    with pytest.raises(ValidationError, match="www.example.test"):
        app_lifecycle.rename(flow.ctx, OLD, "www", "alice")
    assert _files(flow, OLD) == before and not flow.ctx.store.app_exists("www")


def test_postgres_links_follow_a_rename(flow):
    store = flow.ctx.store
    store.write(None, f"{postgres.folder('db')}/PASSWORD", "pw\n")
    postgres.write_links(store, "db", [postgres.Link(OLD, "DATABASE_URL")])

    app_lifecycle.rename(flow.ctx, OLD, NEW, None)

    assert postgres.links(store, "db") == [postgres.Link(NEW, "DATABASE_URL")]
    assert ("connect", "dokku.postgres.links.kitten", "dokku.postgres.db") in flow.journal
    assert ("disconnect", "dokku.postgres.links.cat", "dokku.postgres.db") in flow.journal
    assert flow.journal[-1] == ("remove-network", "dokku.postgres.links.cat")


def test_clone_copies_repo_config_and_settings_and_runs_the_same_release(flow, tmp_path):
    tree = tmp_path / "tree"
    tree.mkdir()
    (tree / "Procfile").write_text("web: serve\n")
    repo = flow.ctx.store.app_dir(OLD)
    gitrepo.move_branch(repo, "main", gitrepo.commit_directory(repo, tree, "main", "first"))

    assert app_lifecycle.clone(flow.ctx, OLD, NEW, None)

    store = flow.ctx.store
    assert gitrepo.branch_head(store.app_dir(NEW), "main") == gitrepo.branch_head(repo, "main")
    assert store.read_env(NEW) == store.read_env(OLD) and scale.read(store, NEW) == scale.read(store, OLD)
    assert rules.granted(store, NEW) == []
    assert domains.own_domains(store, NEW) == ["kitten.example.test"]
    [release] = releases.history(store, NEW)
    assert (release.name, release.image_id, release.sha) == ("v1", "sha256:two", "2" * 40)
    assert len(flow.scheduler.names(NEW)) == 2 and len(flow.scheduler.names(OLD)) == 2
    assert flow.scheduler.tags["dokku/kitten:v1"] == "sha256:two"


def test_an_admins_clone_takes_the_registry_credentials_along_but_not_the_repository(flow):
    store = flow.ctx.store
    registry.login(store, OLD, "ghcr.io", "bot", "token")
    properties.set_value(store, OLD, registry.IMAGE_REPO, "team/kitten-original")
    properties.set_value(store, OLD, registry.PUSH_ON_RELEASE, "true")
    registry.set_tag_version(store, OLD, 7)
    assert app_lifecycle.clone(flow.ctx, OLD, NEW, None, skip_deploy=True)
    assert registry.credentials(store, NEW, "ghcr.io") == ("bot", "token")
    assert store.path(NEW, registry.REGISTRY_AUTH).stat().st_mode & 0o077 == 0
    # its own repository, counting from 1: the original's would have two apps push the same tags
    assert properties.own_value(store, NEW, registry.IMAGE_REPO) == "" and registry.tag_version(store, NEW) == 0
    assert registry.pushes_on_release(store, NEW)


def test_clone_of_a_name_taken_is_refused_or_with_ignore_existing_does_nothing(flow):
    flow.create_app("taken")
    journal = list(flow.journal)
    with pytest.raises(AlreadyExists):
        app_lifecycle.clone(flow.ctx, OLD, "taken", None)
    assert app_lifecycle.clone(flow.ctx, OLD, "taken", None, ignore_existing=True) is False
    assert releases.history(flow.ctx.store, "taken") == [] and flow.journal == journal


def test_a_clone_counts_against_a_user_keys_quota(tmp_path, monkeypatch):
    flow = make_flow(tmp_path / "root", monkeypatch, user_app_quota=1)
    flow.create_app(OLD)
    rules.grant(flow.ctx.store, OLD, "alice")
    with pytest.raises(PermissionDenied, match="quota"):
        app_lifecycle.clone(flow.ctx, OLD, NEW, "alice")
    assert not flow.ctx.store.app_exists(NEW)


def test_a_user_keys_clone_takes_only_the_settings_that_key_may_set_itself(flow):
    store = flow.ctx.store
    store.write(OLD, "DOCKER_OPTIONS_DEPLOY", "--memory 4g\n")
    store.write(OLD, "properties/nginx", "ALLOW_CUSTOM_TEMPLATE=true\n")
    store.write(OLD, "properties/checks", "WAIT_TO_RETIRE=0\n")
    registry.login(store, OLD, "ghcr.io", "owner", "owners-token")

    assert app_lifecycle.clone(flow.ctx, OLD, NEW, "alice", skip_deploy=True)

    assert rules.granted(store, NEW) == ["alice"]
    assert store.read(NEW, "DOCKER_OPTIONS_DEPLOY") is None and store.read(NEW, "properties/nginx") is None
    assert store.read(NEW, "properties/checks") == "WAIT_TO_RETIRE=0\n"
    assert registry.credentials(store, NEW, "ghcr.io") is None, "the registry credentials are the admin's"
    assert scale.read(store, NEW) == scale.read(store, OLD) and store.read_env(NEW) == store.read_env(OLD)
    assert releases.history(store, NEW) == [] and flow.scheduler.names(NEW) == []


def test_a_stopped_app_stays_stopped_under_its_new_name(flow):
    ps_settings.mark_stopped(flow.ctx.store, OLD)
    app_lifecycle.rename(flow.ctx, OLD, NEW, None)
    assert not [entry for entry in flow.journal if entry[0] == "start"]
    assert flow.scheduler.names(OLD) == [] and flow.scheduler.names(NEW) == []
