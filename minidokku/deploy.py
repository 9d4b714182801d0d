"""The deploy, top to bottom: build a pushed commit, release it, run it, route to it.

Every path that changes what runs (a push, a config change, a restart) ends in
deploy_release(): new containers start beside the old ones, must get ready, nginx moves to
them, and only then are the old ones retired. When anything fails before the switch, the new
containers are removed and the old release keeps serving.
"""

from typing import Optional

from minidokku import docker_options, gitrepo, proxy, releases
from minidokku.builders import buildpacks
from minidokku.context import Context
from minidokku.errors import NotFound
from minidokku.releases import Release
from minidokku.scheduler import Container


def deploy_commit(ctx: Context, app: str, sha: str) -> Release:
    """Builds the commit and deploys it as a new release. The caller holds the app's lock."""
    out = ctx.out
    out.step(f"Building {app} ...")
    env = ctx.store.read_env(app)
    result = buildpacks.build(
        ctx.engine,
        ctx.docker_name(app),
        source_tar=gitrepo.archive(ctx.store.app_dir(app), sha),
        sha=sha,
        config=env,
        stack_image=ctx.settings.stack_image,
        options=docker_options.effective(ctx.store, app, "build"),
        out=out,
    )
    out.step(f"Releasing {app} ...")
    release = releases.prepare(ctx.store, app, sha, result.image_id, result.processes, f"Deploy {sha[:7]}")
    return deploy_release(ctx, app, release, env)


def redeploy(ctx: Context, app: str, env: dict[str, str], description: str) -> Optional[Release]:
    """Runs the current release again with env (a config change or a restart); None if never deployed."""
    current = releases.current(ctx.store, app)
    if current is None:
        return None
    release = releases.prepare(ctx.store, app, current.sha, current.image_id, current.processes, description)
    return deploy_release(ctx, app, release, env)


def deploy_release(ctx: Context, app: str, release: Release, env: dict[str, str]) -> Release:
    ctx.out.step(f"Deploying {app} ...")
    old = ctx.scheduler.running(ctx.docker_name(app))
    new = _start_processes(ctx, app, release, env)
    try:
        for container in new:
            ctx.scheduler.wait_ready(container)
        proxy.route(ctx, app, [c for c in new if c.process_type == "web"])
    except BaseException:  # whatever stops the deploy (even ^C), the new containers go
        ctx.scheduler.retire(new, grace=0)
        raise
    releases.save(ctx.store, app, release)
    ctx.scheduler.retire(old)
    ctx.scheduler.settle_names(new)
    ctx.out.section("Application deployed:")
    ctx.out.info(proxy.url(ctx, app))
    return release


def _start_processes(ctx: Context, app: str, release: Release, env: dict[str, str]) -> list[Container]:
    options = docker_options.effective(ctx.store, app, "deploy")
    started: list[Container] = []
    try:
        for process_type in release.processes:
            if process_type == "release":
                continue
            started.append(ctx.scheduler.start(ctx.docker_name(app), release, process_type, 1, env, options))
    except BaseException:
        ctx.scheduler.retire(started, grace=0)
        raise
    return started


def require_deployed(ctx: Context, app: str) -> Release:
    current = releases.current(ctx.store, app)
    if current is None:
        raise NotFound(f"{app} has not been deployed yet")
    return current
