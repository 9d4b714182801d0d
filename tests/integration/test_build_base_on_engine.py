"""A buildpack build starts from the app's build base (minidokku/build/builders/build_base.py), on
the real engine: the python virtualenv of the last install is reused in place, nothing else of an
earlier push survives, a dependency change starts again from the stack image, and the base goes
with repo:purge-cache and apps:destroy. envecho has no dependencies: no build here needs PyPI."""

import pytest
from helpers import APPS, git, make_git_repo

from minidokku.errors import EngineNotFound
from minidokku.runtime import labels

APP = "envecho"
REUSED = "-----> Reusing installed dependencies (requirements.txt unchanged)"
INSTALLED = "-----> Installing dependencies with pip"


def commit_and_push(platform, repo, message: str) -> str:
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", message)
    pushed = platform.push(repo, APP)
    assert pushed.returncode == 0, pushed.stderr
    return pushed.stderr


def image(platform, engine, tag: str) -> dict:
    return engine.inspect_image(f"dokku/{platform.settings()['NAMESPACE']}{APP}:{tag}")


def no_base(platform, engine) -> bool:
    with pytest.raises(EngineNotFound):
        image(platform, engine, "build-base")
    return True


def files_in_app(platform) -> list[str]:
    return platform.dokku("run", APP, "ls", "-A", "/app").stdout.split()


def test_code_pushes_build_on_the_base_and_a_dependency_change_starts_again_from_the_stack(platform, engine, tmp_path):
    repo = make_git_repo(tmp_path / APP, APPS / APP)
    (repo / "old.txt").write_text("only in the first push\n")
    first = commit_and_push(platform, repo, "with old.txt")
    assert INSTALLED in first
    base = image(platform, engine, "build-base")
    assert base["Id"] == image(platform, engine, "latest")["Id"]
    stack_id = engine.inspect_image("minidokku/stack:latest")["Id"]
    assert base["Parent"] == stack_id

    git(repo, "rm", "-q", "old.txt")
    (repo / "new.txt").write_text("a code-only change\n")
    assert REUSED in commit_and_push(platform, repo, "old.txt gone, new.txt added")
    on_base = image(platform, engine, "latest")
    assert on_base["Parent"] == base["Id"]
    assert on_base["Size"] - base["Size"] < 100_000, "the new layer holds the code, not the virtualenv again"
    listing = files_in_app(platform)
    assert "new.txt" in listing and "old.txt" not in listing
    assert image(platform, engine, "build-base")["Id"] == base["Id"]

    (repo / "requirements.txt").write_text("# no dependencies, said another way\n")
    assert INSTALLED in commit_and_push(platform, repo, "a dependency change")
    assert image(platform, engine, "latest")["Parent"] == base["Id"]
    assert no_base(platform, engine), "a base built on would grow a layer at each dependency change"

    (repo / "new.txt").write_text("another code-only change\n")
    assert REUSED in commit_and_push(platform, repo, "code only, from the stack image")  # the cache's copy
    latest = image(platform, engine, "latest")
    assert (latest["Parent"], image(platform, engine, "build-base")["Id"]) == (stack_id, latest["Id"])

    platform.dokku("repo:purge-cache", APP)
    assert no_base(platform, engine)
    platform.dokku("apps:destroy", APP, "--force")
    app_label = {labels.APP: f"{platform.settings()['NAMESPACE']}{APP}"}
    left = engine.list_images(app_label, dangling=False) + engine.list_images(app_label, dangling=True)
    assert left == [], "a former base stays after the last image built on it"


def test_a_dependency_change_drops_a_base_that_only_its_own_tag_names(platform, engine, tmp_path):
    """With one release kept, the base's vN goes at the next push: the build container made from
    the base must go before the base's last tag can."""
    with (platform.root / "SETTINGS").open("a") as settings:
        settings.write("export KEEP_RELEASES='1'\n")
    repo = make_git_repo(tmp_path / APP, APPS / APP)
    assert platform.push(repo, APP).returncode == 0
    base = image(platform, engine, "build-base")
    (repo / "new.txt").write_text("a code-only change\n")
    assert REUSED in commit_and_push(platform, repo, "code only")
    assert image(platform, engine, "build-base")["RepoTags"] == [
        f"dokku/{platform.settings()['NAMESPACE']}{APP}:build-base"
    ]

    (repo / "requirements.txt").write_text("# no dependencies, said another way\n")
    output = commit_and_push(platform, repo, "a dependency change")
    assert INSTALLED in output and "build base" not in output
    assert no_base(platform, engine)
    (repo / "new.txt").write_text("another code-only change\n")
    commit_and_push(platform, repo, "code only again")
    assert image(platform, engine, "build-base")["Id"] == image(platform, engine, "latest")["Id"] != base["Id"]


def test_a_pushed_heroku_folder_never_passes_for_the_kept_virtualenv(platform, engine, tmp_path):
    repo = make_git_repo(tmp_path / APP, APPS / APP)
    assert platform.push(repo, APP).returncode == 0
    key = platform.dokku("run", APP, "cat", "/app/.heroku/venv/.dependencies-key").stdout.strip()
    assert len(key) == 64

    planted = repo / ".heroku" / "venv"
    planted.mkdir(parents=True)
    (planted / ".dependencies-key").write_text(key + "\n")
    (planted / "planted.txt").write_text("the pushed tree's own virtualenv\n")
    assert REUSED in commit_and_push(platform, repo, "a .heroku of its own")

    venv = platform.dokku("run", APP, "ls", "-A", "/app/.heroku/venv").stdout.split()
    assert "planted.txt" not in venv, "the pushed virtualenv was taken for the installed one"
    assert "bin" in venv and ".dependencies-key" in venv


def test_a_push_no_buildpack_reuses_the_virtualenv_for_leaves_none_and_drops_the_base(platform, engine, tmp_path):
    repo = make_git_repo(tmp_path / APP, APPS / APP)
    assert platform.push(repo, APP).returncode == 0
    git(repo, "rm", "-q", "requirements.txt")
    (repo / ".null").write_text("")  # the null buildpack's, after python's in the order: no python now
    (repo / "Procfile").write_text("web: python3 app.py\n")  # the stack's python, as no virtualenv is there
    commit_and_push(platform, repo, "no python dependencies any more")
    assert ".heroku" not in files_in_app(platform)
    assert no_base(platform, engine)


def test_a_first_push_leaves_the_build_clean_up_until_traffic_moved_and_ends_after_it(platform, engine, tmp_path):
    """The engine's walk over the build container's files (for the base) slowed the new
    container's start when both ran at once: ops/deploy.py holds it back (runtime/at_once.py), and
    the push ends only once it is done. (Slowed by the start, the walk used to end after the
    switch too: the order seen here is what the hold guarantees, not what tells the two apart.)"""
    repo = make_git_repo(tmp_path / APP, APPS / APP)
    platform.dokku("trace:on")
    try:
        pushed = platform.push(repo, APP)
    finally:
        platform.dokku("trace:off")
    assert pushed.returncode == 0, pushed.stderr
    said = pushed.stderr
    assert said.index("Traffic moved") < said.index("/changes 200"), said
    assert image(platform, engine, "build-base")["Id"] == image(platform, engine, "latest")["Id"]
    built_by_it = {labels.APP: f"{platform.settings()['NAMESPACE']}{APP}", labels.ROLE: labels.BUILD_ROLE}
    assert engine.list_containers(built_by_it, all_states=True) == [], "the build container outlived the push"
