"""ps:restart, ps:rebuild, ps:report."""

import click

from minidokku import apps, deploy, push
from minidokku.context import Context


def register(cli: click.Group) -> None:
    @cli.command("ps:restart")
    @click.argument("app")
    @click.pass_obj
    def restart(ctx: Context, app: str) -> None:
        """Restarts the app's processes without downtime. Example: dokku ps:restart catmeow"""
        apps.require(ctx, app)
        with ctx.store.lock(app):
            deploy.require_deployed(ctx, app)
            deploy.redeploy(ctx, app, ctx.store.read_env(app), "Restart")

    @cli.command("ps:rebuild")
    @click.argument("app")
    @click.pass_obj
    def rebuild(ctx: Context, app: str) -> None:
        """Builds the last pushed commit again and deploys it. Example: dokku ps:rebuild catmeow"""
        push.rebuild(ctx, app)

    @cli.command("ps:report")
    @click.argument("app")
    @click.pass_obj
    def report(ctx: Context, app: str) -> None:
        """Shows the app's release and containers. Example: dokku ps:report catmeow"""
        apps.require(ctx, app)
        release = deploy.require_deployed(ctx, app)
        ctx.out.section(f"{app} ps information")
        click.echo(f"       Release:           {release.name} ({release.sha[:7]})")
        click.echo(f"       Processes:         {', '.join(release.processes)}")
        for container in ctx.scheduler.running(ctx.docker_name(app)):
            click.echo(f"       Status {container.name}: {container.id[:12]} port {container.host_port or '-'}")
