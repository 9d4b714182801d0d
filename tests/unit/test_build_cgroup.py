"""The parent cgroup of Dockerfile builds: its name per cgroup driver, its pids limit read from a
sysfs tree (a temp dir laid out as /sys/fs/cgroup), and the refusal of a tenant's build without it."""

from pathlib import Path, PurePosixPath

import pytest

from minidokku.build import build_cgroup
from minidokku.build.builders import dockerfile
from minidokku.errors import BuildFailed, ValidationError


def cgroup(sysfs: Path, relative: str, pids_max: str = "") -> None:
    directory = sysfs / relative
    directory.mkdir(parents=True)
    if pids_max:
        (directory / "pids.max").write_text(pids_max + "\n")


def test_cgroup_v1_cgroupfs_reads_pids_max_in_the_pids_hierarchy(tmp_path):
    cgroup(tmp_path, "pids/minidokku-builds", "2048")

    parent = build_cgroup.locate("minidokku-builds", "cgroupfs", "1", sysfs=tmp_path)

    assert parent == build_cgroup.Parent("/minidokku-builds", tmp_path / "pids/minidokku-builds", True, 2048)


def test_cgroup_v2_cgroupfs_reads_pids_max_in_the_unified_hierarchy(tmp_path):
    cgroup(tmp_path, "minidokku-builds", "64")

    parent = build_cgroup.locate("minidokku-builds", "cgroupfs", "2", sysfs=tmp_path)

    assert (parent.cgroupparent, parent.exists, parent.pids) == ("/minidokku-builds", True, 64)


def test_cgroup_v2_systemd_names_a_slice_found_inside_its_dash_parents(tmp_path):
    cgroup(tmp_path, "minidokku.slice")
    cgroup(tmp_path, "minidokku.slice/minidokku-builds.slice", "2048")

    parent = build_cgroup.locate("minidokku-builds", "systemd", "2", sysfs=tmp_path)

    assert parent.cgroupparent == "minidokku-builds.slice"
    assert parent.directory == tmp_path / "minidokku.slice/minidokku-builds.slice"
    assert (parent.exists, parent.pids) == (True, 2048)
    assert build_cgroup.locate("minidokku-builds.slice", "systemd", "2", sysfs=tmp_path) == parent


def test_slice_paths_follow_systemds_nesting():
    assert build_cgroup.slice_path("builds.slice") == PurePosixPath("builds.slice")
    assert build_cgroup.slice_path("a-b-c.slice") == PurePosixPath("a.slice/a-b.slice/a-b-c.slice")


def test_an_unlimited_parent_has_no_limit_unless_an_ancestor_bounds_it(tmp_path):
    cgroup(tmp_path, "pids/outer", "max")
    cgroup(tmp_path, "pids/outer/builds", "max")
    assert build_cgroup.pids_limit(tmp_path / "pids", PurePosixPath("outer/builds")) is None

    (tmp_path / "pids/outer/pids.max").write_text("100\n")
    (tmp_path / "pids/outer/builds/pids.max").write_text("300\n")
    assert build_cgroup.pids_limit(tmp_path / "pids", PurePosixPath("outer/builds")) == 100


def test_a_missing_parent_is_not_there_and_has_no_limit(tmp_path):
    parent = build_cgroup.locate("minidokku-builds", "cgroupfs", "1", sysfs=tmp_path)

    assert (parent.exists, parent.pids) == (False, None)


@pytest.mark.parametrize("name", ["../etc", "a/b", "", "-a", "a b", "a--b", ".slice"])
def test_a_name_that_is_no_cgroup_name_is_refused(tmp_path, name):
    with pytest.raises(ValidationError, match="BUILD_CGROUP"):
        build_cgroup.locate(name, "cgroupfs", "1", sysfs=tmp_path)


LIMITED = build_cgroup.Parent("/minidokku-builds", Path("/sys/fs/cgroup/pids/minidokku-builds"), True, 2048)
UNLIMITED = build_cgroup.Parent("/minidokku-builds", Path("/sys/fs/cgroup/pids/minidokku-builds"), True, None)
MISSING = build_cgroup.Parent("/minidokku-builds", Path("/sys/fs/cgroup/pids/minidokku-builds"), False, None)


@pytest.mark.parametrize("tenant", [True, False])
def test_every_build_runs_under_a_limited_parent(tenant):
    assert dockerfile.parent_parameters(LIMITED, "app", tenant) == {"cgroupparent": "/minidokku-builds"}


@pytest.mark.parametrize("parent, problem", [(MISSING, "is missing"), (UNLIMITED, "has no pids limit")])
def test_a_tenants_build_without_a_limited_parent_is_refused_saying_how_to_prepare_it(parent, problem):
    with pytest.raises(BuildFailed) as refused:
        dockerfile.parent_parameters(parent, "tenant-app", tenant=True)

    message = str(refused.value)
    assert f"/sys/fs/cgroup/pids/minidokku-builds {problem}" in message
    assert "re-running install.sh as root" in message and "\n" not in message


def test_an_admin_apps_build_uses_the_parent_when_it_is_there_and_builds_without_it_otherwise():
    assert dockerfile.parent_parameters(UNLIMITED, "app", tenant=False) == {"cgroupparent": "/minidokku-builds"}
    assert dockerfile.parent_parameters(MISSING, "app", tenant=False) == {}
