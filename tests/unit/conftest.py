"""Unit tests run without Docker: a command that reaches for the scheduler (taking an app's lock
removes a killed deploy's leftover task containers) gets the in-memory one of fakes.py, and the
Engine socket is a path where nothing answers, so any other call to Docker fails every time
instead of depending on whether this machine's dockerd is up."""

import pytest
from fakes import FakeScheduler


@pytest.fixture(autouse=True)
def no_docker(monkeypatch):
    monkeypatch.setenv("MINIDOKKU_DOCKER_SOCKET", "/nonexistent/minidokku-unit-tests/docker.sock")
    monkeypatch.setattr(
        "minidokku.runtime.docker_scheduler.DockerScheduler", lambda *_engine_network_lock: FakeScheduler([])
    )
