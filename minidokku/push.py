"""A git push over ssh: receiving it with git's own receive-pack, and deploying it from the
pre-receive hook (which git calls with `OLD NEW REF` lines before it updates any branch)."""

from typing import Optional

from minidokku import access, apps, deploy, gitrepo, triggers
from minidokku.context import Context
from minidokku.errors import NotFound
from minidokku.releases import Release
from minidokku.ssh import GitRequest

DEPLOY_BRANCHES = ("main", "master")


def serve(ctx: Context, request: GitRequest, key: Optional[str]) -> int:
    """Runs git's receive-pack (creating the app on its first push) or upload-pack, for the
    ssh key named key (access.py decides what it may reach)."""
    repo = ctx.store.app_dir(request.app)
    creating = request.command == "git-receive-pack" and not ctx.store.app_exists(request.app)
    access.authorize_push(ctx.store, key, request.app, creating, ctx.settings.user_app_quota)
    if request.command == "git-upload-pack":
        apps.require(ctx, request.app)
        return gitrepo.upload_pack(repo)
    if creating:
        apps.create(ctx, request.app, key)
    gitrepo.install_pre_receive_hook(repo, ctx.settings.program, ctx.settings.root, request.app)
    gitrepo.limit_push_size(repo, ctx.settings.max_push_size)
    return gitrepo.receive_pack(repo)


def rebuild(ctx: Context, app: str) -> Release:
    """Builds and deploys the deploy branch's last pushed commit again (`ps:rebuild`)."""
    apps.require(ctx, app)
    repo = ctx.store.app_dir(app)
    for branch in DEPLOY_BRANCHES:
        sha = gitrepo.branch_head(repo, branch)
        if sha:
            with deploy.exclusive(ctx, app):
                return deploy.deploy_commit(ctx, app, sha)
    raise NotFound(f"{app} has no pushed {' or '.join(DEPLOY_BRANCHES)} branch to rebuild")


def deploy_ref_updates(ctx: Context, app: str, updates: list[str]) -> Optional[Release]:
    """Deploys the new commit of the deploy branch, if the push updates it; other refs just land."""
    apps.require(ctx, app)
    for update in updates:
        old, new, ref = update.split()
        branch = ref[len("refs/heads/") :] if ref.startswith("refs/heads/") else None
        if branch in DEPLOY_BRANCHES and set(new) != {"0"}:
            triggers.fire(ctx, "pre-receive-app", app, old, new, ref)
            with deploy.exclusive(ctx, app):
                return deploy.deploy_commit(ctx, app, new)
    return None
