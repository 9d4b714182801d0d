"""The swarm scheduler on a real 2-node swarm (tests/swarm/testbed.sh: two dockerd nodes in network
namespaces, a registry on the host), this host's engine building and pushing, nginx on loopback
reaching the tasks where their nodes publish them. The app is a busybox httpd FROM scratch."""

import json
import threading
import time

import requests
from helpers import busybox_app, git, wait_until_serving
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

from minidokku.engine.client import Engine
from minidokku.records import scheduler as selection
from minidokku.runtime import labels
from minidokku.state import Store

APP = "swarmcat"
HOST = f"{APP}.example.test"


def services(manager: Engine, platform) -> list[dict]:
    """The app's services (on the engine, its name has the root's namespace in front)."""
    return manager.list_services({labels.APP: f"{platform.settings()['NAMESPACE']}{APP}"})


def running_tasks(manager: Engine, service: dict) -> list[dict]:
    found = manager.list_tasks({"service": [service["ID"]], "desired-state": ["running"]})
    return [task for task in found if task["Status"]["State"] == "running"]


def wait_for(condition, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while True:
        found = condition()
        if found:
            return found
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} within {timeout} s")
        time.sleep(0.25)


class Load:
    """GETs through nginx in a loop until stopped; counts what did not answer 200 with a page of
    the app."""

    def __init__(self, platform, pages: tuple[str, ...]):
        self.platform, self.pages = platform, pages
        self.done, self.failed, self.stop = 0, [], threading.Event()
        self.failed_at: list[float] = []  # when each failed request was sent (time.monotonic())
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        session = requests.Session()  # keep-alive to nginx, as a browser
        # and, as a browser does, a GET sent again once when nginx closed the kept connection as it
        # was sent (each reroute reloads nginx, which ends idle keep-alive connections); a new
        # connection refused, or any error status, still counts
        once_more = Retry(total=1, connect=0, read=1, redirect=0, status=0, other=0)
        session.mount("http://", HTTPAdapter(max_retries=once_more))
        url = f"http://127.0.0.1:{self.platform.http_port}/"
        while not self.stop.is_set():
            sent = time.monotonic()
            try:
                answer = session.get(url, headers={"Host": HOST}, timeout=10)
                if answer.status_code != 200 or answer.text not in self.pages:
                    self.failed.append((answer.status_code, answer.text[:80]))
                    self.failed_at.append(sent)
            except requests.RequestException as error:
                self.failed.append((0, str(error)[:80]))
                self.failed_at.append(sent)
            self.done += 1

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        self.thread.join(15)


def test_an_app_deploys_to_the_swarm_spread_over_both_nodes_and_redeploys_without_a_failed_request(
    platform, swarm, tmp_path
):
    manager = Engine(swarm.manager_socket)
    platform.dokku("scheduler-swarm:set", "--global", "manager-socket", swarm.manager_socket)
    already = platform.dokku("scheduler-swarm:initialize")
    assert "manages a swarm already" in already.stdout
    nodes = json.loads(platform.dokku("scheduler-swarm:nodes", "--format", "json").stdout)
    assert sorted((node["hostname"], node["role"], node["status"]) for node in nodes) == [
        ("node1", "manager", "ready"),
        ("node2", "worker", "ready"),
    ]
    joining = platform.dokku("scheduler-swarm:join-token", "worker").stdout.strip()
    assert joining.startswith("docker swarm join --token SWMTKN-") and joining.endswith("10.77.0.11:2377"), joining
    refused = platform.dokku("scheduler-swarm:node-remove", "node1", check=False)
    assert refused.returncode == 1 and "is a manager" in refused.stderr, refused.stderr
    refused = platform.dokku("scheduler-swarm:node-remove", "node2", check=False)
    assert refused.returncode == 1 and "--force" in refused.stderr, refused.stderr
    platform.dokku("registry:set", "--global", "server", swarm.registry)
    platform.dokku("apps:create", APP)
    platform.dokku("scheduler:set", APP, "selected", "swarm")
    assert platform.dokku("scheduler:report", APP, "--scheduler-computed-selected").stdout.strip() == "swarm"
    platform.dokku("ps:scale", "--skip-deploy", APP, "web=2")
    platform.dokku("config:set", "--no-restart", APP, "DOKKU_WAIT_TO_RETIRE=1")

    repo = busybox_app(tmp_path, APP, "first")
    pushed = platform.push(repo, APP)
    assert pushed.returncode == 0, pushed.stderr
    assert "-----> Pushing image to registry" in pushed.stderr
    wait_until_serving(platform, HOST, "first")
    (service,) = services(manager, platform)
    assert service["Spec"]["Mode"]["Replicated"]["Replicas"] == 2
    assert service["Spec"]["TaskTemplate"]["ContainerSpec"]["Image"].startswith(f"{swarm.registry}/")
    assert "@sha256:" in service["Spec"]["TaskTemplate"]["ContainerSpec"]["Image"], "run by a moving tag"
    tasks = running_tasks(manager, service)
    assert len({task["NodeID"] for task in tasks}) == 2, "both replicas on one node"
    report = platform.dokku("ps:report", APP, "--processes").stdout.strip()
    assert report == "2", report
    # logs read through the manager, from both nodes; run goes on this host, in the same image
    shown = platform.dokku("logs", APP, "--quiet").stdout.splitlines()
    assert sorted(line for line in shown if line.startswith("started")) == ["started web.1", "started web.2"]
    ran = platform.dokku("run", APP, "/bin/busybox", "cat", "/www/index.html")
    assert ran.stdout == "first", ran.stdout
    assert not Engine().list_containers({labels.APP: f"{platform.settings()['NAMESPACE']}{APP}"}), "ran here too"

    (repo / "www" / "index.html").write_text("second")
    git(repo, "commit", "-qam", "second")
    with Load(platform, ("first", "second")) as load:
        assert platform.push(repo, APP).returncode == 0
        wait_until_serving(platform, HOST, "second")
        time.sleep(1)
    assert load.done > 20 and load.failed == [], (load.done, load.failed[:5])
    (service,) = wait_for(
        lambda: len(services(manager, platform)) == 1 and services(manager, platform), 30, "old service gone"
    )
    assert service["Spec"]["Labels"][labels.RELEASE] == "v2"

    # a release whose check fails is rolled back by itself: the old one serves on
    (repo / "app.json").write_text(json.dumps({"healthchecks": {"web": [{"type": "startup", "path": "/missing"}]}}))
    (repo / "www" / "index.html").write_text("third")
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "failing check")
    failed = platform.push(repo, APP)
    assert failed.returncode != 0 and "/missing" in failed.stderr, failed.stderr
    assert platform.get(HOST) == (200, "second")
    wait_for(lambda: len(services(manager, platform)) == 1, 30, "the failed release's service gone")

    platform.dokku("ps:scale", APP, "web=1")
    (service,) = wait_for(
        lambda: len(services(manager, platform)) == 1 and services(manager, platform), 30, "one service"
    )
    assert service["Spec"]["Mode"]["Replicated"]["Replicas"] == 1
    assert platform.get(HOST) == (200, "second")

    platform.dokku("releases:rollback", APP, "v1")
    wait_until_serving(platform, HOST, "first")

    # back to this host, without downtime: a local container serves, the services go
    platform.dokku("scheduler:set", APP, "selected", "docker-local")
    with Load(platform, ("first",)) as load:
        platform.dokku("ps:restart", APP)
        time.sleep(1)
    assert load.done > 20 and load.failed == [], (load.done, load.failed[:5])
    local = f"{platform.settings()['NAMESPACE']}{APP}"
    assert [c["State"] for c in Engine().list_containers({labels.APP: local})] == ["running"]
    wait_for(lambda: not services(manager, platform), 30, "the services gone once the app moved back")
    wait_for(lambda: not selection.may_be_on_swarm(Store(platform.root), APP), 10, "the app known to have left")
    assert platform.get(HOST) == (200, "first")
    platform.dokku("scheduler:set", APP, "selected", "swarm")
    platform.dokku("ps:restart", APP)
    wait_for(lambda: len(services(manager, platform)) == 1, 30, "on the swarm again")

    platform.dokku("apps:destroy", APP, "--force")
    wait_for(lambda: not services(manager, platform), 30, "services gone with the app")


def test_when_a_node_is_lost_its_tasks_run_on_the_other_and_nginx_follows_them(platform, swarm, tmp_path):
    manager = Engine(swarm.manager_socket)
    platform.dokku("scheduler-swarm:set", "--global", "manager-socket", swarm.manager_socket)
    platform.dokku("registry:set", "--global", "server", swarm.registry)
    platform.dokku("scheduler:set", "--global", "selected", "swarm")
    platform.dokku("apps:create", APP)
    platform.dokku("ps:scale", "--skip-deploy", APP, "web=2")
    assert platform.push(busybox_app(tmp_path, APP, "first"), APP).returncode == 0
    wait_until_serving(platform, HOST, "first")
    node2 = next(node["ID"] for node in manager.nodes() if node["Description"]["Hostname"] == "node2")
    site = platform.root / APP / "nginx.conf"
    assert "10.77.0.12:" in site.read_text(), "no replica on node2"

    # enter: a task on the manager's node through its engine, one on node2 once its socket is named
    entered = [platform.dokku("enter", APP, dyno, "/bin/busybox", "cat", "/www/index.html", check=False)
               for dyno in ("web.1", "web.2")]  # fmt: skip
    assert sorted(e.returncode for e in entered) == [0, 1], [e.stderr for e in entered]
    assert any("node-sockets node2=SOCKET" in e.stderr for e in entered)
    platform.dokku("scheduler-swarm:set", "--global", "node-sockets", f"node2={swarm.worker_socket}")
    for dyno in ("web.1", "web.2"):
        assert platform.dokku("enter", APP, dyno, "/bin/busybox", "cat", "/www/index.html").stdout == "first"

    try:
        with Load(platform, ("first",)) as load:
            time.sleep(1)
            cut = time.monotonic()
            swarm.partition("node2")
            wait_for(lambda: manager.inspect_node(node2)["Status"]["State"] == "down", 30, "node2 seen down")
            detected = time.monotonic()
            wait_for(lambda: "10.77.0.12:" not in site.read_text() and site.read_text().count("10.77.0.11:") >= 2,
                     60, "nginx sent to two tasks on node1")  # fmt: skip
            recovered = time.monotonic()
            time.sleep(2)
    finally:
        swarm.heal("node2")  # waits until the manager has it Ready again
    assert manager.inspect_node(node2)["Status"]["State"] == "ready"
    print(
        f"node loss: seen down after {detected - cut:.1f} s, both tasks served from node1 after "
        f"{recovered - cut:.1f} s; {load.done} requests, {len(load.failed)} failed "
        f"{[(round(sent - cut, 2), why) for sent, why in zip(load.failed_at, load.failed)][:3]}"
    )
    assert load.done > 50
    assert all(sent < detected for sent in load.failed_at), "requests failed after the swarm saw the node down"
    assert platform.get(HOST) == (200, "first")
