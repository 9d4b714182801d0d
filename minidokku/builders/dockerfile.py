"""The Dockerfile builder: the Engine builds the pushed tree's Dockerfile (its image build API,
with the tree as context), streaming the build's output.

Build args come from `docker-options:add APP build "--build-arg K=V"` and from the app's config
(a Dockerfile sees the ones it declares with ARG). The web process listens on the image's lowest
EXPOSEd TCP port (PORT is set to it), else 5000. Procfile, app.json and CHECKS are read from the
pushed tree; a Procfile without `web` leaves web to the image's own CMD.
"""

import json
import re

from minidokku import labels, procfile, resources
from minidokku.builders import BuildResult, image_processes, image_repository, image_result
from minidokku.dockeroptions import DockerOptions
from minidokku.engine.client import Engine
from minidokku.errors import BuildFailed, EngineError
from minidokku.output import Output

FROM_LINE = re.compile(r"^\s*FROM\s+(?:--platform=\S+\s+)?(\S+)(?:\s+AS\s+(\S+))?", re.IGNORECASE)


def base_images(dockerfile: str) -> list[str]:
    """The images the Dockerfile's FROM lines name (not earlier stages, scratch, or ${ARG}s)."""
    stages: set[str] = set()
    images = []
    # an instruction continued with a trailing \ is one line: a `from` inside a RUN is no FROM
    for line in re.sub(r"\\\n", " ", dockerfile).splitlines():
        match = FROM_LINE.match(line)
        if not match:
            continue
        image, stage = match.group(1), match.group(2)
        if image.lower() not in stages and image != "scratch" and "$" not in image:
            images.append(image)
        if stage:
            stages.add(stage.lower())
    return images


def build(
    engine: Engine,
    app: str,
    context_tar: bytes,
    files: dict[str, str],
    build_args: dict[str, str],
    options: DockerOptions,
    out: Output,
    limits: resources.Limits,
    time_limit: int,
) -> BuildResult:
    """Builds the Dockerfile of context_tar, its steps bounded by limits, cancelled after
    time_limit seconds; files holds the tree's Dockerfile, Procfile, app.json and CHECKS texts
    ("" when absent)."""
    for image in base_images(files["Dockerfile"]):
        _require_image(engine, image)
    tag = f"{image_repository(app)}:latest"
    extra = {"labels": json.dumps({labels.APP: app})}
    if options.network:
        extra["networkmode"] = options.network
    extra.update(resources.build_parameters(limits))
    arguments = dict(build_args, **options.build_args)
    try:
        for message in engine.build_image(context_tar, tag, arguments, time_limit=time_limit, **extra):
            for line in message.get("stream", "").splitlines():
                if line.strip():
                    out.info(line)
    except EngineError as error:
        raise BuildFailed(f"the Dockerfile of {app} failed to build: {error}") from None
    image = engine.inspect_image(tag)
    config = image["Config"] or {}
    declared = procfile.parse(files["Procfile"]) if files["Procfile"].strip() else {}
    processes = image_processes(declared, config)
    if not processes:
        raise BuildFailed("the image has no CMD and there is no Procfile: nothing to run")
    out.step("Discovering process types")
    out.info(f"Procfile declares types -> {', '.join(processes)}")
    return image_result(image["Id"], processes, files, config)


def _require_image(engine: Engine, image: str) -> None:
    """A FROM image must be here or pullable; else the build fails saying which one."""
    if engine.image_exists(image):
        return
    try:
        engine.pull(image)
    except EngineError as error:
        raise BuildFailed(
            f"the Dockerfile's FROM {image} is not on this machine and cannot be pulled: {error}"
        ) from None
