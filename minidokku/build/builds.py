"""Building a pushed commit: the builder (`builder:set`, else a Dockerfile means the dockerfile
builder and anything else the buildpacks), its inputs from the tree and the app's settings."""

from minidokku.access import rules
from minidokku.build import buildpack_choice, gitrepo
from minidokku.build.builders import DOCKERFILE, HEROKUISH, NAMES, BuildResult, buildpacks, dockerfile
from minidokku.context import Context
from minidokku.errors import ValidationError
from minidokku.plugins import triggers
from minidokku.records import docker_options, properties, resources

FAMILY = "builder"


def selected_builder(ctx: Context, app: str) -> str:
    """`builder:set APP selected NAME`, "" for automatic."""
    return properties.get(ctx.store, app, FAMILY, "selected")


def set_builder(ctx: Context, app: str, name: str) -> None:
    if name and name not in NAMES:
        raise ValidationError(f"unknown builder {name!r}; known: {', '.join(NAMES)} (or empty for automatic)")
    properties.put(ctx.store, app, FAMILY, "selected", name)


def build_commit(ctx: Context, app: str, sha: str, env: dict[str, str]) -> BuildResult:
    """Builds the commit with its builder, between the pre-build and post-build triggers."""
    builder = _builder(ctx, app, sha)
    triggers.fire(ctx, "pre-build", builder, app, sha)
    result = _build(ctx, app, sha, env, builder)
    triggers.fire(ctx, "post-build", builder, app, sha)
    return result


def _builder(ctx: Context, app: str, sha: str) -> str:
    has_dockerfile = gitrepo.read_file(ctx.store.app_dir(app), sha, "Dockerfile") is not None
    return selected_builder(ctx, app) or (DOCKERFILE if has_dockerfile else HEROKUISH)


def _build(ctx: Context, app: str, sha: str, env: dict[str, str], builder: str) -> BuildResult:
    repo = ctx.store.app_dir(app)
    options = docker_options.for_phase(
        ctx.store, app, "build", triggers.docker_args(ctx, "docker-args-build", app, builder), ctx.out
    )
    limits = resources.for_build(ctx.store, app)
    if builder == DOCKERFILE:
        if gitrepo.read_file(repo, sha, "Dockerfile") is None:
            raise ValidationError(f"{app} uses the dockerfile builder (builder:set) but the commit has no Dockerfile")
        ctx.out.info("Building with the Dockerfile")
        files = {name: gitrepo.read_file(repo, sha, name) or "" for name in ("Procfile", "app.json", "CHECKS")}
        return dockerfile.build(
            ctx.engine,
            ctx.docker_name(app),
            gitrepo.archive(repo, sha, prefix=""),
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
    chosen, source = buildpack_choice.choose(ctx.store, app, env, gitrepo.read_file(repo, sha, ".buildpacks") or "")
    if chosen:
        ctx.out.info(f"Buildpacks from {source}: {', '.join(bp.name for bp in chosen)}")
    return buildpacks.build(
        ctx.engine,
        ctx.docker_name(app),
        source_tar=gitrepo.archive(repo, sha),
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
