"""The two shapes command families repeat, as Dokku prints them: `FAMILY:report [APP] [--global]
[--format stdout|json] [--INFO-FLAG]` and `FAMILY:set APP KEY [VALUE]` (no value: back to the default).

A report is a list of rows, each declared by its family as (Dokku's info flag, the label the
`=====> APP FAMILY information` block shows, a getter of the value). The getters are called only
for what is printed: `--FLAG` asks one value, so one getter runs."""

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Optional

import click

from minidokku.access.rules import Scope
from minidokku.cli.declare import DeclaredCommand, command, global_option
from minidokku.context import Context
from minidokku.errors import ValidationError
from minidokku.ops import apps
from minidokku.output import Output

WIDTH = 24  # the labels of most reports, colon included, are padded to this width
FORMATS = ("stdout", "json")
NO_APPS = "You haven't deployed any applications yet"
INFO_OPTION = "--info-flag"  # what parse_args turns each `--FLAG` into (never typed by a user)


@dataclass(frozen=True)
class Row:
    """One property of a report. flag: Dokku's info flag (`--domains-app-vhosts`); label: the
    stdout block's; value: its getter; empty: what the stdout block shows for an empty value
    (the flag and json give the empty value itself)."""

    flag: str
    label: str
    value: Callable[[], str]
    empty: str = ""


Rows = Callable[[Context, str], Sequence[Row]]
GlobalRows = Callable[[Context], Sequence[Row]]


def print_report(out: Output, title: str, rows: dict[str, str], width: int = WIDTH, strip: bool = False) -> None:
    """`=====> TITLE information`, then a `Label:   value` line for each row, the values lined up.
    strip: an empty value leaves no padding behind its label (certs and resource reports)."""
    out.section(f"{title} information")
    for label, value in rows.items():
        line = f"{label + ':':<{width}}{value}"
        out.info(line.rstrip() if strip else line)


def json_keys(flag: str, prefix: str, legacy: bool) -> list[str]:
    """The json keys of a flag, as Dokku 0.38 names them: the flag without `--` and without the
    family's own `--FAMILY-` head (`--domains-app-vhosts` -> `app-vhosts`); legacy: the whole
    flag's name too (`domains-app-vhosts`), as Dokku still prints it for some families."""
    whole = flag.removeprefix("--")
    if not flag.startswith(prefix):
        return [whole]
    return [flag.removeprefix(prefix), *([whole] if legacy else [])]


@dataclass(frozen=True)
class Report:
    """How a family's report prints: title (`APP TITLE information`), prefix (the `--FAMILY-`
    head of its flags), and whether json repeats the whole flag names (legacy)."""

    title: str
    prefix: str
    legacy: bool = False
    width: int = WIDTH
    strip: bool = False

    def show(self, ctx: Context, heading: str, rows: Sequence[Row], format_: str, flag: Optional[str]) -> None:
        if flag:
            click.echo(self.value(rows, flag))
        elif format_ == "json":
            keyed = {key: row.value() for row in rows for key in json_keys(row.flag, self.prefix, self.legacy)}
            click.echo(json.dumps(keyed, sort_keys=True, separators=(",", ":"), ensure_ascii=False))
        else:
            lines = {row.label: row.value() or row.empty for row in rows}
            print_report(ctx.out, f"{heading} {self.title}", lines, self.width, self.strip)

    @staticmethod
    def value(rows: Sequence[Row], flag: str) -> str:
        for row in rows:
            if row.flag == flag:
                return row.value()
        raise ValidationError(f"Invalid flag passed, valid flags: {', '.join(sorted(row.flag for row in rows))}")


class ReportCommand(DeclaredCommand):
    """Reads its words as Dokku does: `--format VALUE` and `--global` anywhere, every other `--X`
    an info flag wherever it stands, the first other word the app."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if "--help" in args or "-h" in args:
            return super().parse_args(ctx, args)
        words: list[str] = []
        rest = iter(args)
        for word in rest:
            if word == "--format":
                words += [word, next(rest, "")]
            elif word == "--global" or word.startswith("--format="):
                words.append(word)
            elif word.startswith("--"):
                words += [INFO_OPTION, word]
            else:
                words.append(word)
        return super().parse_args(ctx, words)


def report_command(
    name: str,
    scope: Scope,
    report: Report,
    rows: Rows,
    help: str,
    global_rows: Optional[GlobalRows] = None,
) -> DeclaredCommand:
    """`NAME [APP] [--global] [--format stdout|json] [--FLAG]`: the report of one app, of every
    app (one block, or json object, each), or with --global of the global properties (none where
    global_rows is None, as Dokku's reports of families without any). It changes nothing; a user
    key may report on its own apps, never on every app or the global properties."""

    @click.argument("app", required=False)
    @click.option("--global", "is_global", is_flag=True, help="The global properties.")
    @click.option("--format", "format_", default="stdout", help="stdout or json.")
    @click.option(INFO_OPTION, "flags", multiple=True, hidden=True)
    @click.pass_obj
    def show_report(ctx: Context, app: Optional[str], is_global: bool, format_: str, flags: tuple[str, ...]) -> None:
        flag = _one_flag(name, format_, flags)
        if is_global:  # a run for admin keys only: declare.target_app gives the rights check no app
            report.show(ctx, "global", global_rows(ctx) if global_rows else (), format_, flag)
            return
        names = apps.one_or_all(ctx, app)
        if not names:
            click.echo(f" !     {NO_APPS}", err=True)
        for each in names:
            report.show(ctx, each, rows(ctx, each), format_, flag)

    return click.command(name, cls=ReportCommand, scope=scope, changes=False, help=help)(show_report)


def _one_flag(name: str, format_: str, flags: tuple[str, ...]) -> Optional[str]:
    """The info flag asked for, if any; Dokku's errors for a bad combination."""
    if format_ not in FORMATS:
        raise ValidationError(f'Format must be "stdout" or "json": "{format_}"')
    if len(flags) > 1:
        raise ValidationError(f"{name} command allows only a single flag")
    if flags and format_ != "stdout":
        raise ValidationError("--format flag cannot be specified when specifying an info flag")
    return flags[0] if flags else None


def global_set_command(
    name: str,
    change: Callable[[Context, Optional[str], str, str], None],
    help: str,
    scope: Scope = Scope.APP,
    **settings,
) -> DeclaredCommand:
    """`NAME APP|--global KEY [VALUE]`, read as Dokku reads it (with --global the first word is
    the key): change(ctx, app, key, value) validates the key and stores the value (app None: the
    global one; an empty value unsets it); then `Setting KEY to VALUE` or `Unsetting KEY`. With scope
    APP a user key may set its own apps' properties, never a global one. settings go to click
    (context_settings={"ignore_unknown_options": True}: a VALUE may start with `--`)."""

    @click.option("--global", "is_global", is_flag=True, help="The global property (admin keys only).")
    @click.argument("app", required=False)
    @click.argument("words", nargs=-1)
    @click.pass_obj
    def set_(ctx: Context, is_global: bool, app: Optional[str], words: tuple[str, ...]) -> None:
        target, rest = (None, [app or "", *words]) if is_global else (app, list(words))
        if target is None and not is_global:
            raise ValidationError("Please specify an app to run the command on")
        if target is not None:
            apps.require(ctx, target)
        if len(rest) > 2:
            raise ValidationError("expected KEY [VALUE]")
        key, value = (rest + ["", ""])[:2]
        change(ctx, target, key, value)
        ctx.out.step(f"Setting {key} to {value}" if value else f"Unsetting {key}")

    return command(name, scope=scope, changes=True, help=help, **settings)(set_)


def set_command(
    name: str,
    scope: Scope,
    change: Callable[[Context, str, str, str], None],
    help: str,
    unset_message: str = "Unsetting {key}",
    note: Optional[Callable[[Context, str], str]] = None,
    change_global: Optional[Callable[[Context, str, str], None]] = None,
) -> DeclaredCommand:
    """`NAME APP KEY [VALUE]`: change(ctx, app, key, value) validates the key and stores the value
    (an empty value unsets it); then `Setting KEY to VALUE`, or unset_message, is printed, and the
    note(ctx, app) line when there is one. With change_global, `NAME --global KEY [VALUE]` too:
    change_global(ctx, key, value) sets the global value (admin keys only: declare.target_app)."""

    @click.argument("app")
    @click.argument("key", required=False, default="", metavar="KEY")  # required but after --global
    @click.argument("value", required=False, default="")
    @click.pass_obj
    def set_(ctx: Context, app: str, key: str, value: str, is_global: bool = False) -> None:
        if is_global and change_global is not None:
            if global_option(click.get_current_context(), "app") is None:
                key, value = app, key  # `--global KEY [VALUE]`: its first word is the key
            change_global(ctx, key, value)
        else:
            if not key:
                here = click.get_current_context()
                raise click.MissingParameter(ctx=here, param=next(p for p in here.command.params if p.name == "key"))
            apps.require(ctx, app)
            change(ctx, app, key, value)
        ctx.out.step(f"Setting {key} to {value}" if value else unset_message.format(key=key))
        noted = note(ctx, app) if note and not is_global else ""
        if noted:
            ctx.out.info(noted)

    if change_global is not None:
        set_ = click.option("--global", "is_global", is_flag=True, help="The global value, for every app.")(set_)
    return command(name, scope=scope, changes=True, help=help)(set_)
