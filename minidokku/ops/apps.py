"""Apps: creating, listing and destroying them (repo, state, containers, image, proxy)."""

import shutil
from typing import Optional

from minidokku.access import rules
from minidokku.build import gitrepo
from minidokku.build.builders import image_repository
from minidokku.build.builders.buildpacks import cache_volume
from minidokku.context import Context
from minidokku.errors import AlreadyExists, NotFound
from minidokku.plugins import triggers
from minidokku.records import names, releases
from minidokku.routing import domains
from minidokku.state import file_lock


def require(ctx: Context, app: str) -> str:
    """Validates the name and checks the app exists; returns the name."""
    names.validate_app_name(app)
    if not ctx.store.app_exists(app):
        raise NotFound(f"App {app} does not exist")
    return app


CREATE_LOCK = ".apps.lock"  # held while an app is made


def create(ctx: Context, app: str, key: Optional[str]) -> None:
    """Makes the app for the ssh key named key (None: the host). A user key's quota is counted
    and its new app granted to it under one lock for the whole machine, so that two creates
    at once cannot take it over its quota."""
    names.validate_app_name(app)
    by_user_key = key is not None and rules.role(ctx.store, key) == rules.USER
    with file_lock(ctx.store.path(None, CREATE_LOCK)), domains.new_app_names(ctx.store, app, by_user_key):
        if ctx.store.app_exists(app):
            raise AlreadyExists(f"Name is already taken: {app}")
        rules.check_quota(ctx.store, key, ctx.settings.user_app_quota)
        ctx.out.step(f"Creating {app}...")
        _remove_leftovers(ctx, app)
        repo = ctx.store.create_app_dir(app)
        gitrepo.init_bare(repo)
        gitrepo.install_pre_receive_hook(repo, ctx.settings.program, ctx.settings.root, app)
        gitrepo.limit_push_size(repo, ctx.settings.max_push_size)  # as each push sets it: a push changes no file
        rules.after_create(ctx.store, key, app)
    triggers.fire(ctx, "post-create", app)


def _remove_leftovers(ctx: Context, app: str) -> None:
    """A folder without a repo is what an interrupted apps:destroy left (ENV, ACL, tls/ ...):
    the next app of that name, whoever creates it, must not inherit it."""
    folder = ctx.store.app_dir(app)
    if folder.exists() or folder.is_symlink():
        ctx.out.info(f"Removing what an earlier {app} left behind")
        if folder.is_dir() and not folder.is_symlink():
            shutil.rmtree(folder)
        else:
            folder.unlink()


def list_apps(ctx: Context) -> list[str]:
    return ctx.store.list_apps()


def one_or_all(ctx: Context, app: Optional[str]) -> list[str]:
    """The named app (checked), or every app when none is named (`*:report [APP]`)."""
    return [require(ctx, app)] if app else list_apps(ctx)


def destroy(ctx: Context, app: str) -> None:
    """Removes everything the app has: containers, images, cache, proxy config, repo and state."""
    require(ctx, app)
    repository = image_repository(ctx.docker_name(app))
    triggers.fire(ctx, "pre-delete", app, repository)
    with ctx.store.lock(app):
        ctx.scheduler.remove_app(ctx.docker_name(app))
        ctx.proxy.remove(app)
        _remove_images(ctx, app)
        ctx.scheduler.remove_volume(cache_volume(ctx.docker_name(app)))
        ctx.store.remove_app(app)
    triggers.fire(ctx, "post-delete", app, repository)


def _remove_images(ctx: Context, app: str) -> None:
    """Removes our tags (dokku/APP:latest and :vN), then the release images no other name holds:
    an image the app was deployed from (git:from-image) stays, under its own name."""
    history = releases.history(ctx.store, app)
    repository = image_repository(ctx.docker_name(app))
    tags = [f"{repository}:{tag}" for tag in ["latest", *(release.name for release in history)]]
    ctx.scheduler.remove_images(tags, {release.image_id for release in history}, must_go=True)


DEPLOY_LOCK = ".deploy.lock"  # Dokku's name for the apps:lock marker


def lock(ctx: Context, app: str) -> None:
    """`apps:lock`: no deploy of the app runs until `apps:unlock`."""
    require(ctx, app)
    ctx.store.write(app, DEPLOY_LOCK, "locked by apps:lock\n")


def unlock(ctx: Context, app: str) -> None:
    require(ctx, app)
    ctx.store.remove(app, DEPLOY_LOCK)


def is_locked(ctx: Context, app: str) -> bool:
    return ctx.store.path(app, DEPLOY_LOCK).is_file()
