"""sample:deploy: the installer's sample app (minidokku's own; ops/sample.py)."""

import click

from minidokku.access.rules import Scope
from minidokku.cli.declare import Runs, command
from minidokku.context import Context
from minidokku.ops import sample

# The command families of this module and their one-line descriptions (`dokku help`, `dokku FAMILY:help`).
FAMILIES = {"sample": "Deploy the sample app once, as install.sh does (minidokku's own)"}


@command("sample:deploy", scope=Scope.ADMIN, changes=True, runs=Runs.INTERNAL, hidden=True)
@click.pass_obj
def deploy(ctx: Context) -> None:
    """Deploys the sample app catmeow by a git push, once per machine, setting a global domain
    that needs no DNS where there is none. install.sh runs it. Example: sudo dokku sample:deploy"""
    outcome = sample.deploy(ctx)
    if outcome.url is None:
        ctx.out.step(outcome.said)
        return
    ctx.out.section(f"The sample app {sample.APP} serves at {outcome.url}")
    ctx.out.info(f"Remove it when you like: dokku apps:destroy {sample.APP}")
