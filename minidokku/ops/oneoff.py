"""One-off processes: `run` starts a new container of the app's current release (`run:detached`
in the background), `enter` runs a command inside a container that already runs (Dokku's `run`
and `enter`); `run:list` and `run:stop` find an app's one-off containers by its label.

The command goes through the image's entrypoint (/exec, which sources the app's profile, as for
every process). Several words are an argv, passed on exactly as given (no shell re-reads them);
a single word is a command line for bash, as in `heroku run 'rake db:migrate && rake seed'`; no
word at all opens bash.
"""

import contextlib
import secrets
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Optional

from minidokku.context import Context
from minidokku.errors import NotFound, ValidationError
from minidokku.ops import network
from minidokku.plugins import triggers
from minidokku.records import docker_options, envfile, names, ps_settings, releases, resources
from minidokku.runtime.scheduler import AtCapacity, Container, OneOff, OneOffContainer
from minidokku.runtime.terminal import Streams

MAX_AT_ONCE = 5  # one-off containers of one app at a time: a tenant cannot start them without end
DEFAULT_TTL_SECONDS = 86400  # Dokku's: a one-off container runs a day at most (run:retire stops it then)
MAX_TTL_SECONDS = 30 * 86400
SHELL = "bash"


@dataclass(frozen=True)
class Extra:
    """What `run` and `run:detached` may add: variables (`-e KEY=VALUE`, over the app's config)
    and how long the container may run before run:retire stops it (`--ttl-seconds`)."""

    env: dict[str, str] = field(default_factory=dict)
    ttl_seconds: int = DEFAULT_TTL_SECONDS

    @classmethod
    def parse(cls, pairs: tuple[str, ...], ttl_seconds: str) -> "Extra":
        env = dict(envfile.parse_assignment(pair) for pair in pairs)
        if not names.is_whole_number(ttl_seconds) or not 0 < int(ttl_seconds) <= MAX_TTL_SECONDS:
            raise ValidationError(f"--ttl-seconds must be a whole number of seconds from 1 to {MAX_TTL_SECONDS}")
        return cls(env, int(ttl_seconds))


def command_argv(words: list[str]) -> list[str]:
    if not words:
        return [SHELL]
    if len(words) == 1:
        return [SHELL, "-c", words[0]]
    return list(words)


def run(ctx: Context, app: str, command: list[str], tty: bool, streams: Streams, extra: Optional[Extra] = None) -> int:
    """Runs command in a new container of the app's release; returns its exit status.

    Attached before it starts (no output is lost) and removed after, whatever ends it.
    """
    one_off = _one_off(ctx, app, command, tty, extra or Extra())
    with _within_cap(app):
        return ctx.scheduler.run(ctx.docker_name(app), one_off, streams, at_most=MAX_AT_ONCE)


def run_detached(ctx: Context, app: str, command: list[str], extra: Optional[Extra] = None) -> str:
    """Starts command in a new container of the app's release, in the background and without a
    terminal (removed when it ends); returns the container's name (`app.run.1234`)."""
    one_off = _one_off(ctx, app, command, False, extra or Extra())
    with _within_cap(app):
        return ctx.scheduler.run_detached(ctx.docker_name(app), one_off, at_most=MAX_AT_ONCE)


def _one_off(ctx: Context, app: str, command: list[str], tty: bool, extra: Extra) -> OneOff:
    return prepare(ctx, app, command_argv(command), tty, extra)


def prepare(ctx: Context, app: str, argv: list[str], tty: bool, extra: Extra, cron_id: str = "") -> OneOff:
    """A one-off of the app's current release running argv as given: the `run` phase's docker
    options and limits, the app's config. A cron task's (cron_id) is a `cron.1234` dyno."""
    release = releases.current(ctx.store, app)
    if release is None:
        raise NotFound(f"{app} has not been deployed yet")
    dyno = f"{'cron' if cron_id else 'run'}.{secrets.randbelow(9000) + 1000}"  # Heroku's and Dokku's run.1234
    env = dict(envfile.with_global(ctx.store, ctx.store.read_env(app)), **extra.env, DYNO=dyno)
    from_plugins = triggers.docker_args(ctx, "docker-args-run", app, release.image_id)
    options = docker_options.for_phase(ctx.store, app, "run", from_plugins, ctx.out, namespace=ctx.settings.namespace)
    limits = resources.for_process(ctx.store, app, "run")
    networking = network.networking(ctx, app)
    return OneOff(dyno, release.image_id, argv, env, options, limits, tty, extra.ttl_seconds, networking, cron_id)


@contextlib.contextmanager
def _within_cap(app: str) -> Iterator[None]:
    try:
        yield
    except AtCapacity:
        raise ValidationError(f"{app} runs {MAX_AT_ONCE} one-off containers already; try again when one ends") from None


def run_containers(ctx: Context, app: str) -> list[OneOffContainer]:
    """The app's one-off containers (`run:list`)."""
    return ctx.scheduler.run_containers(ctx.docker_name(app))


def find_run_container(ctx: Context, app: str, name: str) -> OneOffContainer:
    """The app's one-off container named name. Only the app's own are looked at (the scheduler
    finds them by the app's label): a name never reaches another app's container, nor a
    process, build or service container, whatever it looks like."""
    for container in run_containers(ctx, app):
        if container.name == name:
            return container
    raise NotFound(f"{app} has no run container {name[:80]!r}; `dokku run:list {app}` lists them")


def app_of_run_container(ctx: Context, app_names: list[str], name: str) -> str:
    """Which of app_names has the one-off container named name (`run:stop --container NAME`)."""
    for app in app_names:
        if name.startswith(f"{ctx.docker_name(app)}.run.") and any(c.name == name for c in run_containers(ctx, app)):
            return app
    raise NotFound(f"No run container named {name[:80]!r}")


def retire_expired(ctx: Context, app: str, now: float) -> list[str]:
    """Stops the app's one-off containers that ran beyond their --ttl-seconds (run:retire);
    returns their names."""
    expired = [c for c in run_containers(ctx, app) if c.expired(now)]
    ctx.scheduler.retire([c.id for c in expired], grace=ps_settings.stop_timeout(ctx.store, app))
    return [c.name for c in expired]


def stop_runs(ctx: Context, app: str, name: Optional[str] = None) -> list[str]:
    """Stops the app's one-off container named name, or every one of them; returns their names.
    Each gets the app's stop-timeout-seconds to end (they are removed when they do)."""
    chosen = [find_run_container(ctx, app, name)] if name else run_containers(ctx, app)
    ctx.scheduler.retire([c.id for c in chosen], grace=ps_settings.stop_timeout(ctx.store, app))
    return [c.name for c in chosen]


def enter(ctx: Context, app: str, target: Optional[str], command: list[str], tty: bool, streams: Streams) -> int:
    """Runs command in a running container of the app (see choose); returns its exit status."""
    scheduler = ctx.scheduler_for(app)
    container = choose(scheduler.running(ctx.docker_name(app)), app, target)
    return scheduler.enter(container, command_argv(command), tty, streams)


def exec_in(ctx: Context, container_id: str, argv: list[str], tty: bool, streams: Streams) -> int:
    """Runs argv in a running container (a service's: postgres:connect), wired to streams;
    returns its exit status."""
    return ctx.scheduler.exec(container_id, argv, tty, streams)


def choose(containers: list[Container], app: str, target: Optional[str]) -> Container:
    """The running container a target names: a process type (its first dyno), a dyno (`web.1`), a
    container name or an id (or its start). Without a target, the app's only process type.
    Plain-named containers come before ones a deploy is starting or retiring."""
    # `app.web.1` sorts before `app.web.10` and `app.web.2`
    ordered = sorted((c for c in containers if c.running), key=lambda c: (c.name != c.plain_name, c.name))
    if not ordered:
        raise NotFound(f"{app} has no running containers")
    if target is None:
        types = sorted({container.process_type for container in ordered})
        if len(types) > 1:
            raise NotFound(f"{app} runs several process types; name one of: {', '.join(types)}")
        return ordered[0]
    found = (
        [c for c in ordered if c.process_type == target]
        or [c for c in ordered if c.dyno == target]
        or [c for c in ordered if c.name == target or c.id.startswith(target)]
    )
    if not found:
        running = ", ".join(sorted({c.dyno for c in ordered}))
        raise NotFound(f"{app} has no process or container {target!r}; running: {running}")
    return found[0]
