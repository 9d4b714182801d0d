"""Routing through a real nginx on loopback: domains, wildcards, TLS with a generated certificate,
nginx settings, port mappings, the proxy switch, and a broken custom template that must not
take anything down."""

import socket
import subprocess

import requests
from helpers import APPS, git, make_git_repo, wait_until_serving


def deploy(platform, tmp_path, app, greeting=None):
    repo = make_git_repo(tmp_path / app, APPS / "headers")
    platform.dokku("apps:create", app)
    if greeting:
        platform.dokku("config:set", "--no-restart", app, f"GREETING={greeting}")
    pushed = platform.push(repo, app)
    assert pushed.returncode == 0, pushed.stderr
    return repo


def https_get(platform, host, path="/"):
    """curl with --resolve: the TLS name (SNI) is the app's domain, the address loopback."""
    result = subprocess.run(
        ["curl", "-sk", "--resolve", f"{host}:{platform.https_port}:127.0.0.1", "-w", "\n%{http_code}",
         f"https://{host}:{platform.https_port}{path}"],
        capture_output=True, text=True, timeout=20,
    )  # fmt: skip
    body, _, status = result.stdout.rpartition("\n")
    return int(status or 0), body


def test_two_apps_answer_only_their_own_names_and_unknown_names_get_404(platform, tmp_path):
    deploy(platform, tmp_path, "left", greeting="left")
    deploy(platform, tmp_path, "right", greeting="right")
    platform.dokku("domains:set", "right", "*.right.test")

    wait_until_serving(platform, "left.example.test", "left\n", prefix=True)
    wait_until_serving(platform, "any.right.test", "right\n", prefix=True)
    assert platform.get("nobody.example.test")[0] == 404
    assert platform.get("right.example.test")[0] == 404, "right's default name went with domains:set"
    taken = platform.dokku("domains:add", "right", "left.example.test", check=False)
    assert taken.returncode != 0 and "left" in taken.stderr


def test_forwarded_headers_reach_the_app(platform, tmp_path):
    deploy(platform, tmp_path, "hdr")
    wait_until_serving(platform, "hdr.example.test", "headers\n", prefix=True)
    body = platform.get("hdr.example.test")[1]
    assert "X-Forwarded-Proto: http\n" in body
    assert f"X-Forwarded-Port: {platform.http_port}\n" in body
    assert "X-Forwarded-For: 127.0.0.1\n" in body
    assert "X-Request-Start: -" not in body


def test_https_with_a_generated_certificate_and_the_redirect(platform, tmp_path):
    deploy(platform, tmp_path, "secure")
    wait_until_serving(platform, "secure.example.test", "headers\n", prefix=True)
    workers = platform.nginx_workers()
    generated = platform.dokku("certs:generate", "secure", "secure.example.test")
    platform.wait_for_reload(workers)
    assert "secure" in generated.stdout

    status, body = https_get(platform, "secure.example.test")
    assert status == 200, body
    assert "X-Forwarded-Proto: https\n" in body
    plain = requests.get(
        f"http://127.0.0.1:{platform.http_port}/path?q=1",
        headers={"Host": "secure.example.test"},
        allow_redirects=False,
        timeout=5,
    )
    assert plain.status_code == 301
    assert plain.headers["Location"] == f"https://secure.example.test:{platform.https_port}/path?q=1"
    acme = platform.get("secure.example.test", "/.well-known/acme-challenge/token")
    assert acme[0] == 200, "ACME's challenge path is served over plain HTTP, not redirected"
    report = platform.dokku("certs:report", "secure").stdout
    assert "secure.example.test" in report
    assert "https://secure.example.test" in platform.dokku("proxy:report", "secure").stdout
    assert f"https://secure.example.test:{platform.https_port}" in platform.dokku("apps:report", "secure").stdout
    assert f"https://secure.example.test:{platform.https_port}" in platform.dokku("domains:report", "secure").stdout
    assert "Strict-Transport-Security" in platform.dokku("nginx:show-config", "secure").stdout


def test_client_max_body_size_gives_413(platform, tmp_path):
    deploy(platform, tmp_path, "upload")
    wait_until_serving(platform, "upload.example.test", "headers\n", prefix=True)
    url = f"http://127.0.0.1:{platform.http_port}/"
    headers = {"Host": "upload.example.test"}
    assert requests.post(url, data=b"x" * 4096, headers=headers, timeout=5).text == "received 4096 bytes\n"

    workers = platform.nginx_workers()
    platform.dokku("nginx:set", "upload", "client-max-body-size", "1k")
    platform.wait_for_reload(workers)
    assert requests.post(url, data=b"x" * 4096, headers=headers, timeout=5).status_code == 413
    bad = platform.dokku("nginx:set", "upload", "client-max-body-size", "1k; evil", check=False)
    assert bad.returncode != 0 and "invalid value" in bad.stderr
    assert "1k" in platform.dokku("nginx:report", "upload").stdout


TEMPLATE = (
    "server {{\n  listen {{{{ LISTEN_PORT }}}};\n  server_name {{{{ SERVER_NAMES }}}};\n{extra}"
    "  location / {{ add_header X-Template yes; proxy_pass http://{{{{ UPSTREAM }}}}; }}\n}}\n"
)


def test_a_template_needs_an_admins_leave_and_a_bad_one_takes_nothing_down(platform, tmp_path):
    deploy(platform, tmp_path, "steady", greeting="steady")
    repo = deploy(platform, tmp_path, "custom", greeting="custom")
    wait_until_serving(platform, "custom.example.test", "custom\n", prefix=True)

    (repo / "nginx.conf.template").write_text(TEMPLATE.format(extra=""))
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "a template")
    pushed = platform.push(repo, "custom")
    assert pushed.returncode == 0, pushed.stderr
    ignored = [line.rstrip() for line in pushed.stderr.splitlines() if "nginx.conf.template" in line]
    assert ignored == [
        "remote:        nginx.conf.template ignored: custom templates are off for custom; an admin turns them "
        "on with `dokku nginx:set custom allow-custom-template true`"
    ]
    assert "X-Template" not in platform.dokku("nginx:show-config", "custom").stdout

    platform.dokku("nginx:set", "custom", "allow-custom-template", "true")
    assert "Allow custom template:      true" in platform.dokku("nginx:report", "custom").stdout
    for extra, error in (
        ("  bogus_directive on;\n", "line 4: 'bogus_directive on' is refused: not a directive a template may use"),
        ("  proxy_read_timeout soon;\n", '"proxy_read_timeout" directive invalid value'),  # nginx's own error
    ):
        (repo / "nginx.conf.template").write_text(TEMPLATE.format(extra=extra))
        git(repo, "commit", "-qam", "a template that is refused")
        pushed = platform.push(repo, "custom")
        assert pushed.returncode != 0
        assert error in pushed.stderr
        assert platform.get("custom.example.test")[1].startswith("custom\n")
        assert platform.get("steady.example.test")[1].startswith("steady\n")

    (repo / "nginx.conf.template").write_text(TEMPLATE.format(extra=""))
    git(repo, "commit", "-qam", "a template that works")
    workers = platform.nginx_workers()
    assert platform.push(repo, "custom").returncode == 0
    platform.wait_for_reload(workers)
    answer = requests.get(f"http://127.0.0.1:{platform.http_port}/", headers={"Host": "custom.example.test"})
    assert answer.headers.get("X-Template") == "yes"
    assert platform.dokku("nginx:validate-config").returncode == 0


def test_port_mappings_and_the_proxy_switch(platform, tmp_path):
    deploy(platform, tmp_path, "mapped")
    extra = platform.http_port + 1 if platform.http_port < 32000 else platform.http_port - 1
    platform.dokku("ports:add", "mapped", f"http:{platform.http_port}:5000", f"http:{extra}:5000")
    wait_until_serving(platform, "mapped.example.test", "headers\n", prefix=True)
    answer = requests.get(f"http://127.0.0.1:{extra}/", headers={"Host": "mapped.example.test"}, timeout=5)
    assert answer.status_code == 200
    assert f"http:{extra}:5000" in platform.dokku("ports:report", "mapped").stdout
    wrong = platform.dokku("ports:add", "mapped", "ftp:21:5000", check=False)
    assert wrong.returncode != 0 and "invalid port mapping" in wrong.stderr
    with socket.socket() as other_program:
        other_program.bind(("127.0.0.1", 0))
        other_program.listen()
        busy = other_program.getsockname()[1]
        refused = platform.dokku("ports:add", "mapped", f"http:{busy}:5000", check=False)
    assert refused.returncode != 0
    assert f"port {busy} is in use by another program on this host; nginx cannot listen there" in refused.stderr
    assert f"http:{busy}:5000" not in platform.dokku("ports:report", "mapped").stdout

    workers = platform.nginx_workers()
    platform.dokku("proxy:disable", "mapped")
    platform.wait_for_reload(workers)
    assert platform.get("mapped.example.test")[0] == 404
    platform.dokku("proxy:enable", "mapped")
    wait_until_serving(platform, "mapped.example.test", "headers\n", prefix=True)
