"""Traffic moves before the uptime check ends, and back when a new container dies within it: a
real engine, a real nginx and requests in a loop all along (none may fail).

The app is envecho (GET /MARK answers $MARK); each pushed commit's Procfile sets its MARK, and
the crashing one runs the server under `timeout 2`, so it answers its checks, takes the traffic
and exits about 2 s after it started, inside its 5 s uptime check (DOKKU_DEFAULT_CHECKS_WAIT)."""

import http.server
import shlex
import socket
import subprocess
import threading
from pathlib import Path

import requests
from helpers import APPS, commit_all, dokku_program, make_git_repo, nginx_servers, reached_at, wait_until_serving
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

from minidokku.records import builds, releases
from minidokku.routing import nginx
from minidokku.runtime import labels
from minidokku.state import Store

APP = "switchy"
HOST = f"{APP}.example.test"
WINDOW = 5
MOVED = f"Traffic moved; the old containers stay ready until the new ones have run {WINDOW} s"
RAN = f"The new containers ran {WINDOW} s"


class RequestLoop:
    """GETs /MARK through nginx until stopped; keeps every answer (an error is its text)."""

    def __init__(self, platform):
        self.url = f"http://127.0.0.1:{platform.http_port}/MARK"
        self.answers: list[tuple[int, str]] = []
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> "RequestLoop":
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stopped.set()
        self.thread.join(timeout=15)

    def _run(self) -> None:
        with requests.Session() as session:  # keep-alive to nginx, as a browser
            # and, as a browser does, a GET sent again once when nginx closed the kept connection as
            # it was sent (a reload ends idle keep-alive connections: nginx's, not the deploy's doing);
            # a new connection refused, or any error status, still counts
            once_more = Retry(total=1, connect=0, read=1, redirect=0, status=0, other=0)
            session.mount("http://", HTTPAdapter(max_retries=once_more))
            while not self.stopped.is_set():
                try:
                    response = session.get(self.url, headers={"Host": HOST}, timeout=10)
                    self.answers.append((response.status_code, response.text))
                except requests.RequestException as error:
                    self.answers.append((0, str(error)))

    @property
    def failures(self) -> list[tuple[int, str]]:
        return [answer for answer in self.answers if answer[0] != 200]

    def marks(self) -> list[str]:
        """The marks answered, each once, in the order they first came."""
        return list(dict.fromkeys(body for status, body in self.answers if status == 200))


def set_procfile(repo, web: str) -> None:
    (repo / "Procfile").write_text(f"web: {web}\n")
    commit_all(repo, web)


def push_watching(platform, repo, on_moved=None) -> tuple[int, list[str]]:
    """Pushes; calls on_moved(lines so far) when the deploy says traffic moved. Returns the exit
    status and the output lines."""
    pushing = subprocess.Popen(
        ["git", "push", str(platform.root / APP), "HEAD:main"],
        cwd=repo,
        env=platform.env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    lines = []
    for line in pushing.stderr:
        lines.append(line.removeprefix("remote: ").strip())
        if on_moved and MOVED in lines[-1]:
            on_moved(list(lines))
    return pushing.wait(timeout=120), lines


def test_traffic_moves_before_the_window_and_back_from_a_release_crashing_within_it(platform, engine, tmp_path):
    repo = make_git_repo(tmp_path / APP, APPS / "envecho")
    platform.dokku("apps:create", APP)
    platform.dokku("config:set", "--no-restart", APP, f"DOKKU_DEFAULT_CHECKS_WAIT={WINDOW}")
    set_procfile(repo, "MARK=m1 python app.py")
    status, _ = push_watching(platform, repo)
    assert status == 0
    wait_until_serving(platform, HOST, "m1", path="/MARK")

    with RequestLoop(platform) as loop:
        served_before_the_window_ended = []

        def served_while_watched(lines: list[str]) -> None:
            wait_until_serving(platform, HOST, "m2", path="/MARK", timeout=WINDOW - 1)
            served_before_the_window_ended.append(not any(RAN in line for line in lines))

        set_procfile(repo, "MARK=m2 python app.py")
        status, lines = push_watching(platform, repo, served_while_watched)
        assert status == 0, "\n".join(lines)
        assert served_before_the_window_ended == [True], "m2 served while its uptime check was still running"
        assert [line for line in lines if line in (MOVED, RAN)] == [MOVED, RAN]

        set_procfile(repo, "MARK=m3 timeout 2 python app.py")
        status, lines = push_watching(platform, repo)
        output = "\n".join(lines)
        wait_until_serving(platform, HOST, "m2", path="/MARK")

    assert status != 0, output
    assert MOVED in output, "the crashing release was switched to"
    assert f"failed the check `up for {WINDOW} s`: it exited" in output
    assert "traffic went back to v2; v3 was not released" in output
    assert RAN not in output.split(MOVED)[-1]
    assert loop.failures == [], f"{len(loop.failures)} of {len(loop.answers)} requests failed: {loop.failures[:5]}"
    assert loop.marks() == ["m1", "m2", "m3"], "m3 served until it exited"
    assert loop.answers[-1] == (200, "m2")
    store = Store(platform.root)
    assert [r.name for r in releases.history(store, APP)] == ["v1", "v2"]
    assert releases.current(store, APP).config == store.read_env(APP)
    assert releases.unfinished_record(store, APP) is None
    listing = platform.dokku("releases", APP).stdout
    assert "v3" not in listing
    names = [c["Names"][0] for c in engine.list_containers({labels.APP: platform.settings()["NAMESPACE"] + APP})]
    assert not [name for name in names if ".upcoming-" in name], names


def test_a_command_whose_client_goes_away_before_traffic_moves_still_deploys_to_its_end(platform, engine, tmp_path):
    """`ssh dokku@host ps:restart APP` and ^C while it checks: sshd closes the command's pipes.
    Its next line (that traffic moved) finds no reader, and the deploy goes on quietly to its
    end instead of stopping there (which removed the new containers with nginx still sending to
    their ports, which the engine then gives to other containers)."""
    app, host = "switchy-gone", "switchy-gone.example.test"
    repo = make_git_repo(tmp_path / app, APPS / "envecho")
    platform.dokku("apps:create", app)
    platform.dokku("config:set", "--no-restart", app, f"DOKKU_DEFAULT_CHECKS_WAIT={WINDOW}")
    set_procfile(repo, "MARK=m1 python app.py")
    assert platform.push(repo, app).returncode == 0
    restarting = subprocess.Popen(
        [dokku_program(), "ps:restart", app], env=platform.env, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    for line in restarting.stdout:
        if b"Checking web.1" in line:
            break
    restarting.stdout.close()  # as sshd does once the client went away
    assert restarting.wait(timeout=60) == 0, restarting.stderr.read().decode()

    store = Store(platform.root)
    last = builds.history(store, app)[0]
    output = builds.read_output(store, app, last.id).decode()
    assert last.status == builds.SUCCEEDED and MOVED in output and RAN in output, output
    wait_until_serving(platform, host, "m1", path="/MARK")
    found = engine.list_containers({labels.APP: platform.settings()["NAMESPACE"] + app, labels.ROLE: "process"})
    serving = [c for c in found if ".retiring-" not in c["Names"][0]]
    assert [c["Labels"][labels.RELEASE] for c in serving] == ["v1"] and ".upcoming-" not in serving[0]["Names"][0]
    config = (platform.root / app / "nginx.conf").read_text()
    assert nginx_servers(config) == {reached_at(engine.inspect_container(serving[0]["Id"]))}
    assert " backup;" not in config


class Answering(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Length", "6")
        self.end_headers()
        self.wfile.write(b"backup")

    def log_message(self, *args) -> None:
        pass


def test_a_new_container_gone_without_a_trace_sends_its_requests_to_the_backups(platform):
    """A new container that dies in its uptime window takes its network with it: its address
    answers nothing, not even a refusal, until the bridge forgets it, and nginx waited there its
    whole connect timeout (60 s) while the old containers were ready. Here the new container is a
    port that never takes a connection (a full accept queue drops every SYN, as the vanished
    address does), the old one a real server."""
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(0)
    queued = socket.create_connection(silent.getsockname())  # fills the queue: the next SYNs are dropped
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Answering)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    site = nginx.Site(
        app="gone",
        domains=["gone.example.test"],
        ports=[nginx.PortMap("http", platform.http_port, 5000)],
        upstreams={5000: [silent.getsockname()]},
        backups={5000: [server.server_address]},
        log_dir=platform.settings()["NGINX_LOG_DIR"],
    )
    proxy = nginx.Nginx(shlex.split(platform.settings()["NGINX_COMMAND"]), platform.root)
    (platform.root / "gone").mkdir()
    try:
        workers = platform.nginx_workers()
        proxy.install("gone", nginx.render(site))
        platform.wait_for_reload(workers)
        assert platform.get("gone.example.test") == (200, "backup")  # within 10 s, not 60
        error_log = Path(site.log_dir, "gone-error.log").read_text()
        assert "upstream timed out (110: Connection timed out) while connecting to upstream" in error_log
    finally:
        proxy.remove("gone")
        server.shutdown()
        queued.close()
        silent.close()
