"""The build base's rules (build/builders/build_base.py) against a small engine of images: when a
build may start from it, when a build becomes it, and how former bases go."""

from typing import Optional

from minidokku.build.builders import build_base, remove_former_base, remove_if_unnamed
from minidokku.errors import EngineError, EngineNotFound
from minidokku.runtime import labels

STACK = "sha256:stack"
DIGEST = "d" * 64


class Images:
    """Images by id, with tags and parents, refusing as the engine does to remove one that other
    images build on."""

    def __init__(
        self,
        changes: tuple[str, ...] = (
            "/app",
            "/app/app.py",
            "/tmp",
            "/tmp/build-outcome",
            "/tmp/build-outcome/Procfile",
            "/exec",
        ),
    ):
        self.images: dict[str, dict] = {STACK: self._image(STACK, "", ["minidokku/stack:latest"], None)}
        self.changes = list(changes)  # the build container's
        self.containers = {"build"}

    def container_changes(self, container: str) -> list[str]:
        return self.changes

    def remove_container(self, container: str, force: bool = False) -> None:
        self.containers.discard(container)

    @staticmethod
    def _image(image_id: str, parent: str, tags: list[str], digest: Optional[str]) -> dict:
        found = {labels.BUILDPACKS_DIGEST: digest} if digest else {}
        return {"Id": image_id, "Parent": parent, "RepoTags": tags, "Config": {"Labels": found}}

    def add(self, image_id: str, parent: str = STACK, tags: tuple[str, ...] = (), digest: Optional[str] = DIGEST):
        self.images[image_id] = self._image(image_id, parent, list(tags), digest)

    def _find(self, name: str) -> dict:
        for image in self.images.values():
            if name == image["Id"] or name in image["RepoTags"]:
                return image
        raise EngineNotFound(f"no such image: {name}")

    def inspect_image(self, name: str) -> dict:
        return self._find(name)

    def tag_image(self, name: str, repo: str, tag: str) -> None:
        for image in self.images.values():
            if f"{repo}:{tag}" in image["RepoTags"]:
                image["RepoTags"].remove(f"{repo}:{tag}")
        self._find(name)["RepoTags"].append(f"{repo}:{tag}")

    def remove_image(self, name: str, force: bool = False) -> None:
        image = self._find(name)
        if name in image["RepoTags"]:
            image["RepoTags"].remove(name)
            if image["RepoTags"] or self._children(image["Id"]):
                return
        elif image["RepoTags"] or self._children(image["Id"]):
            raise EngineError(f"conflict: unable to delete {name}")
        del self.images[image["Id"]]

    def _children(self, image_id: str) -> list[str]:
        return [image["Id"] for image in self.images.values() if image["Parent"] == image_id]


BASE = "dokku/catmeow:build-base"


def test_a_build_starts_from_the_base_only_on_the_same_stack_image_and_buildpacks():
    engine = Images()
    assert build_base.usable(engine, "catmeow", STACK, DIGEST) is None  # none yet
    engine.add("sha256:base", tags=(BASE,))
    assert build_base.usable(engine, "catmeow", STACK, DIGEST) == "sha256:base"
    assert build_base.usable(engine, "catmeow", "sha256:newer-stack", DIGEST) is None
    assert build_base.usable(engine, "catmeow", STACK, "e" * 64) is None
    assert build_base.usable(engine, "dogwoof", STACK, DIGEST) is None


def test_a_build_from_the_stack_becomes_the_base_and_the_former_one_goes_with_its_last_image():
    engine = Images()
    engine.add("sha256:base", tags=(BASE, "dokku/catmeow:v1"))
    engine.add("sha256:on-base", parent="sha256:base", tags=("dokku/catmeow:v2",))
    engine.add("sha256:fresh", tags=("dokku/catmeow:v3",))
    build_base.after_build(engine, "catmeow", "build", "sha256:fresh", "k2", base=None, reused=False)
    assert engine.inspect_image(BASE)["Id"] == "sha256:fresh"
    assert "sha256:base" in engine.images  # v1 names it, v2 builds on it

    engine.remove_image("dokku/catmeow:v1")
    remove_former_base(engine, "sha256:base")  # v2 builds on it: the engine refuses
    assert "sha256:base" in engine.images
    engine.remove_image("dokku/catmeow:v2")  # a release beyond the kept ones (the scheduler's remove_images)
    remove_former_base(engine, "sha256:base")
    assert "sha256:base" not in engine.images


def test_removing_the_last_unnamed_image_on_a_former_base_removes_the_base_too():
    engine = Images()
    engine.add("sha256:former-base")
    engine.add("sha256:on-base", parent="sha256:former-base")
    remove_if_unnamed(engine, "sha256:on-base")
    assert set(engine.images) == {STACK}


def test_a_build_that_changed_files_outside_app_never_becomes_the_base():
    engine = Images(changes=("/app", "/app/app.py", "/usr", "/usr/bin", "/usr/bin/find", "/exec"))
    engine.add("sha256:fresh", tags=("dokku/catmeow:v1",))
    build_base.after_build(engine, "catmeow", "build", "sha256:fresh", "k1", base=None, reused=False)
    assert BASE not in engine.images["sha256:fresh"]["RepoTags"]
    assert build_base.only_app_changed(
        ["/app", "/app/.heroku/venv/bin/python", "/tmp", "/tmp/build-outcome/release.yml", "/cache"]
    )
    assert not build_base.only_app_changed(["/app", "/etc", "/etc/ld.so.preload"])
    assert not build_base.only_app_changed(["/tmp/evil"])
    assert not build_base.only_app_changed(["/application"])


def test_a_build_on_the_base_keeps_it_unless_its_dependencies_changed():
    engine = Images()
    engine.add("sha256:base", tags=(BASE,))
    engine.add("sha256:same", parent="sha256:base", tags=("dokku/catmeow:v2",))
    build_base.after_build(engine, "catmeow", "build", "sha256:same", "k1", base="sha256:base", reused=True)
    assert engine.inspect_image(BASE)["Id"] == "sha256:base"

    engine.add("sha256:other-deps", parent="sha256:base", tags=("dokku/catmeow:v3",))
    build_base.after_build(engine, "catmeow", "build", "sha256:other-deps", "k2", base="sha256:base", reused=False)
    assert "sha256:base" in engine.images and BASE not in engine.images["sha256:base"]["RepoTags"]
    assert engine.containers == set(), "the build container, made from the base, goes first"


def test_a_build_without_a_virtualenv_drops_the_base_and_leaves_the_stack_image():
    engine = Images()
    engine.add("sha256:base", tags=(BASE,))
    engine.add("sha256:node-app", tags=("dokku/catmeow:v2",))
    build_base.after_build(engine, "catmeow", "build", "sha256:node-app", "", base=None, reused=False)
    assert "sha256:base" not in engine.images
    assert STACK in engine.images


def test_only_a_buildpack_build_image_is_removed_as_a_former_base():
    engine = Images()
    engine.add("sha256:dockerfile-step", digest=None)  # a Dockerfile build's intermediate image
    engine.add("sha256:former-base")
    remove_former_base(engine, "sha256:dockerfile-step")
    remove_former_base(engine, "sha256:former-base")
    remove_former_base(engine, STACK)
    assert set(engine.images) == {STACK, "sha256:dockerfile-step"}


def test_the_digest_covers_every_path_mode_and_content():
    entries = {"tmp/builder/build": (b"#!/bin/bash\n", 0o755), "exec": (b"x", 0o755)}
    assert build_base.digest(entries) == build_base.digest(dict(reversed(entries.items())))
    assert build_base.digest(entries) != build_base.digest({**entries, "exec": (b"x", 0o644)})
    assert build_base.digest(entries) != build_base.digest({**entries, "exec": (b"y", 0o755)})
