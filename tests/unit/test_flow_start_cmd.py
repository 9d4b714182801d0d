"""ps:set APP start-cmd and dockerfile-start-cmd on a fake scheduler: the command each process
container starts with, per builder and process type, on a deploy, a restart and a rollback."""

from typing import Optional

import pytest
from fakes import make_flow

from minidokku.build.builders import DOCKERFILE
from minidokku.ops import deploy
from minidokku.records import ps_settings

APP = "cat"
PROCFILE = {"web": "serve --port $PORT", "worker": "work"}


@pytest.fixture
def flow(tmp_path, monkeypatch):
    flow = make_flow(tmp_path / "root", monkeypatch)
    flow.create_app(APP)
    return flow


def commands(flow) -> dict[str, Optional[list[str]]]:
    """The Cmd each running container of the app started with, by process type."""
    return {c.process_type: flow.scheduler.commands[c.id] for c in flow.scheduler.running(APP)}


def restart(flow) -> None:
    with deploy.exclusive(flow.ctx, APP):
        deploy.restart(flow.ctx, APP)


def test_a_buildpack_apps_start_cmd_replaces_every_process_types_command(flow):
    flow.deploy(APP, flow.built("sha256:one", PROCFILE))
    assert commands(flow) == {"web": ["bash", "-c", "serve --port $PORT"], "worker": ["bash", "-c", "work"]}
    ps_settings.set_property(flow.ctx.store, APP, "start-cmd", "gunicorn app:app -b 0.0.0.0:$PORT")
    ps_settings.set_property(flow.ctx.store, APP, "dockerfile-start-cmd", "--not-for-buildpack-apps")
    restart(flow)
    started = ["bash", "-c", "gunicorn app:app -b 0.0.0.0:$PORT"]  # by bash behind /exec, as a Procfile command
    assert commands(flow) == {"web": started, "worker": started}
    ps_settings.set_property(flow.ctx.store, APP, "start-cmd", "")  # cleared: the Procfile's again
    restart(flow)
    assert commands(flow) == {"web": ["bash", "-c", "serve --port $PORT"], "worker": ["bash", "-c", "work"]}


def test_a_dockerfile_apps_dockerfile_start_cmd_is_split_into_words_and_replaces_every_command(flow):
    flow.deploy(APP, flow.built("sha256:one", PROCFILE, builder=DOCKERFILE))
    assert commands(flow) == {"web": ["/bin/sh", "-c", "serve --port $PORT"], "worker": ["/bin/sh", "-c", "work"]}
    ps_settings.set_property(flow.ctx.store, APP, "start-cmd", "not for dockerfile apps")
    ps_settings.set_property(flow.ctx.store, APP, "dockerfile-start-cmd", "--harmony 'server file.js' $PORT")
    restart(flow)
    words = ["--harmony", "server file.js", "$PORT"]  # arguments to the image's ENTRYPOINT, nothing expanded
    assert commands(flow) == {"web": words, "worker": words}


def test_dockerfile_start_cmd_replaces_the_images_own_cmd(flow):
    flow.deploy(APP, flow.built("sha256:one", {"web": ""}, builder=DOCKERFILE))
    assert commands(flow) == {"web": None}  # the image's CMD
    ps_settings.set_property(flow.ctx.store, APP, "dockerfile-start-cmd", "python -m http.server 5000")
    restart(flow)
    assert commands(flow) == {"web": ["python", "-m", "http.server", "5000"]}


def test_a_rollback_runs_the_old_image_with_the_start_cmd_set_now(flow):
    flow.deploy(APP, flow.built("sha256:one", {"web": "old"}))
    flow.deploy(APP, flow.built("sha256:two", {"web": "new"}), sha="b" * 40)
    ps_settings.set_property(flow.ctx.store, APP, "start-cmd", "custom")
    with deploy.exclusive(flow.ctx, APP):
        deploy.rollback(flow.ctx, APP, "v1")
    [web] = flow.scheduler.running(APP)
    assert (flow.scheduler.commands[web.id], web.release) == (["bash", "-c", "custom"], "v3")


def test_a_start_cmd_is_kept_with_its_quotes_and_shown_as_set(flow):
    value = """sh -c 'echo "a  b" && exec "$0"' x"""
    ps_settings.set_property(flow.ctx.store, APP, "dockerfile-start-cmd", value)
    assert ps_settings.get(flow.ctx.store, APP, "dockerfile-start-cmd") == value
    flow.deploy(APP, flow.built("sha256:one", {"web": ""}, builder=DOCKERFILE))
    assert commands(flow) == {"web": ["sh", "-c", 'echo "a  b" && exec "$0"', "x"]}
