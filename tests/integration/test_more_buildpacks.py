"""The Node.js, static and Procfile-only buildpacks: real builds on the real engine behind a real
nginx, pushed over git's local transport (same hook as ssh). Node apps install from the npm
registry (the platform fixture's build option gives builds the host's network)."""

import json
import time

from helpers import APPS, git, make_git_repo, wait_until_serving


def push(platform, repo, app) -> str:
    pushed = platform.push(repo, app)
    assert pushed.returncode == 0, pushed.stderr
    return pushed.stderr


def commit(repo, message: str) -> None:
    git(repo, "commit", "-q", "-am", message)


def get_from_the_app(platform, host: str, path: str, timeout: float = 5) -> tuple:
    """GET until the app answers rather than nginx's default server (an nginx worker of before the
    reload may still take a request for a moment, see wait_until_serving)."""
    deadline = time.monotonic() + timeout
    while True:
        status, body = platform.get(host, path)
        if "<center>nginx" not in body or time.monotonic() > deadline:
            return status, body
        time.sleep(0.1)


def test_express_app_builds_and_a_code_only_push_reuses_its_installed_dependencies(platform, tmp_path):
    repo = make_git_repo(tmp_path / "express", APPS / "node-express")
    host = "express.example.test"

    output = push(platform, repo, "express")

    assert "Node.js app detected" in output
    assert "Using Node.js 18." in output and "(engines.node: >=18)" in output
    assert "Installing dependencies with npm (package-lock.json)" in output
    assert "Running build" in output and "Pruning devDependencies" in output
    assert "Procfile declares types -> web" in output, "no Procfile: the start script is the web process"
    wait_until_serving(platform, host, "hello from express on web.1")
    assert get_from_the_app(platform, host, "/built") == (200, "built with is-number: true\n"), "the build ran"
    assert get_from_the_app(platform, host, "/runtime") == (200, "NODE_ENV=production is-number=false"), "pruned"

    server = repo / "server.js"
    server.write_text(server.read_text().replace("hello from express", "hi from express"))
    commit(repo, "Only code changes")
    output = push(platform, repo, "express")

    assert "Reusing installed dependencies (package-lock.json unchanged)" in output
    assert "Installing dependencies" not in output
    wait_until_serving(platform, host, "hi from express on web.1")


def test_engines_node_the_stack_cannot_satisfy_fails_the_push_and_the_old_release_serves(platform, tmp_path):
    repo = make_git_repo(tmp_path / "plain", APPS / "node-plain")
    host = "plain.example.test"
    output = push(platform, repo, "plain")
    lines = [line.rstrip() for line in output.splitlines()]
    assert "remote: -----> Installing dependencies with npm" in lines, "no lockfile: npm install"
    wait_until_serving(platform, host, "hello from plain node on web.1")

    package_json = repo / "package.json"
    package = json.loads(package_json.read_text())
    package["engines"]["node"] = ">=99"
    package_json.write_text(json.dumps(package, indent=2))
    commit(repo, "Ask for a Node.js from the future")
    rejected = platform.push(repo, "plain")

    assert rejected.returncode != 0
    assert 'engines.node ">=99" in package.json is not satisfied by Node.js 18.' in rejected.stderr
    assert "the only version this stack has" in rejected.stderr
    assert platform.get(host) == (200, "hello from plain node on web.1")


def test_static_site_with_an_index_html_is_served_from_its_root(platform, tmp_path):
    repo = make_git_repo(tmp_path / "site", APPS / "static-site")

    output = push(platform, repo, "site")

    assert "Static app detected" in output
    index = (APPS / "static-site" / "index.html").read_text()
    wait_until_serving(platform, "site.example.test", index)
    wait_until_serving(platform, "site.example.test", "p { color: rebeccapurple; }\n", path="/style.css")


def test_static_marker_with_a_public_folder_serves_only_that_folder(platform, tmp_path):
    repo = make_git_repo(tmp_path / "public", APPS / "static-public")

    push(platform, repo, "public")

    wait_until_serving(platform, "public.example.test", (APPS / "static-public/public/index.html").read_text())
    status, body = get_from_the_app(platform, "public.example.test", "/README.md")
    assert (status, "File not found" in body) == (404, True), "the root is not served, only public/"


def test_procfile_and_shell_script_app_runs_with_the_null_buildpack(platform, tmp_path):
    repo = make_git_repo(tmp_path / "shell", APPS / "shell-serve")
    git(repo, "update-index", "--chmod=-x", "serve.sh")  # committed without the executable bit
    git(repo, "commit", "-q", "--amend", "--no-edit")

    output = push(platform, repo, "shell")

    assert "Procfile-only app detected" in output
    assert "Made executable: serve.sh" in output
    wait_until_serving(platform, "shell.example.test", "hello from a shell script on web.1\n")
