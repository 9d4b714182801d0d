"""The stack image: the Debian base every build and app container starts from.

Where a registry answers, Debian is pulled and Python added by an image build. Where none does
(a machine offline, or these test machines), a minimal Debian is debootstrapped here and imported
through the Engine API. Either way the result is tagged STACK_REPOSITORY:latest and :VERSION.
"""

import io
import re
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

from minidokku import __version__, tarball
from minidokku.engine.client import Engine
from minidokku.errors import EngineError, MinidokkuError
from minidokku.output import Output
from minidokku.settings import STACK_REPOSITORY

SUITE = "bookworm"
PACKAGES = ("python3", "python3-venv", "python3-pip", "ca-certificates")
DEFAULT_MIRROR = "http://deb.debian.org/debian"
IMAGE_CHANGES = [
    "ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
    "ENV LANG=C.UTF-8",
    'CMD ["/bin/bash"]',
]
DOCKERFILE = f"""FROM debian:{SUITE}-slim
RUN apt-get update && apt-get install -y --no-install-recommends {" ".join(PACKAGES)} \\
 && rm -rf /var/lib/apt/lists/*
ENV LANG=C.UTF-8
"""


class StackError(MinidokkuError):
    """The stack image could not be made."""


def build(engine: Engine, out: Output, force: bool = False) -> str:
    """Makes the stack image unless it exists (or force); returns its latest tag."""
    latest = f"{STACK_REPOSITORY}:latest"
    if engine.image_exists(latest) and not force:
        out.info(f"{latest} exists already (use --force to build it again)")
        return latest
    try:
        out.step(f"Pulling debian:{SUITE}-slim")
        for _message in engine.pull_image("debian", f"{SUITE}-slim"):
            pass
    except EngineError as error:
        out.info(f"no registry answers ({error}); debootstrapping Debian {SUITE} instead")
        _import_debootstrapped(engine, out)
    else:
        _build_from_pulled(engine, out)
    engine.tag_image(latest, STACK_REPOSITORY, __version__)
    out.step(f"Stack image ready: {latest} and {STACK_REPOSITORY}:{__version__}")
    return latest


def _build_from_pulled(engine: Engine, out: Output) -> None:
    out.step("Adding Python to the image")
    context = tarball.pack({"Dockerfile": (DOCKERFILE.encode(), 0o644)})
    for message in engine.build_image(io.BytesIO(context), f"{STACK_REPOSITORY}:latest", {}):
        if message.get("stream", "").strip():
            out.info(message["stream"].rstrip())


def _import_debootstrapped(engine: Engine, out: Output) -> None:
    if shutil.which("debootstrap") is None:
        raise StackError("no registry answers and debootstrap is not installed: apt-get install debootstrap")
    with tempfile.TemporaryDirectory(prefix="minidokku-stack-") as directory:
        rootfs = Path(directory) / "rootfs"
        mirror = apt_mirror()
        out.step(f"Debootstrapping Debian {SUITE} from {mirror} (about a minute)")
        _run_streamed(
            ["debootstrap", "--variant=minbase", f"--include={','.join(PACKAGES)}", SUITE, str(rootfs), mirror], out
        )
        for cache in ("var/cache/apt/archives", "var/lib/apt/lists"):
            shutil.rmtree(rootfs / cache, ignore_errors=True)
        out.step("Importing it into Docker")
        with subprocess.Popen(
            ["tar", "--numeric-owner", "-C", str(rootfs), "-cf", "-", "."], stdout=subprocess.PIPE
        ) as tar:
            for _message in engine.import_image(_chunks(tar.stdout), STACK_REPOSITORY, "latest", IMAGE_CHANGES):
                pass
        if tar.returncode != 0:
            raise StackError(f"tar of the debootstrapped tree failed (exit {tar.returncode})")


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


def _run_streamed(argv, out: Output) -> None:
    with subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True) as process:
        for line in process.stdout:
            out.info(line.rstrip())
    if process.returncode != 0:
        raise StackError(f"{argv[0]} failed with exit {process.returncode}")


def _chunks(stream, size: int = 1 << 20) -> Iterator[bytes]:
    while True:
        chunk = stream.read(size)
        if not chunk:
            return
        yield chunk
