"""The cron daemon (`dokku cron:daemon`, started by install.sh, ps:restore and a deploy with cron
tasks when none runs): one long-running
minidokku process that wakes at each minute boundary and starts the cron tasks due then.

- One at a time: it holds ROOT/.cron/LOCK (flock) while it runs; a second one ends at once.
- What is due is read afresh each minute from every app's current release (one atomic file), so
  a deploy, a rollback, cron:set or cron:suspend changes the schedule from the next minute.
- A task with a run still going is not started again (forbid, the default): the scheduler is
  asked for the task's labelled containers, and the daemon's own runs still being created count.
- Each run is attached from a thread of its own: its output goes to APP/cron/OUTPUT (`dokku
  logs APP` shows it), its start, end and exit status to APP/cron/RUNS.json (cron:list --format
  json). A run outliving the daemon goes on; the next daemon finds it by its label, and removes
  the container once it has ended (an attached run's container is removed by its attacher).
- One app's error never stops another's: it is written to ROOT/.cron/LOG, the daemon's own log
  (start, stop, each run started, skipped or ended), and the next app goes on.
- With `cron:set --global mailto ADDRESS`, a run that printed something is mailed there through
  the host's sendmail, as cron mails a job's output (the output goes on its standard input), at
  most once an hour for each task, so an every-minute task does not flood the mailbox.
- It watches the Docker engine (ops/engine_watch.py, in a thread of its own): when it starts and
  each time the engine answers again after a restart, it restores every app that needs it, as
  `ps:restore` does. It watches the swarm too (ops/swarm_watch.py): nginx follows the web tasks
  of apps on the swarm scheduler wherever the swarm moves them.
- It ends when the root holds no app, so a test root's daemon ends with its apps; the default
  root's (install.sh's) goes on, watching the engine for the apps to come. Where install.sh's
  systemd unit serves the default root, the unit starts it again a minute after it ended and is
  its only starter; elsewhere a host's next deploy with cron tasks, or ps:restore, does.
- At midnight, after `letsencrypt:cron-job --add`, it runs letsencrypt:auto-renew of every app
  in a thread of its own (its lines in the log; a failed renewal is in `events` too), so renewal
  needs neither systemd nor the host's cron. Each app's renewal is bounded (lego's timeout, the
  readiness probe's deadline) and no app is started RENEW_HOURS after midnight, so a night's
  run ends before the next.
- Every 5 minutes it stops one-off and cron containers past their --ttl-seconds (run:retire),
  removes the build network of an app not built for 10 minutes (runtime/build_network.py) and
  the spare web networks made 10 minutes ago or more (runtime/web_network.py), in
  a thread of its own: no tick waits on a container's stop (a replace's stop is done in the
  thread of the run replacing it). A minute a slow tick missed is run late (CATCH_UP at most).

Times are the host's local time, as cron's. The clock and the sleep are given, so tests drive
minute boundaries without waiting for them.
"""

import datetime
import os
import subprocess
import threading
import time
from collections.abc import Callable
from typing import Optional

from minidokku.context import Context
from minidokku.errors import MinidokkuError
from minidokku.ops import cron as cron_ops
from minidokku.ops import engine_watch, letsencrypt, oneoff, swarm_watch
from minidokku.output import RecordingOutput
from minidokku.records import cron, ps_settings
from minidokku.records import letsencrypt as letsencrypt_records
from minidokku.runtime import build_network, web_network
from minidokku.runtime.scheduler import AtCapacity
from minidokku.runtime.terminal import Streams
from minidokku.state import file_lock

LOG = ".cron/LOG"
PID = ".cron/PID"  # the running daemon's process id
SENDMAIL = "/usr/sbin/sendmail"
MAIL_OUTPUT = 64 * 1024  # bytes of a run's output a mail carries
MAIL_EVERY = 3600  # seconds: a task's output is mailed at most once in that time
SUBJECT_ID = 12  # characters of a task's id in a mail's Subject (an id may have 1,500)
MAX_LOG = 1 << 20  # bytes of ROOT/.cron/LOG and of an app's OUTPUT before it is moved to LOG.1, OUTPUT.1
MAX_LINE = 4096  # characters of one output line kept
MAX_RUN_OUTPUT = 256 * 1024  # bytes of one run's output recorded
RETIRE_EVERY = 5  # minutes between two passes of run:retire, as Dokku's
CATCH_UP = 60  # minutes a late tick still runs
RENEW_AT = (0, 0)  # letsencrypt:cron-job's daily renewal: at midnight, as the plugin's @daily
RENEW_HOURS = 12  # a night's renewal starts no app later: it never runs into the next night's


def timestamp(moment: Optional[float] = None) -> str:
    """RFC 3339 in UTC, as the Engine's log timestamps."""
    when = datetime.datetime.fromtimestamp(time.time() if moment is None else moment, datetime.UTC)
    return when.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class Daemon:
    def __init__(
        self,
        ctx: Context,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
        watch: bool = False,
    ):
        self.ctx = ctx
        self.watch = watch  # runs the engine watch (cron:daemon does; tests drive ticks without it)
        self.clock = clock
        self.sleep = sleep
        self.runs: dict[tuple[str, str], threading.Thread] = {}  # (app, id) -> the thread of its run
        self.records = threading.Lock()  # RUNS.json and OUTPUT are written from several threads
        self.sendmail = SENDMAIL
        self.stopping: set[tuple[str, str]] = set()  # (app, id) of a replace's run stopping those before it
        self.retiring: Optional[threading.Thread] = None  # the run:retire pass going
        self.mailed: dict[tuple[str, str], float] = {}  # (app, id) -> when its output was last mailed
        self.renewing: Optional[threading.Thread] = None  # letsencrypt's daily renewal going

    # -- the loop --------------------------------------------------------------------------------
    def serve(self, minutes: Optional[int] = None) -> None:
        """Holds the lock and ticks at each minute boundary (minutes: that many, else for ever).
        Raises Locked at once when another daemon runs."""
        with file_lock(self.ctx.store.path(None, cron_ops.DAEMON_LOCK), busy_message="a cron daemon runs already"):
            self.ctx.store.write(None, PID, f"{os.getpid()}\n")
            self.log(f"started (pid {os.getpid()})")
            if self.watch:
                threading.Thread(target=engine_watch.EngineWatch(self.ctx, self.log).run, daemon=True).start()
                threading.Thread(target=swarm_watch.SwarmWatch(self.ctx, self.log).run, daemon=True).start()
            try:
                self._loop(minutes)
            finally:
                if self.ctx.store.root.is_dir():  # a test's root removed: nothing to write to
                    self.ctx.store.remove(None, PID)
                    self.log(f"stopped (pid {os.getpid()}){'' if self.ctx.store.list_apps() else ': no apps'}")

    def _loop(self, minutes: Optional[int]) -> None:
        """Ticks each minute once, in order: a minute missed by a tick that took longer (or a
        clock stepped forward) is run late, up to CATCH_UP minutes back; a clock stepped back
        starts again from the next minute of the new time (never a long sleep)."""
        done, last = 0, int(self.clock()) // 60 * 60  # the minute it starts in is not run
        stays = self.watch and cron_ops.serves_default_root(self.ctx)  # for the apps to come
        while (minutes is None or done < minutes) and (stays or self.ctx.store.list_apps()):
            current = int(self.clock()) // 60 * 60
            if current < last:  # the clock was stepped back
                last = current
            if current == last:  # should the sleep end a hair early, it sleeps again
                self.sleep(max(last + 60 - self.clock(), 0))
                continue
            for boundary in range(max(last + 60, current - (CATCH_UP - 1) * 60), current + 60, 60):
                if minutes is not None and done >= minutes:
                    break
                self.tick(boundary)
                done += 1
            last = current

    def tick(self, boundary: float) -> list[threading.Thread]:
        """Starts the runs due in boundary's minute (each app on its own: one's error is logged
        and the next goes on); returns their threads. It waits on no container's stop: a
        replace's stop is done in its run's thread, run:retire's pass in a thread of its own."""
        moment = datetime.datetime.fromtimestamp(boundary)
        started = []
        for app in self.ctx.store.list_apps():
            try:
                started += self.start_due(app, moment)
            except Exception as error:  # noqa: BLE001 - one app's broken state never stops the others
                self.log(f"{app}: {type(error).__name__}: {error}")
        renewing = self.renew_certificates(moment)
        if renewing is not None:
            started.append(renewing)
        if int(boundary) // 60 % RETIRE_EVERY == 0:
            if self.retiring is not None and self.retiring.is_alive():
                self.log("run:retire: the previous pass goes on; this one is skipped")
            else:
                self.retiring = threading.Thread(target=self.retire_expired, args=(boundary,), daemon=True)
                self.retiring.start()
        return started

    def renew_certificates(self, moment: datetime.datetime) -> Optional[threading.Thread]:
        """At midnight, with `letsencrypt:cron-job --add`, letsencrypt:auto-renew of every app,
        in a thread of its own; its lines go to the daemon's log."""
        if (moment.hour, moment.minute) != RENEW_AT or not letsencrypt_records.autorenew(self.ctx.store):
            return None
        if self.renewing is not None and self.renewing.is_alive():
            self.log("letsencrypt:auto-renew: the previous run goes on; this one is skipped")
            return None
        self.renewing = threading.Thread(target=self._renew, daemon=True)
        self.renewing.start()
        return self.renewing

    def _renew(self) -> None:
        out = RecordingOutput()
        try:
            renewals = letsencrypt.auto_renew_all(
                Context(self.ctx.settings, out),  # its own: each app's scheduler (scheduler_for)
                deadline=time.monotonic() + RENEW_HOURS * 3600,
            )
        except Exception as error:  # noqa: BLE001 - the daemon goes on, the error in its log
            self.log(f"letsencrypt:auto-renew failed: {type(error).__name__}: {error}")
            return
        finally:
            for line in out.lines:
                self.log(f"letsencrypt:auto-renew: {line.strip()}")
        for renewal in renewals:
            if renewal.error:
                self.log(f"{renewal.app}: letsencrypt renewal failed: {renewal.error}")

    def start_due(self, app: str, moment: datetime.datetime) -> list[threading.Thread]:
        """The engine is asked once for the app's one-off containers: what still runs of each
        task, and how many more the app's one-off cap lets start (the rest are logged, never
        created)."""
        tasks = cron_ops.tasks(self.ctx, app)
        if not tasks:
            return []
        due = [t for t in tasks if not t.maintenance and cron.parse_schedule(t.schedule).matches(moment)]
        found = self.ctx.scheduler.run_containers(self.ctx.docker_name(app))
        ended = [c.id for c in found if c.cron_id and c.state in cron_ops.ENDED_STATES]
        if ended:  # left behind by a stopped daemon: they would count against the cap
            self.ctx.scheduler.retire(ended, grace=0)
        live = [c for c in found if c.state in cron_ops.LIVE_STATES]
        room = oneoff.MAX_AT_ONCE - len(live)
        started = []
        for task in due:
            going = [c.id for c in live if c.cron_id == task.id]
            policy = task.concurrency_policy
            if (policy == "forbid" and (going or self._going(task))) or (task.app, task.id) in self.stopping:
                self.log(f"{app}: {task.id} still runs; not started again ({policy})")
                continue
            if room <= 0:
                self.log(f"{app}: {task.id} not started: at cap ({oneoff.MAX_AT_ONCE} one-off containers run)")
                continue
            room -= 1
            stop = going if policy == "replace" else []
            if stop:
                self.stopping.add((task.app, task.id))
            thread = threading.Thread(target=self._run, args=(task, {t.id for t in tasks}, stop), daemon=True)
            self.runs[(app, task.id)] = thread
            thread.start()
            started.append(thread)
        return started

    def _going(self, task: cron.Task) -> bool:
        """A run this daemon began whose container may not exist yet."""
        thread = self.runs.get((task.app, task.id))
        return thread is not None and thread.is_alive()

    def retire_expired(self, now: float) -> None:
        """run:retire of every app, and the removal of the build networks and spare web networks left idle."""
        for app in self.ctx.store.list_apps():
            try:
                for name in oneoff.retire_expired(self.ctx, app, now):
                    self.log(f"{app}: retired {name} (past its --ttl-seconds)")
            except (MinidokkuError, OSError) as error:
                self.log(f"{app}: run:retire: {error}")
            lock = self.ctx.store.path(app, build_network.LOCK)
            try:
                if build_network.remove_idle(self.ctx.engine, self.ctx.docker_name(app), lock, now):
                    self.log(f"{app}: removed its build network (no build for {build_network.IDLE // 60} minutes)")
            except (MinidokkuError, OSError) as error:
                self.log(f"{app}: build network: {error}")
        try:
            if removed := web_network.remove_idle(self.ctx.engine, now):
                self.log(f"removed {removed} spare web network(s) made {web_network.IDLE // 60} minutes ago or more")
        except (MinidokkuError, OSError) as error:
            self.log(f"spare web networks: {error}")

    # -- one run ---------------------------------------------------------------------------------
    def _run(self, task: cron.Task, keep: set[str], stop: list[str]) -> None:
        """One run, in its own thread: replace's stop of the runs still going (with the app's
        stop-timeout-seconds), the container, its output and its record."""
        app = task.app
        try:
            if stop:
                self.ctx.scheduler.retire(stop, grace=ps_settings.stop_timeout(self.ctx.store, app))
            prepared = cron_ops.one_off(self.ctx, task)
        except (MinidokkuError, OSError) as error:
            self.log(f"{app}: {task.id} not started: {error}")
            return
        finally:
            self.stopping.discard((app, task.id))
        record = {"dyno": prepared.dyno, "started": time.time(), "finished": None, "exit_code": None}
        self._record(task, record, keep)
        self.log(f"{app}: {task.id} started as {prepared.dyno}")
        output = Recorder(self, app, prepared.dyno)
        status = None
        try:
            with open(os.devnull, "rb") as nothing:
                streams = Streams(nothing, output, output)  # type: ignore[arg-type]
                status = self.ctx.scheduler.run(self.ctx.docker_name(app), prepared, streams, oneoff.MAX_AT_ONCE)
        except AtCapacity:
            self.log(f"{app}: {task.id} not started: {oneoff.MAX_AT_ONCE} one-off containers run already")
        except Exception as error:  # noqa: BLE001 - the run's thread ends with a line in the log, whatever ends it
            self.log(f"{app}: {task.id} failed: {type(error).__name__}: {error}")
        finally:
            output.close()
            self._record(task, {**record, "finished": time.time(), "exit_code": status}, keep)
            self.log(f"{app}: {task.id} ({prepared.dyno}) ended, exit status {status}")
        if output.kept:
            self.mail(task, output.kept)

    def mail(self, task: cron.Task, output: bytes) -> None:
        """Mails a run's output to the global mailto, if set (from mailfrom, if set)."""
        to, sender = cron.computed(self.ctx.store, None, "mailto"), cron.computed(self.ctx.store, None, "mailfrom")
        if not to:
            return
        last = self.mailed.get((task.app, task.id))
        if last is not None and time.monotonic() - last < MAIL_EVERY:
            self.log(f"{task.app}: {task.id}'s output not mailed: mailed less than {MAIL_EVERY // 60} minutes ago")
            return
        self.mailed[(task.app, task.id)] = time.monotonic()
        if not os.access(self.sendmail, os.X_OK):
            self.log(f"{task.app}: mailto is set but there is no {self.sendmail} to send with")
            return
        lines = [
            f"To: {to}",
            *([f"From: {sender}"] if sender else []),
            f"Subject: Cron: {task.app} {task.id[:SUBJECT_ID]}",
        ]
        headers = "\n".join(lines) + "\n\n"
        argv = [self.sendmail, "-i", *(["-f", sender] if sender else []), "--", to]
        try:
            subprocess.run(argv, input=headers.encode() + output, capture_output=True, timeout=60, check=True)  # noqa: S603
        except (OSError, subprocess.SubprocessError) as error:
            self.log(f"{task.app}: mailing {task.id}'s output to {to} failed: {error}")

    def _record(self, task: cron.Task, record: dict, keep: set[str]) -> None:
        with self.records:
            if self.ctx.store.app_dir(task.app).is_dir():  # a destroyed app's folder is not made again
                cron.record_run(self.ctx.store, task.app, task.id, record, keep)

    def log(self, message: str) -> None:
        """A line in ROOT/.cron/LOG; never raises (a full disk loses the line, not the daemon)."""
        try:
            path = self.ctx.store.path(None, LOG)
            if path.is_file() and path.stat().st_size > MAX_LOG:
                os.replace(path, path.with_name(path.name + ".1"))
            self.ctx.store.append_line(None, LOG, f"{timestamp()} {message}")
        except (OSError, MinidokkuError):
            pass


class Recorder:
    """The stdout and stderr of a run: one descriptor on the app's cron OUTPUT (moved to
    OUTPUT.1 first once it holds MAX_LOG bytes), whole lines written as they come, one write per
    chunk, up to MAX_RUN_OUTPUT bytes a run (then a "[output truncated]" line; the rest is read
    and dropped); its first MAIL_OUTPUT bytes are kept for a mail. Nothing is written for an app
    whose folder is gone, and a write that fails (a full disk) drops the output, not the run."""

    def __init__(self, daemon: Daemon, app: str, dyno: str):
        self.daemon, self.prefix = daemon, f" app[{dyno}]: "
        self.pending = b""
        self.kept = b""  # the start of the output, for a mail
        self.written = 0
        self.fd: Optional[int] = None
        store = daemon.ctx.store
        if not store.app_dir(app).is_dir():
            return
        path = store.path(app, cron.OUTPUT)
        try:
            path.parent.mkdir(exist_ok=True)
            if path.is_file() and path.stat().st_size > MAX_LOG:
                os.replace(path, path.with_name(path.name + ".1"))
            flags = os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC
            self.fd = os.open(path, flags, 0o640)
        except OSError as error:
            daemon.log(f"{app}: {path}: {error}")

    def write(self, data) -> int:
        self.kept += bytes(data)[: MAIL_OUTPUT - len(self.kept)]
        if self.fd is None:
            return len(data)
        *lines, self.pending = (self.pending + bytes(data)).split(b"\n")
        if len(self.pending) > MAX_LINE:  # one endless line is cut, not kept in memory
            lines, self.pending = [*lines, self.pending], b""
        self._put(lines)
        return len(data)

    def _put(self, lines: list[bytes]) -> None:
        if not lines or self.fd is None:
            return
        stamp = timestamp()
        chunk = "".join(
            f"{stamp}{self.prefix}{line.decode('utf-8', 'replace').rstrip(chr(13))[:MAX_LINE]}\n" for line in lines
        ).encode()
        full = self.written + len(chunk) > MAX_RUN_OUTPUT
        if full:
            chunk = chunk[: max(MAX_RUN_OUTPUT - self.written, 0)]
            chunk = chunk[: chunk.rfind(b"\n") + 1] + f"{stamp}{self.prefix}[output truncated]\n".encode()
        try:
            os.write(self.fd, chunk)
        except OSError:
            pass
        self.written += len(chunk)
        if full:
            self.pending = b""
            self.close()

    def flush(self) -> None:
        pass

    def close(self) -> None:
        if self.fd is not None:
            if self.pending:
                pending, self.pending = self.pending, b""
                self._put([pending])
            if self.fd is not None:
                os.close(self.fd)
                self.fd = None
