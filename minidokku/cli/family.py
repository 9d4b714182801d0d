"""The two shapes command families repeat, as Dokku prints them: `FAMILY:report [APP]` (one app,
or every app) and `FAMILY:set APP KEY [VALUE]` (no value: back to the default)."""

from collections.abc import Callable
from typing import Optional

import click

from minidokku.access.rules import Scope
from minidokku.cli.declare import DeclaredCommand, command
from minidokku.context import Context
from minidokku.ops import apps
from minidokku.output import Output

WIDTH = 24  # the labels of most reports, colon included, are padded to this width


def print_report(out: Output, title: str, rows: dict[str, str], width: int = WIDTH, strip: bool = False) -> None:
    """`=====> TITLE information`, then a `Label:   value` line for each row, the values lined up.
    strip: an empty value leaves no padding behind its label (certs and resource reports)."""
    out.section(f"{title} information")
    for label, value in rows.items():
        line = f"{label + ':':<{width}}{value}"
        out.info(line.rstrip() if strip else line)


def report_command(
    name: str,
    scope: Scope,
    noun: str,
    rows: Callable[[Context, str], dict[str, str]],
    help: str,
    width: int = WIDTH,
    strip: bool = False,
) -> DeclaredCommand:
    """`NAME [APP]`: the report (`APP NOUN information`) of one app, or of every app. It changes nothing."""

    @click.argument("app", required=False)
    @click.pass_obj
    def report(ctx: Context, app: Optional[str]) -> None:
        for each in apps.one_or_all(ctx, app):
            print_report(ctx.out, f"{each} {noun}", rows(ctx, each), width, strip)

    return command(name, scope=scope, changes=False, help=help)(report)


def set_command(
    name: str,
    scope: Scope,
    change: Callable[[Context, str, str, str], None],
    help: str,
    unset_message: str = "Unsetting {key}",
    note: Optional[Callable[[Context, str], str]] = None,
) -> DeclaredCommand:
    """`NAME APP KEY [VALUE]`: change(ctx, app, key, value) validates the key and stores the value
    (an empty value unsets it); then `Setting KEY to VALUE`, or unset_message, is printed, and the
    note(ctx, app) line when there is one."""

    @click.argument("app")
    @click.argument("key")
    @click.argument("value", required=False, default="")
    @click.pass_obj
    def set_(ctx: Context, app: str, key: str, value: str) -> None:
        apps.require(ctx, app)
        change(ctx, app, key, value)
        ctx.out.step(f"Setting {key} to {value}" if value else unset_message.format(key=key))
        noted = note(ctx, app) if note else ""
        if noted:
            ctx.out.info(noted)

    return command(name, scope=scope, changes=True, help=help)(set_)
