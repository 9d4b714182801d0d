"""The ssh door (git-receive-pack / git-upload-pack or a subcommand) and the git-hook command."""

import sys
from collections.abc import Callable
from typing import Optional

import click

from minidokku.access import events, git_remotes, rules, ssh, urls
from minidokku.access.rules import Scope
from minidokku.build import archives
from minidokku.cli.declare import Runs, command
from minidokku.cli.family import Report, Row, global_set_command, report_command
from minidokku.context import Context
from minidokku.errors import NotFound, NothingChanged, PermissionDenied, ValidationError
from minidokku.ops import apps, push, sources
from minidokku.output import Output
from minidokku.records import git_settings, netrc
from minidokku.settings import Settings

# The command families of this module and their one-line descriptions (`dokku help`, `dokku FAMILY:help`).
FAMILIES = {"git": "Manage app deploys via git"}


def serve_git(request: ssh.GitRequest) -> None:
    """Answers an ssh session's git transfer (cli.serve_ssh): a push or a fetch."""
    # stdout carries the git protocol: our own messages go to stderr.
    ctx = Context(Settings.load(), Output(sys.stderr))
    try:
        sys.exit(push.serve(ctx, request, rules.ssh_key()))
    except PermissionDenied:  # an accepted push is recorded by its hook; a refused one here
        action = "push" if request.command == "git-receive-pack" else "fetch"
        events.record(ctx.store, events.Event(events.actor(), action, request.app, "", events.DENIED))
        raise


@command("git-hook", scope=Scope.APP, changes=True, runs=Runs.INTERNAL, audit_as="push", hidden=True)
@click.argument("app")
@click.pass_obj
def git_hook(ctx: Context, app: str) -> None:
    """The repo's pre-receive hook: deploys the pushed deploy branch, or fails the push."""
    updates = push.parse_ref_updates(sys.stdin.buffer.read())
    click.get_current_context().meta[events.DETAIL] = " ".join(
        f"{update.branch or update.ref} {update.new[:7]}" for update in updates
    )
    push.deploy_ref_updates(ctx, app, updates)


@command("git:from-image", scope=Scope.ADMIN, changes=True)
@click.argument("app")
@click.argument("image")
@click.pass_obj
def from_image(ctx: Context, app: str, image: str) -> None:
    """Deploys a ready image (its CMD runs as web). Example: dokku git:from-image catmeow nginx:1.25"""
    try:
        sources.from_image(ctx, app, image)
    except NothingChanged:
        _no_changes()


@command("git:from-archive", scope=Scope.ADMIN, changes=True)
@click.argument("app")
@click.argument("source")
@click.pass_obj
def from_archive(ctx: Context, app: str, source: str) -> None:
    """Deploys a tarball from a URL, or `-` for stdin. Example: dokku git:from-archive catmeow https://host/app.tar.gz"""
    if source == "-":
        data = sys.stdin.buffer.read(archives.MAX_BYTES + 1)
    else:
        data = archives.download(source, urls.policy_for(ctx.store, app))
    try:
        sources.from_archive(ctx, app, data, "stdin" if source == "-" else source)
    except NothingChanged:
        _no_changes()


def _no_changes() -> None:
    """Dokku's answer to the content the app has already (its git-from-directory): exit 1."""
    click.echo(" !     No changes detected, skipping git commit", err=True)
    click.echo(" !     Call 'ps:rebuild' on app to rebuild the app from existing source", err=True)
    raise SystemExit(1)


@command("git:sync", scope=Scope.APP, changes=True)
@click.option("--build", "build", flag_value=sources.BUILD, default=None, help="Deploy the fetched commit.")
@click.option(
    "--build-if-changes", "build", flag_value=sources.BUILD_IF_CHANGES, help="Deploy it unless the app has it already."
)
@click.option("--skip-deploy-branch", is_flag=True, help="Keep deploy-branch as it is when a branch is named.")
@click.argument("app")
@click.argument("repository", required=False, default="")
@click.argument("ref", required=False, default="")
@click.pass_obj
def sync(ctx: Context, build: Optional[str], skip_deploy_branch: bool, app: str, repository: str, ref: str) -> None:
    """Fetches a branch, tag or commit (default: the repository's default branch) of an https://
    repository (admins: also ssh, from a git:allow-host host) onto the app's deploy branch.
    Example: dokku git:sync --build catmeow https://github.com/heroku/node-js-getting-started.git main"""
    sources.sync(ctx, app, repository, ref, build or "", skip_deploy_branch, rules.ssh_key())


@command("git:initialize", scope=Scope.APP, changes=True)
@click.argument("app")
@click.pass_obj
def initialize(ctx: Context, app: str) -> None:
    """Makes the app's bare repository when it has none and writes its pre-receive hook again.
    Example: dokku git:initialize catmeow"""
    apps.require(ctx, app)
    ctx.out.step(f"Initializing git repository for {app}")
    push.initialize(ctx, app)


@command("git:generate-deploy-key", scope=Scope.ADMIN, changes=True)
@click.pass_obj
def generate_deploy_key(ctx: Context) -> None:
    """Makes the dokku user's ssh key pair (ed25519, no passphrase) that git:sync offers to ssh
    hosts. Example: dokku git:generate-deploy-key"""
    report = git_remotes.generate_deploy_key(ctx.settings.root)
    if report is None:
        click.echo(" !     A deploy key already exists for this host", err=True)
    else:
        click.echo(report, nl=False)


@command("git:public-key", scope=Scope.ADMIN, changes=False)
@click.pass_obj
def public_key(ctx: Context) -> None:
    """Prints the public half of the dokku user's deploy key, to give a git host.
    Example: dokku git:public-key"""
    key = git_remotes.public_key(ctx.settings.root)
    if key is None:
        for line in (
            "There is no deploy key associated with the dokku user.",
            "Generate an ssh key with the following command:",
            "  dokku git:generate-deploy-key",
        ):
            click.echo(f" !     {line}", err=True)
        raise NotFound("As an alternative, configure the netrc authentication via the git:auth command")
    click.echo(key, nl=False)


def _credential_words(function: Callable) -> Callable:
    """git:auth's and git:auth-status's `HOST [USERNAME [PASSWORD]]`."""
    for name in ("password", "username", "host"):
        function = click.argument(name, required=False, default="")(function)
    return function


@command("git:auth", scope=Scope.ADMIN, changes=True)
@_credential_words
@click.pass_obj
def auth(ctx: Context, host: str, username: str, password: str) -> None:
    """Sets (without a user name: removes) the credentials git:sync uses for an https host; the
    password may come on stdin. Example: echo TOKEN | dokku git:auth github.com bot"""
    host, password = _auth_words(host, username, password)
    if not username:
        ctx.out.step(f"Removing netrc auth entry for host {host}")
        netrc.remove_entry(ctx.settings.root, host)
        return
    netrc.set_entry(ctx.settings.root, host, username, password)
    ctx.out.step(f"Setting netrc auth entry for host {host}")


@command("git:auth-status", scope=Scope.ADMIN, changes=False)
@_credential_words
@click.pass_obj
def auth_status(ctx: Context, host: str, username: str, password: str) -> None:
    """Exits 0 when the host's credentials are these (none, without a user name), else 1,
    printing nothing. Example: dokku git:auth-status github.com bot TOKEN"""
    host, password = _auth_words(host, username, password)
    current = netrc.read(ctx.settings.root).get(host)
    raise SystemExit(0 if current == ((username, password) if username else None) else 1)


def _auth_words(host: str, username: str, password: str) -> tuple[str, str]:
    """The host, checked, and the password: given, else read from stdin when it is not a
    terminal (Dokku's way to keep it off the command line)."""
    if not host:
        raise ValidationError("Please supply a git host")
    git_remotes.validate_host(host)
    if username and not password and not sys.stdin.isatty():
        password = sys.stdin.readline().rstrip("\r\n")
    if username and not password:
        raise ValidationError("Missing password for netrc auth entry")
    return host, password


@command("git:allow-host", scope=Scope.ADMIN, changes=True)
@click.argument("host", required=False, default="")
@click.pass_obj
def allow_host(ctx: Context, host: str) -> None:
    """Adds a host's ssh keys to the dokku user's known_hosts, so that git:sync may fetch from it
    over ssh. Example: dokku git:allow-host github.com"""
    if not host:
        raise ValidationError("Please supply a git host")
    git_remotes.allow_host(git_remotes.known_hosts_file(ctx.settings.root), host)
    ctx.out.step(f"{host} added to known hosts")


def _set_property(ctx: Context, app: Optional[str], key: str, value: str) -> None:
    if not key:
        raise ValidationError("No key specified")
    if key == push.DEPLOY_BRANCH:
        push.set_deploy_branch(ctx.store, app, value)
    elif key in git_settings.SETTABLE:
        git_settings.set_property(ctx.store, app, key, value)
    else:
        valid = ", ".join(sorted((push.DEPLOY_BRANCH, git_settings.KEEP_GIT_DIR, git_settings.REV_ENV_VAR)))
        raise ValidationError(f"Invalid key specified, valid keys include: {valid}")


set_ = global_set_command(
    "git:set",
    _set_property,
    help="Sets (no value: unsets) a git property: deploy-branch, keep-git-dir or rev-env-var. deploy-branch: the "
    "branch whose push deploys; keep-git-dir true: the build gets a .git folder; rev-env-var: the config var a "
    "deploy sets to its sha (GIT_REV; empty: none). Example: dokku git:set catmeow deploy-branch production",
)


def _report_rows(ctx: Context, app: str) -> list[Row]:
    def setting(key: str) -> Callable[[], str]:
        return lambda: git_settings.get(ctx.store, app, key)

    return [
        Row("--git-computed-deploy-branch", "Git computed deploy branch", lambda: push.deploy_branch(ctx.store, app)),
        Row(
            "--git-computed-keep-git-dir",
            "Git computed keep git dir",
            lambda: git_settings.computed_keep_git_dir(ctx.store, app),
        ),
        Row("--git-deploy-branch", "Git deploy branch", lambda: push.deploy_branch(ctx.store, app)),
        *_global_rows(ctx),
        Row("--git-keep-git-dir", "Git keep git dir", setting(git_settings.KEEP_GIT_DIR)),
        Row("--git-rev-env-var", "Git rev env var", lambda: git_settings.rev_env_var(ctx.store, app)),
        Row("--git-sha", "Git sha", lambda: push.deploy_branch_head(ctx.store, app)),
        Row("--git-source-image", "Git source image", setting(git_settings.SOURCE_IMAGE)),
    ]


def _global_rows(ctx: Context) -> list[Row]:
    return [
        Row(
            "--git-global-deploy-branch", "Git global deploy branch", lambda: push.chosen_deploy_branch(ctx.store, None)
        ),
        Row(
            "--git-global-keep-git-dir",
            "Git global keep git dir",
            lambda: git_settings.get(ctx.store, None, git_settings.KEEP_GIT_DIR),
        ),
    ]


report = report_command(
    "git:report",
    Scope.APP,
    Report("git", "--git-", width=28),
    _report_rows,
    help="Shows the git settings of one app or of every app, and its deploy branch's last commit. "
    "Example: dokku git:report catmeow --git-sha",
    global_rows=_global_rows,
)
