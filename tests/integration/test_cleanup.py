"""`dokku cleanup` against the real engine: what finished containers and dangling images this
root's apps left go; a stopped app's processes, other apps' and everything else on the host stay."""

import contextlib
import secrets

import pytest

from minidokku.errors import EngineError
from minidokku.runtime import labels
from minidokku.runtime.docker_scheduler import PROCESS_ROLE, RUN_ROLE
from minidokku.settings import STACK_REPOSITORY


@pytest.fixture
def made(engine):
    """Containers and images made by the test, removed by id at the end."""
    made = {"containers": [], "images": []}
    yield made
    for container_id in made["containers"]:
        with contextlib.suppress(EngineError):
            engine.remove_container(container_id, force=True)
    for image_id in made["images"]:
        with contextlib.suppress(EngineError):
            engine.remove_image(image_id, force=True)


def finished_container(engine, made, container_labels: dict[str, str], name: str = None) -> str:
    config = {"Image": f"{STACK_REPOSITORY}:latest", "Cmd": ["true"], "Labels": container_labels}
    container_id = engine.create_container(config, name=name)
    made["containers"].append(container_id)
    engine.start_container(container_id)
    assert engine.wait_container(container_id) == 0
    return container_id


def dangling_image(engine, made, container_id: str, repository: str) -> str:
    """Commits the container twice under one tag: the first image loses its name."""
    first = engine.commit(container_id, repository, "latest", {})
    made["images"] += [first, engine.commit(container_id, repository, "latest", {})]
    return first


def container_exists(engine, container_id: str) -> bool:
    with contextlib.suppress(EngineError):
        engine.inspect_container(container_id)
        return True
    return False


def test_cleanup_removes_only_what_this_roots_apps_left(platform, engine, made):
    platform.dokku("apps:create", "tidy")
    ours = platform.settings()["NAMESPACE"] + "tidy"
    stranger = f"test-{secrets.token_hex(3)}-stranger"
    one_off = finished_container(engine, made, {labels.APP: ours, labels.ROLE: RUN_ROLE})
    stopped_web = finished_container(engine, made, {labels.APP: ours, labels.ROLE: PROCESS_ROLE}, f"{ours}.web.1")
    theirs = finished_container(engine, made, {labels.APP: stranger, labels.ROLE: RUN_ROLE})
    unlabelled = finished_container(engine, made, {})
    our_image = dangling_image(engine, made, one_off, f"{ours}-cleanup-test")
    their_image = dangling_image(engine, made, theirs, f"{stranger}-cleanup-test")

    result = platform.dokku("cleanup")

    assert result.stdout == "-----> Cleaning up...\n       tidy: removed 1 container(s), 1 dangling image(s)\n"
    assert not container_exists(engine, one_off) and not engine.image_exists(our_image)
    assert all(container_exists(engine, kept) for kept in (stopped_web, theirs, unlabelled))
    assert engine.image_exists(their_image)
    assert platform.dokku("cleanup", "tidy").stdout == "-----> Cleaning up...\n"  # nothing left to do
