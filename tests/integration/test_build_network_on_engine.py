"""The network namespace an app's buildpack builds share (runtime/build_network.py), on the engine:
the first build starts the app's holder, the next ones join it and still reach PyPI, no other
app's build joins it, and the daemon's idle pass and apps:destroy remove it."""

import contextlib
import threading
import time

import pytest
from helpers import APPS, commit_all, make_git_repo, wait_until_serving

from minidokku.context import Context
from minidokku.engine.client import Engine
from minidokku.errors import EngineNotFound
from minidokku.ops import crond
from minidokku.output import RecordingOutput
from minidokku.runtime import build_network, isolation, labels
from minidokku.settings import Settings

APP = "netbuild"
OTHER = "netbuild-other"


@contextlib.contextmanager
def build_network_modes(engine: Engine, app: str):
    """Yields the list of (NetworkMode, Binds) of each build container of app made within the
    block (a build container lives from before its build until its deploy moved traffic)."""
    seen: dict[str, tuple] = {}
    done = threading.Event()

    def watch():
        while not done.is_set():
            for entry in engine.list_containers({labels.APP: app, labels.ROLE: labels.BUILD_ROLE}):
                if entry["Id"] not in seen:
                    with contextlib.suppress(EngineNotFound):
                        host = engine.inspect_container(entry["Id"])["HostConfig"]
                        seen[entry["Id"]] = (host["NetworkMode"], host.get("Binds") or [])
            time.sleep(0.02)

    modes: list[str] = []
    watcher = threading.Thread(target=watch)
    watcher.start()
    try:
        yield modes
    finally:
        done.set()
        watcher.join()
        modes.extend(seen.values())


def holder(engine: Engine, app: str) -> dict:
    return engine.inspect_container(build_network.holder_name(app))


@pytest.fixture
def ctx(platform, monkeypatch):
    monkeypatch.setenv("DOKKU_ROOT", str(platform.root))
    return Context(Settings.load(), RecordingOutput())


def test_builds_after_the_first_join_the_apps_own_holder_and_reach_pypi(platform, engine, ctx, tmp_path):
    namespace = platform.settings()["NAMESPACE"]
    apps_network = isolation.network_name(namespace)
    repo = make_git_repo(tmp_path / APP, APPS / "catmeow")
    with build_network_modes(engine, namespace + APP) as first:
        assert platform.push(repo, APP).returncode == 0
    assert [mode for mode, _ in first] == [apps_network], "the first build had no holder to join"
    found = holder(engine, namespace + APP)
    assert found["State"]["Running"], found["State"]
    assert set(found["NetworkSettings"]["Networks"]) == {apps_network}
    assert found["Config"]["Labels"][labels.BUILD_NETWORK] == namespace + APP
    assert labels.APP not in found["Config"]["Labels"]
    assert "ALL" in found["HostConfig"]["CapDrop"] and found["HostConfig"]["ReadonlyRootfs"]

    # a requirement the cache lacks: pip fetches it through the holder's namespace
    (repo / "requirements.txt").write_text("flask\nsix\n")
    commit_all(repo, "one more requirement")
    with build_network_modes(engine, namespace + APP) as second:
        pushed = platform.push(repo, APP)
    assert pushed.returncode == 0, pushed.stderr
    [(mode, binds)] = second
    assert mode == f"container:{found['Id']}"
    assert f"{found['HostsPath']}:/etc/hosts:ro" in binds, "a build could change the next one's hosts"
    assert f"{found['ResolvConfPath']}:/etc/resolv.conf:ro" in binds
    wait_until_serving(platform, f"{APP}.example.test", "Cat dreams meow..")

    other = make_git_repo(tmp_path / OTHER, APPS / "catmeow")
    assert platform.push(other, OTHER).returncode == 0
    (other / "catmeow.py").write_text((other / "catmeow.py").read_text() + "# a code-only change\n")
    commit_all(other, "code only")
    with build_network_modes(engine, namespace + OTHER) as others:
        assert platform.push(other, OTHER).returncode == 0
    other_holder = holder(engine, namespace + OTHER)
    assert other_holder["Id"] != found["Id"]
    assert [mode for mode, _ in others] == [f"container:{other_holder['Id']}"], "it joined another app's namespace"

    # the daemon's pass leaves a holder used lately, removes one idle for IDLE seconds
    daemon = crond.Daemon(ctx)
    daemon.retire_expired(time.time())
    assert holder(engine, namespace + APP)["Id"] == found["Id"]
    daemon.retire_expired(time.time() + build_network.IDLE + 60)
    for app in (APP, OTHER):
        with pytest.raises(EngineNotFound):
            holder(engine, namespace + app)
        assert f"{app}: removed its build network" in (platform.root / crond.LOG).read_text()
    wait_until_serving(platform, f"{APP}.example.test", "Cat dreams meow..")


def test_apps_rename_and_apps_destroy_remove_the_holder(platform, engine, tmp_path):
    namespace = platform.settings()["NAMESPACE"]
    repo = make_git_repo(tmp_path / APP, APPS / "catmeow")
    assert platform.push(repo, APP).returncode == 0
    renamed_from = holder(engine, namespace + APP)
    platform.dokku("apps:rename", APP, OTHER)
    with pytest.raises(EngineNotFound):
        holder(engine, namespace + APP)
    (repo / "catmeow.py").write_text((repo / "catmeow.py").read_text() + "# a code-only change\n")
    commit_all(repo, "code only")
    assert platform.push(repo, OTHER).returncode == 0, "the renamed app builds"
    renamed = holder(engine, namespace + OTHER)
    assert renamed["State"]["Running"] and renamed["Id"] != renamed_from["Id"]
    assert (
        renamed["Config"]["Labels"][labels.BUILD_NETWORK_ID]
        == renamed_from["Config"]["Labels"][labels.BUILD_NETWORK_ID]
    )
    platform.dokku("apps:destroy", OTHER, "--force")
    with pytest.raises(EngineNotFound):
        holder(engine, namespace + OTHER)
