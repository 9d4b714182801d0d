"""checks:disable|enable|skip|run|report|set (Dokku's zero-downtime checks)."""

from typing import Optional

import click

from minidokku.access.rules import Scope
from minidokku.cli.declare import command
from minidokku.cli.family import Report, Row, global_set_command, report_command
from minidokku.context import Context
from minidokku.ops import apps, deploy
from minidokku.records import procfile, properties
from minidokku.runtime import checks
from minidokku.runtime.docker_scheduler import Container

# The command families of this module and their one-line descriptions (`dokku help`, `dokku FAMILY:help`).
FAMILIES = {"checks": "Manage zero-downtime settings"}


def _mode_command(name: str, mode: str, help: str):
    """`NAME APP [PROCESS_TYPES]`: the checks of those process types (default: all) in mode."""

    @click.argument("app")
    @click.argument("process_types", required=False, default="")
    @click.pass_obj
    def set_mode(ctx: Context, app: str, process_types: str) -> None:
        apps.require(ctx, app)
        chosen = _split(process_types)
        checks.set_mode(ctx.store, app, chosen, mode)
        ctx.out.step(f"Zero-downtime checks {mode} for {app} ({', '.join(chosen) or 'all process types'})")

    return command(name, scope=Scope.APP, changes=True, help=help)(set_mode)


disable = _mode_command(
    "checks:disable",
    "disabled",
    "Turns zero-downtime off (old containers stop first). Example: dokku checks:disable catmeow worker",
)
enable = _mode_command("checks:enable", "enabled", "Turns the checks back on. Example: dokku checks:enable catmeow")
skip = _mode_command("checks:skip", "skipped", "Moves traffic without checking. Example: dokku checks:skip catmeow web")
set_ = global_set_command(
    "checks:set",
    lambda ctx, app, key, value: checks.set_property(ctx.store, app, key, value),
    help="Sets (or clears) a checks property of an app or, with --global, of every app without its own. "
    "Example: dokku checks:set catmeow wait-to-retire 30",
)


def _global_rows(ctx: Context, app: Optional[str] = None) -> list[Row]:
    """The wait to retire app gets (an app of its own when None) and the global value."""
    return [
        Row(
            "--checks-computed-wait-to-retire",
            "Checks computed wait to retire",
            lambda: str(checks.wait_to_retire(ctx.store, app, ctx.store.read_env(app) if app else {})),
        ),
        Row(
            "--checks-global-wait-to-retire",
            "Checks global wait to retire",
            lambda: properties.get(ctx.store, None, checks.FAMILY, "wait-to-retire"),
        ),
    ]


def _report_rows(ctx: Context, app: str) -> list[Row]:
    values = properties.read_all(ctx.store, app, checks.FAMILY)
    return [
        Row("--checks-disabled-list", "Checks disabled list", lambda: values.get("DISABLED") or "none"),
        Row("--checks-skipped-list", "Checks skipped list", lambda: values.get("SKIPPED") or "none"),
        *_global_rows(ctx, app),
        Row(
            "--checks-wait-to-retire",
            "Checks wait to retire",
            lambda: properties.get(ctx.store, app, checks.FAMILY, "wait-to-retire"),
        ),
    ]


report = report_command(
    "checks:report",
    Scope.APP,
    Report("checks", "--checks-", width=32),
    _report_rows,
    help="Shows the checks settings of one app or of every app. Example: dokku checks:report catmeow",
    global_rows=_global_rows,
)


@command("checks:run", scope=Scope.APP, changes=True)
@click.argument("app")
@click.argument("process_types", required=False, default="")
@click.pass_obj
def run(ctx: Context, app: str, process_types: str) -> None:
    """Runs the checks against the running containers. Example: dokku checks:run catmeow web"""
    apps.require(ctx, app)
    release = deploy.require_deployed(ctx, app)
    wanted = _split(process_types)
    targets: list[tuple[Container, list]] = []
    for container in ctx.scheduler_for(app).running(ctx.docker_name(app)):
        if wanted and container.process_type not in wanted:
            continue
        found = checks.checks_for(container.process_type, release.settings, release.checks_file, release.config)
        ctx.out.step(f"Checking {container.dyno}: {', '.join(c.description for c in found)}")
        targets.append((container, [c for c in found if not c.uptime]))  # running ones are past uptime
    checks.run_ready(ctx.scheduler_for(app), targets)
    ctx.out.step("All checks passed" if targets else "No running container to check")


def _split(process_types: str) -> list[str]:
    return [procfile.validate_process_type(t) for t in process_types.split(",") if t]
