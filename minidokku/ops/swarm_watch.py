"""The cron daemon's watch of the swarm (ops/crond.py runs it in a thread of its own): nginx
follows an app's web tasks when the swarm moves them (a node lost, a task that crashed and was
replaced on another node), with no command typed.

Every FOLLOW_EVERY seconds it asks the manager where each deployed, running swarm app's web
tasks of its current release are, and routes nginx there when that changed since it last
looked. It never waits for an app: one whose lock a command holds (a deploy, which routes
itself) is asked again at the next pass. One app's error is logged once (until it changes) and
never holds back another's.
"""

import time
from collections.abc import Callable
from typing import Optional

from minidokku.context import Context
from minidokku.errors import Locked
from minidokku.ops import deploy
from minidokku.output import RecordingOutput
from minidokku.records import ps_settings, releases
from minidokku.records import scheduler as selection
from minidokku.records.releases import Release
from minidokku.runtime.scheduler import Container

FOLLOW_EVERY = 1.0  # seconds between two passes


class SwarmWatch:
    def __init__(
        self,
        ctx: Context,
        log: Callable[[str], None],
        sleep: Callable[[float], None] = time.sleep,
        contexts: Optional[Callable[[], Context]] = None,
    ):
        # a Context of its own each pass: the swarm's settings (its manager) may change meanwhile
        self.contexts = contexts or (lambda: Context(ctx.settings, RecordingOutput()))
        self.log = log
        self.sleep = sleep
        self.routed: dict[str, tuple] = {}  # app -> where nginx was last sent, by this watch
        self.failing: dict[str, str] = {}  # app -> its last error, logged once

    def run(self) -> None:
        while True:
            self.follow_all()
            self.sleep(FOLLOW_EVERY)

    def follow_all(self) -> None:
        self.ctx = self.contexts()
        for app in self.ctx.store.list_apps():
            if not selection.runs_on_swarm(self.ctx.store, app):
                self.routed.pop(app, None)
                continue
            try:
                self.follow(app)
                self.failing.pop(app, None)
            except Locked:
                continue
            except Exception as error:  # noqa: BLE001 - one app's trouble never stops the watch
                said = f"{type(error).__name__}: {error}"
                if self.failing.get(app) != said:
                    self.log(f"{app}: following its swarm tasks failed: {said}")
                    self.failing[app] = said

    def follow(self, app: str) -> None:
        """Routes nginx to the app's running web tasks of its current release where they moved."""
        found = self._serving(app)
        if found is None:
            return
        current, serving, where = found
        if where == self.routed.get(app):
            return
        with deploy.locked(self.ctx, app):
            now = self._serving(app)  # asked again under the lock: a ps:stop or deploy may have ended
            if now is None:
                return
            current, serving, where = now
            self.ctx.proxy.route(app, serving, current)
        if app in self.routed:
            self.log(f"{app}: nginx follows its tasks to {' '.join(f'{h}:{p}' for h, p in where) or 'none'}")
        self.routed[app] = where

    def _serving(self, app: str) -> Optional[tuple[Release, list[Container], tuple]]:
        """The app's current release, its running web tasks of that release, and where they are
        reached; None when it serves nothing (never deployed, or stopped)."""
        current = releases.current(self.ctx.store, app)
        if current is None or ps_settings.is_stopped(self.ctx.store, app):
            return None
        web = self.ctx.scheduler_for(app).web_containers(self.ctx.docker_name(app))
        serving = [c for c in web if c.release == current.name and c.name == c.plain_name]
        return current, serving, tuple(sorted(found for c in serving if (found := c.reached_at())))
