"""Helpers shared by the test layers (imported as `helpers`: pytest puts tests/ on sys.path)."""

import importlib.util
import inspect
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from minidokku.engine.client import Engine
from minidokku.runtime import web_addresses, web_network

APPS = Path(__file__).parent / "apps"
CA_BUNDLE = "/etc/ssl/certs/ca-certificates.crt"
# What a build container needs to reach PyPI from these machines (shared/ENVIRONMENT.md): the
# host's CA bundle, read-only; the default bridge network reaches the registries.
BUILD_NETWORK_OPTION = f"-v {CA_BUNDLE}:{CA_BUNDLE}:ro"


def dokku_program() -> str:
    """The `dokku` entry point installed beside the interpreter running the tests."""
    beside = Path(sys.executable).parent / "dokku"
    return str(beside) if beside.exists() else shutil.which("dokku")


def free_port() -> int:
    """A free port below the ephemeral range, where Docker's published ports (and the kernel's
    outgoing ports) never land, so it stays free until the test's server binds it."""
    for _ in range(100):
        port = random.randint(20000, 32000)
        with socket.socket() as sock:
            try:
                sock.bind(("0.0.0.0", port))
            except OSError:
                continue
            return port
    raise RuntimeError("no free port between 20000 and 32000")


def wait_for_port(port: int, timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"nothing listens on 127.0.0.1:{port}")


def read_process_files(name: str) -> Iterator[tuple[int, bytes]]:
    """(pid, content) of /proc/PID/NAME for every process that can be read. Processes end while
    /proc is listed; a dying one even makes a plain stat fail with ESRCH (as pathlib's glob
    does), so each is read with os and skipped on any OSError."""
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/{name}", "rb") as file:
                yield int(entry), file.read()
        except OSError:  # gone meanwhile, or not ours to read
            continue


def parent_of(stat: bytes) -> int:
    """The parent pid in a /proc/PID/stat line (its fourth field, after the parenthesised name)."""
    return int(stat.rsplit(b")", 1)[1].split()[1])


def make_git_repo(path: Path, app_dir: Path) -> Path:
    """A work tree with the files of a test app, committed on branch main."""
    shutil.copytree(app_dir, path)
    git(path, "init", "-q", "-b", "main")
    git(path, "add", "-A")
    git(path, "commit", "-q", "-m", "Do cats dream of meow?")
    return path


def busybox_app(tmp_path: Path, app: str, page: str, app_json: str = "") -> Path:
    """A repo whose Dockerfile builds a busybox httpd FROM scratch, serving page on port 5000 (an
    image of a megabyte, made without any image pulled: these machines reach no image registry)."""
    source = tmp_path / "source"
    (source / "www").mkdir(parents=True)
    shutil.copy("/bin/busybox", source / "busybox")
    (source / "www" / "index.html").write_text(page)
    (source / "Dockerfile").write_text(
        "FROM scratch\nCOPY busybox /bin/busybox\nCOPY www /www\nEXPOSE 5000\n"
        'CMD ["/bin/busybox", "sh", "-c", "echo started $DYNO; exec /bin/busybox httpd -f -p 5000 -h /www"]\n'
    )
    if app_json:
        (source / "app.json").write_text(app_json)
    return make_git_repo(tmp_path / app, source)


def git(cwd: Path, *args: str, env: dict = None, check: bool = True) -> subprocess.CompletedProcess:
    identity = {
        "GIT_AUTHOR_NAME": "tom",
        "GIT_AUTHOR_EMAIL": "tom@laptop",
        "GIT_COMMITTER_NAME": "tom",
        "GIT_COMMITTER_EMAIL": "tom@laptop",
    }
    result = subprocess.run(
        ["git", *args], cwd=cwd, env=dict(env or os.environ, **identity), capture_output=True, text=True, check=False
    )
    if check and result.returncode != 0:
        raise AssertionError(f"git {' '.join(args)} failed:\n{result.stdout}{result.stderr}")
    return result


def wait_until_serving(
    platform, host: str, expected: str, path: str = "/", timeout: float = 5, prefix: bool = False
) -> None:
    """nginx applies a reload in the background (new workers take over), so a request made
    right after a deploy may still meet the old configuration for a moment. With prefix, the
    page need only start with expected."""
    deadline = time.monotonic() + timeout
    while True:
        status, body = platform.get(host, path)
        if status == 200 and (body.startswith(expected) if prefix else body == expected):
            # the new config answers; wait for the worker with the old one to finish too
            while platform.nginx_reloading() and time.monotonic() < deadline:
                time.sleep(0.05)
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"{host} answers {status} {body[:200]!r}, not {expected!r}")
        time.sleep(0.1)


DOCKER_PID_FILE = Path("/var/run/docker.pid")
ENGINE_LOG = Path("/var/log/minidokku-test-dockerd.log")


def restart_engine() -> None:
    """Restarts dockerd the way it runs here: with systemd when it manages docker, else by
    stopping the daemon and starting the same command line again."""
    if Path("/run/systemd/system").is_dir():  # systemd runs this machine (and so docker)
        subprocess.run(["systemctl", "restart", "docker"], check=True)
    else:
        pid = int(DOCKER_PID_FILE.read_text())
        command = Path(f"/proc/{pid}/cmdline").read_bytes().rstrip(b"\0").split(b"\0")
        os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + 60
        while Path(f"/proc/{pid}").exists() and time.monotonic() < deadline:
            time.sleep(0.2)
        with open(ENGINE_LOG, "a") as log:
            subprocess.Popen(command, stdout=log, stderr=log, start_new_session=True)
    deadline = time.monotonic() + 60
    while not Engine().ping():
        assert time.monotonic() < deadline, "dockerd did not come back within 60 s"
        time.sleep(0.5)


def nginx_servers(config: str) -> set[tuple[str, int]]:
    """The (host, port) of every `server` line of an nginx site's upstreams, backups too."""
    return {(host, int(port)) for host, port in re.findall(r"^\s*server ([\d.]+):(\d+)", config, re.MULTILINE)}


def namespace_of(container: dict) -> dict:
    """The inspection of the container whose network namespace an inspected container is in:
    the holder it joined (runtime/web_network.py), or itself."""
    return web_network.holder_of(Engine(), container) or container


def reached_at(container: dict) -> tuple[str, int]:
    """Where nginx reaches an inspected web container: its pinned address on the web network (its
    holder's, when it joined one: runtime/web_network.py), its PORT."""
    networks = namespace_of(container)["NetworkSettings"]["Networks"]
    address = networks[web_addresses.NETWORK]["IPAMConfig"]["IPv4Address"]
    return address, int(dict(item.split("=", 1) for item in container["Config"]["Env"])["PORT"])


def commit_all(repo: Path, message: str) -> str:
    """Commits every change of the work tree; returns the new commit's sha."""
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", message)
    return git(repo, "rev-parse", "HEAD").stdout.strip()


def install_plugin_from_git(platform, folder: Path, workdir: Path):
    """Installs the plugin in folder (tests/plugins/NAME) as a user would: from a git repository
    named dokku-NAME, by file:// URL. Returns plugin:install's result."""
    repo = workdir / f"dokku-{folder.name}"
    shutil.copytree(folder, repo)
    git(repo, "init", "-q", "-b", "main")
    commit_all(repo, f"{folder.name} 1.0.0")
    return platform.dokku("plugin:install", f"file://{repo}")


def module_scoped(conftest: Path, name: str):
    """A fixture of another conftest file (tests/conftest.py's platform, say) again, with module
    scope: the plain generator function behind it, loaded from that file and wrapped anew, so
    nothing is copied and the original keeps its own scope."""
    spec = importlib.util.spec_from_file_location(f"module_scoped_{conftest.parent.name}_conftest", conftest)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return pytest.fixture(scope="module", name=name)(inspect.unwrap(getattr(module, name)))
