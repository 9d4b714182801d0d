"""The stack image: the Debian base every build and app container starts from.

Debian bookworm with Python 3 and Node.js (Debian's `nodejs`, Node 18) plus npm from the npm
registry's own tarball (self-contained; Debian's `npm` package would add some 350 packages).
Where a registry answers, Debian is pulled and the rest added by an image build. Where none does
(a machine offline, or these test machines), a minimal Debian is debootstrapped here and imported
through the Engine API. Either way the image carries the label VERSION_LABEL=STACK_VERSION and is
tagged STACK_REPOSITORY:latest and :STACK_VERSION; `stack:build` rebuilds it whenever the label
differs from STACK_VERSION, so an install upgraded to a new stack gets it from `make stack`.

A build shows its stages and the time since it began (debootstrap's own phases, the Dockerfile's
steps); every line the programs print goes to a log file (BuildLog), named when the build fails.
"""

import base64
import collections
import contextlib
import hashlib
import io
import os
import re
import shutil
import subprocess
import tarfile
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Optional

from minidokku.build import tarball
from minidokku.engine.client import Engine
from minidokku.errors import EngineError, EngineNotFound, MinidokkuError
from minidokku.output import Output
from minidokku.settings import STACK_REPOSITORY
from minidokku.steps import Stopwatch, waiting

# Bump STACK_VERSION whenever what the image holds changes: every install rebuilds it on its next
# `stack:build`. 1 (unlabelled) was Python only; 2 adds Node.js and npm.
STACK_VERSION = "2"
VERSION_LABEL = "com.minidokku.stack-version"
BUILDING_TAG = "building"  # the new image is tagged latest only once it has passed its smoke test

SUITE = "bookworm"
PACKAGES = ("python3", "python3-venv", "python3-pip", "ca-certificates", "nodejs")
DEFAULT_MIRROR = "http://deb.debian.org/debian"
# npm 10 is the newest npm that runs on bookworm's Node 18 (npm 11 needs Node 20.17).
NPM_VERSION = "10.9.9"
NPM_INTEGRITY = "sha512-1g+6jLQvaIuB4zwvHL7yrXuXcWZwDsCtBX8bbWDqbvJSSr9nPiDDWTHNgwXR27iIcTTW7v3A57hDW9RYv2W4Yg=="
NPM_REGISTRY = "https://registry.npmjs.org"
NPM_HOME = "usr/local/lib/node_modules/npm"
# npm's builtin config (its own npmrc): global installs go under /usr/local, beside npm itself,
# and npm does not ask the registry for a newer npm on every run.
NPM_BUILTIN_CONFIG = b"prefix=/usr/local\nupdate-notifier=false\n"
# What debian:bookworm-slim leaves out (its /etc/dpkg/dpkg.cfg.d/docker), applied to the
# debootstrapped tree too, so both paths give the same small image.
DPKG_SLIM_CONFIG = b"""path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/man/*
path-exclude /usr/share/groff/*
path-exclude /usr/share/info/*
path-exclude /usr/share/lintian/*
path-exclude /usr/share/linda/*
path-exclude /usr/share/locale/*
"""
SLIM_DIRS = ("usr/share/man", "usr/share/groff", "usr/share/info", "usr/share/lintian", "usr/share/linda")
IMAGE_CHANGES = [
    "ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
    "ENV LANG=C.UTF-8",
    f'LABEL {VERSION_LABEL}="{STACK_VERSION}"',
    'CMD ["/bin/bash"]',
]
DOCKERFILE = f"""FROM debian:{SUITE}-slim
RUN apt-get update && apt-get install -y --no-install-recommends {" ".join(PACKAGES)} \\
 && rm -rf /var/lib/apt/lists/* /var/cache/apt/archives/*.deb
ADD npm.tar /
ENV LANG=C.UTF-8
LABEL {VERSION_LABEL}="{STACK_VERSION}"
"""
# debootstrap's phases, by the first word of its `I: ...` lines, as the stages shown
DEBOOTSTRAP_STAGES = {
    "Retrieving": "downloading the packages",
    "Validating": "checking the downloaded packages",
    "Extracting": "extracting the essential packages",
    "Installing": "installing the core packages",
    "Unpacking": "unpacking the packages",
    "Configuring": "configuring the packages",
    "Base": "the base system is installed",
}
SMOKE_TEST = ["/bin/sh", "-c", "python3 --version && echo Node $(node --version) && echo npm $(npm --version)"]


class StackError(MinidokkuError):
    """The stack image could not be made."""


LAST_LINES = 5  # of the log, in the error of a build that failed


class BuildLog:
    """The stack build's output: on out its stages, each with the time since the build began; in
    a log file of its own (mkstemp: root's alone) every line of the programs it runs."""

    def __init__(self, out: Output, stopwatch: Stopwatch):
        self.out = out
        self.stopwatch = stopwatch
        fd, self.path = tempfile.mkstemp(prefix="minidokku-stack-", suffix=".log")
        self.file = os.fdopen(fd, "w", encoding="utf-8")
        self.shown: set[str] = set()
        self.last: collections.deque[str] = collections.deque(maxlen=LAST_LINES)

    def line(self, text: str) -> None:
        self.file.write(text.rstrip("\n") + "\n")
        self.file.flush()
        if text.strip():
            self.last.append(text.strip())

    def stage(self, what: str) -> None:
        """Shows a stage once (the first time it is reached), with the time since the build began."""
        if what not in self.shown:
            self.shown.add(what)
            self.out.info(f"{what} ({self.stopwatch})")

    def close(self, keep: bool) -> None:
        self.file.close()
        if not keep:
            os.unlink(self.path)


def build(engine: Engine, out: Output, force: bool = False) -> str:
    """Makes the stack image unless the current one is of STACK_VERSION (or force); returns its
    latest tag."""
    latest = f"{STACK_REPOSITORY}:latest"
    stopwatch = Stopwatch()
    found = installed_version(engine, latest)
    if found == STACK_VERSION and not force:
        out.info(f"{latest} is stack version {STACK_VERSION} already (use --force to build it again)")
        return latest
    if found is not None and found != STACK_VERSION:
        out.step(f"{latest} is stack version {found or '1 (unlabelled)'}: building version {STACK_VERSION}")
    previous = engine.inspect_image(latest)["Id"] if found is not None else None
    building = f"{STACK_REPOSITORY}:{BUILDING_TAG}"
    npm_layer = npm_tarball_layer(download_npm(out))
    log = BuildLog(out, stopwatch)
    with _naming_the_log_on_failure(log):
        _make_image(engine, log, npm_layer)
    _smoke_test(engine, building, out)
    engine.tag_image(building, STACK_REPOSITORY, "latest")
    engine.tag_image(building, STACK_REPOSITORY, STACK_VERSION)
    engine.remove_image(building)
    if previous and previous != engine.inspect_image(latest)["Id"]:
        _untag_old_versions(engine, previous, out)
    out.step(f"Stack image ready: {latest} and {STACK_REPOSITORY}:{STACK_VERSION} (built in {stopwatch})")
    return latest


@contextlib.contextmanager
def _naming_the_log_on_failure(log: BuildLog) -> Iterator[None]:
    """The log is removed once the block succeeds; kept, and named in the error, when it fails."""
    try:
        yield
    except (MinidokkuError, OSError, subprocess.CalledProcessError) as error:
        log.close(keep=True)
        last = f"; its log ends: {' | '.join(log.last)}" if log.last else ""
        raise StackError(f"{error}{last} (the build's full log: {log.path})") from error
    except BaseException:
        log.close(keep=True)
        raise
    log.close(keep=False)


def _make_image(engine: Engine, log: BuildLog, npm_layer: bytes) -> None:
    """Tags the new image STACK_REPOSITORY:BUILDING_TAG: built on a pulled Debian where a registry
    answers, else debootstrapped and imported."""
    try:
        log.out.step(f"Pulling debian:{SUITE}-slim")
        for _message in engine.pull_image("debian", f"{SUITE}-slim"):
            pass
    except EngineError as error:
        log.out.info(f"no registry answers ({error}); debootstrapping Debian {SUITE} instead")
        _import_debootstrapped(engine, log, npm_layer)
    else:
        _build_from_pulled(engine, log, npm_layer)


def installed_version(engine: Engine, image: str) -> Optional[str]:
    """The stack version label of an image: None when there is no such image, "" when it has
    no label (the stacks made before the label existed)."""
    try:
        config = engine.inspect_image(image).get("Config") or {}
    except EngineNotFound:
        return None
    return (config.get("Labels") or {}).get(VERSION_LABEL, "")


def download_npm(out: Output) -> bytes:
    """npm's own tarball from the npm registry, checked against the pinned integrity."""
    import urllib.request  # here: only stack:build downloads, and it costs every command's start

    url = f"{NPM_REGISTRY}/npm/-/npm-{NPM_VERSION}.tgz"
    out.step(f"Downloading npm {NPM_VERSION} from {NPM_REGISTRY}")
    try:
        with urllib.request.urlopen(url, timeout=60) as response:
            data = response.read()
    except OSError as error:
        raise StackError(f"could not download {url}: {error}") from error
    if integrity(data) != NPM_INTEGRITY:
        raise StackError(f"{url} does not match its pinned integrity {NPM_INTEGRITY}")
    return data


def integrity(data: bytes) -> str:
    """A Subresource Integrity string (npm's `dist.integrity`) of some bytes."""
    return "sha512-" + base64.b64encode(hashlib.sha512(data).digest()).decode()


def npm_tarball_layer(npm_tgz: bytes) -> bytes:
    """A tar to unpack at / that installs npm under /usr/local: the package in NPM_HOME (without
    its docs and man pages), its builtin npmrc and the npm and npx commands in /usr/local/bin."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as layer:
        with tarfile.open(fileobj=io.BytesIO(npm_tgz), mode="r:gz") as source:
            for member in source.getmembers():
                name = _npm_member_name(member.name)
                if name is None or not member.isfile():
                    continue  # folders are made as their files are unpacked
                info = _entry(f"{NPM_HOME}/{name}", tarfile.REGTYPE, 0o755 if member.mode & 0o111 else 0o644)
                info.size = member.size
                layer.addfile(info, source.extractfile(member))
        config = _entry(f"{NPM_HOME}/npmrc", tarfile.REGTYPE, 0o644)
        config.size = len(NPM_BUILTIN_CONFIG)
        layer.addfile(config, io.BytesIO(NPM_BUILTIN_CONFIG))
        for command in ("npm", "npx"):
            link = _entry(f"usr/local/bin/{command}", tarfile.SYMTYPE, 0o777)
            link.linkname = f"../lib/node_modules/npm/bin/{command}-cli.js"
            layer.addfile(link)
    return buffer.getvalue()


def _npm_member_name(name: str) -> Optional[str]:
    """The path inside the npm package of a tarball member (all under `package/`), or None for
    what the image leaves out (docs, man pages) and for anything that is not a plain path."""
    parts = name.split("/")
    if parts[0] != "package" or len(parts) < 2 or any(part in ("", ".", "..") for part in parts[1:]):
        return None
    if parts[1] in ("docs", "man"):
        return None
    return "/".join(parts[1:])


def _entry(name: str, kind: bytes, mode: int) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name.rstrip("/"))
    info.type = kind
    info.mode = mode
    info.mtime = 0
    return info


def _build_from_pulled(engine: Engine, log: BuildLog, npm_layer: bytes) -> None:
    """Shows the Dockerfile's steps (`Step 2/5 : RUN ...`); apt's lines go to the log."""
    log.out.step("Adding Python, Node.js and npm to the image")
    context = tarball.pack({"Dockerfile": (DOCKERFILE.encode(), 0o644), "npm.tar": (npm_layer, 0o644)})
    for message in engine.build_image(io.BytesIO(context), f"{STACK_REPOSITORY}:{BUILDING_TAG}", {}):
        for line in message.get("stream", "").splitlines():
            log.line(line)
            if line.startswith("Step "):
                log.stage(line)


def _import_debootstrapped(engine: Engine, log: BuildLog, npm_layer: bytes) -> None:
    if shutil.which("debootstrap") is None:
        raise StackError("no registry answers and debootstrap is not installed: apt-get install debootstrap")
    with tempfile.TemporaryDirectory(prefix="minidokku-stack-") as directory:
        rootfs = Path(directory) / "rootfs"
        mirror = apt_mirror()
        log.out.step(f"Debootstrapping Debian {SUITE} from {mirror} (about a minute)")
        _run_logged(
            ["debootstrap", "--variant=minbase", f"--include={','.join(PACKAGES)}", SUITE, str(rootfs), mirror], log
        )
        _slim(rootfs)
        log.out.step(f"Adding npm {NPM_VERSION}")
        subprocess.run(["tar", "-x", "-C", str(rootfs)], input=npm_layer, check=True)
        log.out.step("Importing it into Docker")
        with subprocess.Popen(
            ["tar", "--numeric-owner", "-C", str(rootfs), "-cf", "-", "."], stdout=subprocess.PIPE
        ) as tar:
            with waiting(log.out, "the Docker engine to import the image"):
                for _message in engine.import_image(_chunks(tar.stdout), STACK_REPOSITORY, BUILDING_TAG, IMAGE_CHANGES):
                    pass
        if tar.returncode != 0:
            raise StackError(f"tar of the debootstrapped tree failed (exit {tar.returncode})")
        log.stage("imported")


def _slim(rootfs: Path) -> None:
    """Leaves out what debian:bookworm-slim leaves out (docs but their copyright, man pages,
    translations), the downloaded packages and apt's lists; keeps the slim dpkg config so
    packages installed later stay slim too."""
    for cache in ("var/cache/apt/archives", "var/lib/apt/lists", *SLIM_DIRS):
        shutil.rmtree(rootfs / cache, ignore_errors=True)
    for path in (rootfs / "usr/share/locale").glob("*"):
        _remove(path)
    for path in (rootfs / "usr/share/doc").glob("*/*"):
        if path.name != "copyright":
            _remove(path)
    for log in (rootfs / "var/log").glob("*.log"):
        log.unlink()
    (rootfs / "var/lib/apt/lists/partial").mkdir(parents=True)
    (rootfs / "var/cache/apt/archives/partial").mkdir(parents=True)
    (rootfs / "etc/dpkg/dpkg.cfg.d/docker").write_bytes(DPKG_SLIM_CONFIG)


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    else:
        path.unlink()


def _smoke_test(engine: Engine, image: str, out: Output) -> None:
    """Runs python3, node and npm once in the new image before it becomes the stack."""
    container = engine.create_container({"Image": image, "Cmd": SMOKE_TEST})
    try:
        engine.start_container(container)
        status = engine.wait_container(container)
        lines = [line.rstrip() for _stream, line in engine.container_logs(container, follow=False)]
    finally:
        engine.remove_container(container, force=True)
    if status != 0:
        engine.remove_image(image)
        raise StackError(f"the new stack image fails its smoke test (exit {status}): {' / '.join(lines)}")
    out.step(f"The new stack runs {', '.join(lines)}")


def _untag_old_versions(engine: Engine, image_id: str, out: Output) -> None:
    """Takes our repository's tags (e.g. :0.1.0) off the previous stack image, so it is left
    to `docker image prune` once no app image is built on it any more."""
    for tag in engine.inspect_image(image_id).get("RepoTags") or []:
        if tag.startswith(f"{STACK_REPOSITORY}:"):
            try:
                engine.remove_image(tag)
            except EngineError as error:
                out.info(f"could not untag the previous stack image {tag}: {error}")
            else:
                out.info(f"untagged the previous stack image {tag}")


def apt_mirror() -> str:
    """The Debian mirror this machine's apt uses (so a local or proxied mirror is reused)."""
    sources = list(Path("/etc/apt/sources.list.d").glob("*.sources")) + [Path("/etc/apt/sources.list")]
    for source in sources:
        if not source.is_file():
            continue
        text = source.read_text(encoding="utf-8", errors="replace")
        match = re.search(r"^URIs:\s*(\S+/debian)/?\s*$", text, re.MULTILINE) or re.search(
            r"^deb\s+(?:\[[^]]*\]\s+)?(\S+/debian)/?\s+\S+", text, re.MULTILINE
        )
        if match:
            return match.group(1)
    return DEFAULT_MIRROR


def _run_logged(argv: list[str], log: BuildLog) -> None:
    """Runs debootstrap: its lines to the log, its phases (DEBOOTSTRAP_STAGES) shown as stages."""
    with subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True) as process:
        for line in process.stdout:
            log.line(line)
            phase = line[3:].split(" ", 1)[0] if line.startswith("I: ") else ""
            if phase in DEBOOTSTRAP_STAGES:
                log.stage(DEBOOTSTRAP_STAGES[phase])
    if process.returncode != 0:
        raise StackError(f"{argv[0]} failed with exit {process.returncode}")  # the log's last lines: below


def _chunks(stream, size: int = 1 << 20) -> Iterator[bytes]:
    while True:
        chunk = stream.read(size)
        if not chunk:
            return
        yield chunk
