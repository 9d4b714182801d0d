"""stack:build: makes the base image builds and apps start from (needs root without a registry)."""

import click

from minidokku.build import stack
from minidokku.context import Context


def register(cli: click.Group) -> None:
    @cli.command("stack:build")
    @click.option("--force", is_flag=True, help="Build again even if the image exists.")
    @click.pass_obj
    def build(ctx: Context, force: bool) -> None:
        """Builds the stack image minidokku/stack:latest. Example: sudo dokku stack:build"""
        stack.build(ctx.engine, ctx.out, force=force)
