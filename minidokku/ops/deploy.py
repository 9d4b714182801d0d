"""The deploy, top to bottom: build a pushed commit, release it, run it, route to it.

Every path that changes what runs (a push, a config change, a restart, a scale change, a
rollback) ends in deploy_release(): new containers start beside the old ones and must pass
their checks, nginx moves to them (config checked, then reloaded) as soon as they answer, and
the old ones stay running behind them (nginx's backups) until the new ones have run their
uptime check (DOKKU_DEFAULT_CHECKS_WAIT); only then is the release recorded and do the old ones
retire, after a grace period. When anything fails, the switch included (a new container dying
within its uptime), traffic goes back to the old containers, the new ones are removed and the
old release keeps serving, recorded as it was.

A command killed midway (SIGKILL, an ssh hang-up, a reboot) cannot clean up after itself, so the
next one that takes the app's lock does (finish_interrupted): the release record it left half
written is completed; traffic it had moved to new containers not yet past their uptime check
goes back to the recorded release and those containers go (records/switching.py's journal names
them); its build and task containers go. The other containers a killed deploy had started are
old ones to the next deploy (retired after its switch), and strays to `ps:restore`.
"""

import contextlib
from collections.abc import Iterator
from dataclasses import replace
from functools import partial
from typing import NoReturn, Optional

import minidokku.ops.builds as build_records
import minidokku.records.builds as build_kinds
from minidokku.build import builds
from minidokku.build.builders import BuildResult, image_repository
from minidokku.context import Context
from minidokku.errors import DeployFailed, Locked, NotFound, ProxyError
from minidokku.ops import apps, cron, logs, network, registry, retirement, tasks
from minidokku.plugins import triggers
from minidokku.records import (
    docker_options,
    envfile,
    git_settings,
    log_settings,
    ps_settings,
    releases,
    resources,
    scale,
    switching,
)
from minidokku.records import scheduler as selection
from minidokku.records.docker_options import DockerOptions
from minidokku.records.releases import Release
from minidokku.routing import proxy
from minidokku.runtime import at_once, checks
from minidokku.runtime.scheduler import Container
from minidokku.steps import waiting


@contextlib.contextmanager
def exclusive(ctx: Context, app: str) -> Iterator[None]:
    """One deploy or command changing what runs per app at a time; `apps:lock` holds them all off."""
    if apps.is_locked(ctx, app):
        raise Locked(f"{app} is locked by apps:lock; run `dokku apps:unlock {app}` to deploy again")
    with locked(ctx, app):
        yield


@contextlib.contextmanager
def locked(ctx: Context, app: str) -> Iterator[None]:
    """The app's lock, taken over from a command that was killed holding it (the kernel releases
    a dead process's flock): what that command left half done is finished first."""
    with ctx.store.lock(app):
        finish_interrupted(ctx, app)
        yield


def finish_interrupted(ctx: Context, app: str) -> None:
    """Completes the release record a killed deploy left half written (saved, but ENV or its
    image tag not yet); sends traffic back to the recorded release where a deploy was killed
    before its new containers passed their uptime check, removing them; and removes the build
    and task containers it left (none is legitimately there while the caller holds the app's lock)."""
    unfinished = releases.unfinished_record(ctx.store, app)
    if unfinished is not None:
        _record(ctx, app, unfinished)  # which ends its switch journal: it was past going back
    interrupted = switching.unfinished(ctx.store, app)
    if interrupted is not None:
        _undo_interrupted_switch(ctx, app, interrupted)
    ctx.scheduler_for(app).remove_leftover_tasks(ctx.docker_name(app))
    ctx.scheduler_for(app).remove_abandoned_namespaces(ctx.docker_name(app))


def _undo_interrupted_switch(ctx: Context, app: str, interrupted: switching.Switch) -> None:
    """What the killed deploy would have done on its way out: the recorded release's web
    containers (running, not its new ones) take the traffic back, then its new ones go."""
    current = releases.current(ctx.store, app)
    kept = [
        c
        for c in ctx.scheduler_for(app).web_containers(ctx.docker_name(app))
        if c.id not in interrupted.containers and current is not None and c.release == current.name
    ]
    said, _ = _send_back(ctx, app, interrupted.release, kept)
    ctx.scheduler_for(app).retire(list(interrupted.containers), grace=0)
    switching.end(ctx.store, app)
    ctx.out.info(f"A deploy of {interrupted.release} was killed before its new containers passed their checks: {said}")


def deploy_commit(ctx: Context, app: str, sha: str) -> Optional[Release]:
    """Builds the commit and deploys it as a new release (None: `ps:set skip-deploy true`, built
    only). The caller holds exclusive(app)."""
    ctx.steps.done("receive")  # the push received, the hook started and the app's lock taken
    # the build's clean-up (runtime/at_once.py) waits until traffic moved (_switch), within the lock
    with build_records.recorded(ctx, app, build_kinds.BUILD, sha), at_once.holding_back():
        ctx.out.step(f"Building {app} ...")
        env = git_settings.with_rev(ctx.store, app, ctx.store.read_env(app), sha)  # GIT_REV=sha, as Dokku
        result = builds.build_commit(ctx, app, sha, envfile.with_global(ctx.store, env))
        ctx.steps.done("build")
        return deploy_build(ctx, app, result, env, sha, f"Deploy {sha[:7]}")


def deploy_build(
    ctx: Context, app: str, build: BuildResult, env: dict[str, str], sha: str, description: str
) -> Optional[Release]:
    """The tail of every deploy of a new image (a push, an archive, an image, a rebuild): the
    predeploy script, then the release of the build with env (the app's), deployed. sha is ""
    for an image. With `ps:set skip-deploy true` it stops before (None): what runs stays."""
    with build_records.recorded(ctx, app, build_kinds.BUILD, sha):
        if ps_settings.skips_deploy(ctx.store, app):
            ctx.out.step("Skipping deployment")
            return None
        predeploy = build.app_json.predeploy
        env_all = envfile.with_global(ctx.store, env)
        image_id = tasks.predeploy(ctx, app, build, env_all) if predeploy else build.image_id
        registry.push_on_release(ctx, app, image_id)  # before it runs: a failed push changes nothing
        ctx.out.step(f"Releasing {app} ...")
        release = releases.prepare(ctx.store, app, sha, image_id, description, env, build)
        return deploy_release(ctx, app, release)


def change_config(ctx: Context, app: str, env: dict[str, str], description: str) -> Release:
    """Runs the current release's image with a new config, as a new release."""
    release = releases.successor(ctx.store, app, require_deployed(ctx, app), description, env)
    return deploy_release(ctx, app, release)


def rollback(ctx: Context, app: str, target_name: str = "") -> Release:
    """Deploys an earlier release's image and config again, as a new release (no build)."""
    current = require_deployed(ctx, app)
    if target_name:
        target = releases.find(ctx.store, app, target_name)
    else:
        earlier = [r for r in releases.history(ctx.store, app) if r.number < current.number]
        if not earlier:
            raise NotFound(f"{app} has no release before {current.name} to roll back to")
        target = earlier[-1]
    if not ctx.scheduler.image_exists(target.image_id):
        raise NotFound(f"the image of {app} {target.name} was pruned; only the last releases keep theirs")
    ctx.out.step(f"Rolling back {app} to {target.name}")
    release = releases.successor(ctx.store, app, target, f"Rollback to {target.name}", target.config)
    return deploy_release(ctx, app, release)


def restart(ctx: Context, app: str, only: str = "") -> Release:
    """Runs the current release again in fresh containers (ps:restart, ps:scale, ps:start); only:
    those of that process type (one the release runs), the others left as they are."""
    return deploy_release(ctx, app, require_deployed(ctx, app), new_release=False, only=only)


def deploy_release(ctx: Context, app: str, release: Release, new_release: bool = True, only: str = "") -> Release:
    """Runs release (its config is the app's; its containers get the global config under it) and
    moves traffic to it; recorded as the app's current release when new_release. only (a restart
    of the current release): the containers of that process type alone are replaced."""
    # what the new containers start in the background (their spare web namespaces,
    # runtime/web_network.py) waits until traffic moved (_switch)
    with build_records.recorded(ctx, app, build_kinds.DEPLOY), at_once.holding_back():
        return _deploy_release(ctx, app, release, new_release, only)


def _deploy_release(ctx: Context, app: str, release: Release, new_release: bool, only: str) -> Release:
    recorded, release = release, replace(release, config=envfile.with_global(ctx.store, release.config))
    ctx.steps.done("release")
    triggers.fire(ctx, "pre-deploy", app, release.name)
    if new_release:
        tasks.release_command(ctx, app, release)
    ctx.out.step(f"Deploying {app} ...")
    docker_name = ctx.docker_name(app)
    counts = scale.effective(scale.read(ctx.store, app), release.processes, release.settings.formation)
    present = ctx.scheduler_for(app).containers(docker_name)
    if selection.runs_on_swarm(ctx.store, app):  # its manager answered: services may follow
        selection.mark_on_swarm(ctx.store, app)  # a move back finds them by this
    # retiring ones whose retirement never ran (a killed deploy, a reboot) go with the old ones
    stale = [c for c in present if c.retiring]
    old = [c for c in present if not c.retiring]
    routes = only in ("", "web")  # a restart of only another type leaves nginx on the web containers that serve
    kept_web = [] if routes else [c for c in old if c.process_type == "web"]
    if only:
        counts = {only: counts[only]}
        old = [c for c in old if c.process_type == only]
    running, credentials = registry.distribute(ctx, app, release)  # on the swarm: from its registry
    without_zero_downtime = [c for c in old if checks.mode(ctx.store, app, c.process_type) == "disabled"]
    if routes and any(c.process_type == "web" for c in without_zero_downtime):
        # nginx lets go of them first: once they are gone, their addresses may be given to another
        # app's containers, and this deploy may fail before it routes again
        ctx.proxy.route(app, [c for c in old if c.process_type == "web" and c not in without_zero_downtime])
    ctx.scheduler_for(app).retire([c.id for c in without_zero_downtime])
    old = [c for c in old if c not in without_zero_downtime]
    new = _start(ctx, app, running, counts, credentials)
    ctx.steps.done("start")
    try:
        window = _check(ctx, app, release, new)
        ctx.steps.done("checks")
        new = network.attach_post_deploy(ctx, app, new)  # it may move where web publishes its ports
        switching.begin(ctx.store, app, release.name, [c.id for c in new])  # a kill from here on: undone
    except BaseException:  # whatever stops the deploy (even ^C), the new containers go
        _remove_new(ctx, app, new)
        raise
    web = [c for c in new if c.process_type == "web"]
    _switch(ctx, app, release, new, web if routes else None, _fallback(ctx, app, old), window)
    ctx.steps.done("switch")  # the uptime window included
    if new_release:
        _record(ctx, app, recorded)
    else:
        switching.end(ctx.store, app)
    ctx.scheduler_for(app).mark_retiring(old)
    ctx.scheduler_for(app).retire_earlier_beyond(docker_name, old, scale.MAX_CONTAINERS)
    ctx.scheduler_for(app).settle_names(new)
    wait = checks.wait_to_retire(ctx.store, app, release.config)
    retirement.schedule(ctx, app, old + stale, wait, ps_settings.stop_timeout(ctx.store, app))
    ps_settings.mark_running(ctx.store, app)
    ctx.steps.done("retire")
    if new_release:
        _prune_images(ctx, app)
        tasks.postdeploy(ctx, app, release)
        # its schedule is the release just recorded; on the swarm, it makes nginx follow the tasks
        needs_daemon = release.settings.cron or selection.runs_on_swarm(ctx.store, app)
        if needs_daemon and cron.start_daemon(ctx):
            ctx.out.step("Started the cron daemon")
    triggers.fire(ctx, "post-deploy", app, *proxy.internal_address(web or kept_web), release.name)
    ctx.steps.done("post-deploy")
    ctx.out.section("Application deployed:")
    ctx.out.info(ctx.proxy.url(app))
    return recorded


def _remove_new(ctx: Context, app: str, new: list[Container]) -> None:
    try:
        logs.record_failed(ctx, app, new)  # what they printed stays, for logs:failed
    finally:
        ctx.scheduler_for(app).retire([c.id for c in new], grace=0)


def _fallback(ctx: Context, app: str, old: list[Container]) -> list[Container]:
    """The old web containers traffic goes back to when a new container dies within its uptime
    check: the running ones of the recorded release (those `ps:restore` would keep)."""
    current = releases.current(ctx.store, app)
    name = current.name if current else None
    return [c for c in old if c.process_type == "web" and c.running and c.release == name]


def _switch(
    ctx: Context,
    app: str,
    release: Release,
    new: list[Container],
    web: Optional[list[Container]],
    fallback: list[Container],
    window: checks.Window,
) -> None:
    """Moves traffic to the new web containers (web None: nginx stays as it is) once they passed
    their checks, but for how long they must stay up: nginx keeps the old ones as backups (asked
    when a new one fails) until that window passed. Whatever stops it from the first route on (a
    new container exiting within the window, nginx refusing a change, ^C, a hang-up) sends
    traffic back to the old ones before the new ones go, and fails the deploy, which nothing
    recorded yet."""
    try:
        if web is not None:
            ctx.proxy.route(app, web, release, backups=_ready(ctx, app, fallback) if window.due else ())
        if not window.due:
            return
        ctx.out.info(f"Traffic moved; the old containers stay ready until the new ones have run {window.seconds} s")
        at_once.let_go()  # work held back (the build's clean-up, spares) runs while the window only waits
        with waiting(ctx.out, f"the new containers to run {window.seconds} s"):
            checks.watch(ctx.scheduler_for(app), window)
        ctx.out.info(f"The new containers ran {window.seconds} s")
        if web is not None and fallback:
            ctx.proxy.route(app, web, release)  # the old ones leave nginx before they retire
    except BaseException as stopped:
        _switch_back(ctx, app, release, new, fallback if web is not None else None, stopped)


def _switch_back(
    ctx: Context,
    app: str,
    release: Release,
    new: list[Container],
    fallback: Optional[list[Container]],
    stopped: BaseException,
) -> None:
    """Called handling stopped: traffic goes back to the fallback (None: nginx was not touched),
    then the new containers go, and stopped is raised again, saying where traffic went unless it
    simply went back. When nginx takes neither the way back nor the removal of the site, the new
    containers stay (nginx may still send to them) and so does the switch journal: the next
    command taking the app's lock tries again."""
    try:
        said, clean = _send_back(ctx, app, release.name, fallback) if fallback is not None else ("", True)
    except Exception as failed:
        _raise_saying(ctx, stopped, str(failed))
    _remove_new(ctx, app, new)
    switching.end(ctx.store, app)
    if said and (isinstance(stopped, DeployFailed) or not clean):
        _raise_saying(ctx, stopped, said)
    raise stopped


def _raise_saying(ctx: Context, stopped: BaseException, said: str) -> NoReturn:
    """Raises stopped with said after its message (a DeployFailed then: the deploy failed); one
    that is no error (^C, a hang-up's SystemExit) is raised as it is, said printed before."""
    if isinstance(stopped, Exception):
        raise DeployFailed(f"{stopped}\n{said}") from None
    ctx.out.info(said)
    raise stopped


def _send_back(ctx: Context, app: str, release: str, fallback: list[Container]) -> tuple[str, bool]:
    """Sends the app's traffic back to the fallback containers that are still ready, the recorded
    release's (none recorded: the site goes). Returns what was done and whether it went back as
    it should; when nginx refuses that, the site goes, so that nothing is sent to the ports the
    new containers free. Raises ProxyError when nginx refuses that too."""
    current = releases.current(ctx.store, app)
    if current is None:  # a first deploy: nothing served before it
        ctx.proxy.remove(app)
        return f"{app} was not deployed: nothing serves it", True
    ready = _ready(ctx, app, fallback)
    try:
        ctx.proxy.route(app, ready, current)
    except Exception as refused:
        try:
            ctx.proxy.remove(app)
        except Exception as also:
            raise ProxyError(
                f"traffic could not go back to {current.name} ({refused}), nor could {app}'s site be "
                f"taken away ({also}); its new containers stay until `dokku ps:restore {app}`"
            ) from None
        return (
            f"traffic could not go back to {current.name} ({refused}): {app}'s site is taken away "
            f"until `dokku ps:restore {app}`",
            False,
        )
    if not ready:
        return f"no container of {current.name} is left to take the traffic back: `dokku ps:restore {app}`", False
    if current.name == release:
        return f"traffic went back to the previous containers of {current.name}", True
    return f"traffic went back to {current.name}; {release} was not released", True


def _ready(ctx: Context, app: str, fallback: list[Container]) -> list[Container]:
    """The fallback containers as the engine has them now, those still fit to take traffic:
    running and not restarted since they were described (a restart may have moved their ports,
    which the engine may since have given to another container)."""
    if not fallback:
        return []
    now = {c.id: c for c in ctx.scheduler_for(app).containers(ctx.docker_name(app))}
    found = [now.get(c.id) for c in fallback]
    return [c for c, before in zip(found, fallback) if c and c.running and c.restarts == before.restarts]


def _record(ctx: Context, app: str, release: Release) -> None:
    """Records the release that now serves: its file, ENV = its config, its image's tag. Done
    again whole by finish_interrupted when a kill cut it short. Once the release is saved, its
    deploy is past going back: the switch journal goes."""
    releases.begin_record(ctx.store, app, release)
    switching.end(ctx.store, app)
    # a tag per release keeps its image from `docker image prune` while it may be rolled back to
    # (a pruned one cannot be rolled back to, nor tagged)
    ctx.scheduler.tag_image(release.image_id, image_repository(ctx.docker_name(app)), release.name)
    releases.end_record(ctx.store, app)


def _start(
    ctx: Context,
    app: str,
    release: Release,
    counts: dict[str, int],
    credentials: Optional[tuple[str, str]] = None,
) -> list[Container]:
    """Starts the release's dynos (release.image_id: what the scheduler runs, a registry
    reference on the swarm, pulled with credentials); a failure leaves none of them."""
    scheduler = ctx.scheduler_for(app)
    policy = ps_settings.restart_policy(ctx.store, app)
    published = ctx.proxy.published_ports(app, release)
    stored = docker_options.stored_lines(ctx.store, app, "deploy")  # once per deploy, not per container
    log_max_size = log_settings.computed(ctx.store, app)
    networks = network.plan(ctx, app, ctx.out)  # what a tenant's app does not get: said once
    started: list[Container] = []

    def options_for(process_type: str, index: int) -> DockerOptions:
        from_plugins = triggers.docker_args(ctx, "docker-args-deploy", app, release.image_id, process_type, str(index))
        # what a tenant's app does not get is said once, at the first container
        warn = None if started or index > 1 else ctx.out
        return docker_options.for_phase(
            ctx.store,
            app,
            "deploy",
            from_plugins,
            warn,
            stored,
            namespace=ctx.settings.namespace,
            process_type=process_type,
        )

    try:
        for process_type, count in counts.items():
            started += scheduler.start_dynos(
                ctx.docker_name(app),
                release,
                process_type,
                count,
                partial(options_for, process_type),
                policy,
                published,
                limits=resources.for_process(ctx.store, app, process_type),
                log_max_size=log_max_size,
                command=ps_settings.container_command(ctx.store, app, release, process_type),
                networking=networks.for_process(process_type),
                credentials=credentials,
            )
    except BaseException:
        scheduler.retire([c.id for c in started], grace=0)
        raise
    return started


def _check(ctx: Context, app: str, release: Release, new: list[Container]) -> checks.Window:
    targets = []
    for container in new:
        mode = checks.mode(ctx.store, app, container.process_type)
        if mode != "enabled":
            ctx.out.info(f"Not checking {container.dyno} (checks {mode})")
            continue
        found = checks.checks_for(container.process_type, release.settings, release.checks_file, release.config)
        ctx.out.info(f"Checking {container.dyno}: {', '.join(check.description for check in found)}")
        targets.append((container, found))
    with waiting(ctx.out, f"the checks of {', '.join(container.dyno for container, _ in targets)}"):
        return checks.run_ready(ctx.scheduler_for(app), targets)


def _prune_images(ctx: Context, app: str) -> None:
    """Removes the images only releases beyond the kept number use (their records stay)."""
    history = releases.history(ctx.store, app)
    repository = image_repository(ctx.docker_name(app))
    tags = [f"{repository}:{release.name}" for release in releases.beyond_kept(history, ctx.settings.keep_releases)]
    ctx.scheduler.remove_images(tags, releases.images_beyond(history, ctx.settings.keep_releases))


def require_deployed(ctx: Context, app: str) -> Release:
    current = releases.current(ctx.store, app)
    if current is None:
        raise NotFound(f"{app} has not been deployed yet")
    return current
