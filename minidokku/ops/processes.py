"""An app's processes as a whole: scale, stop and start, restart policy, restore after a reboot.

What runs is derived, never stored: the current release, APP/SCALE and app.json's formation
say which containers should run; `ps:stop` records that the app should not (properties/ps
RUNNING=false, see records/ps_settings.py), so `ps:restore` leaves it stopped.
"""

from typing import Optional

from minidokku.access import rules
from minidokku.context import Context
from minidokku.errors import ValidationError
from minidokku.ops import apps, deploy
from minidokku.records import procfile, ps_settings, releases, scale
from minidokku.records.releases import Release
from minidokku.runtime.scheduler import Container, PortTaken


def set_scale(ctx: Context, app: str, pairs: list[str], skip_deploy: bool = False) -> dict[str, int]:
    """Saves the new counts and, when the app is deployed (and not skip_deploy: the counts are
    then only recorded, for the next deploy), runs them without downtime."""
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
        if current is not None and not skip_deploy and not ps_settings.is_stopped(ctx.store, app):
            try:
                deploy.restart(ctx, app)
            except BaseException:
                scale.write(ctx.store, app, previous)
                raise
    return changes


# ps:inspect shows these environment variables as they are and every other one's value as
# XXXXXX: an exact list, as a prefix (DOKKU_*) would show a service's URL with its password. A
# user key's app is shown without the host's paths (its engine files, its mounts' sources).
SHOWN_ENV = frozenset(
    {"CACHE_PATH", "DYNO", "PATH", "PORT", "USER", "DOKKU_APP_TYPE", "DOKKU_APP_RESTORE", "DOKKU_PROXY_PORT"}
)
MASK = "XXXXXX"
HOST_PATH_FIELDS = ("GraphDriver", "LogPath", "ResolvConfPath", "HostnamePath", "HostsPath")


def inspect(ctx: Context, app: str) -> list[dict]:
    """The engine's description of the app's process containers (`docker inspect`), their
    config values masked: ps:inspect's output can be pasted elsewhere."""
    apps.require(ctx, app)
    tenant = rules.is_tenant_app(ctx.store, app)
    scheduler = ctx.scheduler_for(app)
    return [_sanitized(found, tenant) for found in scheduler.inspect(scheduler.running(ctx.docker_name(app)))]


def _sanitized(found: dict, tenant: bool) -> dict:
    config = dict(found.get("Config") or {})
    config["Env"] = [_masked(entry) for entry in config.get("Env") or []]
    shown = dict(found, Config=config)
    if tenant:
        for name in HOST_PATH_FIELDS:
            shown.pop(name, None)
        if "Mounts" in found:
            shown["Mounts"] = [_without_source(mount) for mount in found["Mounts"] or []]
        if "HostConfig" in found:  # its Binds and Mounts name the host's folders too
            shown["HostConfig"] = {k: v for k, v in (found["HostConfig"] or {}).items() if k not in ("Binds", "Mounts")}
    return shown


def _without_source(mount: dict) -> dict:
    return {key: value for key, value in mount.items() if key != "Source"}


def _masked(entry: str) -> str:
    name = entry.partition("=")[0]
    return entry if name in SHOWN_ENV else f"{name}={MASK}"


def counts(ctx: Context, app: str) -> dict[str, int]:
    """What runs per process type now: ps:scale's numbers over the current release."""
    current = releases.current(ctx.store, app)
    saved = scale.read(ctx.store, app)
    if current is None:
        return saved
    return scale.effective(saved, current.processes, current.settings.formation)


def dynos(ctx: Context, app: str) -> set[str]:
    """The dynos the app runs now (`web.1`, `worker.1`, ...)."""
    return {f"{name}.{index}" for name, count in counts(ctx, app).items() for index in range(1, count + 1)}


def stop(ctx: Context, app: str) -> None:
    """Stops every container (kept, with their logs); the proxy answers 503 until ps:start."""
    apps.require(ctx, app)
    with deploy.exclusive(ctx, app):
        ps_settings.mark_stopped(ctx.store, app)
        ctx.proxy.route(app, [])  # first: requests get a 503, not a 502 from a stopping container
        grace = ps_settings.stop_timeout(ctx.store, app)
        scheduler = ctx.scheduler_for(app)
        scheduler.stop(scheduler.running(ctx.docker_name(app)), grace=grace)


def start(ctx: Context, app: str) -> Release:
    apps.require(ctx, app)
    with deploy.exclusive(ctx, app):
        return deploy.restart(ctx, app)


def restart(ctx: Context, app: str, process_type: str = "") -> Release:
    """Runs the app's containers (or only those of process_type) again, without downtime."""
    apps.require(ctx, app)
    with deploy.exclusive(ctx, app):
        if process_type:
            procfile.validate_process_type(process_type)
            deploy.require_deployed(ctx, app)
            running = counts(ctx, app)
            if process_type not in running:
                raise ValidationError(f"{app} has no process type {process_type} (it has {', '.join(running)})")
            if not running[process_type]:
                raise ValidationError(f"{app} runs no {process_type} container (ps:scale {app} {process_type}=1)")
            if ps_settings.is_stopped(ctx.store, app):
                raise ValidationError(f"{app} is stopped; `dokku ps:start {app}` starts all its processes")
        return deploy.restart(ctx, app, process_type)


def restore(ctx: Context, app: str) -> Optional[str]:
    """Brings a deployed, not stopped app back to its recorded release: after a reboot, an
    engine restart, or a command killed midway.

    Containers of the recorded release that are there keep serving (stopped ones start again)
    and nginx learns their ports; when one is missing, or they publish on host ports the engine
    picked (made before minidokku picked them), the release is deployed again. Every other
    container of the app goes: a killed deploy's new ones, old ones it had not yet retired.
    Returns what was done, or None when nothing was due (or the app is not to be restored:
    stopped by ps:stop, or `ps:set APP restore false`).
    """
    apps.require(ctx, app)
    if not ps_settings.restores(ctx.store, app):
        return None
    # not exclusive(): apps:lock holds off new deploys, not the recorded release coming back
    with deploy.locked(ctx, app):  # which finishes first what a killed deploy left half done
        current = releases.current(ctx.store, app)
        scheduler = ctx.scheduler_for(app)
        containers = scheduler.containers(ctx.docker_name(app))
        if current is None:  # a first deploy was killed: nothing was ever recorded, nothing serves
            if not containers:
                return None
            ctx.proxy.remove(app)
            scheduler.retire([c.id for c in containers], grace=0)
            return f"{len(containers)} containers of a deploy that never finished removed"
        expected = dynos(ctx, app)
        keep = serving_set(containers, current.name, expected)
        if keep is None or not all(c.ports_kept for c in keep):
            scheduler.retire([c.id for c in containers if c.retiring], grace=0)  # no retirement outlives a reboot
            deploy.restart(ctx, app)
            return "redeployed" if keep is None else "redeployed on host ports it keeps"
        strays = [c for c in containers if c not in keep]
        try:
            restarted = [c if c.running else scheduler.restart(c) for c in keep]
        except PortTaken:  # a host process took a port of a stopped one: new containers, new ports
            scheduler.retire([c.id for c in containers if c.retiring], grace=0)
            deploy.restart(ctx, app)
            return "redeployed (a host port of its containers was taken)"
        scheduler.mark_retiring(strays)  # frees the plain names the kept ones take
        scheduler.settle_names(restarted)
        ctx.proxy.route(app, [c for c in restarted if c.process_type == "web"], current)
        scheduler.retire([c.id for c in strays])
        done = "restarted" if any(not c.running for c in keep) else "rerouted"
        return f"{done}, {len(strays)} containers outside {current.name} removed" if strays else done


def restore_due(ctx: Context, app: str) -> bool:
    """Whether restore has something to do: the app is deployed and to be restored, and a dyno
    it should run has no running container of its recorded release under its plain name (the
    engine came back without it: it had exited 0, or the machine rebooted), or one publishes on
    host ports the engine picked (made before minidokku picked them: they move at each start).
    Asked without the app's lock, so a watcher looks at every app without holding off its commands."""
    current = releases.current(ctx.store, app)
    if current is None or not ps_settings.restores(ctx.store, app):
        return False
    containers = ctx.scheduler_for(app).containers(ctx.docker_name(app))
    serving = [c for c in containers if c.running and c.name == c.plain_name and c.release == current.name]
    return not dynos(ctx, app) <= {c.dyno for c in serving} or not all(c.ports_kept for c in serving)


def serving_set(containers: list[Container], release: str, expected: set[str]) -> Optional[list[Container]]:
    """The containers that serve release after a restore: one per expected dyno, of that release
    and not retiring, preferring the one with its plain name (it served last), then a running one.
    None when a dyno has no such container (the release must be deployed again)."""
    chosen: dict[str, Container] = {}
    candidates = [c for c in containers if c.release == release and not c.retiring and c.dyno in expected]
    for container in sorted(candidates, key=lambda c: (c.name != c.plain_name, not c.running, c.name)):
        chosen.setdefault(container.dyno, container)
    return [chosen[dyno] for dyno in sorted(chosen)] if set(chosen) == expected else None
