"""ps:restore's choice of the containers that serve the recorded release after a crash or a reboot
(processes.serving_set): every other container of the app goes."""

from minidokku.ops.processes import serving_set
from minidokku.runtime.docker_scheduler import Container

WEB = {"web.1", "web.2"}


def container(name: str, release: str = "v2", running: bool = True) -> Container:
    return Container(id=name, name=f"app.{name}", process_type=name.split(".")[0], host_port=None,
                     running=running, release=release)  # fmt: skip


def test_the_settled_containers_of_the_release_serve_on():
    settled = [container("web.1"), container("web.2")]
    assert serving_set(settled, "v2", WEB) == settled


def test_a_killed_deploys_new_containers_lose_to_the_recorded_release():
    recorded = [container("web.1", "v2"), container("web.2", "v2")]
    killed = [container("web.1.upcoming-aa", "v3"), container("web.2.upcoming-bb", "v3")]
    assert serving_set(killed + recorded, "v2", WEB) == recorded


def test_a_recorded_release_that_was_never_renamed_is_kept_over_the_old_one():
    """Killed after the release was recorded, before the old containers moved aside."""
    old = [container("web.1", "v1"), container("web.2", "v1")]
    new = [container("web.1.upcoming-aa", "v2"), container("web.2.upcoming-bb", "v2")]
    assert serving_set(old + new, "v2", WEB) == new


def test_a_restart_killed_midway_keeps_the_settled_containers_of_the_same_release():
    settled = [container("web.1"), container("web.2")]
    fresh = [container("web.1.upcoming-aa"), container("web.2.upcoming-bb")]
    assert serving_set(fresh + settled, "v2", WEB) == settled


def test_a_running_container_is_kept_over_a_stopped_one_of_the_same_dyno():
    stopped, running = container("web.1", running=False), container("web.1.upcoming-aa")
    assert serving_set([stopped, running], "v2", {"web.1"}) == [stopped]  # the settled name wins first
    assert serving_set([container("web.1.upcoming-bb", running=False), running], "v2", {"web.1"}) == [running]


def test_retiring_containers_and_dynos_beyond_the_scale_are_never_kept():
    retiring = container("web.1.retiring-aa")
    assert serving_set([retiring], "v2", {"web.1"}) is None
    assert serving_set([container("web.1"), container("web.3")], "v2", {"web.1"}) == [container("web.1")]


def test_a_missing_dyno_means_the_release_is_deployed_again():
    assert serving_set([container("web.1")], "v2", WEB) is None
    assert serving_set([container("web.1", "v1"), container("web.2", "v1")], "v2", WEB) is None
