"""Old containers after a switch: they keep running for the app's wait-to-retire seconds (so
requests in flight finish and nginx's old workers drain), then stop and go.

The wait happens in a detached `dokku ps:retire` process (a session of its own: killing the
deploy does not kill it), so a deploy returns as soon as the new release serves. A retirement
that never ran (the deploy was killed between renaming and scheduling, a reboot) is redone by
the next deploy, which schedules those leftovers with its own old containers, or by
`ps:restore`, which retires them at once.
"""

import os
import subprocess
import time

from minidokku.context import Context
from minidokku.errors import EngineError
from minidokku.ops import swarm
from minidokku.records import scheduler as selection
from minidokku.runtime.scheduler import STOP_GRACE_SECONDS, Container


def schedule(ctx: Context, app: str, containers: list[Container], wait: int, grace: int = STOP_GRACE_SECONDS) -> None:
    """Retires the app's running containers after wait seconds and stopped ones now; each
    stopping one gets grace seconds (the app's stop-timeout-seconds) between SIGTERM and SIGKILL."""
    # a swarm task goes with its service's others (runtime/swarm_scheduler.py retires services whole)
    stopped = [c.id for c in containers if not c.running and not c.elsewhere]
    running = [c.id for c in containers if c.running or c.elsewhere]
    scheduler = ctx.scheduler_for(app)
    scheduler.retire(stopped)
    if not running or wait <= 0:
        scheduler.retire(running, grace)
        note_left_swarm(ctx, app)
        return
    subprocess.Popen(  # noqa: S603 - an argv list of our own program, an app's name and container ids
        [*ctx.settings.program, "ps:retire", "--wait", str(wait), "--grace", str(grace), "--for-app", app, *running],
        # minidokku's own errand, not the key's that deployed: no NAME (access/rules.py)
        env={**{k: v for k, v in os.environ.items() if k != "NAME"}, "DOKKU_ROOT": str(ctx.settings.root)},
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,  # outlives this command and never holds git's output open
    )


def retire_after(ctx: Context, app: str, container_ids: list[str], wait: int, grace: int = STOP_GRACE_SECONDS) -> None:
    """Body of `ps:retire`: sleeps, then stops and removes the containers (gone ones are fine)
    through the app's scheduler ("": this host's)."""
    time.sleep(wait)
    if not app:
        ctx.scheduler.retire(container_ids, grace)
        return
    ctx.scheduler_for(app).retire(container_ids, grace)
    note_left_swarm(ctx, app)


def note_left_swarm(ctx: Context, app: str) -> None:
    """An app moved back from the swarm whose last services there are gone is known to have
    left it (records/scheduler.py): from then on its commands never ask the swarm's manager."""
    if not selection.may_be_on_swarm(ctx.store, app) or selection.runs_on_swarm(ctx.store, app):
        return
    try:
        left = not swarm.services_of(ctx, app)
    except EngineError:  # the manager does not answer: asked again after the next deploy
        return
    if left:
        selection.forget_swarm(ctx.store, app)
