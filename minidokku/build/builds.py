"""Building a pushed commit: the builder (`builder:set`, else a Dockerfile means the dockerfile
builder and anything else the buildpacks), its inputs from the tree (build/tree.py) and the app's
settings.

The builders' settings are Dokku's properties, each per app and global (`--global`, for every
app without its own value), with a default: `builder:set selected`, `builder-dockerfile:set
dockerfile-path`, `app-json:set appjson-path` (paths in the tree, build/tree.py's tree_path) and
`builder-herokuish:set allowed` (false: the buildpack builder is refused for the app), `ps:set
procfile-path` (records/ps_settings.py; its file is the Procfile of either builder), and
`builder:set build-dir`: the folder of the tree that is built, as if it were the whole tree
(its settings files, the Dockerfile's context, the buildpacks' /app).
"""

from dataclasses import dataclass, replace
from pathlib import Path
from typing import Optional

from minidokku.access import rules
from minidokku.build import buildpack_choice, gitrepo, tarball, tree
from minidokku.build.builders import DOCKERFILE, HEROKUISH, NAMES, BuildResult, buildpacks, dockerfile
from minidokku.build.tree import SettingsFiles
from minidokku.context import Context
from minidokku.errors import BuildFailed, ValidationError
from minidokku.plugins import triggers
from minidokku.records import docker_options, git_settings, ps_settings, resources
from minidokku.records.properties import Setting, computed_value
from minidokku.runtime import build_network


def _builder_name(name: str) -> str:
    if name not in NAMES:
        raise ValidationError(f"unknown builder {name!r}; known: {', '.join(NAMES)} (or empty for automatic)")
    return name


def _boolean(value: str) -> str:
    if value not in ("true", "false"):
        raise ValidationError(f"allowed is true or false, not {value[:40]!r}")
    return value


SELECTED = Setting("builder", "selected", "", _builder_name)
BUILD_DIR = Setting("builder", "build-dir", "", lambda path: tree.tree_path(path, "build-dir"))
DOCKERFILE_PATH = Setting(
    "builder-dockerfile", "dockerfile-path", tree.DOCKERFILE, lambda path: tree.tree_path(path, "dockerfile-path")
)
APPJSON_PATH = Setting("app-json", "appjson-path", tree.APP_JSON, lambda path: tree.tree_path(path, "appjson-path"))
HEROKUISH_ALLOWED = Setting("builder-herokuish", "allowed", "true", _boolean)


def build_commit(ctx: Context, app: str, sha: str, env: dict[str, str]) -> BuildResult:
    """Builds the commit with its builder, between the pre-build and post-build triggers. The
    tree's settings files are read once, here; the result carries its nginx template."""
    dockerfile_path = computed_value(ctx.store, app, DOCKERFILE_PATH)
    appjson_path = computed_value(ctx.store, app, APPJSON_PATH)
    procfile_path = ps_settings.procfile_path(ctx.store, app)
    build_dir = computed_value(ctx.store, app, BUILD_DIR)
    files = tree.read(ctx.store.app_dir(app), sha, dockerfile_path, appjson_path, build_dir, procfile_path)
    builder = computed_value(ctx.store, app, SELECTED) or (DOCKERFILE if files.has_dockerfile else HEROKUISH)
    if builder == HEROKUISH and computed_value(ctx.store, app, HEROKUISH_ALLOWED) != "true":
        raise BuildFailed(
            f"the herokuish builder is not allowed for {app} (builder-herokuish:set {app} allowed true allows it); "
            f"commit a {dockerfile_path} to build with the dockerfile builder"
        )
    triggers.fire(ctx, "pre-build", builder, app, sha)
    if build_dir:
        ctx.out.info(f"Building the folder {build_dir} of the commit (builder:set build-dir)")
    moved = None if procfile_path == tree.PROCFILE else files.procfile
    if moved is not None:
        found = "the Procfile" if moved else "no Procfile there: building as without one"
        ctx.out.info(f"Procfile path {procfile_path} (ps:set procfile-path): {found}")
    settings_paths = tree.paths(dockerfile_path, appjson_path, procfile_path)
    commit = _Commit(
        ctx.store.app_dir(app),
        sha,
        build_dir,
        settings_paths,
        moved,
        with_git_dir=git_settings.keep_git_dir(ctx.store, app),
    )
    result = _build(ctx, app, commit, env, builder, files, dockerfile_path)
    triggers.fire(ctx, "post-build", builder, app, sha)
    return replace(result, nginx_template=files.nginx_template)


@dataclass(frozen=True)
class _Commit:
    """The commit to build: its tree, or its folder build_dir ("": the whole tree), whose settings
    files are at settings_paths; procfile, where not None, is the text of the Procfile found
    elsewhere (ps:set procfile-path, "" where there is none), which the builder finds at the top
    as `Procfile` in its place (as Dokku, which also removes the top one when there is none); with_git_dir (git:set
    keep-git-dir) adds a .git to a whole tree."""

    repo: Path
    sha: str
    build_dir: str
    settings_paths: list[str]
    procfile: Optional[str] = None
    with_git_dir: bool = False

    def tar(self, prefix: str) -> bytes:
        """The files as a tar, under prefix (`app/`, or "" for a build context). A settings file
        that is a link is refused: git gave the link's own text for it (build/tree.py), and the
        builder would find what it points to."""
        if self.build_dir:
            try:
                tar = tarball.subtree(gitrepo.archive(self.repo, self.sha, prefix=""), self.build_dir, prefix)
            except ValueError as error:
                raise ValidationError(f"build-dir: {error} at {self.sha[:7]}") from None
        else:
            tar = gitrepo.archive(self.repo, self.sha, prefix=prefix, with_git_dir=self.with_git_dir)
        for linked in tarball.links(tar, [prefix + path for path in self.settings_paths]):
            raise ValidationError(
                f"the {linked.removeprefix(prefix)} must be a file, not a link: commit the file itself"
            )
        if self.procfile is None:
            return tar
        return tarball.replace_file(tar, prefix + tree.PROCFILE, self.procfile.encode() if self.procfile else None)


def _build(
    ctx: Context,
    app: str,
    commit: _Commit,
    env: dict[str, str],
    builder: str,
    files: SettingsFiles,
    dockerfile_path: str,
) -> BuildResult:
    options = docker_options.for_phase(
        ctx.store, app, "build", triggers.docker_args(ctx, "docker-args-build", app, builder), ctx.out
    )
    limits = resources.for_build(ctx.store, app)
    if builder == DOCKERFILE:
        if not files.has_dockerfile:
            raise ValidationError(f"{app} uses the dockerfile builder but the commit has no {dockerfile_path}")
        at = "" if dockerfile_path == tree.DOCKERFILE else f" at {dockerfile_path}"
        ctx.out.info(f"Building with the Dockerfile{at}")
        return dockerfile.build(
            ctx.engine,
            ctx.docker_name(app),
            commit.tar(prefix=""),
            files,
            env,
            options,
            ctx.out,
            limits=limits,
            time_limit=ctx.settings.build_timeout,
            network=ctx.apps_network,
            cgroup=ctx.settings.build_cgroup,
            tenant=rules.is_tenant_app(ctx.store, app),
            path=dockerfile_path,
        )
    source_tar = commit.tar(prefix=buildpacks.SOURCE_PREFIX)  # first: it refuses settings files that are links
    chosen, source = buildpack_choice.choose(ctx.store, app, env, files.buildpacks)
    if chosen:
        ctx.out.info(f"Buildpacks from {source}: {', '.join(bp.name for bp in chosen)}")
    return buildpacks.build(
        ctx.engine,
        ctx.docker_name(app),
        source_tar=source_tar,
        sha=commit.sha,
        config=env,
        stack_image=ctx.settings.stack_image,
        options=options,
        out=ctx.out,
        limits=limits,
        time_limit=ctx.settings.build_timeout,
        network=ctx.apps_network,
        plan=buildpack_choice.plan(ctx.store, app, chosen),
        files=files,
        network_lock=ctx.store.path(app, build_network.LOCK),
    )
