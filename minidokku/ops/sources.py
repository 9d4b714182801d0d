"""Deploys that do not come from a git push: a ready image (`git:from-image`) and a tarball
(`git:from-archive`), as Dokku has them.

An archive becomes a commit on the app's deploy branch (so `ps:rebuild` and later pushes carry
on from it); the branch moves only once the commit's release serves. An image is deployed as it
is: its CMD is the web process unless a Procfile in its WORKDIR says otherwise, and it listens
on its lowest EXPOSEd port.
"""

import tempfile
from pathlib import Path

from minidokku.build import archives, gitrepo, tree
from minidokku.build.builders import image_processes, image_repository, image_result, read_text_file
from minidokku.context import Context
from minidokku.errors import EngineError, NotFound, ValidationError
from minidokku.ops import apps, deploy, tasks
from minidokku.ops.push import DEPLOY_BRANCHES
from minidokku.records import names, procfile, releases
from minidokku.records.releases import Release


def from_image(ctx: Context, app: str, image: str) -> Release:
    apps.require(ctx, app)
    names.validate_image_reference(image)  # it goes into the Engine API's URLs
    with deploy.exclusive(ctx, app):
        if not ctx.engine.image_exists(image):
            ctx.out.step(f"Pulling {image}")
            try:
                ctx.engine.pull(image)
            except EngineError as error:
                raise NotFound(f"the image {image} is not on this machine and cannot be pulled: {error}") from None
        info = ctx.engine.inspect_image(image)
        config = info["Config"] or {}
        files = tree.settings_files(_image_files(ctx, image, config.get("WorkingDir") or "/"))
        declared = procfile.parse(files.procfile) if files.procfile.strip() else {}
        processes = image_processes(declared, config)
        if not processes:
            raise ValidationError(f"{image} has no CMD and no Procfile: nothing to run")
        ctx.engine.tag_image(info["Id"], image_repository(ctx.docker_name(app)), "latest")
        build = image_result(info["Id"], processes, files, config)
        env = ctx.store.read_env(app)
        image_id = tasks.predeploy(ctx, app, build, env) if build.app_json.predeploy else build.image_id
        ctx.out.step(f"Releasing {app} ...")
        release = releases.prepare(ctx.store, app, "", image_id, f"Deploy image {image}", env, build)
        return deploy.deploy_release(ctx, app, release)


def _image_files(ctx: Context, image: str, workdir: str) -> dict[str, str]:
    container = ctx.engine.create_container({"Image": image, "Entrypoint": ["/bin/true"], "Cmd": []})
    try:
        return {name: read_text_file(ctx.engine, container, f"{workdir.rstrip('/')}/{name}") for name in
                ("Procfile", "app.json", "CHECKS")}  # fmt: skip
    finally:
        ctx.engine.remove_container(container, force=True)


def from_archive(ctx: Context, app: str, archive: bytes, origin: str) -> Release:
    """Commits the archive's files on the deploy branch and deploys that commit."""
    apps.require(ctx, app)
    archives.check_size(archive)
    repo = ctx.store.app_dir(app)
    branch = next((b for b in DEPLOY_BRANCHES if gitrepo.branch_head(repo, b)), DEPLOY_BRANCHES[0])
    with deploy.exclusive(ctx, app), tempfile.TemporaryDirectory(prefix="minidokku-archive-") as scratch:
        tree = archives.extract(archive, Path(scratch) / "tree")
        sha = gitrepo.commit_directory(repo, tree, branch, f"Deploy of {origin}")
        ctx.out.step(f"Deploying {origin} as commit {sha[:7]} on {branch}")
        release = deploy.deploy_commit(ctx, app, sha)
        gitrepo.move_branch(repo, branch, sha)
        return release
