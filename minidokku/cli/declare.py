"""How a command is declared, and how its declaration is enforced on every run.

Each command says, where it is defined, who may run it (its scope, access/rules.py), where it
runs, and whether it changes state:

    @command("ps:scale", scope=Scope.APP, changes=True)
    @click.argument("app")
    @click.pass_obj
    def scale(ctx: Context, app: str) -> None: ...

A run is refused over ssh when the command is internal, refused by the key's rights
(rules.authorize, from the declared scope), refused unless root when it runs only as root; then
it is recorded in the audit trail (access/events.py) when it changes state or was refused.

Dokku's global `--app APP` (`dokku --app catmeow config:show`) is the value of the command's
`app` parameter, which then leaves the command line: the words after the command are its other
arguments. It is never put into the command's argv, so it cannot become one of its options, and
the rights check sees it as it sees a positional app. A command without an `app` parameter
ignores it, as Dokku's do (its ssh client sends `--app` before every command run in an app's
checkout).
"""

import enum
import os
from types import ModuleType
from typing import Optional

import click

from minidokku.access import events, rules
from minidokku.access.rules import Scope
from minidokku.context import Context
from minidokku.errors import PermissionDenied


class Runs(enum.Enum):
    """Where, and as whom, a command runs. Run by root, a command goes on as the state root's
    owner (access/users.py), but for AS_CALLER and ONLY_AS_ROOT. Running as root, minidokku acts
    on nothing the dokku user could have written: SETTINGS and .sshcommand only when root's own
    (state.read_trusted), plugins only from a folder root alone can change (registry.plugin_path,
    registry.runnable_by_root)."""

    AS_OWNER = "as the state root's owner"
    # Stays whoever ran it: stack:build debootstraps the stack image as root.
    AS_CALLER = "as whoever ran it"
    # Plugin management, as in Dokku: install, dependencies and update triggers may need root
    # (apt-get); the plugins' files are then root's, read by the dokku user.
    ONLY_AS_ROOT = "only as root on the host"
    # git's pre-receive hook and a deploy's detached retirement: run by minidokku itself on the
    # host, never over ssh, whatever the key. The hook inherits the pushing key's NAME, so its
    # scope still applies to that key.
    INTERNAL = "only by minidokku on the host"


class DeclaredCommand(click.Command):
    """A command with its declaration; see the module's docstring. A command adds names (never
    values) to its audit line under ctx.meta[events.DETAIL]."""

    def __init__(
        self, name: str, *, scope: Scope, changes: bool, runs: Runs = Runs.AS_OWNER, audit_as: str = "", **settings
    ):
        super().__init__(name, **settings)
        self.scope = scope
        self.changes = changes
        self.runs = runs
        self.audit_as = audit_as or name  # the action in the audit trail (git-hook records a push)

    def get_params(self, ctx: click.Context) -> list[click.Parameter]:
        if global_option(ctx, "app") is None:
            return super().get_params(ctx)
        return [param for param in super().get_params(ctx) if param.name != "app"]

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        rest = super().parse_args(ctx, args)
        app = global_option(ctx, "app")
        if app is not None and any(param.name == "app" for param in self.params):
            ctx.params["app"] = app
        return rest

    def reruns_as_owner(self) -> bool:
        return self.runs not in (Runs.AS_CALLER, Runs.ONLY_AS_ROOT)

    def invoke(self, ctx: click.Context):
        outcome = "failed"
        try:
            self._check_may_run(ctx)
            result = super().invoke(ctx)
            outcome = "ok"
            return result
        except PermissionDenied:
            outcome = events.DENIED
            raise
        except SystemExit as exit_:
            outcome = "ok" if exit_.code in (0, None) else f"exit {exit_.code}"
            raise
        finally:
            if events.worth_recording(self.changes, outcome) and isinstance(ctx.obj, Context):
                event = events.Event(
                    events.actor(), self.audit_as, target_app(ctx) or "", ctx.meta.get(events.DETAIL, ""), outcome
                )
                events.record(ctx.obj.store, event)

    def _check_may_run(self, ctx: click.Context) -> None:
        if self.runs is Runs.INTERNAL and getattr(ctx.find_root(), "over_ssh", False):
            raise PermissionDenied(f"{self.name} is internal to minidokku: it is never run over ssh")
        if isinstance(ctx.obj, Context):
            quota = ctx.obj.settings.user_app_quota
            rules.authorize(ctx.obj.store, rules.ssh_key(), self.name, self.scope, target_app(ctx), quota)
        if self.runs is Runs.ONLY_AS_ROOT and os.geteuid() != 0:
            raise PermissionDenied(
                f"{self.name} must be run as root on the host (sudo dokku {self.name} ...), as in Dokku"
            )


def target_app(ctx: click.Context) -> Optional[str]:
    """The app a run acts on: none with `--global` (is_global), whatever the first word, so a
    `--global` run is for admin keys only and its audit line names no app."""
    return None if ctx.params.get("is_global") else ctx.params.get("app")


def global_option(ctx: click.Context, name: str):
    """A global option given before the command (`dokku --force apps:destroy catmeow`): quiet,
    force, trace or app; None outside the dokku group (a command invoked alone, in a test)."""
    root = ctx.find_root()
    return root.params.get(name) if root is not ctx else None


def command(name: str, *, scope: Scope, changes: bool, runs: Runs = Runs.AS_OWNER, audit_as: str = "", **settings):
    """Declares a command (a decorator, as click.command); settings go to click (help, hidden...)."""
    return click.command(
        name, cls=DeclaredCommand, scope=scope, changes=changes, runs=runs, audit_as=audit_as, **settings
    )


def commands_in(module: ModuleType) -> list[DeclaredCommand]:
    """The commands a family's module declares."""
    return [value for value in vars(module).values() if isinstance(value, DeclaredCommand)]
