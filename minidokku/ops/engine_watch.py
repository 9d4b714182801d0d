"""The cron daemon's watch of the Docker engine (ops/crond.py runs it in a thread): after the
engine restarts, and when the daemon starts (at boot), every app serves again with no command
typed, on systemd or without it.

- It waits until the engine answers (/_ping every PING_EVERY seconds), opens its event stream,
  then restores each app that has something to restore (processes.restore_due, then what
  `ps:restore APP` does): a container that exited 0 when the engine stopped (a restart policy
  of on-failure does not start it again) starts again on the host ports nginx names
  (runtime/host_ports.py); a missing one makes the release deploy again. Then it reads the
  stream until the engine closes it (it stops) and waits again. The stream is opened before
  the pass, so an engine stopping during the pass is seen.
- An app whose lock a command holds is asked again every RETRY_EVERY seconds (that command may
  well bring it back itself) for up to RETRY_FOR seconds; one app's failure is logged and never
  holds back another's.
- Its lines go to the daemon's log (ROOT/.cron/LOG): each app restored, and how long after the
  engine answered every app was restored.
"""

import time
from collections.abc import Callable
from typing import Optional

from minidokku.context import Context
from minidokku.errors import EngineError, Locked
from minidokku.ops import processes

PING_EVERY = 1.0  # seconds between two pings while the engine does not answer
RETRY_EVERY = 2.0  # seconds before an app whose lock was held is asked again
RETRY_FOR = 600.0  # seconds an app whose lock stays held is asked again; then it waits for the next restart


class EngineWatch:
    def __init__(
        self,
        ctx: Context,
        log: Callable[[str], None],
        engine=None,
        sleep: Callable[[float], None] = time.sleep,
        monotonic: Callable[[], float] = time.monotonic,
    ):
        self.ctx, self.log = ctx, log
        self.engine = engine if engine is not None else _engine(ctx)
        self.sleep, self.monotonic = sleep, monotonic

    def run(self) -> None:
        """For ever, one engine lifetime after another."""
        while True:
            self.once()

    def once(self) -> None:
        """One lifetime of the engine: waits until it answers, restores every app, and returns
        once the engine has stopped (its event stream ended)."""
        self.wait_for_engine()
        try:
            events = self.engine.events()
        except EngineError:  # it went away again meanwhile
            return
        self.restore_all()
        for _event in events:
            pass
        self.log("the Docker engine stopped; its apps are restored once it answers again")

    def wait_for_engine(self) -> None:
        while not self.engine.ping():
            self.sleep(PING_EVERY)

    def restore_all(self) -> None:
        """Restores each app that has something to restore; asks those whose lock was held again."""
        began = self.monotonic()
        pending, restored = self.ctx.store.list_apps(), 0
        while True:
            outcomes = {app: self.restore(app) for app in pending}
            restored += sum(1 for outcome in outcomes.values() if outcome)
            pending = [app for app, outcome in outcomes.items() if outcome is None]
            if not pending or self.monotonic() - began > RETRY_FOR:
                break
            self.sleep(RETRY_EVERY)
        if pending:
            self.log(f"not restored, their lock held for {RETRY_FOR:g} s: {', '.join(pending)}")
        if restored:
            self.log(f"{restored} apps restored {self.monotonic() - began:.1f} s after the engine answered")

    def restore(self, app: str) -> Optional[bool]:
        """True when the app was restored, False when nothing was due (or it failed: logged),
        None when a command holds its lock."""
        try:
            if not processes.restore_due(self.ctx, app):
                return False
            done = processes.restore(self.ctx, app)
        except Locked:
            return None
        except Exception as error:  # noqa: BLE001 - one app's failure never holds back another's
            self.log(f"{app}: restore failed: {type(error).__name__}: {error}")
            return False
        if done:
            self.log(f"{app}: restored ({done})")
        return bool(done)


def _engine(ctx: Context):
    """An Engine client of its own: its event stream keeps a connection for as long as the engine runs."""
    from minidokku.engine.client import Engine

    return Engine(ctx.settings.docker_socket)
