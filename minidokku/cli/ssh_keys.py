"""ssh-keys:add, ssh-keys:list, ssh-keys:remove."""

import click

from minidokku.context import Context
from minidokku.sshkeys import AuthorizedKeys


def register(cli: click.Group) -> None:
    @cli.command("ssh-keys:add")
    @click.argument("name")
    @click.argument("keyfile", required=False, default="-", type=click.File("r"))
    @click.pass_obj
    def add(ctx: Context, name: str, keyfile) -> None:
        """Adds a public key (a file, or stdin). Example: dokku ssh-keys:add alice ~/.ssh/id_ed25519.pub"""
        text = keyfile.read()
        key = AuthorizedKeys(ctx.settings.authorized_keys).add(name, text, ctx.settings.program, ctx.settings.root)
        click.echo(key.fingerprint)

    @cli.command("ssh-keys:list")
    @click.pass_obj
    def list_keys(ctx: Context) -> None:
        """Lists the keys. Example: dokku ssh-keys:list"""
        for key in AuthorizedKeys(ctx.settings.authorized_keys).list():
            click.echo(f'{key.fingerprint} NAME="{key.name}" SSHCOMMAND_ALLOWED_KEYS="none"')

    @cli.command("ssh-keys:remove")
    @click.argument("name")
    @click.pass_obj
    def remove(ctx: Context, name: str) -> None:
        """Removes a key by name. Example: dokku ssh-keys:remove alice"""
        AuthorizedKeys(ctx.settings.authorized_keys).remove(name)
        ctx.out.step(f"Removed key {name}")
