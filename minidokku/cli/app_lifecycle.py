"""apps:create, apps:rename, apps:clone, apps:destroy: the commands that change the set of apps
(the apps family's other commands are cli/apps.py)."""

import click

from minidokku.access import rules
from minidokku.access.rules import Scope
from minidokku.cli.declare import command
from minidokku.cli.inputs import confirm_by_name
from minidokku.context import Context
from minidokku.ops import app_lifecycle, apps

# The family is cli/apps.py's.
FAMILIES: dict[str, str] = {}


@command("apps:create", scope=Scope.NEW_APP, changes=True)
@click.argument("app")
@click.pass_obj
def create(ctx: Context, app: str) -> None:
    """Creates an app. Example: dokku apps:create catmeow"""
    app_lifecycle.create(ctx, app, rules.ssh_key())


@command("apps:rename", scope=Scope.APP, changes=True)
@click.argument("app")
@click.argument("new_app")
@click.option("--skip-deploy", is_flag=True, help="Leave the renamed app stopped (no deploy under the new name).")
@click.pass_obj
def rename(ctx: Context, app: str, new_app: str, skip_deploy: bool) -> None:
    """Renames an app: its repo, config, domains, certificates, releases and settings follow, and
    it is deployed again under the new name. Run again to finish a rename cut short.
    Example: dokku apps:rename catmeow catpurr"""
    app_lifecycle.rename(ctx, app, new_app, rules.ssh_key(), skip_deploy)


@command("apps:clone", scope=Scope.APP, changes=True)
@click.argument("app")
@click.argument("new_app")
@click.option("--skip-deploy", is_flag=True, help="Create the copy without deploying it.")
@click.option("--ignore-existing", is_flag=True, help="Only warn when the new app exists already.")
@click.pass_obj
def clone(ctx: Context, app: str, new_app: str, skip_deploy: bool, ignore_existing: bool) -> None:
    """Creates a new app with the app's repo, config and settings, running its current release.
    Example: dokku apps:clone catmeow catmeow-staging"""
    if not app_lifecycle.clone(ctx, app, new_app, rules.ssh_key(), skip_deploy, ignore_existing):
        click.echo(" !     Name is already taken", err=True)


@command("apps:destroy", scope=Scope.APP, changes=True)
@click.argument("app")
@click.option("--force", is_flag=True, help="Do not ask for confirmation.")
@click.pass_obj
def destroy(ctx: Context, app: str, force: bool) -> None:
    """Destroys an app: containers, image, repo, config and proxy. Example: dokku apps:destroy catmeow"""
    apps.require(ctx, app)
    if not force:
        confirm_by_name(f"app {app}", app, f"dokku apps:destroy {app} --force")
    ctx.out.step(f"Destroying {app} (including all add-ons)")
    app_lifecycle.destroy(ctx, app)
