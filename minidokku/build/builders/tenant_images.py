"""Which images the Dockerfile of a tenant's app (one granted to a user key) may build from.

A tenant builds from public images, images an admin put on the machine, the stack image and its
own app's images; never from another app's image (`dokku/OTHER`, or an image labelled with another
app), minidokku's own images besides the stack (`minidokku/postgres`) or a service's. Every image a
FROM, a COPY/ADD --from or an ONBUILD trigger (of the Dockerfile or of a base image) names is
checked before the build, by name and then as the image the engine has under that name:

- names are literal: no `$VARIABLE` (build args and the app's config could otherwise change them
  after the check), no quotes or escapes (the builder would read them differently), only the
  reference grammar (`[registry/]path[:tag][@digest]`);
- the image must carry that name as a tag (or digest): an image id or an id prefix, which reaches
  untagged images such as another app's intermediate build layers, is refused;
- a missing image is pulled only from Docker Hub (no registry the user names, such as one on the
  host's loopback); an admin can pull others first;
- no BuildKit-only syntax (`# syntax=` runs an image of the user's choice, `RUN --mount` can read
  other images or caches) and no `# escape=` after another directive (builders disagree on it);
- ADD takes local files only: the engine itself fetches an ADD URL, from the host's network;
- no LABEL (or ONBUILD LABEL) of minidokku's own (`com.dokku.*`, `com.minidokku.*`) and no
  variable in a label's key: the build's RUN containers carry the image's labels, and a
  `com.dokku.app-name=victim` would make them another app's one-offs or processes;
- only spaces, tabs and line ends (LF, or CRLF) as white space, and no control character: Go (the
  builder) and Python disagree on which characters are white space and where a line ends, and a
  line the two split differently can hide an instruction from this check.
The build then runs with the engine's `pull` off, so the builder meets the images checked here.
"""

import json
import re

from minidokku.build.builders import dockerfile_syntax, image_repository
from minidokku.build.builders.dockerfile_syntax import Dockerfile, ImageUse, Instruction
from minidokku.engine.client import Engine
from minidokku.errors import EngineError, EngineNotFound, PermissionDenied, ValidationError
from minidokku.records import registry
from minidokku.records.docker_options import RESERVED_LABEL_PREFIXES
from minidokku.runtime import labels
from minidokku.settings import STACK_REPOSITORY

_COMPONENT = r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*"
_DOMAIN_PART = r"(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])"
_DOMAIN = rf"{_DOMAIN_PART}(?:\.{_DOMAIN_PART})*(?::[0-9]+)?"
REFERENCE = re.compile(
    rf"^(?:{_DOMAIN}/)?{_COMPONENT}(?:/{_COMPONENT})*"
    r"(?::[\w][\w.-]{0,127})?"
    r"(?:@[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,})?$"
)
DOCKER_HUB = ("docker.io", "index.docker.io")
APPS_NAMESPACE = image_repository("")  # "dokku/": every app's images, on any minidokku or Dokku
OWN_NAMESPACE = STACK_REPOSITORY.split("/")[0] + "/"  # "minidokku/": the stack, the service images
NOT_IN_ADD_SOURCES = re.compile(r"[:$\\`]")  # a URL, a variable, an escape
QUOTES_AND_ESCAPES = re.compile(r"[\"'\\`]")  # what the builder removes from a LABEL's words
# Control characters but tab and line ends, a CR not ending a line, and every other white space.
AMBIGUOUS_CHARACTER = re.compile(
    r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\xa0\u1680\u2000-\u200b\u2028\u2029\u202f\u205f\u3000\ufeff]"
    r"|\r(?!\n)"
)


def check(engine: Engine, text: str, docker_name: str) -> None:
    """Raises unless every image the Dockerfile text uses is one the app may use."""
    _refuse_ambiguous_characters(text.removeprefix("\ufeff"))
    dockerfile = dockerfile_syntax.parse(text)
    for problem in syntax_problems(dockerfile):
        raise ValidationError(f"the Dockerfile of a user key's app {problem}")
    for use in dockerfile_syntax.image_uses(dockerfile):
        where = f"the Dockerfile's {use.instruction} {use.reference} (line {use.line})"
        image = _checked_image(engine, use.reference, where, docker_name)
        if use.instruction == "FROM":
            _check_triggers(engine, use, image, docker_name)


def _refuse_ambiguous_characters(text: str) -> None:
    found = AMBIGUOUS_CHARACTER.search(text)
    if found:
        line = text.count("\n", 0, found.start()) + 1
        raise ValidationError(
            f"the Dockerfile of a user key's app has the character U+{ord(found.group()[0]):04X} on line {line}: "
            "only spaces, tabs and line ends may separate its words, so that the builder reads it as checked"
        )


def syntax_problems(dockerfile: Dockerfile) -> list[str]:
    problems = []
    if "syntax" in dockerfile.directives:
        problems.append("cannot choose its builder (# syntax=): the Dockerfile builder reads it as is")
    if dockerfile.escape_ambiguous:
        problems.append("must put `# escape=` on its first line")
    for instruction in _with_triggers(dockerfile.instructions):
        problems.append(_instruction_problem(instruction))
    return [problem for problem in problems if problem]


def _with_triggers(instructions: list[Instruction]) -> list[Instruction]:
    inner = [dockerfile_syntax.split_instruction(i.line, i.arguments) for i in instructions if i.keyword == "onbuild"]
    return instructions + inner


def _instruction_problem(instruction: Instruction) -> str:
    where = f"(line {instruction.line})"
    if not all(flag.isascii() and flag.isprintable() for flag in instruction.flags):
        # the builder splits flags byte by byte: a byte of a UTF-8 character can end a flag there
        return f"must write the flags of {instruction.keyword.upper()} in plain ASCII {where}"
    if instruction.keyword == "run" and instruction.flags:
        return f"cannot use RUN {' '.join(instruction.flags)} {where}: RUN takes no flags here"
    if instruction.keyword == "add" and any(NOT_IN_ADD_SOURCES.search(word) for word in _words(instruction)):
        return f"can ADD only files of its tree {where}: no URL (the engine would fetch it), variable or escape"
    if instruction.keyword == "label":
        return _label_problem(instruction, where)
    return ""


def _label_problem(instruction: Instruction, where: str) -> str:
    """Its words as the builder reads them, quotes and escapes gone; every word is taken for a
    key (up to its `=`), which refuses more than keys alone (a value's `$HOME` after a space)."""
    for word in QUOTES_AND_ESCAPES.sub("", instruction.arguments).split():
        key = word.partition("=")[0]
        if key.lower().startswith(RESERVED_LABEL_PREFIXES):
            return f"cannot set the label {key[:80]!r} {where}: com.dokku.* and com.minidokku.* are minidokku's own"
        if "$" in key:
            return f"names a label with a variable {where}: a user key's app writes its label keys literally"
    return ""


def _words(instruction: Instruction) -> list[str]:
    """The arguments of an instruction, in its JSON form too."""
    if instruction.arguments.startswith("["):
        try:
            words = json.loads(instruction.arguments)
        except ValueError:
            return [instruction.arguments]
        return [str(word) for word in words] if isinstance(words, list) else [instruction.arguments]
    return instruction.arguments.split()


def name_problem(reference: str, docker_name: str) -> str:
    """Why the app may not use an image of this name ("" when it may, as far as the name says)."""
    if "$" in reference:
        return "names its image with a variable: a user key's app names its images literally"
    if not REFERENCE.match(reference):
        return "is not an image name ([registry/]name[:tag][@digest], no quotes or escapes)"
    return repository_problem(repository(reference), docker_name)


def repository_problem(repository_name: str, docker_name: str) -> str:
    if repository_name.startswith(APPS_NAMESPACE) and repository_name != image_repository(docker_name):
        return "is another app's image"
    if repository_name.startswith(OWN_NAMESPACE) and repository_name != STACK_REPOSITORY:
        return "is one of minidokku's own images (only the stack image is open to apps)"
    return ""


def image_problem(image: dict, reference: str, docker_name: str) -> str:
    """Why the app may not use this image, found under reference ("" when it may)."""
    wanted = familiar(reference)
    names = [familiar(tag) for tag in image.get("RepoTags") or []]
    digests = [familiar(digest) for digest in image.get("RepoDigests") or []]
    if wanted not in (digests if "@" in wanted else names):
        return "is not an image name here (an image id is not accepted): name a tagged image"
    for name in names:
        problem = repository_problem(repository(name), docker_name)
        if problem:
            return f"is also tagged {name}, which {problem}"
    image_labels = (image.get("Config") or {}).get("Labels") or {}
    owner = image_labels.get(labels.APP)
    if owner and owner != docker_name:
        return "is another app's image (its label says so)"
    if labels.SERVICE in image_labels:
        return "is a service's image"
    return ""


def familiar(reference: str) -> str:
    """A reference as `docker images` shows it: `docker.io/library/python` -> `python:latest`;
    with a digest, `name@digest` (a tag beside a digest is ignored, as the engine does)."""
    name, at, digest = reference.partition("@")
    domain, slash, path = name.partition("/")
    if slash and domain in DOCKER_HUB:
        name = path.removeprefix("library/")
    elif not registry.reference_host(name):
        name = name.removeprefix("library/")
    if at:
        return f"{repository(name)}@{digest}"
    return name if ":" in name.rsplit("/", 1)[-1] else f"{name}:latest"


def repository(reference: str) -> str:
    """The name without its tag and digest, in familiar form for a Docker Hub name."""
    name = reference.partition("@")[0]
    head, slash, last = name.rpartition("/")
    last = last.partition(":")[0]
    name = f"{head}{slash}{last}"
    domain, slash, path = name.partition("/")
    if slash and domain in DOCKER_HUB:
        return path.removeprefix("library/")
    return name.removeprefix("library/")


def _checked_image(engine: Engine, reference: str, where: str, docker_name: str) -> dict:
    """The image under reference, pulled from Docker Hub when missing; raises unless the app may
    use it."""
    problem = name_problem(reference, docker_name)
    if problem:
        raise PermissionDenied(f"{where} {problem}")
    if not engine.image_exists(reference):
        if (registry.reference_host(reference) or "docker.io") not in DOCKER_HUB:
            raise PermissionDenied(f"{where} is not on this machine: an admin can pull it first")
        try:
            engine.pull(reference)
        except EngineError as error:
            raise PermissionDenied(f"{where} is not on this machine and cannot be pulled: {error}") from None
    try:
        image = engine.inspect_image(reference)
    except EngineNotFound:
        raise PermissionDenied(f"{where} is not on this machine") from None
    problem = image_problem(image, reference, docker_name)
    if problem:
        raise PermissionDenied(f"{where} {problem}")
    return image


def _check_triggers(engine: Engine, base: ImageUse, image: dict, docker_name: str) -> None:
    """A base image's ONBUILD triggers run in this build: they are held to the same rules."""
    triggers = (image.get("Config") or {}).get("OnBuild") or []
    instructions = [Instruction(base.line, "onbuild", (), trigger) for trigger in triggers]
    where = f"an ONBUILD trigger of the Dockerfile's FROM {base.reference}"
    for problem in syntax_problems(Dockerfile(instructions=instructions)):
        raise ValidationError(f"{where} {problem}")
    for use in dockerfile_syntax.image_uses(Dockerfile(instructions=instructions)):
        _checked_image(engine, use.reference, f"{where}: {use.instruction} {use.reference}", docker_name)
