"""An app's processes as a whole: scale, stop and start, restart policy, restore after a reboot.

What runs is derived, never stored: the current release, APP/SCALE and app.json's formation
say which containers should run; `ps:stop` records that the app should not (properties/ps
RUNNING=false, see ps_settings.py), so `ps:restore` leaves it stopped.
"""

from typing import Optional

from minidokku import apps, deploy, proxy, ps_settings, releases, scale
from minidokku.context import Context
from minidokku.errors import ValidationError
from minidokku.releases import Release


def set_scale(ctx: Context, app: str, pairs: list[str]) -> dict[str, int]:
    """Saves the new counts and, when the app is deployed, runs them without downtime."""
    apps.require(ctx, app)
    changes = scale.parse_pairs(pairs)
    with deploy.exclusive(ctx, app):
        current = releases.current(ctx.store, app)
        if current is not None:
            unknown = [name for name in changes if name not in current.processes]
            if unknown:
                raise ValidationError(
                    f"{app} has no process type {', '.join(unknown)} (it has {', '.join(current.processes)})"
                )
        saved = scale.read(ctx.store, app)
        previous = dict(saved)
        scale.write(ctx.store, app, dict(saved, **changes))
        if current is not None and not ps_settings.is_stopped(ctx.store, app):
            try:
                deploy.restart(ctx, app)
            except BaseException:
                scale.write(ctx.store, app, previous)
                raise
    return changes


def counts(ctx: Context, app: str) -> dict[str, int]:
    """What runs per process type now: ps:scale's numbers over the current release."""
    current = releases.current(ctx.store, app)
    saved = scale.read(ctx.store, app)
    if current is None:
        return saved
    return scale.effective(saved, current.processes, current.settings.formation)


def stop(ctx: Context, app: str) -> None:
    """Stops every container (kept, with their logs); the proxy answers 503 until ps:start."""
    apps.require(ctx, app)
    with deploy.exclusive(ctx, app):
        ps_settings.mark_stopped(ctx.store, app)
        proxy.route(ctx, app, [])  # first: requests get a 503, not a 502 from a stopping container
        ctx.scheduler.stop(ctx.scheduler.running(ctx.docker_name(app)))


def start(ctx: Context, app: str) -> Release:
    apps.require(ctx, app)
    with deploy.exclusive(ctx, app):
        return deploy.restart(ctx, app)


def restart(ctx: Context, app: str) -> Release:
    apps.require(ctx, app)
    with deploy.exclusive(ctx, app):
        return deploy.restart(ctx, app)


def restore(ctx: Context, app: str) -> Optional[str]:
    """Brings a deployed, not stopped app back after a reboot or an engine restart.

    Containers the engine restarted keep serving and nginx learns their new ports; otherwise
    the current release is deployed again. Returns what was done, or None when nothing was due.
    """
    apps.require(ctx, app)
    if releases.current(ctx.store, app) is None or ps_settings.is_stopped(ctx.store, app):
        return None
    with deploy.exclusive(ctx, app):
        docker_name = ctx.docker_name(app)
        leftovers = [c.id for c in ctx.scheduler.containers(docker_name) if c.retiring]
        ctx.scheduler.retire(leftovers, grace=0)
        present = ctx.scheduler.running(docker_name)
        expected = {f"{name}.{index}" for name, count in counts(ctx, app).items() for index in range(1, count + 1)}
        if {c.dyno for c in present if c.name == c.plain_name} != expected or len(present) != len(expected):
            deploy.restart(ctx, app)
            return "redeployed"
        restarted = [c if c.running else ctx.scheduler.restart(c) for c in present]
        proxy.route(ctx, app, [c for c in restarted if c.process_type == "web"], releases.current(ctx.store, app))
        return "restarted" if any(not c.running for c in present) else "rerouted"
