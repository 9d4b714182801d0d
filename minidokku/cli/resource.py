"""resource:limit, resource:limit-clear, resource:reserve, resource:reserve-clear, resource:report
(Dokku's resource plugin, plus `--pids`). For admin keys: a user key never changes its own bounds."""

import functools
from typing import Optional

import click

from minidokku.access.rules import Scope
from minidokku.cli.declare import command
from minidokku.cli.family import Report, Row, report_command
from minidokku.context import Context
from minidokku.errors import ValidationError
from minidokku.ops import apps
from minidokku.records import releases, resources

# The command families of this module and their one-line descriptions (`dokku help`, `dokku FAMILY:help`).
FAMILIES = {"resource": "Manage resource settings for an app"}

UNSUPPORTED = ("network", "network-ingress", "network-egress", "nvidia-gpu")
NOUNS = {resources.LIMIT: "limits", resources.RESERVE: "reservation"}
REPORT_PREFIX = "--resource-"


def _setting_command(name: str, kind: str, help: str):
    @click.option("--process-type", "process_type", default=resources.DEFAULT_TYPE, help="One process type.")
    @click.option("--global", "is_global", is_flag=True, help="For every app.")
    @click.option("--cpu", help="CPUs (0.5, 2).")
    @click.option("--memory", help="Memory: megabytes, or a number with b, k, m or g.")
    @click.option("--memory-swap", "memory_swap", help="Memory plus swap (at least the memory; -1: any swap).")
    @click.option("--pids", help="Processes and threads (minidokku's own).")
    @click.option("--network", hidden=True)
    @click.option("--network-ingress", "network_ingress", hidden=True)
    @click.option("--network-egress", "network_egress", hidden=True)
    @click.option("--nvidia-gpu", "nvidia_gpu", hidden=True)
    @click.argument("app", required=False)
    @click.pass_obj
    def set_values(ctx: Context, process_type: str, is_global: bool, app: Optional[str], **given) -> None:
        target = _target(ctx, app, is_global, required=True)
        values = {key.replace("_", "-"): value for key, value in given.items() if value is not None}
        refused = [key for key in values if key in UNSUPPORTED or key not in resources.KEYS[kind]]
        if refused:
            raise ValidationError(
                f"--{refused[0]} is not a resource {kind} minidokku's scheduler applies; "
                f"it applies {', '.join('--' + key for key in resources.KEYS[kind])}"
            )
        if values:
            _store(ctx, target, process_type, kind, values)
        else:
            _show(ctx, target, process_type, kind)

    return command(name, scope=Scope.ADMIN, changes=True, help=help)(set_values)


def _show(ctx: Context, target: Optional[str], process_type: str, kind: str) -> None:
    resources.validate_process_type(process_type)
    ctx.out.section(f"resource {NOUNS[kind]} {target or 'default'} information{_suffix(process_type)}")
    for key, value in resources.shown(ctx.store, target, process_type, kind).items():
        ctx.out.info(f"{key}: {value}".rstrip())


def _store(ctx: Context, target: Optional[str], process_type: str, kind: str, values: dict[str, str]) -> None:
    resources.set_values(ctx.store, target, process_type, kind, values)
    if target:
        ctx.out.section(f"Setting resource {NOUNS[kind]} for {target}{_suffix(process_type)}")
    else:
        ctx.out.section(f"Setting default resource {NOUNS[kind]}{_suffix(process_type)}")
    for key, value in values.items():
        ctx.out.info(f"{key}: {'cleared' if value == resources.CLEAR else value}")
    ctx.out.info("It takes effect on the next deploy or `dokku ps:restart`")


def _suffix(process_type: str) -> str:
    return "" if process_type == resources.DEFAULT_TYPE else f" ({process_type})"


def _clearing_command(name: str, kind: str, help: str):
    @click.option("--process-type", "process_type", default=None, help="One process type.")
    @click.option("--global", "is_global", is_flag=True, help="The defaults of every app.")
    @click.argument("app", required=False)
    @click.pass_obj
    def clear(ctx: Context, process_type: Optional[str], is_global: bool, app: Optional[str]) -> None:
        target = _target(ctx, app, is_global, required=False)
        if process_type is not None:
            resources.validate_process_type(process_type)
        resources.clear(ctx.store, target, process_type, kind)
        noun = "limit" if kind == resources.LIMIT else "reservation"
        suffix = f" ({process_type})" if process_type else ""
        if target:
            ctx.out.step(f"Clearing resource {noun} for {target}{suffix}")
        else:
            ctx.out.step(f"Clearing default resource {NOUNS[kind]}{suffix}")

    return command(name, scope=Scope.ADMIN, changes=True, help=help)(clear)


limit = _setting_command(
    "resource:limit",
    resources.LIMIT,
    "Limits resources of an app's processes, or every app's with --global (no values: shows them). "
    "Example: dokku resource:limit --memory 256 --process-type worker catmeow",
)
limit_clear = _clearing_command(
    "resource:limit-clear",
    resources.LIMIT,
    "Clears the resource limits of an app (no app or --global: the defaults). "
    "Example: dokku resource:limit-clear --process-type web catmeow",
)
reserve = _setting_command(
    "resource:reserve",
    resources.RESERVE,
    "Reserves resources for an app's processes, or every app's with --global (no values: shows them). "
    "Example: dokku resource:reserve --memory 128 catmeow",
)
reserve_clear = _clearing_command(
    "resource:reserve-clear",
    resources.RESERVE,
    "Clears the resource reservation of an app (no app or --global: the defaults). "
    "Example: dokku resource:reserve-clear --process-type web catmeow",
)


def _report_rows(ctx: Context, app: str) -> list[Row]:
    """`--resource-TYPE.KIND.KEY`: the value a container of that type gets."""
    current = releases.current(ctx.store, app)
    stored = {name.split(".")[0] for name in resources.read(ctx.store, app)}
    types = [resources.BUILD_TYPE, resources.DEFAULT_TYPE, *(current.processes if current else ()), *sorted(stored)]
    rows = []
    for process_type in dict.fromkeys(types):
        if process_type == resources.BUILD_TYPE:
            limits = resources.for_build(ctx.store, app)
        else:
            limits = resources.for_process(ctx.store, app, process_type)
        for kind in resources.KINDS:
            for key in resources.KEYS[kind]:
                value = functools.partial(resources.describe, kind, key, limits)
                rows.append(_row(f"{process_type}.{kind}.{key}", value))
    return rows


def _global_rows(ctx: Context) -> list[Row]:
    """The defaults every app gets, as stored by resource:limit|reserve --global."""
    return [_row(name, lambda value=value: value) for name, value in sorted(resources.read(ctx.store, None).items())]


def _row(name: str, value) -> Row:
    return Row(REPORT_PREFIX + name, name.replace(".", " ").replace("-", " "), value)


report = report_command(
    "resource:report",
    Scope.ADMIN,
    Report("resource", REPORT_PREFIX, legacy=True, width=31, strip=True),
    _report_rows,
    help="Shows the resources each process type of an app gets, or one value with a flag. "
    "Example: dokku resource:report catmeow --resource-web.limit.memory",
    global_rows=_global_rows,
)


def _target(ctx: Context, app: Optional[str], is_global: bool, required: bool) -> Optional[str]:
    """The app named, or None for the global settings."""
    if app and is_global:
        raise ValidationError("name an app or use --global, not both")
    if not app and not is_global and required:
        raise ValidationError("Please specify an app to run the command on, or use --global")
    return apps.require(ctx, app) if app else None
