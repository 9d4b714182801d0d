"""Trigger points: where minidokku hands over to plugins, and how it runs them.

For a trigger, every enabled plugin (plugins/registry.py, in name order) that has it runs: a bundled
plugin's Python hook, or an installed plugin's executable named after the trigger, run with
the arguments below, stdin empty, cwd its folder, in a session of its own (no terminal: a trigger
needs none), and this environment added to minidokku's:

    DOKKU_ROOT      the state root          PLUGIN_NAME   the plugin's name
    PLUGIN_PATH     where plugins live      PLUGIN_DIR    the plugin's folder
    DOKKU_TRIGGER   the trigger's name      DOKKU_BIN     how to call minidokku back
                                                          (unquoted: $DOKKU_BIN config:get APP K)

Its output streams to the user as it comes. A plugin that exits non-zero stops the step the
trigger guards (TriggerFailed, naming plugin and exit code). The docker-args-* triggers differ:
their stdout is read as docker options (records/docker_options.py's flags) added to the container.
Config values never reach a trigger's arguments: post-config-update gets the keys only,
since arguments show in `ps` (use $DOKKU_BIN config:get for a value). Root runs no plugin that
someone else could change (registry.runnable_by_root).
"""

import os
import shlex
import subprocess

from minidokku.access import events
from minidokku.context import Context
from minidokku.errors import TriggerFailed, ValidationError
from minidokku.plugins import registry
from minidokku.plugins.registry import Plugin
from minidokku.records import docker_options
from minidokku.state import Store

# trigger -> its arguments, as documented in the README's plugin section
TRIGGERS = {
    "install": "",
    "update": "",
    "uninstall": "",
    "dependencies": "",
    "commands": "COMMAND [ARGS...]",
    "post-create": "APP",
    "pre-delete": "APP IMAGE_REPO",
    "post-delete": "APP IMAGE_REPO",
    "pre-receive-app": "APP OLDREV NEWREV REFNAME",
    "pre-build": "BUILDER_TYPE APP REV",
    "post-build": "BUILDER_TYPE APP REV",
    "pre-deploy": "APP RELEASE",
    "post-deploy": "APP INTERNAL_PORT INTERNAL_IP_ADDRESS RELEASE",
    "post-config-update": "APP set|unset|clear KEY... (APP empty: the global config)",
    "docker-args-build": "APP BUILDER_TYPE",
    "docker-args-deploy": "APP IMAGE PROC_TYPE CONTAINER_INDEX",
    "docker-args-run": "APP IMAGE",
    "nginx-pre-reload": "APP INTERNAL_PORT INTERNAL_IP_ADDRESS",
    "post-domains-update": "APP add|clear|remove|set [DOMAIN...]",
    "post-app-rename-setup": "OLD_APP NEW_APP",
    "post-app-rename": "OLD_APP NEW_APP",
    "post-app-clone-setup": "OLD_APP NEW_APP",
    "post-app-clone": "OLD_APP NEW_APP",
}
NOT_MINE = 10  # a `commands` executable's exit code for "not one of my commands" (Dokku's)


def fire(ctx: Context, trigger: str, *args: str) -> None:
    """Runs trigger in every enabled plugin that has it, streaming the output."""
    events.trigger_reached(ctx.store, trigger, args)
    for plugin in registry.enabled(ctx.store):
        run_one(ctx, plugin, trigger, *args)


def docker_args(ctx: Context, trigger: str, *args: str) -> list[str]:
    """The docker options the plugins print for a docker-args-* trigger, a line each."""
    events.trigger_reached(ctx.store, trigger, args)
    lines = []
    for plugin in registry.enabled(ctx.store):
        printed = [line for line in run_one(ctx, plugin, trigger, *args, capture=True).splitlines() if line.strip()]
        try:
            docker_options.parse(printed)
        except ValidationError as error:
            raise TriggerFailed(
                f"the {trigger} trigger of plugin {plugin.name} printed a bad option: {error}"
            ) from None
        lines += printed
    return lines


def run_one(ctx: Context, plugin: Plugin, trigger: str, *args: str, capture: bool = False) -> str:
    """One plugin's trigger; what it printed when capture, else "" (it streamed)."""
    if trigger in plugin.hooks:
        return plugin.hooks[trigger](ctx, *args) or ""
    executable = plugin.executable(trigger)
    if executable is None:
        return ""
    registry.runnable_by_root(plugin)
    command = [str(executable), *args]
    env = environment(ctx, plugin, trigger)
    if capture:
        done = subprocess.run(
            command, cwd=plugin.folder, env=env, stdin=subprocess.DEVNULL, capture_output=True, start_new_session=True
        )
        for line in done.stderr.decode(errors="replace").splitlines():
            ctx.out.line(line)
        printed = done.stdout.decode(errors="replace")
        if done.returncode != 0:
            for line in printed.splitlines():
                ctx.out.line(line)
        _check(plugin, trigger, done.returncode)
        return printed
    with subprocess.Popen(
        command, cwd=plugin.folder, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        start_new_session=True,
    ) as process:  # fmt: skip
        for raw in process.stdout:
            ctx.out.line(raw.decode(errors="replace"))
    _check(plugin, trigger, process.returncode)
    return ""


def run_command(ctx: Context, words: list[str]) -> int:
    """A plugin's subcommand (`dokku hello:world ...`): each enabled plugin's `commands` is
    offered the words, the plugin named by the command's prefix first, with the terminal (or
    ssh session) as its stdin and stdout. Returns its exit code; NOT_MINE when no plugin took it."""
    prefix = words[0].split(":", 1)[0]
    ordered = sorted(registry.enabled(ctx.store), key=lambda plugin: plugin.name != prefix)
    for plugin in ordered:
        executable = plugin.executable("commands")
        if executable is None:
            continue
        registry.runnable_by_root(plugin)
        code = subprocess.run(
            [str(executable), *words], cwd=plugin.folder, env=environment(ctx, plugin, "commands")
        ).returncode
        if code != NOT_MINE:
            return code
    return NOT_MINE


def command_help(ctx: Context) -> list[str]:
    """What `commands help` prints for each enabled plugin, for `dokku help`."""
    lines = []
    for plugin in registry.enabled(ctx.store):
        executable = plugin.executable("commands")
        if executable is not None:
            registry.runnable_by_root(plugin)
            done = subprocess.run(
                [str(executable), "help"], cwd=plugin.folder, env=environment(ctx, plugin, "commands"),
                stdin=subprocess.DEVNULL, capture_output=True, start_new_session=True,
            )  # fmt: skip
            lines += done.stdout.decode(errors="replace").splitlines()
    return lines


def has_commands(store: Store) -> bool:
    """Whether any enabled plugin offers subcommands (asked before a command has its Context)."""
    return any(plugin.executable("commands") for plugin in registry.enabled(store))


def environment(ctx: Context, plugin: Plugin, trigger: str) -> dict[str, str]:
    return dict(
        os.environ,
        DOKKU_ROOT=str(ctx.settings.root),
        PLUGIN_PATH=str(registry.plugin_path(ctx.store)),
        PLUGIN_NAME=plugin.name,
        PLUGIN_DIR=str(plugin.folder),
        DOKKU_TRIGGER=trigger,
        DOKKU_BIN=shlex.join(ctx.settings.program),
    )


def _check(plugin: Plugin, trigger: str, code: int) -> None:
    if code != 0:
        raise TriggerFailed(f"the {trigger} trigger of plugin {plugin.name} failed (exit {code})")
