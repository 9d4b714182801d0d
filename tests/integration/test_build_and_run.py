"""The buildpack builder and the scheduler on the real Docker engine."""

import contextlib
import subprocess
import threading

import pytest
import requests
from helpers import APPS, BUILD_NETWORK_OPTION, git, make_git_repo

from minidokku.build import gitrepo
from minidokku.build.builders import build_base, buildpacks
from minidokku.engine.client import Engine
from minidokku.errors import BuildFailed, EngineError, ValidationError
from minidokku.output import RecordingOutput
from minidokku.records import docker_options, resources
from minidokku.records.releases import Release
from minidokku.runtime import checks, labels
from minidokku.runtime.docker_scheduler import DockerScheduler

BUILD_OPTIONS = docker_options.parse([BUILD_NETWORK_OPTION])


def build(engine: Engine, app: str, repo, sha: str, network: str, config=None) -> tuple:
    out = RecordingOutput()
    result = buildpacks.build(
        engine,
        app,
        gitrepo.archive(repo, sha, prefix=buildpacks.SOURCE_PREFIX),
        sha,
        config or {},
        "minidokku/stack:latest",
        BUILD_OPTIONS,
        out,
        limits=resources.BUILD_DEFAULTS,
        time_limit=300,
        network=network,
    )
    return result, out.lines


def test_buildpack_build_makes_an_image_that_serves_catmeow(engine, tmp_path, apps_network):
    app = "it-catmeow"
    repo = make_git_repo(tmp_path / "src", APPS / "catmeow")
    sha = git(repo, "rev-parse", "HEAD").stdout.strip()
    try:
        result, lines = build(engine, app, repo, sha, apps_network)
        assert "-----> Python app detected" in lines
        assert result.processes == {"web": "python catmeow.py"}
        release = Release(1, sha, result.image_id, result.processes, "test", 0.0, config={"MEOW": "1"})
        scheduler = DockerScheduler(engine, apps_network)
        container = scheduler.start(
            app,
            release,
            "web",
            1,
            docker_options.DockerOptions(),
            limits=resources.PROCESS_DEFAULTS,
            command=release.command("web"),
        )
        checks.run_ready(scheduler, [(container, [checks.Check("answers HTTP", listening=True)])])
        assert requests.get(f"http://127.0.0.1:{container.host_port}/", timeout=5).text == "Cat dreams meow.."
        info = engine.inspect_container(container.id)
        assert info["Config"]["Labels"][labels.DYNO] == "web.1"
        assert "PORT=5000" in info["Config"]["Env"] and "MEOW=1" in info["Config"]["Env"]
        assert info["Config"]["Labels"][labels.RELEASE] == "v1"
        assert info["HostConfig"]["RestartPolicy"]["Name"] == "on-failure"
    finally:
        cleanup(engine, app)


def test_unchanged_requirements_are_not_installed_again(engine, tmp_path, apps_network):
    app = "it-cache"
    repo = make_git_repo(tmp_path / "src", APPS / "catmeow")
    try:
        _, first = build(engine, app, repo, git(repo, "rev-parse", "HEAD").stdout.strip(), apps_network)
        assert "-----> Installing dependencies with pip" in first
        (repo / "catmeow.py").write_text((repo / "catmeow.py").read_text() + "# a code-only change\n")
        git(repo, "commit", "-qam", "code only")
        _, second = build(engine, app, repo, git(repo, "rev-parse", "HEAD").stdout.strip(), apps_network)
        assert "-----> Reusing installed dependencies (requirements.txt unchanged)" in second
        assert "-----> Installing dependencies with pip" not in second
    finally:
        cleanup(engine, app)


def test_config_values_reach_the_build_but_not_the_image(engine, tmp_path, apps_network):
    app = "it-secret"
    repo = make_git_repo(tmp_path / "src", APPS / "envecho")
    try:
        result, _ = build(
            engine, app, repo, git(repo, "rev-parse", "HEAD").stdout.strip(), apps_network, {"SECRET": "s3cr3t"}
        )
        image = engine.inspect_image(result.image_id)
        assert not any("s3cr3t" in entry for entry in image["Config"]["Env"])
        listing = subprocess.run(
            ["docker", "run", "--rm", "--entrypoint", "ls", result.image_id, "/tmp"], capture_output=True, text=True
        )
        assert "env" not in listing.stdout.split()
    finally:
        cleanup(engine, app)


def test_a_failing_build_leaves_no_image_and_no_container(engine, tmp_path, apps_network):
    app = "it-broken"
    repo = make_git_repo(tmp_path / "src", APPS / "catmeow")
    (repo / "requirements.txt").write_text("this is not a requirement ===\n")
    git(repo, "commit", "-qam", "broken requirements")
    try:
        with pytest.raises(BuildFailed, match="failed"):
            build(engine, app, repo, git(repo, "rev-parse", "HEAD").stdout.strip(), apps_network)
        assert engine.list_containers({labels.APP: app}) == []
        assert not engine.image_exists(f"dokku/{app}:latest")
    finally:
        cleanup(engine, app)


def test_a_build_without_process_types_leaves_no_image_and_no_container(engine, tmp_path, apps_network):
    app = "it-notypes"
    repo = tmp_path / "src"
    repo.mkdir()
    (repo / "Procfile").write_text("# no process type yet\n")  # the null buildpack detects it
    git(repo, "init", "-q", "-b", "main")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "empty Procfile")
    try:
        with pytest.raises(ValidationError, match="no process types"):
            build(engine, app, repo, git(repo, "rev-parse", "HEAD").stdout.strip(), apps_network)
        assert engine.list_containers({labels.APP: app}) == []
        assert not engine.image_exists(f"dokku/{app}:latest")
        # the image committed while the Procfile was read is gone too, not left dangling
        assert engine.list_images({labels.APP: app}, dangling=True) == []
    finally:
        cleanup(engine, app)


def test_the_build_container_goes_after_the_build_returns(engine, tmp_path, apps_network):
    app = "it-buildgone"
    repo = make_git_repo(tmp_path / "src", APPS / "catmeow")
    try:
        result, _ = build(engine, app, repo, git(repo, "rev-parse", "HEAD").stdout.strip(), apps_network)
        assert engine.image_exists(f"dokku/{app}:latest")
        assert engine.inspect_image(f"dokku/{app}:latest")["Id"] == result.image_id
        wait_for_removals()
        assert engine.list_containers({labels.APP: app, labels.ROLE: "build"}) == []
    finally:
        cleanup(engine, app)


def wait_for_removals() -> None:
    """Waits for the build containers' removals a build leaves running in their own threads."""
    for thread in threading.enumerate():
        if thread.name == buildpacks.REMOVAL_THREAD:
            thread.join()


def cleanup(engine: Engine, app: str) -> None:
    wait_for_removals()
    for entry in engine.list_containers({labels.APP: app}):
        with contextlib.suppress(EngineError):  # removed meanwhile
            engine.remove_container(entry["Id"])
    for tag in ("latest", build_base.TAG):
        if engine.image_exists(f"dokku/{app}:{tag}"):
            engine.remove_image(f"dokku/{app}:{tag}", force=True)
    engine.remove_volume(buildpacks.cache_volume(app))
