"""Deploys that do not come from a git push: a ready image (`git:from-image`) and a tarball
(`git:from-archive`), as Dokku has them.

An archive becomes a commit on the app's deploy branch (so `ps:rebuild` and later pushes carry
on from it); the branch moves only once the commit's release serves. An image is deployed as it
is: its CMD is the web process unless a Procfile in its WORKDIR says otherwise, and it listens
on its lowest EXPOSEd port.
"""

import tempfile
from pathlib import Path
from typing import Optional

from minidokku.build import archives, gitrepo, tree
from minidokku.build.builders import image_processes, image_repository, image_result
from minidokku.context import Context
from minidokku.errors import ValidationError
from minidokku.ops import apps, deploy, push
from minidokku.records import names, procfile
from minidokku.records.releases import Release

IMAGE_FILES = ("Procfile", "app.json", "CHECKS")  # read from the image's WORKDIR


def from_image(ctx: Context, app: str, image: str) -> Optional[Release]:
    apps.require(ctx, app)
    names.validate_image_reference(image)  # it goes into the Engine API's URLs
    with deploy.exclusive(ctx, app):
        if not ctx.scheduler.image_exists(image):
            ctx.out.step(f"Pulling {image}")
            ctx.scheduler.pull(image)
        found = ctx.scheduler.inspect_image(image)
        files = tree.settings_files(
            ctx.scheduler.image_files(image, found.config.get("WorkingDir") or "/", IMAGE_FILES)
        )
        declared = procfile.parse(files.procfile) if files.procfile.strip() else {}
        processes = image_processes(declared, found.config)
        if not processes:
            raise ValidationError(f"{image} has no CMD and no Procfile: nothing to run")
        ctx.scheduler.tag_image(found.id, image_repository(ctx.docker_name(app)), "latest")
        build = image_result(found.id, processes, files, found.config)
        return deploy.deploy_build(ctx, app, build, ctx.store.read_env(app), "", f"Deploy image {image}")


def from_archive(ctx: Context, app: str, archive: bytes, origin: str) -> Optional[Release]:
    """Commits the archive's files on the deploy branch and deploys that commit."""
    apps.require(ctx, app)
    archives.check_size(archive)
    repo = ctx.store.app_dir(app)
    branch = push.deploy_branch(ctx.store, app)
    with deploy.exclusive(ctx, app), tempfile.TemporaryDirectory(prefix="minidokku-archive-") as scratch:
        unpacked = archives.extract(archive, Path(scratch) / "tree")
        sha = gitrepo.commit_directory(repo, unpacked, branch, f"Deploy of {origin}")
        ctx.out.step(f"Deploying {origin} as commit {sha[:7]} on {branch}")
        release = deploy.deploy_commit(ctx, app, sha)
        gitrepo.move_branch(repo, branch, sha)
        return release
