"""git:from-image on a fake scheduler and proxy: an image is deployed as it is, its processes from
its CMD and the Procfile in its WORKDIR, web on its lowest EXPOSEd port; a missing one is pulled."""

import pytest
from fakes import make_flow

from minidokku.errors import NotFound, ValidationError
from minidokku.ops import sources
from minidokku.records import releases
from minidokku.runtime.scheduler import Image

APP = "cat"
IMAGE = "registry.example/cat:1.0"
CONFIG = {"Cmd": ["serve"], "WorkingDir": "/srv", "ExposedPorts": {"9000/tcp": {}, "8080/tcp": {}}}


@pytest.fixture
def flow(tmp_path, monkeypatch):
    flow = make_flow(tmp_path / "root", monkeypatch)
    flow.create_app(APP)
    return flow


def test_an_image_runs_its_cmd_as_web_beside_its_procfile_types(flow):
    flow.scheduler.images[IMAGE] = Image("sha256:cat", CONFIG)
    flow.scheduler.images["sha256:cat"] = Image("sha256:cat", CONFIG)
    flow.scheduler.image_texts[(IMAGE, "/srv/Procfile")] = "worker: work\n"
    release = sources.from_image(flow.ctx, APP, IMAGE)
    assert (release.sha, release.image_id, release.web_port) == ("", "sha256:cat", 8080)
    assert release.processes == {"web": "", "worker": "work"}
    assert release.description == f"Deploy image {IMAGE}"
    assert flow.scheduler.tags["dokku/cat:latest"] == "sha256:cat"
    assert flow.scheduler.names(APP) == ["cat.web.1", "cat.worker.1"]
    assert flow.scheduler.web_containers(APP)[0].host_ports.keys() == {8080}
    assert releases.current(flow.ctx.store, APP) == release


def test_a_missing_image_is_pulled_first(flow):
    flow.scheduler.pullable[IMAGE] = Image("sha256:cat", CONFIG)
    flow.scheduler.images["sha256:cat"] = Image("sha256:cat", CONFIG)
    sources.from_image(flow.ctx, APP, IMAGE)
    assert f"-----> Pulling {IMAGE}" in flow.output
    assert releases.current(flow.ctx.store, APP).image_id == "sha256:cat"


def test_an_image_nowhere_to_be_had_is_refused(flow):
    with pytest.raises(NotFound, match=f"the image {IMAGE} is not on this machine"):
        sources.from_image(flow.ctx, APP, IMAGE)
    assert releases.current(flow.ctx.store, APP) is None


def test_an_image_with_nothing_to_run_is_refused(flow):
    flow.scheduler.images[IMAGE] = Image("sha256:cat", {"WorkingDir": "/srv"})
    with pytest.raises(ValidationError, match="has no CMD and no Procfile: nothing to run"):
        sources.from_image(flow.ctx, APP, IMAGE)
    assert flow.scheduler.started == []
