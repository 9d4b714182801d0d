"""One-off processes: `run` starts a new container of the app's current release, `enter` runs a
command inside a container that already runs (Dokku's `run` and `enter`).

The command goes through the image's entrypoint (/exec, which sources the app's profile, as for
every process). Several words are an argv, passed on exactly as given (no shell re-reads them);
a single word is a command line for bash, as in `heroku run 'rake db:migrate && rake seed'`; no
word at all opens bash.
"""

import os
import secrets
import sys
import termios
import threading
from collections.abc import Callable
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
from functools import partial
from tty import setraw
from typing import BinaryIO, Optional

from minidokku.context import Context
from minidokku.engine.attach import Hijacked
from minidokku.engine.streams import STDERR
from minidokku.errors import EngineError, NotFound, ValidationError
from minidokku.plugins import triggers
from minidokku.records import docker_options, releases, resources
from minidokku.runtime import isolation, labels
from minidokku.runtime.docker_scheduler import Container

RUN_ROLE = "run"
MAX_AT_ONCE = 5  # one-off containers of one app at a time: a tenant cannot start them without end
SHELL = "bash"
CHUNK = 65536


@dataclass(frozen=True)
class Streams:
    """The local ends of a one-off process: binary stdin, stdout and stderr."""

    stdin: BinaryIO
    stdout: BinaryIO
    stderr: BinaryIO

    @classmethod
    def of_this_process(cls) -> "Streams":
        return cls(sys.stdin.buffer, sys.stdout.buffer, sys.stderr.buffer)


def command_argv(words: list[str]) -> list[str]:
    if not words:
        return [SHELL]
    if len(words) == 1:
        return [SHELL, "-c", words[0]]
    return list(words)


def run(ctx: Context, app: str, command: list[str], tty: bool, streams: Streams) -> int:
    """Runs command in a new container of the app's release; returns its exit status.

    Attached before it starts (no output is lost) and removed after, whatever ends it.
    """
    release = releases.current(ctx.store, app)
    if release is None:
        raise NotFound(f"{app} has not been deployed yet")
    docker_name = ctx.docker_name(app)
    dyno = f"run.{secrets.randbelow(9000) + 1000}"  # Heroku's and Dokku's run.1234
    env = dict(ctx.store.read_env(app), DYNO=dyno)
    config = {
        "Image": release.image_id,
        "Cmd": command_argv(command),
        "Env": [f"{key}={value}" for key, value in env.items()],
        "Labels": {labels.APP: docker_name, labels.ROLE: RUN_ROLE, labels.PROCESS_TYPE: "run", labels.DYNO: dyno},
        "Tty": tty,
        "OpenStdin": True,
        "StdinOnce": True,  # the process reads end-of-file when our stdin ends
        "AttachStdin": True,
        "AttachStdout": True,
        "AttachStderr": True,
        "HostConfig": {"Init": True},  # as processes: signals reach the command, not a PID 1 that ignores them
    }
    from_plugins = triggers.docker_args(ctx, "docker-args-run", app, release.image_id)
    options = docker_options.for_phase(ctx.store, app, "run", from_plugins, ctx.out)
    limits = resources.for_process(ctx.store, app, "run")
    container_id = isolation.create_container(
        ctx.engine, config, options, limits, ctx.apps_network, name=f"{docker_name}.{dyno}"
    )
    try:
        # counted once this one exists: of two runs racing for the last place, neither gets it
        if len(ctx.engine.list_containers({labels.APP: docker_name, labels.ROLE: RUN_ROLE})) > MAX_AT_ONCE:
            raise ValidationError(f"{app} runs {MAX_AT_ONCE} one-off containers already; try again when one ends")
        with ctx.engine.attach_container(container_id, tty) as stream:
            ctx.engine.start_container(container_id)
            _converse(stream, streams, partial(ctx.engine.resize_container, container_id))
        return ctx.engine.wait_container(container_id)
    finally:
        ctx.engine.remove_container(container_id, force=True)


def enter(ctx: Context, app: str, target: Optional[str], command: list[str], tty: bool, streams: Streams) -> int:
    """Runs command in a running container of the app (see choose); returns its exit status."""
    container = choose(ctx.scheduler.running(ctx.docker_name(app)), app, target)
    entrypoint = ctx.engine.inspect_container(container.id)["Config"]["Entrypoint"] or []
    return exec_in(ctx, container.id, [*entrypoint, *command_argv(command)], tty, streams)


def exec_in(ctx: Context, container_id: str, argv: list[str], tty: bool, streams: Streams) -> int:
    """Runs argv in a running container, wired to streams; returns its exit status."""
    exec_id = ctx.engine.create_exec(container_id, argv, tty)
    with ctx.engine.start_exec(exec_id, tty) as stream:
        _converse(stream, streams, partial(ctx.engine.resize_exec, exec_id))
    return ctx.engine.inspect_exec(exec_id)["ExitCode"]


def exec_output(ctx: Context, container_id: str, argv: list[str]) -> tuple[int, str]:
    """Runs argv in a running container with no input; returns its exit status and output."""
    exec_id = ctx.engine.create_exec(container_id, argv, tty=False)
    with ctx.engine.start_exec(exec_id, tty=False) as stream:
        stream.close_stdin()
        output = b"".join(data for _stream, data in stream.output())
    return ctx.engine.inspect_exec(exec_id)["ExitCode"], output.decode(errors="replace")


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


def _converse(stream: Hijacked, streams: Streams, resize: Callable[[int, int], None]) -> None:
    """Copies stdin to the process and its output back, until the output ends. With a TTY the
    local terminal is raw, so keys such as ^C reach the process, and its size is passed on."""
    with _raw(streams.stdin) if stream.tty else nullcontext():
        if stream.tty:
            _resize(resize, streams.stdout)
        threading.Thread(target=_pump_stdin, args=(streams.stdin, stream), daemon=True).start()
        for stream_id, data in stream.output():
            local = streams.stderr if stream_id == STDERR else streams.stdout
            local.write(data)
            local.flush()


def _pump_stdin(stdin: BinaryIO, stream: Hijacked) -> None:
    """Runs in its own thread, so a process that reads no input never blocks its output."""
    try:
        while True:
            data = os.read(stdin.fileno(), CHUNK)
            if not data:
                break
            stream.send(data)
        stream.close_stdin()
    except OSError:  # the process ended first, and its connection with it
        pass


def _resize(resize: Callable[[int, int], None], stdout: BinaryIO) -> None:
    size = os.get_terminal_size(stdout.fileno())
    try:
        resize(size.lines, size.columns)
    except EngineError:  # a process that has ended already has no terminal to resize
        pass


@contextmanager
def _raw(stdin: BinaryIO):
    saved = termios.tcgetattr(stdin.fileno())
    setraw(stdin.fileno())
    try:
        yield
    finally:
        termios.tcsetattr(stdin.fileno(), termios.TCSADRAIN, saved)
