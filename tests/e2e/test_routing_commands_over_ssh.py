"""The routing read-outs over ssh on a deployed app, as a Dokku user's script drives them: urls
and url follow its domains and certificate, domains:reset brings it back to its default name
(it answers there and no longer at its own), certs:show prints what nginx serves, and
nginx:access-logs shows the requests nginx answered, following new ones with -t."""

import subprocess
import threading
import time

from helpers import APPS, make_git_repo, wait_until_serving

APP = "routes"
HOST = f"{APP}.example.test"


def test_urls_follow_domains_and_certificate_and_reset_returns_to_the_default_name(platform, ssh_client, tmp_path):
    repo = make_git_repo(tmp_path / APP, APPS / "dockerfile-hello")
    pushed = ssh_client.push(repo, APP)
    assert pushed.returncode == 0, pushed.stdout + pushed.stderr
    wait_until_serving(platform, HOST, "", prefix=True, timeout=15)
    http, https = platform.http_port, platform.https_port

    assert ssh_client.ssh("url", APP).stdout == f"http://{HOST}:{http}\n"
    assert ssh_client.ssh("domains:set", APP, "cats.test", "www.cats.test").returncode == 0
    wait_until_serving(platform, "cats.test", "", prefix=True, timeout=15)
    assert ssh_client.ssh("urls", APP).stdout == f"http://cats.test:{http}\nhttp://www.cats.test:{http}\n"

    reset = ssh_client.ssh("domains:reset", APP)
    assert reset.returncode == 0, reset.stderr
    assert f"Reset domains for {APP}" in reset.stdout
    wait_until_serving(platform, HOST, "", prefix=True, timeout=15)
    assert platform.get("cats.test")[1] != platform.get(HOST)[1]
    assert ssh_client.ssh("urls", APP).stdout == f"http://{HOST}:{http}\n"

    assert ssh_client.ssh("certs:generate", APP, HOST).returncode == 0
    assert ssh_client.ssh("urls", APP).stdout == f"https://{HOST}:{https}\nhttp://{HOST}:{http}\n"
    shown = ssh_client.ssh("certs:show", APP, "crt")
    assert shown.stdout == (platform.root / APP / "tls" / "server.crt").read_text()
    assert ssh_client.ssh("certs:remove", APP).returncode == 0


def test_access_logs_show_and_follow_the_requests_nginx_answered(platform, ssh_client, tmp_path):
    repo = make_git_repo(tmp_path / APP, APPS / "dockerfile-hello")
    if not (platform.root / APP / "HEAD").is_file():
        pushed = ssh_client.push(repo, APP)
        assert pushed.returncode == 0, pushed.stdout + pushed.stderr
    wait_until_serving(platform, HOST, "", prefix=True, timeout=15)
    platform.get(HOST, "/seen-before")

    shown = ssh_client.ssh("nginx:access-logs", APP)
    assert shown.returncode == 0, shown.stderr
    assert "GET /seen-before " in shown.stdout

    follower = subprocess.Popen(
        [*ssh_client.ssh_command, "root@127.0.0.1", "nginx:access-logs", APP, "-t"],
        stdout=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        text=True,
    )
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.extend(follower.stdout), daemon=True)
    reader.start()
    try:
        deadline = time.monotonic() + 15
        while not any("GET /seen-while-following " in line for line in lines):
            assert time.monotonic() < deadline, lines
            platform.get(HOST, "/seen-while-following")
            time.sleep(0.5)
    finally:
        follower.terminate()
        follower.wait(timeout=10)


def test_proxy_clear_config_stops_serving_until_build_config(platform, ssh_client, tmp_path):
    repo = make_git_repo(tmp_path / APP, APPS / "dockerfile-hello")
    if not (platform.root / APP / "HEAD").is_file():
        pushed = ssh_client.push(repo, APP)
        assert pushed.returncode == 0, pushed.stdout + pushed.stderr
    wait_until_serving(platform, HOST, "", prefix=True, timeout=15)
    _status, page = platform.get(HOST)

    cleared = ssh_client.ssh("proxy:clear-config", APP)

    assert cleared.returncode == 0, cleared.stderr
    assert f"`dokku proxy:build-config {APP}`" in cleared.stdout
    assert not (platform.root / APP / "nginx.conf").exists()
    deadline = time.monotonic() + 15
    while platform.get(HOST) == (200, page):
        assert time.monotonic() < deadline, "still served after proxy:clear-config"
        time.sleep(0.2)
    assert ssh_client.ssh("proxy:build-config", APP).returncode == 0
    wait_until_serving(platform, HOST, page, timeout=15)
