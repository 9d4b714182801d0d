"""builds:list|info|output|cancel|prune|report|set (Dokku 0.38's build tracking): every deploy's
record and output (records/builds.py, ops/builds.py)."""

import json
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict
from datetime import UTC, datetime
from typing import Optional

import click

from minidokku.access.rules import Scope
from minidokku.cli.builder import property_rows, property_set_command
from minidokku.cli.declare import command
from minidokku.cli.family import FORMATS, Report, Row, report_command
from minidokku.cli.hangup import end_on_hang_up
from minidokku.context import Context
from minidokku.errors import ValidationError
from minidokku.ops import apps
from minidokku.ops import builds as tracking
from minidokku.records import builds
from minidokku.records.builds import Build

# The command families of this module and their one-line descriptions (`dokku help`, `dokku FAMILY:help`).
FAMILIES = {"builds": "Manage running and historical builds"}
FOLLOW_INTERVAL = 0.5  # seconds between two looks at a running build's output


def _format(format_: str) -> str:
    if format_ not in FORMATS:
        raise ValidationError("Invalid format specified, supported formats: json, stdout")
    return format_


def _time(moment: Optional[float]) -> str:
    """RFC 3339 in UTC, as Dokku prints a build's times; "" for none."""
    if moment is None:
        return ""
    return datetime.fromtimestamp(moment, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _duration(seconds: float) -> str:
    """Go's form of a duration rounded to the second (1m14s, 2h0m5s), as Dokku prints it."""
    whole = round(seconds)
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}h{minutes}m{secs}s"
    return f"{minutes}m{secs}s" if minutes else f"{secs}s"


def _view(build: Build) -> dict:
    """A build as json shows it: its record, with Dokku's display status, duration and log path."""
    return {
        **asdict(build),
        "started_at": _time(build.started_at),
        "finished_at": _time(build.finished_at) or None,
        "display_status": tracking.shown_status(build),
        "duration": _duration(build.duration),
    }


def _table(rows: Sequence[Sequence[str]]) -> None:
    """Columns lined up, two spaces apart (Dokku's columnize)."""
    widths = [max(len(row[column]) for row in rows) for column in range(len(rows[0]))]
    for row in rows:
        click.echo("  ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip())


def _check_filters(kind: str, status: str) -> None:
    if kind and kind not in (builds.BUILD, builds.DEPLOY):
        raise ValidationError(f'Invalid --kind value "{kind}" (allowed: build, deploy)')
    if status and status not in builds.STATUSES:
        raise ValidationError(f'Invalid --status value "{status}" (allowed: {", ".join(builds.STATUSES)})')


@command("builds:list", scope=Scope.APP, changes=False)
@click.option("--format", "format_", default="stdout", help="stdout or json.")
@click.option("--kind", default="", help="build or deploy.")
@click.option("--status", default="", help="running, succeeded, failed, canceled or abandoned.")
@click.argument("app", required=False)
@click.pass_obj
def list_(ctx: Context, format_: str, kind: str, status: str, app: Optional[str]) -> None:
    """Lists an app's builds, the last first (no app: the builds running on every app, admin keys
    only). Example: dokku builds:list catmeow --status failed"""
    _format(format_)
    _check_filters(kind, status)
    found = builds.history(ctx.store, apps.require(ctx, app)) if app else _running_everywhere(ctx)
    found = [b for b in found if kind in ("", b.kind) and status in ("", tracking.shown_status(b))]
    if app and not (kind or status):
        found = found[: builds.retention(ctx.store, app) + sum(tracking.is_live(b) for b in found)]
    if format_ == "json":
        click.echo(json.dumps([_view(build) for build in found], separators=(",", ":")))
    elif not found:
        click.echo("No builds recorded for this app" if app else "No builds currently running")
    elif app:
        header = ["Build ID", "Kind", "Status", "PID", "Source", "Started", "Duration"]
        _table([header, *([b.id, b.kind, tracking.shown_status(b), str(b.pid), b.source, _time(b.started_at),
                           _duration(b.duration)] for b in found)])  # fmt: skip
    else:
        header = ["App", "Build ID", "Kind", "PID", "Source", "Started"]
        _table([header, *([b.app, b.id, b.kind, str(b.pid), b.source, _time(b.started_at)] for b in found)])


def _running_everywhere(ctx: Context) -> list[Build]:
    running = [build for app in apps.list_apps(ctx) if (build := tracking.running(ctx.store, app))]
    return sorted(running, key=lambda build: build.started_at, reverse=True)


@command("builds:info", scope=Scope.APP, changes=False)
@click.option("--format", "format_", default="stdout", help="stdout or json.")
@click.argument("app")
@click.argument("build_id", required=False, default="")
@click.pass_obj
def info(ctx: Context, format_: str, app: str, build_id: str) -> None:
    """Shows one build of an app. Example: dokku builds:info catmeow 0mi3k2x1ab4c9z"""
    _format(format_)
    apps.require(ctx, app)
    if not build_id:
        raise ValidationError("Please specify a build id")
    build = builds.read(ctx.store, app, build_id)
    if format_ == "json":
        click.echo(json.dumps(_view(build), separators=(",", ":")))
        return
    rows = {
        "Build ID": build.id, "App": build.app, "Kind": build.kind, "Status": tracking.shown_status(build),
        "PID": str(build.pid), "Source": build.source, "By": build.by, "Started": _time(build.started_at),
        "Finished": _time(build.finished_at), "Duration": _duration(build.duration),
        "Exit Code": "" if build.exit_code is None else str(build.exit_code),
        "Commit": build.commit, "Image": build.image, "Release": build.release, "Error": build.error,
    }  # fmt: skip
    _table([[f"{label}:", value] for label, value in rows.items() if value or label in ("Build ID", "Status")])


@command("builds:output", scope=Scope.APP, changes=False)
@click.argument("app")
@click.argument("build_id", required=False, default="current")
@click.pass_obj
def output(ctx: Context, app: str, build_id: str) -> None:
    """Prints a build's output; of the running build (`current`, the default) until it ends.
    Example: dokku builds:output catmeow current"""
    apps.require(ctx, app)
    if build_id == "current":
        running = tracking.running(ctx.store, app)
        if running is None:
            ctx.out.step("App not currently deploying")
            return
        build_id = running.id
    build = builds.read(ctx.store, app, build_id)
    if tracking.is_live(build):
        end_on_hang_up()
    offset = 0
    while True:
        live = tracking.is_live(builds.read(ctx.store, app, build.id))
        chunk = builds.read_output(ctx.store, app, build.id, offset)
        if chunk:
            click.echo(chunk.decode("utf-8", "replace"), nl=False)
            offset += len(chunk)
        elif not live:
            return
        else:
            time.sleep(FOLLOW_INTERVAL)


@command("builds:cancel", scope=Scope.APP, changes=True)
@click.argument("app")
@click.pass_obj
def cancel(ctx: Context, app: str) -> None:
    """Cancels the app's running build: the deploy fails and the release before it serves on.
    Example: dokku builds:cancel catmeow"""
    canceled = tracking.cancel(ctx, apps.require(ctx, app))
    ctx.out.step("Killing app deploy" if canceled else "App not currently deploying")


@command("builds:prune", scope=Scope.APP, changes=True)
@click.option("--all-apps", "all_apps", is_flag=True, help="Every app (admin keys only).")
@click.argument("app", required=False)
@click.pass_obj
def prune(ctx: Context, all_apps: bool, app: Optional[str]) -> None:
    """Removes an app's finished builds beyond its retention (builds:set). Example: dokku builds:prune catmeow"""
    if all_apps == bool(app):
        raise ValidationError("Please specify an app or --all-apps")
    for each in apps.list_apps(ctx) if all_apps else [apps.require(ctx, app)]:
        gone = tracking.prune(ctx.store, each)
        ctx.out.step(f"Pruned {len(gone)} build records of {each}")


builds_set = property_set_command(
    "builds:set",
    Scope.APP,
    [builds.RETENTION],
    help=f"Sets how many finished builds an app keeps (no value: {builds.DEFAULT_RETENTION}; "
    f"at most {builds.MAX_RETENTION}). Example: dokku builds:set catmeow retention 50",
)


def _last_build(ctx: Context, app: str) -> Optional[Build]:
    found = builds.history(ctx.store, app)
    return found[0] if found else None


def _report_rows(ctx: Context, app: str) -> list[Row]:
    def last(value: Callable[[Build], str]) -> Callable[[], str]:
        def read() -> str:
            build = _last_build(ctx, app)
            return value(build) if build else ""

        return read

    return [
        Row("--build-id", "Build id", last(lambda b: b.id)),
        Row("--build-kind", "Build kind", last(lambda b: b.kind)),
        Row("--build-status", "Build status", last(tracking.shown_status)),
        Row("--build-pid", "Build pid", last(lambda b: str(b.pid))),
        Row("--build-source", "Build source", last(lambda b: b.source)),
        Row("--build-started-at", "Build started at", last(lambda b: _time(b.started_at))),
        Row("--build-finished-at", "Build finished at", last(lambda b: _time(b.finished_at))),
        Row("--build-exit-code", "Build exit code", last(lambda b: "" if b.exit_code is None else str(b.exit_code))),
        *property_rows(ctx, app, builds.RETENTION, "--builds-", "Builds"),
    ]


report = report_command(
    "builds:report",
    Scope.APP,
    Report("builds", "--builds-", legacy=True, width=28),
    _report_rows,
    help="Shows the last build and the retention of one app or of every app. "
    "Example: dokku builds:report catmeow --build-status",
    global_rows=lambda ctx: property_rows(ctx, None, builds.RETENTION, "--builds-", "Builds"),
)
