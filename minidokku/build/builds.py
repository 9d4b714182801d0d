"""Building a pushed commit: the builder (`builder:set`, else a Dockerfile means the dockerfile
builder and anything else the buildpacks), its inputs from the tree (build/tree.py) and the app's
settings."""

from dataclasses import replace

from minidokku.access import rules
from minidokku.build import buildpack_choice, gitrepo, tree
from minidokku.build.builders import DOCKERFILE, HEROKUISH, NAMES, BuildResult, buildpacks, dockerfile
from minidokku.build.tree import SettingsFiles
from minidokku.context import Context
from minidokku.errors import ValidationError
from minidokku.plugins import triggers
from minidokku.records import docker_options, git_settings, properties, resources

FAMILY = "builder"


def selected_builder(ctx: Context, app: str) -> str:
    """`builder:set APP selected NAME`, "" for automatic."""
    return properties.get(ctx.store, app, FAMILY, "selected")


def set_builder(ctx: Context, app: str, name: str) -> None:
    if name and name not in NAMES:
        raise ValidationError(f"unknown builder {name!r}; known: {', '.join(NAMES)} (or empty for automatic)")
    properties.put(ctx.store, app, FAMILY, "selected", name)


def build_commit(ctx: Context, app: str, sha: str, env: dict[str, str]) -> BuildResult:
    """Builds the commit with its builder, between the pre-build and post-build triggers. The
    tree's settings files are read once, here; the result carries its nginx template."""
    files = tree.read(ctx.store.app_dir(app), sha)
    builder = selected_builder(ctx, app) or (DOCKERFILE if files.has_dockerfile else HEROKUISH)
    triggers.fire(ctx, "pre-build", builder, app, sha)
    result = _build(ctx, app, sha, env, builder, files)
    triggers.fire(ctx, "post-build", builder, app, sha)
    return replace(result, nginx_template=files.nginx_template)


def _build(ctx: Context, app: str, sha: str, env: dict[str, str], builder: str, files: SettingsFiles) -> BuildResult:
    repo = ctx.store.app_dir(app)
    options = docker_options.for_phase(
        ctx.store, app, "build", triggers.docker_args(ctx, "docker-args-build", app, builder), ctx.out
    )
    limits = resources.for_build(ctx.store, app)
    if builder == DOCKERFILE:
        if not files.has_dockerfile:
            raise ValidationError(f"{app} uses the dockerfile builder (builder:set) but the commit has no Dockerfile")
        ctx.out.info("Building with the Dockerfile")
        return dockerfile.build(
            ctx.engine,
            ctx.docker_name(app),
            gitrepo.archive(repo, sha, prefix="", with_git_dir=git_settings.keep_git_dir(ctx.store, app)),
            files,
            env,
            options,
            ctx.out,
            limits=limits,
            time_limit=ctx.settings.build_timeout,
            network=ctx.apps_network,
            cgroup=ctx.settings.build_cgroup,
            tenant=rules.is_tenant_app(ctx.store, app),
        )
    chosen, source = buildpack_choice.choose(ctx.store, app, env, files.buildpacks)
    if chosen:
        ctx.out.info(f"Buildpacks from {source}: {', '.join(bp.name for bp in chosen)}")
    return buildpacks.build(
        ctx.engine,
        ctx.docker_name(app),
        source_tar=gitrepo.archive(repo, sha, with_git_dir=git_settings.keep_git_dir(ctx.store, app)),
        sha=sha,
        config=env,
        stack_image=ctx.settings.stack_image,
        options=options,
        out=ctx.out,
        limits=limits,
        time_limit=ctx.settings.build_timeout,
        network=ctx.apps_network,
        plan=buildpack_choice.plan(ctx.store, app, chosen),
    )
