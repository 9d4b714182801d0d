"""The Dockerfile builder: the Engine builds the pushed tree's Dockerfile (its image build API,
with the tree as context), streaming the build's output.

Build args come from `docker-options:add APP build "--build-arg K=V"` and from the app's config
(a Dockerfile sees the ones it declares with ARG); of the other build options, --network and
--add-host apply (the Engine's build API has no mounts). The web process listens on the image's lowest
EXPOSEd TCP port (PORT is set to it), else 5000. Procfile, app.json and CHECKS come from the
pushed tree (build/tree.py); a Procfile without `web` leaves web to the image's own CMD.

The Dockerfile of a tenant's app (granted to a user key) may use only the images
builders/tenant_images.py allows; its options come confined (docker_options.for_phase), so its RUN
steps never run on the host's network.

The Engine's build API has no pids limit: the steps run inside the pids-limited parent cgroup root
prepared (build/build_cgroup.py, the BUILD_CGROUP setting), and a tenant's Dockerfile builds nowhere else
(a RUN fork bomb would otherwise take the host's pids until the build's time limit).
"""

import json

from minidokku.build import build_cgroup, tarball
from minidokku.build.builders import BuildResult, image_processes, image_repository, image_result, tenant_images
from minidokku.build.builders.dockerfile_syntax import base_images
from minidokku.build.tree import SettingsFiles
from minidokku.engine.client import Engine
from minidokku.errors import BuildFailed, EngineError, ValidationError
from minidokku.output import Output
from minidokku.records import procfile, resources
from minidokku.records.docker_options import DockerOptions
from minidokku.runtime import isolation, labels

DOCKERFILE = "Dockerfile"  # the name the engine's build reads, at the context's top
# The engine's error when removing another image pruned the cached step a build stands on (the
# step's image had no other child yet): the same build finds its steps again.
LOST_CACHE_PARENT = "unknown parent image ID"


def build(
    engine: Engine,
    app: str,
    context_tar: bytes,
    files: SettingsFiles,
    build_args: dict[str, str],
    options: DockerOptions,
    out: Output,
    limits: resources.Limits,
    time_limit: int,
    network: str,
    cgroup: str,
    tenant: bool = False,
    path: str = DOCKERFILE,
) -> BuildResult:
    """Builds the Dockerfile of context_tar, its steps bounded by limits and inside the parent
    cgroup called cgroup, cancelled after time_limit seconds; files are the tree's settings
    files (build/tree.py). Its steps run on network unless options name one
    (runtime/isolation.py). A tenant's app (tenant) builds only from the images it may use.
    path is the Dockerfile's in the context (`builder-dockerfile:set dockerfile-path`, checked
    by build/tree.py's tree_path)."""
    text = dockerfile_text(context_tar, path)
    extra = parent_parameters(build_cgroup.for_engine(engine, cgroup), app, tenant)
    if tenant:
        tenant_images.check(engine, text, app)
    else:
        for image in base_images(text):
            _require_image(engine, image)
    tag = f"{image_repository(app)}:latest"
    extra["labels"] = json.dumps({labels.APP: app})
    extra["dockerfile"] = path
    extra["networkmode"] = isolation.network_for(engine, options, network)
    if options.extra_hosts:
        extra["extrahosts"] = ",".join(options.extra_hosts)
    extra.update(resources.build_parameters(limits))
    arguments = dict(build_args, **options.build_args)
    for attempt in range(2):
        try:
            for message in engine.build_image(context_tar, tag, arguments, time_limit=time_limit, **extra):
                for line in message.get("stream", "").splitlines():
                    if line.strip():
                        out.info(line)
            break
        except EngineError as error:
            if attempt == 0 and LOST_CACHE_PARENT in str(error):
                out.info("a cached step was removed with another app's image while this build used it: building again")
                continue
            raise BuildFailed(f"the Dockerfile of {app} failed to build: {error}") from None
    image = engine.inspect_image(tag)
    config = image["Config"] or {}
    declared = procfile.parse(files.procfile) if files.procfile.strip() else {}
    processes = image_processes(declared, config)
    if not processes:
        raise BuildFailed("the image has no CMD and there is no Procfile: nothing to run")
    out.step("Discovering process types")
    out.info(f"Procfile declares types -> {', '.join(processes)}")
    return image_result(image["Id"], processes, files, config)


def parent_parameters(parent: build_cgroup.Parent, app: str, tenant: bool) -> dict[str, str]:
    """The build API's cgroupparent: the parent cgroup when it is there. A tenant's build runs
    only under a parent with a pids limit."""
    if tenant and parent.pids is None:
        problem = "has no pids limit" if parent.exists else "is missing"
        raise BuildFailed(
            f"{app} is a tenant's app, whose Dockerfile builds only under a pids-limited parent cgroup, "
            f"and {parent.directory} {problem}: an admin prepares it by re-running install.sh as root"
        )
    return {"cgroupparent": parent.cgroupparent} if parent.exists else {}


def dockerfile_text(context_tar: bytes, path: str = DOCKERFILE) -> str:
    """The Dockerfile the engine will read (path in the context): the context's own file, not
    the committed one (a link could make the engine read another file than the one checked, and
    a .gitattributes `export-subst` makes `git archive` write another text than the commit
    holds). A link in a folder of path leaves no member at path: refused as missing."""
    try:
        return tarball.read_member(context_tar, path).decode("utf-8", "replace")
    except KeyError:
        raise ValidationError(f"the tree has no {path}") from None
    except ValueError:
        raise ValidationError(f"the {path} must be a file, not a link: commit the file itself") from None


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
