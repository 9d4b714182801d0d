"""Apps: which exist, checking a name given, and the deploy lock (apps:lock). What changes the set
of apps (create, rename, clone, destroy) is ops/app_lifecycle.py: most commands need only this
module, and it loads nothing that talks to Docker or deploys."""

from typing import Optional

from minidokku.context import Context
from minidokku.errors import AppNotFound
from minidokku.records import names


def require(ctx: Context, app: str) -> str:
    """Validates the name and checks the app exists; returns the name."""
    names.validate_app_name(app)
    if not ctx.store.app_exists(app):
        raise AppNotFound(app)
    return app


def list_apps(ctx: Context) -> list[str]:
    return ctx.store.list_apps()


def one_or_all(ctx: Context, app: Optional[str]) -> list[str]:
    """The named app (checked), or every app when none is named (`*:report [APP]`)."""
    return [require(ctx, app)] if app else list_apps(ctx)


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


def exists(ctx: Context, app: str) -> bool:
    return ctx.store.app_exists(names.validate_app_name(app))
