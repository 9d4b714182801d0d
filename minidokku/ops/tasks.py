"""Deployment tasks (Dokku's names): app.json's `scripts.dokku.predeploy` (its changes are
committed into the image), the Procfile's `release` command (once per new release, before
traffic moves) and `scripts.dokku.postdeploy` (after). Each runs in a one-off container with the
release's image and config; a failing predeploy or release stops the deploy."""

from typing import Optional

from minidokku.build.builders import BuildResult, command_argv, image_repository
from minidokku.context import Context
from minidokku.errors import DeployFailed
from minidokku.ops import network
from minidokku.plugins import triggers
from minidokku.records import docker_options, resources
from minidokku.records.releases import Release


def predeploy(ctx: Context, app: str, build: BuildResult, env: dict[str, str]) -> str:
    """Runs the predeploy script on a built image; returns the image with its changes."""
    command = build.app_json.predeploy
    status, committed = _run(ctx, app, build.image_id, build.builder, "predeploy", command, env, commit=True)
    if status != 0 or committed is None:
        raise DeployFailed(f"the predeploy script of {app} failed (status {status}); nothing was deployed")
    return committed


def release_command(ctx: Context, app: str, release: Release) -> None:
    command = release.processes.get("release")
    if not command:
        return
    status, _ = _run(ctx, app, release.image_id, release.builder, "release", command, release.config)
    if status != 0:
        raise DeployFailed(f"the release command of {app} failed (status {status}); nothing was deployed")


def postdeploy(ctx: Context, app: str, release: Release) -> None:
    command = release.settings.postdeploy
    if not command:
        return
    status, _ = _run(ctx, app, release.image_id, release.builder, "postdeploy", command, release.config)
    if status != 0:
        raise DeployFailed(f"the postdeploy script of {app} failed (status {status}); {release.name} is serving")


def _run(
    ctx: Context,
    app: str,
    image: str,
    builder: str,
    task: str,
    command: str,
    env: dict[str, str],
    commit: bool = False,
) -> tuple[int, Optional[str]]:
    ctx.out.step(f"Running the {task} task: {command}")
    docker_name = ctx.docker_name(app)
    return ctx.scheduler.run_task(
        docker_name,
        image,
        command_argv(builder, command),
        dict(env, DYNO=f"{task}.1"),
        docker_options.for_phase(
            ctx.store,
            app,
            "deploy",
            triggers.docker_args(ctx, "docker-args-deploy", app, image, task, "1"),
            ctx.out,
            namespace=ctx.settings.namespace,
            process_type=task,
        ),
        on_line=ctx.out.info,
        commit_as=(image_repository(docker_name), "latest") if commit else None,
        limits=resources.for_process(ctx.store, app, task),
        networking=network.networking(ctx, app),
    )
