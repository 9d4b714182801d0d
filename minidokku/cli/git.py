"""The ssh door (git-receive-pack / git-upload-pack or a subcommand) and the git-hook command."""

import sys
from typing import Optional

import click

from minidokku.access import events, rules, ssh, urls
from minidokku.access.rules import Scope
from minidokku.build import archives
from minidokku.cli.declare import Runs, command
from minidokku.cli.errors import UserError
from minidokku.cli.family import Report, Row, report_command
from minidokku.context import Context
from minidokku.errors import MinidokkuError, PermissionDenied, ValidationError
from minidokku.ops import apps, push, sources
from minidokku.output import Output
from minidokku.settings import Settings

# The command families of this module and their one-line descriptions (`dokku help`, `dokku FAMILY:help`).
FAMILIES = {"git": "Manage app deploys via git"}


def serve_ssh(cli: click.Group, original_command: str) -> None:
    """Answers one ssh session: a git transfer, or a minidokku command; never a shell."""
    try:
        request = ssh.parse(original_command)
        if isinstance(request, ssh.CommandRequest):
            cli.main(args=request.args, prog_name="dokku", over_ssh=True)  # internal commands refused
            return
        # stdout carries the git protocol: our own messages go to stderr.
        ctx = Context(Settings.load(), Output(sys.stderr))
        try:
            sys.exit(push.serve(ctx, request, rules.ssh_key()))
        except PermissionDenied:  # an accepted push is recorded by its hook; a refused one here
            action = "push" if request.command == "git-receive-pack" else "fetch"
            events.record(ctx.store, events.Event(events.actor(), action, request.app, "", events.DENIED))
            raise
    except MinidokkuError as error:
        UserError(error).show()
        sys.exit(error.exit_code)


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
    sources.from_image(ctx, app, image)


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
    sources.from_archive(ctx, app, data, "stdin" if source == "-" else source)


@command("git:set", scope=Scope.APP, changes=True)
@click.option("--global", "is_global", is_flag=True, help="For every app without its own value (admin keys only).")
@click.argument("app", required=False)
@click.argument("words", nargs=-1)
@click.pass_obj
def set_(ctx: Context, is_global: bool, app: Optional[str], words: tuple[str, ...]) -> None:
    """Sets (no value: unsets) a git property: deploy-branch, the branch whose push deploys.
    Example: dokku git:set catmeow deploy-branch production"""
    target, rest = (None, [app or "", *words]) if is_global else (app, list(words))
    if target is None and not is_global:
        raise ValidationError("Please specify an app to run the command on")
    if target is not None:
        apps.require(ctx, target)
    key, value = (rest + ["", ""])[:2]
    if len(rest) > 2:
        raise ValidationError("expected KEY [VALUE]")
    if not key:
        raise ValidationError("No key specified")
    if key != push.DEPLOY_BRANCH:
        raise ValidationError(f"Invalid key specified, valid keys include: {push.DEPLOY_BRANCH}")
    push.set_deploy_branch(ctx.store, target, value)
    ctx.out.step(f"Setting {key} to {value}" if value else f"Unsetting {key}")


def _report_rows(ctx: Context, app: str) -> list[Row]:
    return [
        Row("--git-deploy-branch", "Git deploy branch", lambda: push.deploy_branch(ctx.store, app)),
        *_global_rows(ctx),
        Row("--git-sha", "Git sha", lambda: push.deploy_branch_head(ctx.store, app)),
    ]


def _global_rows(ctx: Context) -> list[Row]:
    return [
        Row(
            "--git-global-deploy-branch", "Git global deploy branch", lambda: push.chosen_deploy_branch(ctx.store, None)
        )
    ]


report = report_command(
    "git:report",
    Scope.APP,
    Report("git", "--git-", width=28),
    _report_rows,
    help="Shows the deploy branch and its last pushed commit of one app or of every app. "
    "Example: dokku git:report catmeow --git-sha",
    global_rows=_global_rows,
)
