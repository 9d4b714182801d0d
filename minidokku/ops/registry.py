"""Registries (Dokku's registry plugin): logging in, and pushing a release's image when the app
pushes on release (records/registry.py keeps the settings and the credentials).

A push happens once per new image, before it runs: the release's containers start only once the
registry holds the image, and a push that fails fails the deploy with nothing changed. The image
goes as each extra tag, then as SERVER/REPO:N (N counts the app's pushes, Dokku's tag-version),
which is counted only once it is in.

A tenant's app (granted to a user key) pushes only when an admin set push-on-release for that app
itself, only to the image-repo an admin set for it, and only with credentials given to that app:
the global settings and credentials are the admin's, and a tenant chooses its app's name (apps:
create, apps:rename), so with a repository made from it (`dokku/NAME`, a template) it could write
into any repository the credentials may write.
"""

from dataclasses import replace
from typing import Optional

from minidokku.access import rules
from minidokku.build.builders import image_repository
from minidokku.context import Context
from minidokku.errors import DeployFailed, EngineError, ValidationError
from minidokku.records import properties, registry
from minidokku.records import scheduler as selection
from minidokku.records.releases import Release

DOCKER_HUB_ADDRESS = "https://index.docker.io/v1/"  # what the engine logs in to for docker.io


def repository(ctx: Context, app: str) -> str:
    """Where the app's image is pushed: `SERVER/REPO`, or `REPO` on Docker Hub."""
    default = image_repository(ctx.docker_name(app))
    return registry.computed_server(ctx.store, app) + registry.computed_image_repo(ctx.store, app, default)


def pushes(ctx: Context, app: str) -> bool:
    """Whether a new image of the app is pushed (a tenant's app: by its own setting alone)."""
    return registry.pushes_on_release(ctx.store, app, own_only=rules.is_tenant_app(ctx.store, app))


def push_on_release(ctx: Context, app: str, image_id: str) -> Optional[str]:
    """Pushes the image of a new release when the app pushes on release, or runs on the swarm
    (whose nodes pull it); returns where it went (`SERVER/REPO@DIGEST`), None when it does not
    push."""
    if not _pushes_anything(ctx, app):
        return None
    return _push(ctx, app, image_id)


def distribute(ctx: Context, app: str, release: Release) -> tuple[Release, Optional[tuple[str, str]]]:
    """The release as the app's scheduler runs it, and the credentials that pull its image: on
    the swarm, its image is the registry's `SERVER/REPO@DIGEST` (pushed when its release was
    made, else now: a release from before the app moved to the swarm)."""
    if not selection.runs_on_swarm(ctx.store, app):
        return release, None
    target = repository(ctx, app)
    known = registry.pushed_reference(ctx.store, app, release.image_id)
    # pushed where the app pushes now (registry:set may have moved it since)
    reference = known if known and known.rpartition("@")[0] == target else _push(ctx, app, release.image_id)
    return replace(release, image_id=reference), _credentials(ctx, app, target)


def _push(ctx: Context, app: str, image_id: str) -> str:
    tenant = rules.is_tenant_app(ctx.store, app)
    if tenant and not properties.own_value(ctx.store, app, registry.IMAGE_REPO):
        raise DeployFailed(
            f"{app} is a user key's app: it pushes only to an image-repo an admin sets for it "
            f"(registry:set {app} image-repo REPO)"
        )
    if selection.runs_on_swarm(ctx.store, app) and not properties.computed_value(ctx.store, app, registry.SERVER):
        raise DeployFailed(
            f"{app} runs on the swarm scheduler, whose nodes pull its image from a registry: "
            "set one with `dokku registry:set --global server HOST[:PORT]`"
        )
    target = repository(ctx, app)
    _check_target(ctx, app, target)
    version = registry.tag_version(ctx.store, app) + 1
    tags = [*registry.extra_tags(ctx.store, app), str(version)]  # the counted one last
    ctx.out.step("Pushing image to registry")
    try:
        digest = ctx.scheduler.push_image(
            image_id, target, tags, _credentials(ctx, app, target), ctx.settings.build_timeout
        )
    except EngineError as error:
        raise DeployFailed(f"pushing the image of {app} to {target} failed: {error}") from None
    registry.set_tag_version(ctx.store, app, version)
    ctx.out.info(f"Pushed {target}:{', '.join(tags)} ({digest})")
    reference = f"{target}@{digest}"
    registry.remember_push(ctx.store, app, image_id, reference)
    return reference


def _credentials(ctx: Context, app: str, target: str) -> Optional[tuple[str, str]]:
    """What the app pushes and pulls with (a tenant's app: its own credentials alone)."""
    own_only = rules.is_tenant_app(ctx.store, app)
    return registry.credentials(ctx.store, app, registry.reference_host(target), own_only=own_only)


def _pushes_anything(ctx: Context, app: str) -> bool:
    return pushes(ctx, app) or selection.runs_on_swarm(ctx.store, app)


def _check_target(ctx: Context, app: str, target: str) -> None:
    """Refuses a repository that a template made invalid for this app's name, or that another app
    of this host pushes to too: both would push tag N, each over the other's. Only apps that push
    count: a tenant's app that never pushes cannot stop another app's pushes by its name."""
    try:
        registry.check_repository(target.removeprefix(registry.computed_server(ctx.store, app)))
    except ValidationError as error:
        raise DeployFailed(f"{app} cannot be pushed: {error}") from None
    for other in ctx.store.list_apps():
        if other != app and _pushes_anything(ctx, other) and repository(ctx, other) == target:
            raise DeployFailed(f"{app} and {other} both push to {target}: set image-repo for one of them")


def login(ctx: Context, app: Optional[str], server: str, username: str, password: str) -> None:
    """Checks the credentials with the registry (through the engine), then keeps them for app
    (None: for every app)."""
    if not server:
        raise ValidationError("Missing server argument")
    if not username:
        raise ValidationError("Missing username argument")
    if not password:
        raise ValidationError("Missing password argument")
    name = registry.server_name(registry.SERVER.check(server))
    address = DOCKER_HUB_ADDRESS if name == registry.DOCKER_HUB else name
    try:
        ctx.engine.check_login(address, username, password)
    except EngineError as error:
        raise ValidationError(f"Unable to log in to {name}: {error}") from None
    registry.login(ctx.store, app, name, username, password)
