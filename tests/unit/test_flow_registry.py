"""push-on-release on a fake scheduler (ops/registry.py): which apps push, where, with whose
credentials, and what stops a push before anything goes."""

import pytest
from fakes import make_flow

from minidokku.access import rules
from minidokku.errors import DeployFailed
from minidokku.ops import registry as registry_ops
from minidokku.records import properties, registry

APP, OTHER = "cat", "dog"
IMAGE = "sha256:" + "c" * 64


@pytest.fixture
def flow(tmp_path, monkeypatch):
    flow = make_flow(tmp_path / "root", monkeypatch)
    flow.create_app(APP)
    flow.create_app(OTHER)
    store = flow.ctx.store
    registry.login(store, None, "ghcr.io", "admin", "admins-token")
    properties.set_value(store, None, registry.SERVER, "ghcr.io")
    properties.set_value(store, None, registry.PUSH_ON_RELEASE, "true")
    return flow


def pushes(flow) -> list[tuple]:
    return [entry for entry in flow.journal if entry[0] == "push"]


def test_an_admins_app_pushes_extra_tags_then_the_counted_one_with_the_global_credentials(flow):
    properties.set_value(flow.ctx.store, APP, registry.PUSH_EXTRA_TAGS, "stable")
    assert registry_ops.push_on_release(flow.ctx, APP, IMAGE) == "ghcr.io/dokku/cat@sha256:" + "d" * 64
    assert pushes(flow) == [("push", IMAGE, "ghcr.io/dokku/cat", ("stable", "1"), ("admin", "admins-token"))]
    assert registry.tag_version(flow.ctx.store, APP) == 1


def test_a_tenants_app_ignores_the_global_settings_and_credentials(flow):
    store = flow.ctx.store
    rules.grant(store, APP, "eve")
    assert registry_ops.push_on_release(flow.ctx, APP, IMAGE) is None  # the global push-on-release

    properties.set_value(store, APP, registry.PUSH_ON_RELEASE, "true")
    with pytest.raises(DeployFailed, match="pushes only to an image-repo an admin sets for it"):
        registry_ops.push_on_release(flow.ctx, APP, IMAGE)  # not dokku/NAME: the tenant names its app
    properties.set_value(store, APP, registry.IMAGE_REPO, "tenants/eve-cat")
    registry_ops.push_on_release(flow.ctx, APP, IMAGE)
    assert pushes(flow) == [("push", IMAGE, "ghcr.io/tenants/eve-cat", ("1",), None)]


def test_a_tenants_app_named_after_an_admin_apps_repository_does_not_stop_its_pushes(flow):
    store = flow.ctx.store
    properties.set_value(store, APP, registry.IMAGE_REPO, "dokku/dog")
    properties.set_value(store, OTHER, registry.PUSH_ON_RELEASE, "false")
    registry_ops.push_on_release(flow.ctx, APP, IMAGE)  # dog pushes nothing: no conflict
    properties.set_value(store, OTHER, registry.PUSH_ON_RELEASE, "")
    rules.grant(store, OTHER, "eve")  # a tenant's dog: it pushes only by its own setting
    registry_ops.push_on_release(flow.ctx, APP, IMAGE)
    assert len(pushes(flow)) == 2


def test_two_pushing_apps_on_one_repository_are_refused_before_anything_goes(flow):
    properties.set_value(flow.ctx.store, APP, registry.IMAGE_REPO, "dokku/dog")
    with pytest.raises(DeployFailed, match="cat and dog both push to ghcr.io/dokku/dog"):
        registry_ops.push_on_release(flow.ctx, APP, IMAGE)
    assert pushes(flow) == [] and registry.tag_version(flow.ctx.store, APP) == 0


def test_the_report_has_dokkus_flags_in_dokkus_order_and_says_what_a_tenants_app_does(flow):
    from minidokku.cli.registry import _rows

    flags = [row.flag for row in _rows(flow.ctx, APP)]
    assert flags == sorted(flags) and len(flags) == 15
    assert {"--registry-tag-version", "--registry-computed-image-repo", "--registry-global-server"} <= set(flags)
    assert [row.flag for row in _rows(flow.ctx, None)] == sorted(f for f in flags if "global" in f or (
        f.startswith("--registry-computed-") and f != "--registry-computed-image-repo"))  # fmt: skip
    pushes_row = {row.flag: row for row in _rows(flow.ctx, APP)}["--registry-computed-push-on-release"]
    assert pushes_row.value() == "true"  # the global push-on-release
    rules.grant(flow.ctx.store, APP, "eve")
    assert pushes_row.value() == "false", "a tenant's app does not push by the global setting"
