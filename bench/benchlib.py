"""The benches' common set-up: a temporary minidokku root serving catmeow through its own nginx.

The root has its own nginx on a loopback port and its own NAMESPACE (so its Docker objects never
meet a real app's), and the app is pushed with git over the local transport: the same
receive-pack and pre-receive hook as over ssh.

The program is installed as install.sh installs it, by install.sh's own functions (install_program):
the zipapp (`make zipapp`) unpacked with its bytecode in dist/installed, and its `dokku` launcher on the
system's python3. Every command, and the hook a push runs, starts as it does on a server, not as the
development virtualenv's `dokku` does (another python, and no bytecode where PYTHONDONTWRITEBYTECODE
is set, as on these machines: every module compiled again at each start).
"""

import abc
import os
import random
import re
import secrets
import shutil
import socket
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

import requests

from minidokku.engine.client import Engine
from minidokku.errors import MinidokkuError
from minidokku.runtime import isolation, labels


def count_from_environment(name: str, default: int, least: int = 1) -> int:
    """A count a bench reads from the environment (BENCH_RUNS=3): a whole number of at least
    least, else the bench stops at once with a one-line error (not minutes later at its figures)."""
    text = os.environ.get(name, str(default))
    if not text.isdigit() or int(text) < least:
        raise SystemExit(f"{name}={text!r}: give a whole number, at least {least}")
    return int(text)


REPO_ROOT = Path(__file__).resolve().parents[1]
CATMEOW = REPO_ROOT / "tests" / "apps" / "catmeow"
CATMEOW_PAGE = "Cat dreams meow.."
HOST = "catmeow.example.test"
CA = "/etc/ssl/certs/ca-certificates.crt"
RUNS = count_from_environment("BENCH_RUNS", 5)
ZIPAPP = REPO_ROOT / "dist" / "minidokku.pyz"
INSTALLED = REPO_ROOT / "dist" / "installed"  # as install.sh's /usr/local/lib/minidokku
DOKKU = str(INSTALLED / "dokku")
SYSTEM_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
SERVE_TIMEOUT = 120.0
SETTLE_TIMEOUT = 90.0
# How long the old containers of each timed round keep running after traffic left them (Dokku's
# wait-to-retire, 60 s by default). With the default, rounds a few seconds apart run while up to a
# minute of earlier rounds' containers are stopped and removed, and each round would time that
# too; with 1 s, each round starts on a quiet engine (Bench.settle) without waiting a minute.
WAIT_TO_RETIRE = "1"
DESTROY_ATTEMPTS = 3
GIT_IDENTITY = {"GIT_AUTHOR_NAME": "bench", "GIT_AUTHOR_EMAIL": "b@b", "GIT_COMMITTER_NAME": "bench",
                "GIT_COMMITTER_EMAIL": "b@b"}  # fmt: skip


class BenchError(Exception):
    pass


@dataclass(frozen=True)
class UntilServed:
    """Seconds from a command's start until what it changes serves, and until it returned."""

    served: float
    returned: float


def is_catmeow_page(text: str) -> bool:
    """catmeow's page, as first deployed or as a code change made it (Served.code_change)."""
    return text == CATMEOW_PAGE or text.startswith(CATMEOW_PAGE + " ")


def free_port() -> int:
    """A free port below the ephemeral range, where Docker's published ports never land."""
    for _ in range(100):
        port = random.randint(20000, 32000)
        with socket.socket() as sock:
            try:
                sock.bind(("0.0.0.0", port))
            except OSError:
                continue
            return port
    raise RuntimeError("no free port between 20000 and 32000")


def install_program(pyz_dir: Path) -> Path:
    """The zipapp installed in pyz_dir by install.sh's own unpack_program and dokku_launcher, on the
    system's python3; returns the `dokku` launcher."""
    if not ZIPAPP.is_file():
        raise BenchError(f"{ZIPAPP} is missing: run `make zipapp`")
    pyz_dir.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(ZIPAPP, pyz_dir / "minidokku.pyz")
    *functions, last = (REPO_ROOT / "install.sh").read_text().splitlines()
    if last != 'main "$@"':
        raise BenchError(f"install.sh no longer ends with its main: {last}")
    script = "\n".join(functions) + (
        '\nunpack_program "$(system_python)" "$1/minidokku.pyz" "$1"\n'
        'dokku_launcher "$(system_python)" "$1" >"$1/dokku" && chmod 755 "$1/dokku"\n'
    )
    run(["sh", "-c", script, "install", str(pyz_dir)], env=dict(os.environ, PATH=SYSTEM_PATH), umask=0o022)
    return pyz_dir / "dokku"


def run(argv: list[str], **kwargs) -> subprocess.CompletedProcess:
    """Runs argv with its output captured; a failure raises with that output in the message."""
    result = subprocess.run(argv, capture_output=True, text=True, **kwargs)
    if result.returncode != 0:
        raise BenchError(f"{' '.join(argv)} failed (exit {result.returncode}):\n{result.stderr}{result.stdout}")
    return result


class Served(abc.ABC):
    """catmeow's source (self.src, a git work tree) and the page it serves at self.url, on one
    platform; the subclass sets src, env and url, and says how to push."""

    src: Path
    env: dict[str, str]

    @property
    @abc.abstractmethod
    def url(self) -> str: ...

    @abc.abstractmethod
    def push(self) -> None: ...

    def git(self, *args: str) -> subprocess.CompletedProcess:
        return run(["git", *args], cwd=self.src, env=self.env)

    def commit(self, message: str) -> None:
        self.git("add", "-A")
        self.git("commit", "-q", "--allow-empty", "-m", message)

    def copy_source(self, workdir: Path) -> None:
        """catmeow's source copied to workdir/catmeow and committed."""
        self.src = workdir / "catmeow"
        shutil.copytree(CATMEOW, self.src)
        self.git("init", "-q", "-b", "main")
        self.commit("first")

    def page(self) -> Optional[str]:
        """The page nginx answers for catmeow's domain, None for an error or no answer."""
        try:
            answer = requests.get(self.url, headers={"Host": HOST}, timeout=5)
        except requests.RequestException:
            return None
        return answer.text if answer.status_code == 200 else None

    def serves(self, page: Optional[str] = None) -> bool:
        """True when nginx answers catmeow's page (page: exactly that one) for its domain."""
        answer = self.page()
        return answer is not None and (answer == page if page else is_catmeow_page(answer))

    def wait_serving(self, page: Optional[str] = None, timeout: float = SERVE_TIMEOUT) -> float:
        """Waits until the page (page: exactly that one) serves; returns the seconds waited."""
        started = time.monotonic()
        while not self.serves(page):
            if time.monotonic() - started > timeout:
                raise BenchError(f"catmeow did not serve {page or 'its page'!r} through nginx within {timeout:.0f} s")
            time.sleep(0.02)
        return time.monotonic() - started

    def timed(self, action) -> float:
        """Seconds from the start of action() to the page serving, action() returned."""
        started = time.monotonic()
        action()
        self.wait_serving()
        return time.monotonic() - started

    def timed_until(self, action, served: Callable[[], bool]) -> UntilServed:
        """Seconds from the start of action() to served() holding (polled while action runs in a
        thread: a deploy moves traffic before it returns), and to action() returning; action's
        error is raised."""
        failed: list[BaseException] = []

        def act() -> None:
            try:
                action()
            except BaseException as error:
                failed.append(error)

        started = time.monotonic()
        acting = threading.Thread(target=act, daemon=True)
        acting.start()
        while not served():
            if failed:
                raise failed[0]
            if time.monotonic() - started > SERVE_TIMEOUT:
                raise BenchError(f"not served within {SERVE_TIMEOUT:.0f} s")
            time.sleep(0.02)
        served_after = time.monotonic() - started
        acting.join()
        if failed:
            raise failed[0]
        return UntilServed(served_after, time.monotonic() - started)

    def code_change(self, n: int) -> str:
        """A new page in catmeow.py, committed; returns the page the new code serves."""
        page = f"{CATMEOW_PAGE} {n}"
        source = (self.src / "catmeow.py").read_text()
        (self.src / "catmeow.py").write_text(re.sub(r'return "Cat dreams meow\.\.[^"]*"', f'return "{page}"', source))
        self.commit(f"code {n}")
        return page

    def redeploy_code(self, n: int) -> UntilServed:
        """A code change pushed: seconds until the new page serves, and until the push returned."""
        page = self.code_change(n)
        return self.timed_until(self.push, lambda: self.serves(page))

    def dependency_change(self, n: int) -> None:
        """A new requirements.txt (a comment is enough to change its hash): pip installs again."""
        with open(self.src / "requirements.txt", "a") as handle:
            handle.write(f"# dependency change {n}\n")
        self.commit(f"dependencies {n}")


class Bench(Served):
    """A temporary root in workdir with nginx running and catmeow's source committed (not yet pushed).

    close() destroys the app and stops nginx; the caller removes workdir.
    """

    def __init__(self, workdir: Path):
        self.root = workdir / "root"
        self.root.mkdir()
        self.port = free_port()
        nginx_dir = workdir / "nginx"
        nginx_dir.mkdir()
        self.nginx_log_dir = nginx_dir  # the sites' logs, APP-access.log and APP-error.log
        self.nginx_pid_file = nginx_dir / "nginx.pid"
        # the main settings of Debian's /etc/nginx/nginx.conf, which install.sh keeps: a worker per core
        (nginx_dir / "nginx.conf").write_text(
            f"worker_processes auto;\npid {self.nginx_pid_file};\nerror_log {nginx_dir}/error.log;\n"
            "events { worker_connections 768; }\n"
            "http { sendfile on; tcp_nopush on; access_log off;\n"
            f"server {{ listen {self.port} default_server; return 404; }}\ninclude {self.root}/*/nginx.conf; }}\n"
        )
        self.nginx = ["nginx", "-p", str(nginx_dir), "-c", str(nginx_dir / "nginx.conf")]
        self.namespace = f"bench-{secrets.token_hex(3)}-"  # keeps off any real app's Docker objects
        (self.root / "SETTINGS").write_text(
            f"export NGINX_COMMAND='{' '.join(self.nginx)}'\nexport HTTP_PORT='{self.port}'\n"
            f"export NAMESPACE='{self.namespace}'\nexport NGINX_LOG_DIR='{nginx_dir}'\n"
        )
        install_program(INSTALLED)
        run(self.nginx)
        try:
            self.env = dict(os.environ, PATH=SYSTEM_PATH, DOKKU_ROOT=str(self.root), **GIT_IDENTITY)
            self.dokku("domains:set-global", "example.test")
            self.dokku("checks:set", "--global", "wait-to-retire", WAIT_TO_RETIRE)
            self.dokku("docker-options:add", "--global", "build", f"-v {CA}:{CA}:ro")
            self.copy_source(workdir)
        except BaseException:
            self._stop_nginx()
            raise

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/"

    @property
    def nginx_pid(self) -> int:
        """nginx's master process: its workers are its children."""
        return int(self.nginx_pid_file.read_text())

    def dokku(self, *args: str) -> subprocess.CompletedProcess:
        return run([DOKKU, *args], env=self.env)

    def push(self) -> None:
        self.git("push", "-q", str(self.root / "catmeow"), "main")

    def settle(self, app: str = "catmeow", containers: int = 1) -> None:
        """Waits until the app has no more than its containers (catmeow: one web) on the engine:
        the earlier rounds' old containers retired and their build containers removed, so that
        the next timed round measures its own work alone."""
        engine = Engine()
        deadline = time.monotonic() + SETTLE_TIMEOUT
        while len(engine.list_containers({labels.APP: f"{self.namespace}{app}"}, all_states=True)) > containers:
            if time.monotonic() > deadline:
                raise BenchError(f"{app} kept more than {containers} containers for {SETTLE_TIMEOUT:.0f} s")
            time.sleep(0.2)

    def close(self) -> None:
        """Destroys the app and the root's apps network, and stops nginx. A destroy can meet a container
        that goes meanwhile (an old one retiring after its wait), so a failed one is tried again; one that
        keeps failing is reported, not raised, and nginx stops anyway."""
        for attempt in range(1, DESTROY_ATTEMPTS + 1):
            if not (self.root / "catmeow").exists():
                break
            destroyed = subprocess.run(
                [DOKKU, "apps:destroy", "catmeow", "--force"], env=self.env, capture_output=True, text=True
            )
            if destroyed.returncode == 0:
                break
            print(f"apps:destroy catmeow failed (attempt {attempt}):\n{destroyed.stderr}", file=sys.stderr)
            time.sleep(1)
        else:
            print(f"left behind: the Docker objects named or labelled {self.namespace}catmeow", file=sys.stderr)
        network = isolation.network_name(self.namespace)  # the root's apps network: no app destroy removes it
        try:
            Engine().remove_network(network)
        except MinidokkuError as error:
            print(f"left behind: the network {network} ({error})", file=sys.stderr)
        self._stop_nginx()

    def _stop_nginx(self) -> None:
        subprocess.run([*self.nginx, "-s", "quit"], capture_output=True)


def print_ratio_table(steps: dict[str, list[float]], baseline_step: str) -> None:
    """A markdown table of each step's median seconds and its ratio to the baseline step's median."""
    baseline = statistics.median(steps[baseline_step])
    print(f"| {'step':<38} | {'seconds':>8} | {'x ps:restart':>12} |")
    print(f"|{'-' * 40}|{'-' * 10}|{'-' * 14}|")
    for step, times in steps.items():
        median = statistics.median(times)
        print(f"| {step:<38} | {median:>8.2f} | {median / baseline:>12.2f} |")
