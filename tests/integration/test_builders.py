"""Builders and buildpack choice on the real engine: the Dockerfile builder, buildpacks named by
URL (local git repos here), their order, deploys from an image and from an archive, and the bad
inputs each of them must refuse while the old release keeps serving."""

import io
import tarfile
from pathlib import Path

from helpers import APPS, git, make_git_repo, wait_until_serving

from minidokku.build import tarball


def buildpack_repo(path: Path, name: str, compile_body: str, detect: str = "true", release: str = "") -> str:
    """A buildpack in its own git repo (tagged v1); returns its file:// URL."""
    files = {
        "bin/detect": f"#!/usr/bin/env bash\n{detect} || exit 1\necho {name}\n",
        "bin/compile": f"#!/usr/bin/env bash\nset -e\n{compile_body}\n",
        "bin/release": f"#!/usr/bin/env bash\necho '---'\n{release}\n",
    }
    for relative, text in files.items():
        (path / relative).parent.mkdir(parents=True, exist_ok=True)
        (path / relative).write_text(text)
        (path / relative).chmod(0o755)
    git(path, "init", "-q", "-b", "main")
    git(path, "add", "-A")
    git(path, "commit", "-qm", name)
    git(path, "tag", "v1")
    return f"file://{path}"


def app_repo(path: Path, files: dict) -> Path:
    path.mkdir()
    for relative, text in files.items():
        (path / relative).write_text(text)
    git(path, "init", "-q", "-b", "main")
    git(path, "add", "-A")
    git(path, "commit", "-qm", "app")
    return path


SERVE = "web: python3 -m http.server $PORT --directory /app/site\n"


def test_dockerfile_app_builds_with_build_args_and_serves_on_its_exposed_port(platform, tmp_path):
    repo = make_git_repo(tmp_path / "hello", APPS / "dockerfile-hello")
    platform.dokku("apps:create", "hello")
    platform.dokku("docker-options:add", "hello", "build", "--build-arg GREETING=hi")
    platform.dokku("config:set", "hello", "FROM_CONFIG=configured")

    pushed = platform.push(repo, "hello")

    assert pushed.returncode == 0, pushed.stderr
    assert "Building with the Dockerfile" in pushed.stderr
    assert "Procfile declares types -> web, worker" in pushed.stderr
    wait_until_serving(platform, "hello.example.test", "hi and configured on 12\n")
    assert '"web_port": 8080' in (platform.root / "hello" / "releases" / "v1.json").read_text()


def test_a_failing_dockerfile_or_a_missing_base_image_is_refused_and_the_old_release_serves(platform, tmp_path):
    repo = make_git_repo(tmp_path / "hello", APPS / "dockerfile-hello")
    assert platform.push(repo, "hello").returncode == 0
    wait_until_serving(platform, "hello.example.test", "unset and unset on 12\n")
    dockerfile = repo / "Dockerfile"
    original = dockerfile.read_text()

    dockerfile.write_text(original.replace("EXPOSE 8080", "RUN echo breaking && exit 7\nEXPOSE 8080"))
    git(repo, "commit", "-qam", "a RUN that fails")
    failed = platform.push(repo, "hello")
    assert failed.returncode != 0
    assert "the Dockerfile of" in failed.stderr and "failed to build" in failed.stderr

    dockerfile.write_text(original.replace("FROM minidokku/stack:latest", "FROM nosuchimage/anywhere:0.0"))
    git(repo, "commit", "-qam", "a base image nobody has")
    missing = platform.push(repo, "hello")
    assert missing.returncode != 0
    assert "FROM nosuchimage/anywhere:0.0 is not on this machine and cannot be pulled" in missing.stderr

    assert platform.get("hello.example.test") == (200, "unset and unset on 12\n")


def test_builder_set_herokuish_ignores_the_dockerfile(platform, tmp_path):
    repo = app_repo(
        tmp_path / "both",
        {"Dockerfile": "FROM nosuchimage\n", "requirements.txt": "", "Procfile": SERVE.replace("/app/site", "/app")},
    )
    (repo / "index.html").write_text("built by buildpacks")
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "page")
    platform.dokku("apps:create", "both")
    platform.dokku("builder:set", "both", "selected", "herokuish")

    pushed = platform.push(repo, "both")

    assert pushed.returncode == 0, pushed.stderr
    assert "Python app detected" in pushed.stderr
    wait_until_serving(platform, "both.example.test", "built by buildpacks")
    assert "herokuish" in platform.dokku("builder:report", "both").stdout


def test_buildpacks_from_git_urls_run_in_order_and_pass_exports_on(platform, tmp_path):
    first = buildpack_repo(
        tmp_path / "bp-first",
        "First",
        'echo "export FROM_FIRST=exported-by-first" > "$(dirname "$0")/../export"\nmkdir -p "$1/site"',
    )
    second = buildpack_repo(
        tmp_path / "bp-second",
        "Second",
        'echo "$FROM_FIRST, then second" > "$1/site/index.html"',
        release="echo 'default_process_types:'\necho '  web: python3 -m http.server $PORT --directory /app/site'",
    )
    repo = app_repo(tmp_path / "multi", {".buildpacks": f"{first}\n{second}#v1\n", "README": "no app files\n"})

    pushed = platform.push(repo, "multi")

    assert pushed.returncode == 0, pushed.stderr
    output = pushed.stderr
    assert "First app detected" in output and "Second app detected" in output, output
    assert output.index("First app detected") < output.index("Second app detected")
    assert "Buildpacks from .buildpacks" in output
    wait_until_serving(platform, "multi.example.test", "exported-by-first, then second\n")

    platform.dokku("buildpacks:set", "multi", second)
    assert platform.dokku("buildpacks:list", "multi").stdout.strip().endswith(second)
    git(repo, "commit", "-q", "--allow-empty", "-m", "again")
    only_second = platform.push(repo, "multi")
    assert only_second.returncode != 0, "the second alone has no site folder to write into"
    assert "failed to compile" in only_second.stderr
    wait_until_serving(platform, "multi.example.test", "exported-by-first, then second\n")


def test_bad_buildpacks_are_clear_errors_and_the_old_release_serves(platform, tmp_path):
    good = buildpack_repo(tmp_path / "bp-good", "Good", 'mkdir -p "$1/site" && echo good > "$1/site/index.html"')
    repo = app_repo(tmp_path / "bad", {"Procfile": SERVE})
    platform.dokku("apps:create", "bad")
    platform.dokku("buildpacks:add", "bad", good)
    assert platform.push(repo, "bad").returncode == 0
    wait_until_serving(platform, "bad.example.test", "good\n")

    cases = {
        "file:///nonexistent/buildpack.git": "could not fetch the buildpack file:///nonexistent/buildpack.git",
        buildpack_repo(tmp_path / "bp-fails", "Fails", "echo compiling; exit 3"): "failed to compile",
        buildpack_repo(tmp_path / "bp-shy", "Shy", "true", detect="exit 1"): "does not detect this app",
    }
    for url, message in cases.items():
        platform.dokku("buildpacks:set", "bad", url)
        git(repo, "commit", "-q", "--allow-empty", "-m", f"with {url}")
        pushed = platform.push(repo, "bad")
        assert pushed.returncode != 0, url
        assert message in pushed.stderr, pushed.stderr
        assert platform.get("bad.example.test") == (200, "good\n")

    refused = platform.dokku("buildpacks:add", "bad", "--", "--upload-pack=touch /tmp/x", check=False)
    assert refused.returncode != 0 and "unknown buildpack" in refused.stderr


def test_an_app_no_buildpack_detects_is_refused(platform, tmp_path):
    repo = app_repo(tmp_path / "nothing", {"README": "just words\n"})
    pushed = platform.push(repo, "nothing")
    assert pushed.returncode != 0
    assert "no buildpack detects this app" in pushed.stderr


def test_git_from_image_deploys_a_ready_image(platform, engine, tmp_path):
    image = f"{platform.settings()['NAMESPACE']}ready:1"
    context = tarball.pack(
        {
            "Dockerfile": (
                b"FROM minidokku/stack:latest\nRUN mkdir /site && echo ready > /site/index.html\nEXPOSE 9000\n"
                b'CMD ["python3", "-m", "http.server", "9000", "--directory", "/site"]\n',
                0o644,
            )
        }
    )
    for _ in engine.build_image(io.BytesIO(context), image, {}):
        pass
    try:
        platform.dokku("apps:create", "ready")
        deployed = platform.dokku("git:from-image", "ready", image)
        assert "Application deployed" in deployed.stdout
        wait_until_serving(platform, "ready.example.test", "ready\n")
        missing = platform.dokku("git:from-image", "ready", "nosuch/image:9", check=False)
        assert missing.returncode != 0 and "nosuch/image:9 is not on this machine" in missing.stderr
        assert platform.get("ready.example.test") == (200, "ready\n")
    finally:
        platform.dokku("apps:destroy", "ready", "--force", check=False)
        engine.remove_image(image, force=True)


def test_git_from_archive_commits_the_tarball_and_deploys_it(platform, tmp_path):
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for path in sorted((APPS / "procs").iterdir()):
            tar.add(path, arcname=f"procs-main/{path.name}")  # one top folder, as GitHub's tarballs
    platform.dokku("apps:create", "arch")

    deployed = platform.dokku("git:from-archive", "arch", "-", input=buffer.getvalue(), check=False)

    assert deployed.returncode == 0, deployed.stderr
    wait_until_serving(platform, "arch.example.test", "hello from web.1")
    head = git(platform.root / "arch", "log", "-1", "--format=%s", "main").stdout.strip()
    assert head == "Deploy of stdin"
    assert git(platform.root / "arch", "cat-file", "-e", "main:app.py", check=False).returncode == 0

    evil = io.BytesIO()
    with tarfile.open(fileobj=evil, mode="w") as tar:
        info = tarfile.TarInfo("../outside.txt")
        info.size = 1
        tar.addfile(info, io.BytesIO(b"x"))
    refused = platform.dokku("git:from-archive", "arch", "-", input=evil.getvalue(), check=False)
    assert refused.returncode != 0 and "unsafe path" in refused.stderr
    assert not (platform.root / "outside.txt").exists()
