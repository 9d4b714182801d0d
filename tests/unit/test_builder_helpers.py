import io
import tarfile

import pytest

from minidokku.build.builders import (
    DEFAULT_WEB_PORT,
    DOCKERFILE,
    HEROKUISH,
    command_argv,
    exposed_web_port,
    image_processes,
)
from minidokku.build.builders.dockerfile_syntax import base_images
from minidokku.errors import EngineError


# -- command_argv ------------------------------------------------------------------------------
def test_buildpack_images_run_a_command_with_bash():
    assert command_argv(HEROKUISH, "gunicorn app:app -b 0.0.0.0:$PORT") == [
        "bash",
        "-c",
        "gunicorn app:app -b 0.0.0.0:$PORT",
    ]


def test_dockerfile_images_run_a_command_with_sh():
    assert command_argv(DOCKERFILE, "node server.js && echo done") == ["/bin/sh", "-c", "node server.js && echo done"]


def test_an_empty_command_of_a_dockerfile_image_keeps_the_images_cmd():
    assert command_argv(DOCKERFILE, "") is None


# -- exposed_web_port --------------------------------------------------------------------------
@pytest.mark.parametrize("config", [{}, {"ExposedPorts": None}, {"ExposedPorts": {}}])
def test_an_image_that_exposes_nothing_listens_on_5000(config):
    assert DEFAULT_WEB_PORT == 5000
    assert exposed_web_port(config) == 5000


def test_the_lowest_exposed_tcp_port_is_the_web_port():
    config = {"ExposedPorts": {"8080/tcp": {}, "3000/tcp": {}, "9000/tcp": {}}}
    assert exposed_web_port(config) == 3000


def test_udp_ports_are_not_web_ports():
    assert exposed_web_port({"ExposedPorts": {"53/udp": {}, "8080/tcp": {}}}) == 8080
    assert exposed_web_port({"ExposedPorts": {"53/udp": {}}}) == 5000


# -- image_processes ---------------------------------------------------------------------------
def test_without_a_web_type_web_runs_the_images_cmd_first():
    processes = image_processes({"worker": "python worker.py"}, {"Cmd": ["python", "app.py"]})
    assert processes == {"web": "", "worker": "python worker.py"}
    assert list(processes) == ["web", "worker"]


def test_an_entrypoint_alone_also_gives_a_web_process():
    assert image_processes({}, {"Cmd": None, "Entrypoint": ["/docker-entrypoint.sh"]}) == {"web": ""}


def test_a_procfile_web_type_is_kept():
    declared = {"web": "node server.js", "worker": "node worker.js"}
    assert image_processes(declared, {"Cmd": ["node", "index.js"]}) == declared


def test_no_cmd_and_no_procfile_gives_nothing_to_run():
    assert image_processes({}, {}) == {}
    assert image_processes({}, {"Cmd": None, "Entrypoint": None}) == {}
    assert image_processes({}, {"Cmd": [], "Entrypoint": []}) == {}


def test_without_a_cmd_the_procfile_types_are_all_there_is():
    assert image_processes({"worker": "run"}, {"Cmd": None}) == {"worker": "run"}


def test_image_processes_does_not_change_the_declared_dict():
    declared = {"web": "serve"}
    processes = image_processes(declared, {"Cmd": ["x"]})
    processes["other"] = "y"
    assert declared == {"web": "serve"}


# -- base_images -------------------------------------------------------------------------------
def test_a_single_from_is_the_base_image():
    assert base_images("FROM python:3.12-slim\nRUN pip install flask\nCMD python app.py\n") == ["python:3.12-slim"]


def test_a_no_dockerfile_text_has_no_base_images():
    assert base_images("") == []
    assert base_images("# FROM python:3.12\nRUN echo from here\n") == []


def test_a_later_from_naming_an_earlier_stage_is_not_a_base_image():
    dockerfile = (
        "FROM golang:1.22 AS build\n"
        "RUN go build -o /app .\n"
        "FROM build AS test\n"
        "RUN go test ./...\n"
        "FROM debian:bookworm-slim\n"
        "COPY --from=build /app /app\n"
    )
    assert base_images(dockerfile) == ["golang:1.22", "debian:bookworm-slim"]


def test_stage_names_and_keywords_are_case_insensitive():
    dockerfile = "from node:20 as Deps\nRUN npm ci\nFrom DEPS\nfRoM alpine:3.20 As final\n"
    assert base_images(dockerfile) == ["node:20", "alpine:3.20"]


def test_scratch_is_not_a_base_image():
    assert base_images("FROM golang:1.22 AS build\nFROM scratch\nCOPY --from=build /app /app\n") == ["golang:1.22"]


def test_a_platform_flag_is_skipped():
    dockerfile = "FROM --platform=$BUILDPLATFORM golang:1.22 AS build\nFROM --platform=linux/amd64 alpine:3.20\n"
    assert base_images(dockerfile) == ["golang:1.22", "alpine:3.20"]


def test_images_named_by_build_args_are_skipped():
    dockerfile = "ARG BASE=python:3.12\nFROM ${BASE}\nFROM $OTHER AS x\nFROM registry.example.com:5000/team/app:1\n"
    assert base_images(dockerfile) == ["registry.example.com:5000/team/app:1"]


def test_indented_from_lines_count_and_repeated_images_are_each_listed():
    dockerfile = "  FROM python:3.12 AS a\n\tFROM python:3.12 AS b\n"
    assert base_images(dockerfile) == ["python:3.12", "python:3.12"]


def test_a_from_inside_a_continued_run_line_is_not_a_base_image():
    dockerfile = 'FROM python:3.12\nRUN python -c "\\\n    from app import main; main()"\n'
    assert base_images(dockerfile) == ["python:3.12"]


# -- dockerfile.build: the engine's lost-cache-parent race --------------------------------------
class RacingEngine:
    """An engine whose first build fails as Docker's does when removing another app's image pruned
    the cached step the build stands on; failures: how many builds fail so."""

    def __init__(self, failures: int):
        self.failures = failures
        self.builds = 0

    def info(self):
        return {"CgroupDriver": "cgroupfs", "CgroupVersion": "2"}

    def image_exists(self, image):
        return True

    def build_image(self, context, tag, arguments, time_limit, **extra):
        self.builds += 1
        yield {"stream": "Step 1/2 : FROM minidokku/stack:latest\n"}
        if self.builds <= self.failures:
            raise EngineError("unknown parent image ID sha256:7f60eb240a35")
        yield {"stream": "Successfully built 1234\n"}

    def inspect_image(self, tag):
        return {"Id": "sha256:1234", "Config": {"Cmd": ["python3", "-m", "http.server"], "ExposedPorts": {}}}


def build_with(engine, monkeypatch):
    from minidokku.build.builders import dockerfile
    from minidokku.build.tree import SettingsFiles
    from minidokku.output import RecordingOutput
    from minidokku.records.docker_options import DockerOptions
    from minidokku.records.resources import Limits

    context = io.BytesIO()
    with tarfile.open(fileobj=context, mode="w") as tar:
        text = b"FROM minidokku/stack:latest\nCMD python3 -m http.server\n"
        member = tarfile.TarInfo("Dockerfile")
        member.size = len(text)
        tar.addfile(member, io.BytesIO(text))
    monkeypatch.setattr(dockerfile.isolation, "network_for", lambda engine, options, network: network)
    out = RecordingOutput()
    result = dockerfile.build(
        engine, "app", context.getvalue(), SettingsFiles(), {}, DockerOptions(), out, Limits(0, 0, 0), 60, "net", "cg"
    )
    return result, out.lines


def test_a_build_whose_cached_step_another_removal_pruned_builds_again(monkeypatch):
    engine = RacingEngine(failures=1)
    result, lines = build_with(engine, monkeypatch)
    assert engine.builds == 2 and result.image_id == "sha256:1234"
    assert any("building again" in line for line in lines)


def test_a_build_that_loses_its_cached_step_twice_fails_with_the_engines_error(monkeypatch):
    from minidokku.errors import BuildFailed

    engine = RacingEngine(failures=2)
    with pytest.raises(BuildFailed, match="unknown parent image ID"):
        build_with(engine, monkeypatch)
    assert engine.builds == 2
