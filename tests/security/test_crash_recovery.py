"""Crashes lose nothing: a deploy killed at any step leaves a state that `ps:restore` (or the next
command) brings back to consistent.

Each case runs a command (a `git push` over git's local transport, `config:set`, `ps:restart`,
`releases:rollback`) in a process group of its own and SIGKILLs the whole group at one step of
the deploy. The steps are found without any test code in the product: the crashpoint plugin
(tests/plugins/crashpoint) has an executable per trigger that, when the trigger matches the
pattern the case wrote, marks the file crashpoint.reached and sleeps; the same body wraps the
NGINX_COMMAND setting, so "nginx checked the new config" and "nginx reloaded it" are points too;
output lines (a build's, a release task's) mark the others. After the kill, the recovery runs
and the app must be consistent (assert_consistent): the recorded release, ENV, the containers'
labels and nginx's upstreams agree, no container outside that release is left, and the app
serves that release (the old or the new one: the case says which). The time each recovery took
is printed (`pytest -s`).

The crashed app, "crashy", is envecho (GET /NAME answers $NAME) with a Procfile that sets MARK
per pushed commit and a release task; it runs web=2 and retires old containers at once
(wait-to-retire 0), so after a recovery nothing may be left but the release's two containers.
"""

import fcntl
import itertools
import os
import signal
import subprocess
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

import pytest
from helpers import (
    APPS,
    commit_all,
    dokku_program,
    git,
    install_plugin_from_git,
    make_git_repo,
    nginx_servers,
    parent_of,
    reached_at,
    read_process_files,
    restart_engine,
)
from security_helpers import server_head

from minidokku.engine.client import Engine
from minidokku.records import releases
from minidokku.records.releases import Release
from minidokku.runtime import labels
from minidokku.state import Store

TESTS = Path(__file__).parents[1]
CRASHPOINT = TESTS / "plugins" / "crashpoint"
APP = "crashy"
HOST = f"{APP}.example.test"
DYNOS = {"web.1", "web.2"}
# what the release task prints from its container ($DYNO is release.1 there); the deploy's
# "Running the release task: ..." line shows the command, with $DYNO unexpanded
RELEASE_TASK_LINE = "release task in release.1"
CONFIG_VALUES = itertools.count(1)  # CONF=c1, c2, ...: each config:set sets a new value
TIMINGS: list[str] = []  # a line per case, printed at the end of the module (pytest -s)


def timed(case: str, recovery: str, seconds: float, result: str) -> None:
    TIMINGS.append(f"  {case:<48} {recovery:<11} {seconds:5.1f} s  -> {result}")
    print(f"\n{TIMINGS[-1]}")


@dataclass
class Crashy:
    """The crashed app's work tree, and the MARK each pushed commit serves."""

    repo: Path
    marks: dict[str, str] = field(default_factory=dict)
    pushes: int = 0

    def commit(self) -> str:
        """A new commit whose web process serves a new MARK."""
        self.pushes += 1
        mark = f"m{self.pushes}"
        (self.repo / "Procfile").write_text(
            f"web: MARK={mark} python app.py\nrelease: echo release task in $DYNO && sleep 1\n"
        )
        sha = commit_all(self.repo, f"mark {mark}")
        self.marks[sha] = mark
        return sha


@pytest.fixture(scope="module")
def crashy(platform, tmp_path_factory) -> Crashy:
    """crashy deployed once, the crashpoint plugin installed and nginx wrapped by it."""
    install_plugin_from_git(platform, CRASHPOINT, tmp_path_factory.mktemp("plugin"))
    settings = platform.root / "SETTINGS"
    settings.write_text(
        settings.read_text().replace("NGINX_COMMAND='", f"NGINX_COMMAND='{CRASHPOINT / 'nginx-then-pause'} ")
    )
    crashy = Crashy(make_git_repo(tmp_path_factory.mktemp("crashy") / APP, APPS / "envecho"))
    platform.dokku("apps:create", APP)
    platform.dokku("ps:scale", APP, "web=2")
    platform.dokku("checks:set", APP, "wait-to-retire", "0")
    platform.dokku("config:set", "--no-restart", APP, "CONF=c0", "DOKKU_DEFAULT_CHECKS_WAIT=1")
    crashy.commit()
    pushed = push(platform, crashy)
    assert pushed.returncode == 0, pushed.stdout
    assert_consistent(platform, crashy)
    yield crashy
    print(f"\nrecovery times:\n  {'case':<48} {'recovery':<11} {'time':>7}  -> serving after")
    print("\n".join(TIMINGS))


def push(platform, crashy: Crashy) -> subprocess.CompletedProcess:
    return subprocess.run(
        push_argv(platform), cwd=crashy.repo, env=platform.env, capture_output=True, text=True, check=False
    )


def push_argv(platform) -> list[str]:
    return ["git", "push", str(platform.root / APP), "HEAD:main"]


def dokku_argv(*args: str) -> list[str]:
    return [dokku_program(), *args]


# -- killing a command at one step -----------------------------------------------------------------
class Command:
    """A command running in a process group of its own, its output read as it comes."""

    def __init__(self, argv: list[str], cwd: Path, env: dict, line: str = ""):
        self.output: list[str] = []
        self.line_seen = threading.Event()
        self.process = subprocess.Popen(
            argv, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True
        )
        self.reader = threading.Thread(target=self._read, args=(line,), daemon=True)
        self.reader.start()

    def _read(self, line: str) -> None:
        for raw in self.process.stdout:
            text = raw.decode(errors="replace")
            self.output.append(text)
            if line and line in text:
                self.line_seen.set()

    def wait_for(self, reached: Callable[[], bool], timeout: float = 180) -> None:
        deadline = time.monotonic() + timeout
        while not reached():
            assert self.process.poll() is None, f"ended ({self.process.returncode}) too soon:\n{''.join(self.output)}"
            assert time.monotonic() < deadline, f"never got there:\n{''.join(self.output)}"
            time.sleep(0.01)

    def kill_group(self) -> None:
        os.killpg(self.process.pid, signal.SIGKILL)
        self.finish()

    def finish(self) -> None:
        self.process.wait(timeout=60)
        self.reader.join(timeout=10)


def run_and_kill(platform, argv: list[str], cwd: Path, point: str = "", line: str = "") -> None:
    """Runs argv until the crashpoint plugin reaches point (a shell pattern over "TRIGGER
    ARGS...") or the output shows a line containing line, then SIGKILLs its whole group."""
    pattern, reached = platform.root / "crashpoint", platform.root / "crashpoint.reached"
    if point:
        pattern.write_text(point)
    command = Command(argv, cwd, platform.env, line)
    try:
        command.wait_for(lambda: reached.exists() or command.line_seen.is_set())
    finally:
        command.kill_group()
        pattern.unlink(missing_ok=True)
        reached.unlink(missing_ok=True)


# -- what consistent means -------------------------------------------------------------------------
def namespace(platform) -> str:
    return platform.settings()["NAMESPACE"]


def app_containers(platform, engine) -> list[dict]:
    """Every container of the app (any role, any state), inspected."""
    found = engine.list_containers({labels.APP: f"{namespace(platform)}{APP}"}, all_states=True)
    return [engine.inspect_container(entry["Id"]) for entry in found]


def nginx_upstreams(platform) -> set[tuple[str, int]]:
    return nginx_servers((platform.root / APP / "nginx.conf").read_text())


def serves(platform, path: str, expected: str, timeout: float = 15) -> None:
    """Every answer through nginx is expected within timeout (several in a row, so both
    containers and no old nginx worker are seen)."""
    deadline = time.monotonic() + timeout
    in_a_row = 0
    while in_a_row < 6:
        status, body = platform.get(HOST, path)
        in_a_row = in_a_row + 1 if (status, body) == (200, expected) and not platform.nginx_reloading() else 0
        assert in_a_row or time.monotonic() < deadline, f"{HOST}{path} answers {status} {body[:200]!r}"
        time.sleep(0.02)


def assert_consistent(platform, crashy: Crashy) -> Release:
    """The recorded release, ENV, the containers and nginx agree, and the app serves that release."""
    engine = Engine()
    store = Store(platform.root)
    current = releases.current(store, APP)
    assert current is not None
    assert store.read_env(APP) == current.config, "ENV is not the config of the recorded release"
    containers = app_containers(platform, engine)
    strays = [
        c["Name"]
        for c in containers
        if c["Config"]["Labels"].get(labels.RELEASE) != current.name
        or c["Config"]["Labels"].get(labels.ROLE) != "process"
        or not c["State"]["Running"]
    ]
    assert not strays, f"containers outside {current.name} or not running: {strays}"
    names = {c["Name"].lstrip("/") for c in containers}
    assert names == {f"{namespace(platform)}{APP}.{dyno}" for dyno in DYNOS}
    assert nginx_upstreams(platform) == {reached_at(c) for c in containers}
    serves(platform, "/MARK", crashy.marks[current.sha])
    serves(platform, "/CONF", current.config["CONF"])
    assert not lock_held(platform)
    return current


def lock_held(platform) -> bool:
    with open(platform.root / APP / ".lock", "a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        fcntl.flock(handle, fcntl.LOCK_UN)
    return False


# -- the cases -------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Case:
    command: str  # push, config:set, ps:restart, releases:rollback
    point: str = ""  # a crashpoint pattern ...
    line: str = ""  # ... or an output line
    outcome: str = "old"  # the release serving after the recovery: old, new (or same: a restart)
    recovery: str = "ps:restore"  # or "next push": the next command is a push of a new commit
    restore_killed_at: str = ""  # a crashpoint where a first ps:restore is killed too


def command_argv(platform, crashy: Crashy, case: Case) -> list[str]:
    if case.command == "push":
        crashy.commit()
        return push_argv(platform)
    if case.command == "config:set":
        return dokku_argv("config:set", APP, f"CONF=c{next(CONFIG_VALUES)}")
    if case.command == "releases:rollback":
        return dokku_argv("releases:rollback", APP)
    return dokku_argv(case.command, APP)


CASES = {
    "push-before-build": Case("push", point="pre-build *"),
    "push-mid-build": Case("push", line="-----> Using "),
    "push-before-release-task": Case("push", point="pre-deploy *"),
    "push-in-release-task": Case("push", line=RELEASE_TASK_LINE),
    "push-one-of-two-started": Case("push", point=f"docker-args-deploy {APP} * web 2"),
    "push-checked-not-routed": Case("push", point=f"nginx-pre-reload {APP} *"),
    "push-nginx-config-written-not-loaded": Case("push", point="nginx-tested"),
    "push-nginx-switched-not-recorded": Case("push", point="nginx-reloaded"),
    "push-recorded-old-retired": Case("push", point=f"post-deploy {APP} *", outcome="new"),
    "push-mid-build-then-next-push": Case("push", line="-----> Using ", recovery="next push"),
    "push-switched-then-next-push": Case("push", point="nginx-reloaded", recovery="next push"),
    "config-set-before-deploy": Case("config:set", point=f"pre-deploy {APP} *"),
    "config-set-nginx-switched": Case("config:set", point="nginx-reloaded"),
    "config-set-deployed": Case("config:set", point=f"post-config-update {APP} *", outcome="new"),
    "restart-checked-not-routed": Case("ps:restart", point=f"nginx-pre-reload {APP} *", outcome="same"),
    "restart-nginx-switched": Case("ps:restart", point="nginx-reloaded", outcome="same"),
    "rollback-nginx-switched": Case("releases:rollback", point="nginx-reloaded"),
    "push-switched-then-restore-killed-before-reload": Case(
        "push", point="nginx-reloaded", restore_killed_at="nginx-tested"
    ),
}


@pytest.mark.parametrize("name", list(CASES))
def test_a_deploy_killed_at_a_step_is_recovered(platform, crashy, victim, name):
    case = CASES[name]
    store = Store(platform.root)
    before, head = releases.current(store, APP), server_head(platform, APP)
    argv = command_argv(platform, crashy, case)
    run_and_kill(platform, argv, crashy.repo, point=case.point, line=case.line)
    if case.restore_killed_at:
        run_and_kill(platform, dokku_argv("ps:restore", APP), crashy.repo, point=case.restore_killed_at)

    started = time.monotonic()
    if case.recovery == "next push":
        crashy.commit()
        pushed = push(platform, crashy)
        assert pushed.returncode == 0, pushed.stdout + pushed.stderr
        expected: Optional[str] = "next"
    else:
        platform.dokku("ps:restore", APP)
        expected = case.outcome
    after = assert_consistent(platform, crashy)
    took = time.monotonic() - started

    outcome = "old" if after.number == before.number else "new"
    if case.command == "push" and outcome == "old":
        assert server_head(platform, APP) == head, "the killed push moved the branch"
    if expected == "same":
        assert after == before
    elif expected == "next":
        assert after.sha == git(crashy.repo, "rev-parse", "HEAD").stdout.strip()
    else:
        assert outcome == expected, f"{after.name} serves after the recovery, the {outcome} release"
    branch = "" if server_head(platform, APP) == after.sha else "; the branch is still at the previous commit"
    timed(name, case.recovery, took, f"{after.name} ({outcome}{branch})")


@pytest.mark.parametrize("recovery", ["ps:restore", "next push"])
def test_a_retirement_that_never_ran_is_done_by_the_recovery(platform, crashy, victim, recovery):
    """Killed after the switch with a wait-to-retire, and the retirement's own process killed
    too (as a reboot would): the old containers, renamed .retiring-, must not run on. (The next
    push retires them with its own old containers, at once here: wait-to-retire is 0 again.)"""
    platform.dokku("checks:set", APP, "wait-to-retire", "60")
    try:
        crashy.commit()
        run_and_kill(platform, push_argv(platform), crashy.repo, point=f"post-deploy {APP} *")
        errands = retirement_errands(platform)
        assert errands, "the deploy started no ps:retire"
        for pid in errands:
            os.kill(pid, signal.SIGKILL)
    finally:
        platform.dokku("checks:set", APP, "wait-to-retire", "0")
    retiring = [c["Name"] for c in app_containers(platform, Engine()) if ".retiring-" in c["Name"]]
    assert len(retiring) == len(DYNOS), retiring
    started = time.monotonic()
    if recovery == "next push":
        crashy.commit()
        pushed = push(platform, crashy)
        assert pushed.returncode == 0, pushed.stdout + pushed.stderr
    else:
        platform.dokku("ps:restore", APP)
    after = assert_consistent(platform, crashy)
    timed("push-retirement-errand-killed-too", recovery, time.monotonic() - started, f"{after.name} (new)")


def retirement_errands(platform) -> list[int]:
    """The detached `ps:retire` processes of this root (started by the tests' deploys)."""
    ours = {
        pid
        for pid, environ in read_process_files("environ")
        if f"DOKKU_ROOT={platform.root}".encode() in environ.split(b"\0")
    }
    return [
        pid for pid, cmdline in read_process_files("cmdline") if pid in ours and b"ps:retire" in cmdline.split(b"\0")
    ]


def test_a_first_deploy_killed_after_the_switch_is_undone(platform, crashy, victim, tmp_path):
    """Nothing was ever recorded, so the recovery leaves nothing: no container, no nginx site."""
    app = "crashy-first"
    repo = make_git_repo(tmp_path / app, APPS / "envecho")
    platform.dokku("apps:create", app)
    run_and_kill(platform, ["git", "push", str(platform.root / app), "HEAD:main"], repo, point="nginx-reloaded")
    serving = (200, "web.1")  # served, never recorded (nginx applies a reload in the background)
    wait_until(lambda: platform.get(f"{app}.example.test", "/DYNO") == serving, 10, "it never served")
    started = time.monotonic()
    platform.dokku("ps:restore", app)
    wait_until(lambda: platform.get(f"{app}.example.test")[0] == 404, 10, "the unrecorded release still answers")
    took = time.monotonic() - started
    assert Engine().list_containers({labels.APP: f"{namespace(platform)}{app}"}, all_states=True) == []
    assert not (platform.root / app / "nginx.conf").exists()
    assert releases.history(Store(platform.root), app) == []
    timed("first-push-nginx-switched-not-recorded", "ps:restore", took, "nothing (never recorded)")


def descendants(pid: int) -> list[int]:
    children = []
    for child, stat in read_process_files("stat"):
        if parent_of(stat) == pid:
            children += [child, *descendants(child)]
    return children


def wait_until(condition: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, what
        time.sleep(0.1)


def test_an_ssh_hang_up_mid_build_is_recovered(platform, ssh_client, crashy, victim):
    """The push's ssh client dies mid-build (a laptop closed): the server side sees its session
    end, and whatever it then did, `ps:restore` leaves the app consistent."""
    before = releases.current(Store(platform.root), APP)
    crashy.commit()
    argv = ["git", "push", f"{ssh_client.remote_prefix}{APP}", "HEAD:main"]
    push_over_ssh = Command(argv, crashy.repo, ssh_client.git_env(), line="-----> Using ")
    try:
        push_over_ssh.wait_for(push_over_ssh.line_seen.is_set)
        clients = [pid for pid in descendants(push_over_ssh.process.pid) if command_name(pid) == "ssh"]
        assert len(clients) == 1, clients
        os.kill(clients[0], signal.SIGKILL)
        push_over_ssh.finish()
    finally:
        if push_over_ssh.process.poll() is None:
            push_over_ssh.kill_group()
    started = time.monotonic()
    wait_until(lambda: not lock_held(platform), 120, "the server side of the push never ended")
    ended = time.monotonic() - started
    platform.dokku("ps:restore", APP)
    after = assert_consistent(platform, crashy)
    outcome = "old" if after.number == before.number else "new"
    if server_head(platform, APP) != after.sha:
        outcome += "; the branch is still at the previous commit"
    took = time.monotonic() - started
    timed("ssh-hang-up-mid-build", "ps:restore", took, f"{after.name} ({outcome}; server side ended in {ended:.1f} s)")


@pytest.mark.serial  # restarts dockerd: every other test's containers stop
@pytest.mark.parametrize("point", [f"nginx-pre-reload {APP} *", "nginx-reloaded"])
def test_a_deploy_during_which_dockerd_restarts_is_recovered(platform, crashy, victim, point):
    """dockerd stops and comes back while a push is at point (its containers stop, their ports
    change); the push then goes on against the restarted engine, and however it ends,
    `ps:restore` (which runs after every engine restart) leaves the app consistent."""
    crashy.commit()
    pattern, reached = platform.root / "crashpoint", platform.root / "crashpoint.reached"
    pattern.write_text(point)
    pushing = Command(push_argv(platform), crashy.repo, platform.env)
    try:
        pushing.wait_for(reached.exists)
        restart_engine()
        pattern.unlink()
        os.kill(int((platform.root / "crashpoint.pid").read_text()), signal.SIGTERM)  # go on
        pushing.finish()
    finally:
        if pushing.process.poll() is None:
            pushing.kill_group()
        pattern.unlink(missing_ok=True)
        reached.unlink(missing_ok=True)
    started = time.monotonic()
    platform.dokku("ps:restore")  # every app, as after any engine restart: the victim's stopped too
    after = assert_consistent(platform, crashy)
    ended = "pushed" if pushing.process.returncode == 0 else f"push failed ({pushing.process.returncode})"
    name = f"dockerd-restarted-at-{point.split()[0]}"
    timed(name, "ps:restore", time.monotonic() - started, f"{after.name} ({ended})")


def command_name(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/comm").read_text().strip()
    except OSError:
        return ""
