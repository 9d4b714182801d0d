"""`dokku cleanup [APP]` (Dokku's docker_cleanup): what finished containers and dangling images
minidokku's apps left behind, removed through the scheduler. Only what carries one of this
root's apps' labels is looked at: nothing else on the host (another tool's containers, images
no app built) is ever touched."""

from dataclasses import dataclass
from typing import Optional

from minidokku.context import Context
from minidokku.errors import Locked
from minidokku.ops import apps, deploy


@dataclass(frozen=True)
class Cleaned:
    app: str
    containers: int = 0
    images: int = 0
    busy: str = ""  # why the app was skipped: another deploy or command holds it


def clean_up(ctx: Context, app: Optional[str]) -> list[Cleaned]:
    """The named app (its lock held, so no build or deploy of it is under way: a busy app is
    refused), or every app (a busy one is skipped and said so)."""
    if app is not None:
        return [_clean_up_app(ctx, apps.require(ctx, app))]
    return [_clean_up_unless_busy(ctx, name) for name in apps.list_apps(ctx)]


def _clean_up_unless_busy(ctx: Context, app: str) -> Cleaned:
    try:
        return _clean_up_app(ctx, app)
    except Locked as error:
        return Cleaned(app, busy=str(error))


def _clean_up_app(ctx: Context, app: str) -> Cleaned:
    with deploy.locked(ctx, app):  # a killed deploy's leftovers go first (finish_interrupted)
        containers, images = ctx.scheduler.clean_up(ctx.docker_name(app))
    return Cleaned(app, containers, images)
