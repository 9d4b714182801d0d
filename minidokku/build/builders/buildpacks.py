"""The buildpack builder (Dokku's "herokuish"): Heroku buildpacks inside a stack container.

One build: create a container from the stack image (or the app's build base, build_base.py) with
the per-app cache volume, start it and send it, on its stdin, one tar of the source (at
SOURCE_PREFIX: the driver moves it to /app), the buildpacks, the config (ENV_DIR files) and the
driver script, which it unpacks and runs with its output streamed back on the same connection;
read the Procfile and the release defaults back, and commit the container as the app's image. A
failed build leaves no image and no container behind. The tar goes on stdin, not through the
Engine's archive API: each archive call mounts the container's files for the engine (55 ms of
every build, a tiny tar as much as a large one). app.json and CHECKS are the pushed tree's
(build/tree.py: app.json where `app-json:set appjson-path` says).
"""

import contextlib
import re
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

import minidokku.buildpacks
from minidokku.build import tarball
from minidokku.build.builders import BuildResult, build_base, image_repository, remove_if_unnamed
from minidokku.build.tree import SettingsFiles
from minidokku.engine import streams
from minidokku.engine.client import Engine
from minidokku.errors import BuildFailed, EngineError, EngineNotFound, ValidationError
from minidokku.output import Output
from minidokku.records import appjson, envfile, procfile, resources
from minidokku.records.docker_options import DockerOptions
from minidokku.runtime import at_once, build_network, isolation, labels
from minidokku.steps import waiting

STACK_NAME = "minidokku-bookworm"
REMOVAL_THREAD = "keep the build base, remove the build container"
SENDER_THREAD = "send the build its inputs"
# the build's command: its inputs come on its stdin (_run), owned as the tar says (as the Engine unpacks)
UNPACK_AND_BUILD = "tar -x --numeric-owner -f - -C / && exec /bin/bash /tmp/builder/build"
SCRIPTS = Path(__file__).parent / "scripts"
SOURCE_PREFIX = "tmp/source/"  # where the pushed tree is put; the driver moves it to /app (scripts/build)
RELEASE_ENTRY = re.compile(r"^\s+([A-Za-z0-9_-]+):\s*(.+?)\s*$")
_IMAGE_ENV: list[str] = [
    "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
    "HOME=/app",
    f"STACK={STACK_NAME}",
]


def bundled_buildpacks_dir() -> Path:
    """Where the buildpacks shipped with minidokku are (the repo's buildpacks/ folder)."""
    return Path(minidokku.buildpacks.__file__).parent


def default_order() -> list[str]:
    """Our own buildpacks, in the order they are tried when the app names none (buildpacks/ORDER)."""
    return (bundled_buildpacks_dir() / "ORDER").read_text(encoding="utf-8").split()


def cache_volume(app: str) -> str:
    return f"minidokku-cache-{app}"


@dataclass(frozen=True)
class BuildpackPlan:
    """Which buildpacks build the app: `detect` tries them in order and the first that detects
    builds alone; `given` (the app named them) runs every one, each of which must detect."""

    buildpacks: list[tuple[str, Path]]  # (name, folder on this machine)
    selection: str = "detect"


def bundled_plan() -> BuildpackPlan:
    return BuildpackPlan([(name, bundled_buildpacks_dir() / name) for name in default_order()])


def build(
    engine: Engine,
    app: str,
    source_tar: bytes,
    sha: str,
    config: dict[str, str],
    stack_image: str,
    options: DockerOptions,
    out: Output,
    limits: resources.Limits,
    time_limit: int,
    network: str,
    plan: Optional[BuildpackPlan] = None,
    files: Optional[SettingsFiles] = None,
    network_lock: Optional[Path] = None,
) -> BuildResult:
    """Builds the app in a container bounded by limits, on network unless options name one
    (runtime/isolation.py), stopped after time_limit seconds; files are the tree's settings
    files (its app.json and CHECKS go into the result; None: it has none). With network_lock
    (the app's, runtime/build_network.py), the container joins the namespace its app's builds
    share instead of getting one of its own."""
    try:
        stack_image_id = engine.inspect_image(stack_image)["Id"]
    except EngineNotFound:
        raise BuildFailed(f"the stack image {stack_image} is missing; run `dokku stack:build` as root") from None
    plan = plan or bundled_plan()
    machinery = _machinery(plan)
    built_with = build_base.digest(machinery)
    base = build_base.usable(engine, app, stack_image_id, built_with) if only_ours(plan) else None
    engine.create_volume(cache_volume(app), {labels.APP: app})
    placing = (
        build_network.joined(engine, app, network_lock, options, network, stack_image_id)
        if network_lock
        else contextlib.nullcontext(options)
    )
    with placing as placed:  # until the build has ended and was saved
        container = isolation.create_container(
            engine, _build_container_config(app, base or stack_image, built_with), placed, limits, network
        )
        try:
            inputs = tarball.pack({**machinery, **_build_environment(sha, config, plan)}, source_tar)
            run = _run(engine, container, inputs, out, time_limit)
            if run.expired:
                raise BuildFailed(f"build of {app} ran longer than {time_limit} s (BUILD_TIMEOUT) and was stopped")
            if run.status != 0:
                raise BuildFailed(f"build of {app} failed (the buildpack exited with status {run.status})")
            if not run.inputs_sent:
                raise BuildFailed(
                    f"build of {app} failed: the connection to its container broke before it had its files"
                )
            with waiting(out, "the build container to be saved as the app's image"):
                image_id, processes, outcome = _image_and_processes(engine, container, app)
        except BaseException:
            engine.remove_container(container, force=True)
            raise
    # not on the way to the release: listing the container's changes for the build base and
    # deleting its layer (the whole build) take most of a second each
    at_once.meanwhile(lambda: _settle(engine, app, container, image_id, outcome, base, out), REMOVAL_THREAD)
    out.step("Discovering process types")
    out.info(f"Procfile declares types -> {', '.join(processes)}")
    return BuildResult(
        image_id=image_id,
        processes=processes,
        app_json=appjson.parse(files.app_json if files else ""),
        checks_file=files.checks if files else "",
    )


@dataclass(frozen=True)
class _Run:
    status: int  # the build container's exit status
    expired: bool  # it was stopped at the time limit
    inputs_sent: bool  # all of its inputs were sent and its stdin closed


def _run(engine: Engine, container: str, inputs: bytes, out: Output, time_limit: int) -> _Run:
    """Starts the build container, sends it inputs on its stdin and relays its output until it
    ends, stopping it after time_limit seconds. A thread sends while this one reads: a container
    writing much before it has read all of its stdin would otherwise wait on us as we wait on it.
    A container that ended before it read them all leaves the sender blocked (the engine reads
    no more): the connection is shut, which ends the send. A tar cut short at a member's end
    unpacks without an error: a send that did not end fails the build whatever its status."""
    sent = threading.Event()

    def send() -> None:
        with contextlib.suppress(OSError):  # it ended (or was stopped) before it read them all
            stream.send(inputs)
            stream.close_stdin()
            sent.set()

    with engine.attach_container(container, tty=False) as stream:
        engine.start_container(container)
        with resources.time_limit(time_limit, lambda: _kill(engine, container)) as expired:
            sender = threading.Thread(target=send, name=SENDER_THREAD, daemon=True)
            sender.start()
            try:
                for _stream, line in streams.lines(stream.output()):
                    out.line(line)
            finally:  # the output ended, or the connection broke: either way the send ends too
                stream.shut()
                sender.join()
            status = engine.wait_container(container)
    return _Run(status, expired.is_set(), sent.is_set())


@dataclass(frozen=True)
class _Outcome:
    """What the driver recorded in its outcome folder (scripts/build's record_outcome)."""

    release_yaml: str  # the last buildpack's bin/release output
    procfile: str  # the app's Procfile
    key: str  # the python buildpack's dependencies key ("": no virtualenv)
    reused: bool  # the virtualenv kept from the build base was reused as it was


def _read_outcome(engine: Engine, container: str) -> _Outcome:
    """The driver's outcome folder, in one read (each read mounts the container's files). A
    Procfile that is a link or anything else than a file is refused (a link would be followed
    where it is read); a key that is no file counts as none."""
    try:
        tar = engine.get_archive(container, build_base.OUTCOME)
    except EngineNotFound:
        return _Outcome("", "", "", False)
    files = tarball.top_files(tar, Path(build_base.OUTCOME).name)
    if files.get("Procfile", b"") is None:
        raise ValidationError("Procfile must be a file, not a link: commit the file itself")
    text = {name: (content or b"").decode("utf-8", "replace") for name, content in files.items()}
    key = text.get("dependencies-key", "").strip()
    kept = text.get("kept-dependencies-key", "").strip()
    return _Outcome(text.get("release.yml", ""), text.get("Procfile", ""), key, bool(kept) and kept == key)


def _image_and_processes(engine: Engine, container: str, app: str) -> tuple[str, dict[str, str], _Outcome]:
    """Commits the stopped build container as the app's image while the driver's outcome (the
    Procfile, release defaults and dependencies keys) is read out of it (the Engine calls run at
    once: each waits on the container's layers, not on the other). The image is tagged `latest`
    only when the build has process types; else it is removed and nothing is left of the build."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        read = pool.submit(_read_outcome, engine, container)
        image_id = engine.commit(container, "", "", _image_config())  # failing, the read is waited for
    try:
        outcome = read.result()
        processes = _process_types(outcome.release_yaml, outcome.procfile)
        engine.tag_image(image_id, image_repository(app), "latest")
    except BaseException:
        remove_if_unnamed(engine, image_id)
        raise
    return image_id, processes, outcome


def _settle(
    engine: Engine, app: str, container: str, image_id: str, outcome: _Outcome, base: Optional[str], out: Output
) -> None:
    """Keeps the app's build base up to date (build_base.py), then removes the build container."""
    try:
        build_base.after_build(engine, app, container, image_id, outcome.key, base, outcome.reused)
    except EngineError as error:  # the build stands
        out.info(f"The build base of {app} was left as it was ({error}); `repo:purge-cache` drops it")
    _remove(engine, container)


def _remove(engine: Engine, container: str) -> None:
    with contextlib.suppress(EngineError):  # left: the next deploy removes it (finish_interrupted)
        engine.remove_container(container, force=True)


def _build_container_config(app: str, image: str, built_with: str) -> dict:
    # The container's Env is committed into the image, so it holds only what a running process
    # should see too; the build's own variables travel in /tmp/builder/environment. Its labels
    # go into the image too: built_with is the digest a build base is matched on. A build base
    # has the app's /exec as its entrypoint, which would source the last push's .profile.d before
    # the driver: [""] is the engine's way to say none.
    return {
        "Image": image,
        "Entrypoint": [""],
        "Cmd": ["/bin/bash", "-c", UNPACK_AND_BUILD],
        "OpenStdin": True,
        "StdinOnce": True,  # its stdin ends when we close ours
        "AttachStdin": True,
        "AttachStdout": True,
        "AttachStderr": True,
        "WorkingDir": "/app",
        "Env": list(_IMAGE_ENV),
        "Labels": {labels.APP: app, labels.ROLE: labels.BUILD_ROLE, labels.BUILDPACKS_DIGEST: built_with},
        "HostConfig": {"Binds": [f"{cache_volume(app)}:/cache"]},
    }


def _kill(engine: Engine, container: str) -> None:
    with contextlib.suppress(EngineError):  # it ended meanwhile
        engine.stop_container(container, timeout=0)


def only_ours(plan: BuildpackPlan) -> bool:
    """Whether every buildpack of the plan is one shipped with minidokku (build_base.py)."""
    return all(folder.parent == bundled_buildpacks_dir() for _, folder in plan.buildpacks)


def _folders(plan: BuildpackPlan) -> list[str]:
    # numbered folders keep the order and let two buildpacks share a name
    return [f"/tmp/buildpacks/{index:02d}-{name}" for index, (name, _) in enumerate(plan.buildpacks, start=1)]


def _machinery(plan: BuildpackPlan) -> tarball.Entries:
    """What builds: the buildpacks, the driver and /exec (a build base's digest is theirs)."""
    entries: tarball.Entries = {}
    for folder, (_name, directory) in zip(_folders(plan), plan.buildpacks):
        entries.update(tarball.tree_entries(directory, folder.lstrip("/") + "/"))
    entries["tmp/builder/build"] = ((SCRIPTS / "build").read_bytes(), 0o755)
    entries["exec"] = ((SCRIPTS / "exec").read_bytes(), 0o755)
    return entries


def _build_environment(sha: str, config: dict[str, str], plan: BuildpackPlan) -> tarball.Entries:
    """The build's variables and the config (one ENV_DIR file per var)."""
    build_environment = {
        "SOURCE_VERSION": sha,
        "GIT_REV": sha,
        "BUILDPACKS": " ".join(_folders(plan)),
        "BUILDPACK_SELECTION": plan.selection,
    }
    entries: tarball.Entries = {"tmp/builder/environment": (envfile.render(build_environment).encode(), 0o644)}
    entries["tmp/env/"] = (b"", 0o700)  # an empty ENV_DIR must exist too
    for key, value in config.items():
        entries[f"tmp/env/{key}"] = (value.encode(), 0o600)
    return entries


def _process_types(release_yaml: str, procfile_text: str) -> dict[str, str]:
    """The Procfile's types, with the last buildpack's default_process_types filling gaps."""
    defaults = default_process_types(release_yaml)
    declared = procfile.parse(procfile_text) if procfile_text.strip() else {}
    processes = {**defaults, **declared}
    if not processes:
        raise ValidationError("no process types: add a Procfile (for example `web: python app.py`)")
    return processes


def default_process_types(release_yaml: str) -> dict[str, str]:
    """Reads `default_process_types` out of a buildpack's bin/release YAML (a flat map)."""
    processes: dict[str, str] = {}
    inside = False
    for line in release_yaml.splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        if not line[0].isspace():
            inside = line.split(":", 1)[0].strip() == "default_process_types"
            continue
        match = RELEASE_ENTRY.match(line)
        if inside and match:
            processes[match.group(1)] = _unquote(match.group(2))
    return processes


def _unquote(value: str) -> str:
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
        return value[1:-1]
    return value


def _image_config() -> dict:
    """The committed image runs every process through /exec with the Heroku environment."""
    return {
        "Entrypoint": ["/exec"],
        "Cmd": ["bash"],
        "WorkingDir": "/app",
        "Env": list(_IMAGE_ENV),
    }
