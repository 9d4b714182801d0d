"""repo:gc and repo:purge-cache (Dokku's repo plugin): an app's git repository and build cache.

The build cache is the app's cache volume, mounted on /cache in every buildpack build (its
virtualenv, node_modules...), its build base (the image its buildpack builds start from:
build/builders/build_base.py), and APP/cache/buildpacks, the buildpacks fetched for it; the next
build starts without any of them and makes them again."""

from minidokku.access import rules
from minidokku.build import buildpack_choice, gitrepo
from minidokku.build.builders import build_base
from minidokku.build.builders.buildpacks import cache_volume
from minidokku.context import Context
from minidokku.ops import apps, deploy


def collect_garbage(ctx: Context, app: str) -> None:
    """Under the app's lock (no push lands meanwhile, and no two at once); `--aggressive`, as in
    Dokku, only for an app granted to no user key, whose objects a tenant chose."""
    apps.require(ctx, app)
    with ctx.store.lock(app):
        gitrepo.collect_garbage(ctx.store.app_dir(app), aggressive=not rules.is_tenant_app(ctx.store, app))


def purge_cache(ctx: Context, app: str) -> None:
    """Under the app's lock, so no build is using the cache (and a killed build's container,
    which would hold the volume, is removed first)."""
    apps.require(ctx, app)
    with deploy.locked(ctx, app):
        ctx.scheduler.remove_volume(cache_volume(ctx.docker_name(app)))
        ctx.scheduler.remove_images([build_base.name(ctx.docker_name(app))], [])
        ctx.store.remove_folder(app, buildpack_choice.CACHE)
