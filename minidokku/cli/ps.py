"""ps:scale, ps:start|stop|restart|rebuild [--all], ps:report, ps:set, ps:restore (Dokku's ps plugin)."""

from collections.abc import Callable
from typing import Optional

import click

from minidokku.access import events
from minidokku.context import Context
from minidokku.errors import DeployFailed, MinidokkuError, ValidationError
from minidokku.ops import apps, processes, push, retirement
from minidokku.records import ps_settings, releases


def register(cli: click.Group) -> None:
    @cli.command("ps:scale")
    @click.argument("app")
    @click.argument("pairs", nargs=-1)
    @click.pass_obj
    def scale(ctx: Context, app: str, pairs) -> None:
        """Shows or sets how many containers of each process type run. Example: dokku ps:scale catmeow web=2 worker=1"""
        if pairs:
            click.get_current_context().meta[events.DETAIL] = " ".join(pairs)
            changes = processes.set_scale(ctx, app, list(pairs))
            ctx.out.step(f"Scaled {app} processes: {' '.join(f'{k}={v}' for k, v in changes.items())}")
            return
        apps.require(ctx, app)
        ctx.out.step(f"Scaling for {app}")
        click.echo("proctype: qty")
        click.echo("--------: ---")
        for name, count in processes.counts(ctx, app).items():
            click.echo(f"{name + ':':<9} {count}")

    for name, action, doc in (
        ("ps:start", processes.start, "Starts the app's processes. Example: dokku ps:start catmeow"),
        (
            "ps:restart",
            processes.restart,
            "Restarts the app's processes without downtime. Example: dokku ps:restart catmeow",
        ),
        (
            "ps:rebuild",
            push.rebuild,
            "Builds the last pushed commit again and deploys it. Example: dokku ps:rebuild catmeow",
        ),
        ("ps:stop", processes.stop, "Stops the app's processes; nginx answers 503. Example: dokku ps:stop catmeow"),
    ):
        cli.command(name, help=doc)(_for_app_or_all(action))

    @cli.command("ps:set")
    @click.argument("app")
    @click.argument("key")
    @click.argument("value", required=False, default="")
    @click.pass_obj
    def set_(ctx: Context, app: str, key: str, value: str) -> None:
        """Sets (or, with no value, clears) a ps property. Example: dokku ps:set catmeow restart-policy always"""
        apps.require(ctx, app)
        ps_settings.set_property(ctx.store, app, key, value)
        ctx.out.step(f"Setting {key} to {value}" if value else f"Unsetting {key}")
        if releases.current(ctx.store, app):
            ctx.out.info("It takes effect on the next deploy or `dokku ps:restart`")

    @cli.command("ps:report")
    @click.argument("app", required=False)
    @click.pass_obj
    def report(ctx: Context, app: Optional[str]) -> None:
        """Shows the processes of one app, or of every app. Example: dokku ps:report catmeow"""
        for name in apps.one_or_all(ctx, app):
            _report(ctx, name)

    @cli.command("ps:restore")
    @click.argument("app", required=False)
    @click.pass_obj
    def restore(ctx: Context, app: Optional[str]) -> None:
        """Brings back every app that should run (at boot, after an engine restart). Example: dokku ps:restore"""
        failed = []
        for name in apps.one_or_all(ctx, app):
            try:
                done = processes.restore(ctx, name)
            except MinidokkuError as error:
                ctx.out.step(f"Restoring {name} failed: {error}")
                failed.append(name)
                continue
            if done:
                ctx.out.step(f"Restored {name} ({done})")
        if failed:
            raise DeployFailed(f"could not restore {', '.join(failed)}")

    @cli.command("ps:retire", hidden=True)
    @click.option("--wait", type=int, default=0)
    @click.argument("container_ids", nargs=-1)
    @click.pass_obj
    def retire(ctx: Context, wait: int, container_ids) -> None:
        """Stops and removes containers after a wait (run detached by a deploy)."""
        retirement.retire_after(ctx, list(container_ids), wait)


def _for_app_or_all(action: Callable[[Context, str], object]):
    """A command taking APP or --all; with --all every app is tried and the failures listed."""

    @click.argument("app", required=False)
    @click.option("--all", "every", is_flag=True, help="Every app.")
    @click.pass_obj
    def command(ctx: Context, app: Optional[str], every: bool) -> None:
        if bool(app) == every:
            raise ValidationError("give an app name or --all")
        if app:
            action(ctx, app)
            return
        failed = []
        for name in apps.list_apps(ctx):
            try:
                action(ctx, name)
            except MinidokkuError as error:
                ctx.out.step(f"{name}: {error}")
                failed.append(name)
        if failed:
            raise DeployFailed(f"failed for {', '.join(failed)}")

    return command


def _report(ctx: Context, app: str) -> None:
    current = releases.current(ctx.store, app)
    containers = ctx.scheduler.running(ctx.docker_name(app)) if current else []
    policy = ps_settings.restart_policy(ctx.store, app)
    rows = {
        "Deployed": "true" if current else "false",
        "Release": f"{current.name} ({current.sha[:7]})" if current else "-",
        "Processes": str(len(containers)),
        "Scale": " ".join(f"{k}={v}" for k, v in processes.counts(ctx, app).items()) or "-",
        "Restart policy": _policy_text(policy),
        "Running": "false"
        if ps_settings.is_stopped(ctx.store, app)
        else str(any(c.running for c in containers)).lower(),
    }
    for container in containers:
        state = "running" if container.running else "stopped"
        port = f", port {container.host_port}" if container.host_port else ""
        rows[f"Status {container.dyno}"] = f"{state} (CID: {container.id[:12]}{port})"
    ctx.out.section(f"{app} ps information")
    for label, value in rows.items():
        ctx.out.info(f"{label + ':':<24}{value}")


def _policy_text(policy: Optional[dict]) -> str:
    if policy is None:
        return "on-failure:10 (default)"
    retries = policy.get("MaximumRetryCount")
    return f"{policy['Name']}:{retries}" if retries else str(policy["Name"])
