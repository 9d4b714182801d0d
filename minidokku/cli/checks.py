"""checks:disable|enable|skip|run|report|set (Dokku's zero-downtime checks)."""

from typing import Optional

import click

from minidokku.context import Context
from minidokku.ops import apps, deploy
from minidokku.records import procfile, properties
from minidokku.runtime import checks
from minidokku.runtime.docker_scheduler import Container


def register(cli: click.Group) -> None:
    for mode, verb, doc in (
        (
            "disabled",
            "disable",
            "Turns zero-downtime off (old containers stop first). Example: dokku checks:disable catmeow worker",
        ),
        ("enabled", "enable", "Turns the checks back on. Example: dokku checks:enable catmeow"),
        ("skipped", "skip", "Moves traffic without checking. Example: dokku checks:skip catmeow web"),
    ):
        cli.command(f"checks:{verb}", help=doc)(_mode_command(mode))

    @cli.command("checks:set")
    @click.argument("app")
    @click.argument("key")
    @click.argument("value", required=False, default="")
    @click.pass_obj
    def set_(ctx: Context, app: str, key: str, value: str) -> None:
        """Sets (or clears) a checks property. Example: dokku checks:set catmeow wait-to-retire 30"""
        apps.require(ctx, app)
        checks.set_property(ctx.store, app, key, value)
        ctx.out.step(f"Setting {key} to {value}" if value else f"Unsetting {key}")

    @cli.command("checks:report")
    @click.argument("app", required=False)
    @click.pass_obj
    def report(ctx: Context, app: Optional[str]) -> None:
        """Shows the checks settings of one app or of every app. Example: dokku checks:report catmeow"""
        for name in apps.one_or_all(ctx, app):
            values = properties.read_all(ctx.store, name, checks.FAMILY)
            env = ctx.store.read_env(name)
            ctx.out.section(f"{name} checks information")
            ctx.out.info(f"{'Checks disabled list:':<28}{values.get('DISABLED') or 'none'}")
            ctx.out.info(f"{'Checks skipped list:':<28}{values.get('SKIPPED') or 'none'}")
            ctx.out.info(f"{'Checks wait to retire:':<28}{checks.wait_to_retire(ctx.store, name, env)}")

    @cli.command("checks:run")
    @click.argument("app")
    @click.argument("process_types", required=False, default="")
    @click.pass_obj
    def run(ctx: Context, app: str, process_types: str) -> None:
        """Runs the checks against the running containers. Example: dokku checks:run catmeow web"""
        apps.require(ctx, app)
        release = deploy.require_deployed(ctx, app)
        wanted = _split(process_types)
        targets: list[tuple[Container, list]] = []
        for container in ctx.scheduler.running(ctx.docker_name(app)):
            if wanted and container.process_type not in wanted:
                continue
            found = checks.checks_for(container.process_type, release.settings, release.checks_file, release.config)
            ctx.out.step(f"Checking {container.dyno}: {', '.join(c.description for c in found)}")
            targets.append((container, [c for c in found if not c.uptime]))  # running ones are past uptime
        checks.run_all(ctx.scheduler, targets)
        ctx.out.step("All checks passed" if targets else "No running container to check")


def _mode_command(mode: str):
    @click.argument("app")
    @click.argument("process_types", required=False, default="")
    @click.pass_obj
    def command(ctx: Context, app: str, process_types: str) -> None:
        apps.require(ctx, app)
        chosen = _split(process_types)
        checks.set_mode(ctx.store, app, chosen, mode)
        ctx.out.step(f"Zero-downtime checks {mode} for {app} ({', '.join(chosen) or 'all process types'})")

    return command


def _split(process_types: str) -> list[str]:
    return [procfile.validate_process_type(t) for t in process_types.split(",") if t]
