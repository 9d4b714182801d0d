"""The stack image without Docker: when it is rebuilt (its version label), the npm layer both build
paths add, the integrity check of npm's tarball, the slimming of the debootstrapped tree, and the
progress a build shows (its stages and time; every line in a log named when it fails)."""

import io
import os
import tarfile
import urllib.request

import pytest

from minidokku.build import stack
from minidokku.errors import EngineError, EngineNotFound
from minidokku.output import RecordingOutput
from minidokku.settings import STACK_REPOSITORY
from minidokku.steps import Stopwatch

LATEST = f"{STACK_REPOSITORY}:latest"


class FakeEngine:
    """Images as tags -> (id, labels); records what was untagged."""

    def __init__(self, images: dict[str, tuple[str, dict]]):
        self.tags = {tag: image_id for tag, (image_id, _labels) in images.items()}
        self.labels = {image_id: labels for image_id, labels in images.values()}
        self.untagged: list[str] = []

    def inspect_image(self, name: str) -> dict:
        image_id = self.tags.get(name, name if name in self.labels else None)
        if image_id is None:
            raise EngineNotFound(f"no such image: {name}", 404)
        tags = sorted(tag for tag, tagged in self.tags.items() if tagged == image_id)
        return {"Id": image_id, "RepoTags": tags, "Config": {"Labels": self.labels[image_id]}}

    def tag_image(self, name: str, repo: str, tag: str) -> None:
        self.tags[f"{repo}:{tag}"] = self.tags[name]

    def remove_image(self, name: str, force: bool = False) -> None:
        del self.tags[name]
        self.untagged.append(name)

    def pull_image(self, image: str, tag: str):
        raise EngineError("no registry answers")


def npm_tgz(members: dict[str, tuple[bytes, int]], symlinks: dict[str, str] = None) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for name, (content, mode) in members.items():
            info = tarfile.TarInfo(name)
            info.size, info.mode, info.uid = len(content), mode, 1000
            tar.addfile(info, io.BytesIO(content))
        for name, target in (symlinks or {}).items():
            info = tarfile.TarInfo(name)
            info.type, info.linkname = tarfile.SYMTYPE, target
            tar.addfile(info)
    return buffer.getvalue()


def test_missing_unlabelled_and_labelled_stacks_have_distinct_versions():
    engine = FakeEngine({LATEST: ("sha256:old", {}), "other:1": ("sha256:new", {stack.VERSION_LABEL: "2"})})

    assert stack.installed_version(engine, "nothing:here") is None
    assert stack.installed_version(engine, LATEST) == ""
    assert stack.installed_version(engine, "other:1") == "2"


def test_a_stack_of_this_version_is_not_built_again():
    engine = FakeEngine({LATEST: ("sha256:current", {stack.VERSION_LABEL: stack.STACK_VERSION})})
    out = RecordingOutput()

    assert stack.build(engine, out) == LATEST

    assert engine.untagged == []
    assert "already" in out.lines[0]


def test_an_older_stack_is_rebuilt_and_loses_its_tags_to_the_new_one(monkeypatch):
    engine = FakeEngine({LATEST: ("sha256:old", {}), f"{STACK_REPOSITORY}:0.1.0": ("sha256:old", {})})
    built = []

    def fake_import(engine_, out, npm_layer):
        built.append(npm_layer)
        engine.labels["sha256:new"] = {stack.VERSION_LABEL: stack.STACK_VERSION}
        engine.tags[f"{STACK_REPOSITORY}:{stack.BUILDING_TAG}"] = "sha256:new"

    monkeypatch.setattr(stack, "download_npm", lambda out: b"npm.tgz")
    monkeypatch.setattr(stack, "npm_tarball_layer", lambda tgz: b"layer of " + tgz)
    monkeypatch.setattr(stack, "_import_debootstrapped", fake_import)
    monkeypatch.setattr(stack, "_smoke_test", lambda engine_, image, out: None)
    out = RecordingOutput()

    stack.build(engine, out)

    assert built == [b"layer of npm.tgz"]
    assert engine.tags == {LATEST: "sha256:new", f"{STACK_REPOSITORY}:{stack.STACK_VERSION}": "sha256:new"}
    assert f"{STACK_REPOSITORY}:0.1.0" in engine.untagged, "the old image is left to `docker image prune`"
    assert f"is stack version 1 (unlabelled): building version {stack.STACK_VERSION}" in out.lines[0]
    assert out.lines[-1].startswith(f"-----> Stack image ready: {LATEST} and ") and out.lines[-1].endswith(" s)")


def test_both_build_paths_label_the_image_and_install_node():
    label = f'LABEL {stack.VERSION_LABEL}="{stack.STACK_VERSION}"'
    assert label in stack.DOCKERFILE and label in stack.IMAGE_CHANGES
    assert "nodejs" in stack.PACKAGES and " ".join(stack.PACKAGES) in stack.DOCKERFILE
    assert "ADD npm.tar /" in stack.DOCKERFILE


def test_npm_layer_puts_npm_under_usr_local_without_docs_and_links_its_commands():
    tgz = npm_tgz(
        {
            "package/package.json": (b"{}", 0o644),
            "package/bin/npm-cli.js": (b"#!/usr/bin/env node\n", 0o755),
            "package/lib/cli.js": (b"", 0o664),
            "package/docs/content/npm.md": (b"docs", 0o644),
            "package/man/man1/npm.1": (b"man", 0o644),
            "package/../../etc/passwd": (b"not this", 0o644),
            "elsewhere/file": (b"nor this", 0o644),
        },
        symlinks={"package/lib/link": "/etc/shadow"},
    )

    with tarfile.open(fileobj=io.BytesIO(stack.npm_tarball_layer(tgz))) as layer:
        members = {member.name: member for member in layer.getmembers()}
        npmrc = layer.extractfile(f"{stack.NPM_HOME}/npmrc").read()

    home = stack.NPM_HOME
    assert sorted(members) == sorted(
        [
            f"{home}/package.json",
            f"{home}/bin/npm-cli.js",
            f"{home}/lib/cli.js",
            f"{home}/npmrc",
            "usr/local/bin/npm",
            "usr/local/bin/npx",
        ]
    )
    assert members[f"{home}/bin/npm-cli.js"].mode == 0o755
    assert members[f"{home}/lib/cli.js"].mode == 0o644
    assert all(member.uid == 0 and member.gid == 0 for member in members.values())
    assert members["usr/local/bin/npm"].issym()
    assert members["usr/local/bin/npm"].linkname == "../lib/node_modules/npm/bin/npm-cli.js"
    assert b"prefix=/usr/local" in npmrc and b"update-notifier=false" in npmrc


def test_integrity_is_npm_s_sha512_format():
    expected = "sha512-z4PhNX7vuL3xVChQ1m2AB9Yg5AULVxXcg/SpIdNs6c5H0NE8XYXysP+DGNKHfuwvY7kxvUdBeoGlODJ6+SfaPg=="
    assert stack.integrity(b"") == expected


def test_a_downloaded_npm_that_does_not_match_its_pinned_integrity_is_refused(monkeypatch):
    monkeypatch.setattr(urllib.request, "urlopen", lambda url, timeout: io.BytesIO(b"tampered"))

    with pytest.raises(stack.StackError, match="does not match its pinned integrity"):
        stack.download_npm(RecordingOutput())


def test_slimming_keeps_copyright_files_and_drops_other_docs_man_pages_and_translations(tmp_path):
    for path in (
        "usr/share/doc/bash/copyright",
        "usr/share/doc/bash/README.gz",
        "usr/share/man/man1/bash.1.gz",
        "usr/share/locale/de/LC_MESSAGES/bash.mo",
        "var/lib/apt/lists/deb.debian.org_InRelease",
        "var/cache/apt/archives/bash.deb",
        "var/log/dpkg.log",
        "etc/dpkg/dpkg.cfg.d/.keep",
    ):
        (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / path).write_text("x")

    stack._slim(tmp_path)

    remaining = sorted(str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*") if p.is_file())
    assert remaining == ["etc/dpkg/dpkg.cfg.d/.keep", "etc/dpkg/dpkg.cfg.d/docker", "usr/share/doc/bash/copyright"]
    assert (tmp_path / "var/lib/apt/lists/partial").is_dir()
    assert "path-exclude /usr/share/man/*" in (tmp_path / "etc/dpkg/dpkg.cfg.d/docker").read_text()


def test_a_stack_labelled_by_an_earlier_minidokku_is_current():
    """The label is on every installed stack image: renaming it would rebuild every stack on upgrade."""
    engine = FakeEngine({LATEST: ("sha256:current", {"com.minidokku.stack-version": stack.STACK_VERSION})})
    assert stack.installed_version(engine, LATEST) == stack.STACK_VERSION


DEBOOTSTRAP_SAYS = [
    "I: Retrieving InRelease",
    "I: Retrieving adduser 3.134",
    "I: Validating adduser 3.134",
    "I: Retrieving bash 5.2.15-2",
    "W: a warning nobody needs to see",
    "I: Validating bash 5.2.15-2",
    "I: Base system installed successfully.",
]


def says(lines: list[str], status: int = 0) -> list[str]:
    """A program printing lines as debootstrap does, then exiting with status."""
    return ["sh", "-c", f'printf "%s\\n" "$@"; exit {status}', "debootstrap", *lines]


def test_debootstrap_shows_its_phases_once_each_with_the_time_and_logs_every_line():
    out = RecordingOutput()
    log = stack.BuildLog(out, Stopwatch())
    with stack._naming_the_log_on_failure(log):
        stack._run_logged(says(DEBOOTSTRAP_SAYS), log)
    assert out.lines == [
        "       downloading the packages (0 s)",
        "       checking the downloaded packages (0 s)",
        "       the base system is installed (0 s)",
    ]
    assert not os.path.exists(log.path), "a build that succeeded leaves no log behind"


def test_a_failed_debootstrap_names_its_last_line_and_the_log_it_kept(tmp_path):
    out = RecordingOutput()
    log = stack.BuildLog(out, Stopwatch())
    failing = says([*DEBOOTSTRAP_SAYS[:3], "E: Couldn't download packages: bash"], status=1)
    try:
        with pytest.raises(stack.StackError) as failed, stack._naming_the_log_on_failure(log):
            stack._run_logged(failing, log)
        assert str(failed.value) == (
            "sh failed with exit 1; its log ends: I: Retrieving InRelease | I: Retrieving adduser 3.134"
            f" | I: Validating adduser 3.134 | E: Couldn't download packages: bash (the build's full log: {log.path})"
        )
        with open(log.path, encoding="utf-8") as kept:
            assert kept.read().splitlines() == [*DEBOOTSTRAP_SAYS[:3], "E: Couldn't download packages: bash"]
    finally:
        os.unlink(log.path)


def test_a_build_on_a_pulled_debian_shows_the_dockerfile_s_steps_only():
    class BuildingEngine:
        def build_image(self, context, tag, build_args):
            yield {"stream": "Step 1/5 : FROM debian:bookworm-slim\n"}
            yield {"stream": " ---> 1234\n"}
            yield {"stream": "Step 2/5 : RUN apt-get update\n"}
            yield {"stream": "Get:1 http://deb.debian.org/debian bookworm InRelease [151 kB]\nReading lists\n"}

    out = RecordingOutput()
    log = stack.BuildLog(out, Stopwatch())
    with stack._naming_the_log_on_failure(log):
        stack._build_from_pulled(BuildingEngine(), log, b"")
    assert out.lines == [
        "-----> Adding Python, Node.js and npm to the image",
        "       Step 1/5 : FROM debian:bookworm-slim (0 s)",
        "       Step 2/5 : RUN apt-get update (0 s)",
    ]


def test_a_failed_build_on_a_pulled_debian_names_the_log_s_last_lines():
    class FailingEngine:
        def build_image(self, context, tag, build_args):
            yield {"stream": "Step 2/5 : RUN apt-get update\n"}
            yield {"stream": "".join(f"line {number}\n" for number in range(1, 8)) + "E: Unable to locate package\n"}
            raise EngineError("The command '/bin/sh -c apt-get update' returned a non-zero code: 100")

    log = stack.BuildLog(RecordingOutput(), Stopwatch())
    try:
        with pytest.raises(stack.StackError) as failed, stack._naming_the_log_on_failure(log):
            stack._build_from_pulled(FailingEngine(), log, b"")
        assert str(failed.value) == (
            "The command '/bin/sh -c apt-get update' returned a non-zero code: 100; its log ends: line 4 | line 5"
            f" | line 6 | line 7 | E: Unable to locate package (the build's full log: {log.path})"
        )
    finally:
        os.unlink(log.path)
