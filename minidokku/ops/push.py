"""A git push over ssh: receiving it with git's own receive-pack, and deploying it from the
pre-receive hook (which git calls with `OLD NEW REF` lines before it updates any branch)."""

from dataclasses import dataclass
from typing import Optional

from minidokku.access import rules
from minidokku.access.ssh import GitRequest
from minidokku.build import gitrepo
from minidokku.context import Context
from minidokku.errors import NotFound, PermissionDenied, ValidationError
from minidokku.ops import app_lifecycle, apps, deploy
from minidokku.plugins import triggers
from minidokku.records import app_properties, names, properties
from minidokku.records.releases import Release
from minidokku.state import Store

DEFAULT_DEPLOY_BRANCHES = ("main", "master")  # what a push deploys while no deploy-branch is set
BRANCH_PREFIX = "refs/heads/"
FAMILY = "git"  # git:set's properties: APP/properties/git, and the global ones
DEPLOY_BRANCH = "deploy-branch"


def set_deploy_branch(store: Store, app: Optional[str], branch: str) -> None:
    """`git:set [APP|--global] deploy-branch [BRANCH]`: the branch a push deploys (app None: of
    every app without its own); an empty branch unsets it."""
    properties.put(store, app, FAMILY, DEPLOY_BRANCH, names.validate_branch(branch) if branch else "")


def chosen_deploy_branch(store: Store, app: Optional[str]) -> str:
    """The deploy branch set for app (None: the global one), or ''."""
    return properties.get(store, app, FAMILY, DEPLOY_BRANCH)


def deploy_branches(store: Store, app: str) -> tuple[str, ...]:
    """The branches a push to app deploys: its deploy-branch, else the global one, else main and master."""
    chosen = chosen_deploy_branch(store, app) or chosen_deploy_branch(store, None)
    return (names.validate_branch(chosen),) if chosen else DEFAULT_DEPLOY_BRANCHES


def deploy_branch(store: Store, app: str) -> str:
    """The one deploy branch of app: of the branches a push deploys, the first one pushed (the
    first one when none is)."""
    branches = deploy_branches(store, app)
    repo = store.app_dir(app)
    return next((branch for branch in branches if gitrepo.branch_head(repo, branch)), branches[0])


def deploy_branch_head(store: Store, app: str) -> str:
    """The commit the deploy branch points at, or '' before its first push."""
    return gitrepo.branch_head(store.app_dir(app), deploy_branch(store, app)) or ""


def serve(ctx: Context, request: GitRequest, key: Optional[str]) -> int:
    """Runs git's receive-pack (creating the app on its first push) or upload-pack, for the
    ssh key named key (access/rules.py decides what it may reach)."""
    repo = ctx.store.app_dir(request.app)
    creating = request.command == "git-receive-pack" and not ctx.store.app_exists(request.app)
    rules.authorize_push(ctx.store, key, request.app, creating, ctx.settings.user_app_quota)
    if request.command == "git-upload-pack":
        apps.require(ctx, request.app)
        return gitrepo.upload_pack(repo)
    if creating:
        if app_properties.autocreation_disabled(ctx.store):  # apps:set --global disable-autocreation true
            create = f"dokku apps:create {request.app}"
            raise PermissionDenied(f"Re-enable app auto-creation or create an app with '{create}'")
        app_lifecycle.create(ctx, request.app, key)
    gitrepo.install_pre_receive_hook(repo, ctx.settings.program, ctx.settings.root, request.app)
    return gitrepo.receive_pack(repo, ctx.settings.max_push_size)


def initialize(ctx: Context, app: str) -> None:
    """`git:initialize`: the app's bare repo, made when it has none (no refs/), and its
    pre-receive hook and push limit, written again."""
    repo = ctx.store.app_dir(apps.require(ctx, app))
    if not (repo / "refs").is_dir():
        gitrepo.init_bare(repo)
    gitrepo.install_pre_receive_hook(repo, ctx.settings.program, ctx.settings.root, app)
    gitrepo.limit_push_size(repo, ctx.settings.max_push_size)


def rebuild(ctx: Context, app: str) -> Optional[Release]:
    """Builds and deploys the deploy branch's last pushed commit again (`ps:rebuild`)."""
    apps.require(ctx, app)
    sha = deploy_branch_head(ctx.store, app)
    if not sha:
        branches = deploy_branches(ctx.store, app)
        raise NotFound(f"{app} has no pushed {' or '.join(branches)} branch to rebuild")
    with deploy.exclusive(ctx, app):
        return deploy.deploy_commit(ctx, app, sha)


@dataclass(frozen=True)
class RefUpdate:
    """One line of the pre-receive hook's stdin: `OLD NEW REF`, validated."""

    old: str
    new: str
    ref: str

    @property
    def branch(self) -> Optional[str]:
        return self.ref.removeprefix(BRANCH_PREFIX) if self.ref.startswith(BRANCH_PREFIX) else None


def parse_ref_updates(data: bytes) -> list[RefUpdate]:
    """The hook's stdin as git writes it: full object ids (all zeros only for a ref that is new,
    OLD, or deleted, NEW; never both) and a UTF-8 ref per `git check-ref-format`, a branch never
    starting with a dash. Anything else is refused, so that no word of it reaches git, a plugin's
    argv or a deploy."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise ValidationError("the pushed ref names are not UTF-8 text") from None
    updates = []
    for line in text.split("\n"):
        if not line.strip():
            continue
        words = line.split(" ")
        if len(words) != 3:
            raise ValidationError(f"expected `OLD NEW REF` from git, got {line[:120]!r}")
        old, new, ref = words
        names.validate_object_id(old, zero_allowed=True)
        names.validate_object_id(new, zero_allowed=old != names.ZERO_OBJECT_ID)
        update = RefUpdate(old, new, names.validate_ref(ref))
        if update.branch is not None:
            names.validate_branch(update.branch)
        updates.append(update)
    return updates


def deploy_ref_updates(ctx: Context, app: str, updates: list[RefUpdate]) -> Optional[Release]:
    """Deploys the new commit of the deploy branch, if the push updates it; other refs just land
    (with Dokku's warning when a pushed ref, a tag too, is not the deploy branch)."""
    apps.require(ctx, app)
    branches = deploy_branches(ctx.store, app)
    for update in updates:
        if update.branch in branches and update.new != names.ZERO_OBJECT_ID:
            triggers.fire(ctx, "pre-receive-app", app, update.old, update.new, update.ref)
            with deploy.exclusive(ctx, app):
                release = deploy.deploy_commit(ctx, app, update.new)
                app_properties.record(ctx.store, app, app_properties.GIT_PUSH, update.new)
                return release
    if any(update.new != names.ZERO_OBJECT_ID for update in updates):
        ctx.out.step(f"WARNING: deploy did not complete, you must push to {' or '.join(branches)}.")
    return None
