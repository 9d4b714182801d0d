"""Deploys that do not come from a git push: a ready image (`git:from-image`), a tarball
(`git:from-archive`) and another repository (`git:sync`), as Dokku has them.

An archive becomes a commit on the app's deploy branch (so `ps:rebuild` and later pushes carry
on from it); the branch moves only once the commit's release serves. An image is deployed as it
is: its CMD is the web process unless a Procfile in its WORKDIR says otherwise, and it listens
on its lowest EXPOSEd port. A synced commit lands on the deploy branch at once without a build
(Dokku's `git:sync`), else once its release serves.

The same content again deploys nothing (None is returned): an archive whose files are those of
the deploy branch's head, or the image the app runs already (by name and by id); and
`git:sync --build-if-changes` of the commit the deploy branch has.
"""

import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

from minidokku.access import git_remotes, rules
from minidokku.build import archives, gitrepo, tree
from minidokku.build.builders import image_processes, image_repository, image_result
from minidokku.context import Context
from minidokku.errors import NotFound, NothingChanged, ValidationError
from minidokku.ops import apps, deploy, push
from minidokku.records import app_properties, git_settings, names, procfile, registry, releases
from minidokku.records.releases import Release
from minidokku.state import file_lock

BUILD, BUILD_IF_CHANGES = "build", "build-if-changes"  # git:sync's --build and --build-if-changes
SYNC_LOCK = ".sync.lock"  # in the app's folder: one git:sync of an app at a time, its fetch included

IMAGE_FILES = ("Procfile", "app.json", "CHECKS")  # read from the image's WORKDIR


def from_image(ctx: Context, app: str, image: str) -> Optional[Release]:
    """Deploys image; None when ps:set skip-deploy kept it from deploying. NothingChanged when
    the app runs that image already."""
    apps.require(ctx, app)
    names.validate_image_reference(image)  # it goes into the Engine API's URLs
    with deploy.exclusive(ctx, app):
        credentials = None
        if not ctx.scheduler.image_exists(image):
            ctx.out.step(f"Pulling {image}")
            own_only = rules.is_tenant_app(ctx.store, app)
            credentials = registry.credentials(ctx.store, app, registry.reference_host(image), own_only=own_only)
            ctx.scheduler.pull(image, credentials)
        found = ctx.scheduler.inspect_image(image)
        if _runs_image(ctx, app, image, found.id):
            raise NothingChanged(f"{app} runs {image} already")
        files = tree.settings_files(
            ctx.scheduler.image_files(image, found.config.get("WorkingDir") or "/", IMAGE_FILES)
        )
        declared = procfile.parse(files.procfile) if files.procfile.strip() else {}
        processes = image_processes(declared, found.config)
        if not processes:
            raise ValidationError(f"{image} has no CMD and no Procfile: nothing to run")
        ctx.scheduler.tag_image(found.id, image_repository(ctx.docker_name(app)), "latest")
        if credentials:  # a private image keeps only the app's names, which no other app may build FROM
            ctx.scheduler.remove_images([image], [])
        build = image_result(found.id, processes, files, found.config)
        release = deploy.deploy_build(ctx, app, build, ctx.store.read_env(app), "", f"Deploy image {image}")
        app_properties.record(ctx.store, app, app_properties.DOCKER_IMAGE, image)
        return release


def _runs_image(ctx: Context, app: str, image: str, image_id: str) -> bool:
    """Whether the app's current release is image, deployed by git:from-image, as it is now."""
    current = releases.current(ctx.store, app)
    return current is not None and current.image_id == image_id and git_settings.source_image(ctx.store, app) == image


def from_archive(ctx: Context, app: str, archive: bytes, origin: str) -> Optional[Release]:
    """Commits the archive's files on the deploy branch and deploys that commit; None when ps:set
    skip-deploy kept it from deploying. NothingChanged when they are the files of the branch's
    head already."""
    apps.require(ctx, app)
    archives.check_size(archive)
    repo = ctx.store.app_dir(app)
    branch = push.deploy_branch(ctx.store, app)
    with deploy.exclusive(ctx, app), tempfile.TemporaryDirectory(prefix="minidokku-archive-") as scratch:
        unpacked = archives.extract(archive, Path(scratch) / "tree")
        sha = gitrepo.commit_directory(repo, unpacked, branch, f"Deploy of {origin}")
        head = gitrepo.branch_head(repo, branch)
        if head and gitrepo.same_files(repo, sha, head):
            raise NothingChanged(f"{origin} has the files of {branch} already")
        ctx.out.step(f"Deploying {origin} as commit {sha[:7]} on {branch}")
        release = deploy.deploy_commit(ctx, app, sha)
        gitrepo.move_branch(repo, branch, sha)
        app_properties.record(ctx.store, app, _archive_kind(archive), origin)
        return release


def _archive_kind(archive: bytes) -> str:
    """Dokku's deploy-source of an archive: its --archive-type, tar.gz or tar."""
    return "tar.gz" if archive[:2] == b"\x1f\x8b" else "tar"


def sync(
    ctx: Context,
    app: str,
    url: str,
    ref: str = "",
    build: str = "",
    skip_deploy_branch: bool = False,
    key: Optional[str] = None,
) -> Optional[Release]:
    """`git:sync`: fetches ref of the repository url (a branch, tag or commit; none: the branch
    deploy-branch names, else the repository's default branch) onto the app's deploy branch.
    build "": the branch moves, nothing is deployed; BUILD: the commit is deployed, and the
    branch moves once it serves; BUILD_IF_CHANGES: so too, unless the branch has that commit
    already (None). A branch named on the first sync becomes the app's deploy-branch, unless
    skip_deploy_branch. The fetch moves no ref, so it runs before the app's lock is taken, under
    the app's sync lock: a second sync of the app meanwhile is refused, so that a tenant's syncs
    add up to one fetch's objects at a time. Once the app's lock is taken, the caller (key, the
    ssh key it came through) must still be allowed to sync the app, and the app must be the one
    the fetch was for (not destroyed, or made again, meanwhile)."""
    apps.require(ctx, app)
    names.validate_revision(ref)  # before anything is looked up
    remote = git_remotes.remote(url, rules.is_tenant_app(ctx.store, app), ctx.settings.root)
    busy = f"{app} is being synced by another git:sync; try again when it ends"
    # held open, the app's folder keeps its inode: no folder made meanwhile can have the same one
    folder = os.open(ctx.store.app_dir(app), os.O_RDONLY | os.O_DIRECTORY)
    try:
        with file_lock(ctx.store.path(app, SYNC_LOCK), busy_message=busy):
            return _sync(ctx, app, remote, ref, build, skip_deploy_branch, _Caller(key, os.fstat(folder)))
    finally:
        os.close(folder)


@dataclass(frozen=True)
class _Caller:
    """Who asked for a sync, and the app's folder as it was then."""

    key: Optional[str]
    folder: os.stat_result

    def check_still_allowed(self, ctx: Context, app: str) -> None:
        """Refuses, under the app's lock, a caller no longer allowed to sync it or an app that is
        not the one the fetch was for."""
        rules.authorize(ctx.store, self.key, "git:sync", rules.Scope.APP, app, ctx.settings.user_app_quota)
        try:
            now = ctx.store.app_dir(app).stat()
        except FileNotFoundError:
            now = None
        if now is None or (now.st_dev, now.st_ino) != (self.folder.st_dev, self.folder.st_ino):
            raise NotFound(f"{app} was destroyed or replaced while git:sync fetched; nothing was synced")


def _sync(
    ctx: Context, app: str, remote: git_remotes.Remote, ref: str, build: str, skip_deploy_branch: bool, caller: _Caller
) -> Optional[Release]:
    repo = ctx.store.app_dir(app)
    if push.deploy_branch_head(ctx.store, app):
        ctx.out.info(f"Fetching remote code for {app} from {remote.shown}#{ref}")
    else:
        ctx.out.step(f"Cloning {app} from {remote.shown}#{ref}")
    wanted = ref or push.chosen_deploy_branch(ctx.store, app) or push.chosen_deploy_branch(ctx.store, None)
    fetched = gitrepo.fetch_commit(
        repo, remote, wanted, ctx.settings.max_push_size, default_branches=push.DEFAULT_DEPLOY_BRANCHES
    )
    with deploy.exclusive(ctx, app):
        caller.check_still_allowed(ctx, app)
        branch = push.deploy_branch(ctx.store, app)
        before = gitrepo.branch_head(repo, branch)
        if ref and fetched.branch and not before:
            branch = _first_branch(ctx, app, fetched.branch, skip_deploy_branch) or branch
        if build == BUILD_IF_CHANGES and before == fetched.sha:
            ctx.out.info("Skipping build as no changes were detected")
            return None
        release = deploy.deploy_commit(ctx, app, fetched.sha) if build else None
        gitrepo.move_branch(repo, branch, fetched.sha)
        if release is not None:
            app_properties.record(ctx.store, app, app_properties.GIT_SYNC, f"{remote.shown}#{fetched.sha}")
        return release


def _first_branch(ctx: Context, app: str, branch: str, skip: bool) -> str:
    """The branch a first sync named becomes the app's deploy-branch (Dokku's lines); returns it,
    or "" when skipped."""
    if skip:
        ctx.out.info(f"Detected branch {branch}, skipping deploy-branch setting")
        return ""
    ctx.out.info(f"Detected branch, setting deploy-branch to {branch}")
    push.set_deploy_branch(ctx.store, app, branch)
    return branch
