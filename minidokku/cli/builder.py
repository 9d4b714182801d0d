"""builder:set|report, builder-dockerfile:set|report, builder-herokuish:set|report and
app-json:set|report (Dokku's): the builders' properties, per app or `--global`."""

from collections.abc import Sequence
from typing import Optional

from minidokku.access.rules import Scope
from minidokku.build import builds
from minidokku.cli.declare import DeclaredCommand
from minidokku.cli.family import Report, Row, global_set_command, report_command
from minidokku.context import Context
from minidokku.errors import ValidationError
from minidokku.records import properties
from minidokku.records.properties import Setting

# The command families of this module and their one-line descriptions (`dokku help`, `dokku FAMILY:help`).
FAMILIES = {
    "builder": "Manage builder settings for an app",
    "builder-dockerfile": "Manage the dockerfile builder integration for an app",
    "builder-herokuish": "Manage the herokuish builder integration for an app",
    "app-json": "Manage app.json settings for an app",
}


def property_set_command(
    name: str, scope: Scope, settings: Sequence[Setting], help: str, noun: str = "property"
) -> DeclaredCommand:
    """`NAME APP|--global KEY [VALUE]` for the properties settings (no value: unset, back to the
    global value, then the default). With --global no app is named, so only admin keys run it.
    noun: what Dokku's messages call the key (`property`, or `key` for its older plugins)."""
    by_key = {setting.key: setting for setting in settings}

    def change(ctx: Context, app: Optional[str], key: str, value: str) -> None:
        if not key:
            raise ValidationError(f"No {noun} specified")
        if key not in by_key:
            plural = "properties" if noun == "property" else f"{noun}s"
            raise ValidationError(f"Invalid {noun} specified, valid {plural} include: {', '.join(sorted(by_key))}")
        properties.set_value(ctx.store, app, by_key[key], value)

    return global_set_command(name, change, help, scope=scope)


def property_rows(ctx: Context, app: Optional[str], setting: Setting, prefix: str, label: str) -> list[Row]:
    """A property's report rows as Dokku orders them: computed, global and (for an app) its own."""
    flag = f"{prefix}{setting.key}"
    rows = [
        Row(f"{prefix}computed-{setting.key}", f"{label} computed {setting.key.replace('-', ' ')}",
            lambda: properties.computed_value(ctx.store, app, setting)),
        Row(f"{prefix}global-{setting.key}", f"{label} global {setting.key.replace('-', ' ')}",
            lambda: properties.own_value(ctx.store, None, setting)),
    ]  # fmt: skip
    if app is not None:
        rows.append(
            Row(flag, f"{label} {setting.key.replace('-', ' ')}", lambda: properties.own_value(ctx.store, app, setting))
        )
    return rows


def _width(label: str, setting: Setting) -> int:
    """Dokku lines the values up after its longest label, the computed one."""
    return len(f"{label} computed {setting.key}:") + 1


def _property_report(name: str, family: str, setting: Setting, label: str, legacy: bool, help: str):
    prefix = f"--{family}-"
    return report_command(
        name,
        Scope.APP,
        Report(family, prefix, legacy=legacy, width=_width(label, setting)),
        lambda ctx, app: property_rows(ctx, app, setting, prefix, label),
        help=help,
        global_rows=lambda ctx: property_rows(ctx, None, setting, prefix, label),
    )


builder_set = property_set_command(
    "builder:set",
    Scope.ADMIN,
    [builds.SELECTED, builds.BUILD_DIR],
    help="Chooses the builder, herokuish or dockerfile (no value: automatic), or the folder of the "
    "repository to build. Example: dokku builder:set catmeow selected dockerfile",
)
builder_report = report_command(
    "builder:report",
    Scope.APP,
    Report("builder", "--builder-", legacy=True, width=len("Builder computed build dir:") + 1),
    lambda ctx, app: _builder_rows(ctx, app),
    help="Shows the builder of one app or of every app. Example: dokku builder:report catmeow --builder-selected",
    global_rows=lambda ctx: _builder_rows(ctx, None),
)


def _builder_rows(ctx: Context, app: Optional[str]) -> list[Row]:
    return [
        *property_rows(ctx, app, builds.BUILD_DIR, "--builder-", "Builder"),
        *property_rows(ctx, app, builds.SELECTED, "--builder-", "Builder"),
    ]


dockerfile_set = property_set_command(
    "builder-dockerfile:set",
    Scope.APP,
    [builds.DOCKERFILE_PATH],
    help="Sets the Dockerfile's path in the repository (no value: Dockerfile). "
    "Example: dokku builder-dockerfile:set catmeow dockerfile-path .dokku/Dockerfile",
    noun="key",
)
dockerfile_report = _property_report(
    "builder-dockerfile:report",
    "builder-dockerfile",
    builds.DOCKERFILE_PATH,
    "Builder dockerfile",
    legacy=False,
    help="Shows the Dockerfile path of one app or of every app. Example: dokku builder-dockerfile:report catmeow",
)
herokuish_set = property_set_command(
    "builder-herokuish:set",
    Scope.ADMIN,
    [builds.HEROKUISH_ALLOWED],
    help="Allows or refuses the buildpack (herokuish) builder (no value: allowed). "
    "Example: dokku builder-herokuish:set catmeow allowed false",
    noun="key",
)
herokuish_report = _property_report(
    "builder-herokuish:report",
    "builder-herokuish",
    builds.HEROKUISH_ALLOWED,
    "Builder herokuish",
    legacy=False,
    help="Shows whether the herokuish builder is allowed. Example: dokku builder-herokuish:report catmeow",
)
app_json_set = property_set_command(
    "app-json:set",
    Scope.APP,
    [builds.APPJSON_PATH],
    help="Sets app.json's path in the repository (no value: app.json). "
    "Example: dokku app-json:set catmeow appjson-path .dokku/app.json",
)
app_json_report = _property_report(
    "app-json:report",
    "app-json",
    builds.APPJSON_PATH,
    "App-json",
    legacy=True,
    help="Shows the app.json path of one app or of every app. Example: dokku app-json:report catmeow",
)
