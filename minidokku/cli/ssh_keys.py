"""ssh-keys:add|list|remove (Dokku's), ssh-keys:migrate, and acl:add|remove|list (built in;
Dokku needs dokku-acl)."""

import json

import click

from minidokku.access import rules
from minidokku.access.rules import Scope
from minidokku.access.sshkeys import RESTRICTIONS, AuthorizedKeys
from minidokku.cli.declare import command
from minidokku.cli.inputs import ServerFile, read_file_argument
from minidokku.context import Context
from minidokku.errors import NotFound, ValidationError
from minidokku.ops import apps
from minidokku.records import scheduler as selection

# The command families of this module and their one-line descriptions (`dokku help`, `dokku FAMILY:help`).
FAMILIES = {"ssh-keys": "Manage public ssh keys used for deployment", "acl": "Manage which user keys may use an app"}


@command("ssh-keys:add", scope=Scope.ADMIN, changes=True)
@click.option("--role", type=click.Choice(rules.ROLES), default=rules.ADMIN, show_default=True,
              help="A user key reaches only the apps granted to it (acl:add).")  # fmt: skip
@click.argument("name")
@click.argument("keyfile", required=False, default="-", type=ServerFile())
@click.pass_obj
def add(ctx: Context, role: str, name: str, keyfile: str) -> None:
    """Adds a public key (a file, or stdin). Example: dokku ssh-keys:add --role user alice alice.pub"""
    text = read_file_argument(ctx, keyfile, "KEYFILE").decode("utf-8", errors="replace")
    keys = AuthorizedKeys(ctx.settings.authorized_keys)
    key = rules.add_key(ctx.store, keys, name, text, role, ctx.settings.program, ctx.settings.root)
    click.echo(key.fingerprint)


@command("ssh-keys:list", scope=Scope.ADMIN, changes=False)
@click.option("--format", "output_format", type=click.Choice(["text", "json"]), default="text")
@click.pass_obj
def list_keys(ctx: Context, output_format: str) -> None:
    """Lists the keys with their roles. Example: dokku ssh-keys:list --format json"""
    keys = AuthorizedKeys(ctx.settings.authorized_keys).list()
    if output_format == "json":
        click.echo(json.dumps([
            {"name": k.name, "fingerprint": k.fingerprint, "role": rules.role(ctx.store, k.name)} for k in keys
        ]))  # fmt: skip
        return
    for key in keys:
        role = rules.role(ctx.store, key.name)
        click.echo(f'{key.fingerprint} NAME="{key.name}" SSHCOMMAND_ALLOWED_KEYS="none" ROLE="{role}"')


@command("ssh-keys:remove", scope=Scope.ADMIN, changes=True)
@click.argument("name")
@click.pass_obj
def remove(ctx: Context, name: str) -> None:
    """Removes a key by name (and its grants). Example: dokku ssh-keys:remove alice"""
    rules.remove_key(ctx.store, AuthorizedKeys(ctx.settings.authorized_keys), name)
    ctx.out.step(f"Removed key {name}")


@command("ssh-keys:migrate", scope=Scope.ADMIN, changes=True)
@click.pass_obj
def migrate(ctx: Context) -> None:
    """Brings keys added by an older minidokku up to date (install.sh runs it): once, the
    keys without a role line become admins, as they were then; every entry gets `restrict`.
    Example: dokku ssh-keys:migrate"""
    keys = AuthorizedKeys(ctx.settings.authorized_keys)
    promoted = rules.migrate(ctx.store, keys)
    if promoted is None:
        ctx.out.info("Roles were migrated already: a key without a role line is a user")
    else:
        ctx.out.info(f"Keys of an older minidokku without a role line, now admins: {' '.join(promoted) or 'none'}")
    restricted = keys.restrict_all()
    ctx.out.info(f"Entries given `{RESTRICTIONS}`: {restricted}")


@command("acl:add", scope=Scope.ADMIN, changes=True)
@click.argument("app")
@click.argument("user")
@click.pass_obj
def acl_add(ctx: Context, app: str, user: str) -> None:
    """Lets a user key push to and manage an app. Example: dokku acl:add catmeow alice"""
    _require_key(ctx, user)
    if selection.may_be_on_swarm(ctx.store, apps.require(ctx, app)):
        raise ValidationError(
            f"{app} runs on the swarm, where a user key's app may not: "
            f"`dokku scheduler:set {app} selected docker-local` and a deploy first"
        )
    rules.grant(ctx.store, app, user)
    ctx.out.step(f"{user} may now use {app}")


@command("acl:remove", scope=Scope.ADMIN, changes=True)
@click.argument("app")
@click.argument("user")
@click.pass_obj
def acl_remove(ctx: Context, app: str, user: str) -> None:
    """Takes an app away from a user key. Example: dokku acl:remove catmeow alice"""
    if user not in rules.granted(ctx.store, apps.require(ctx, app)):
        raise NotFound(f"{user} has no access to {app}")
    rules.revoke(ctx.store, app, user)
    ctx.out.step(f"{user} may no longer use {app}")


@command("acl:list", scope=Scope.ADMIN, changes=True)
@click.argument("app")
@click.pass_obj
def acl_list(ctx: Context, app: str) -> None:
    """Lists the user keys an app is granted to. Example: dokku acl:list catmeow"""
    for user in rules.granted(ctx.store, apps.require(ctx, app)):
        click.echo(user)


def _require_key(ctx: Context, name: str) -> None:
    if name not in {key.name for key in AuthorizedKeys(ctx.settings.authorized_keys).list()}:
        raise NotFound(f"no key named {name}")
