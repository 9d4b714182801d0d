"""A Dockerfile read the way the Engine's builder reads it, as far as which images it uses.

The builder (moby's classic builder, its parser from buildkit) reads parser directives at the top
(`# escape=` picks the line-continuation character), joins continued lines with nothing between
them (`FROM dok\\` + `ku/x` is `FROM dokku/x`), drops comment lines even inside a continued
instruction, and takes instruction names in any case. An instruction's leading `--name=value`
words are its flags. Images come from `FROM [--platform=P] IMAGE [AS NAME]`, `COPY|ADD
--from=IMAGE` and the instruction inside an `ONBUILD`; a FROM or --from naming an earlier stage
(by name, any case, or by index for --from) or `scratch` names no image.
"""

import re
from dataclasses import dataclass, field

DIRECTIVE = re.compile(r"^#[ \t]*([a-zA-Z][a-zA-Z0-9]*)[ \t]*=[ \t]*(.+?)[ \t]*$")
KNOWN_DIRECTIVES = ("escape", "syntax")
ESCAPES = ("\\", "`")
WHITESPACE = re.compile(r"[\t\v\f\r ]+")
NO_IMAGE = "scratch"


@dataclass(frozen=True)
class Instruction:
    line: int  # where it starts, from 1
    keyword: str  # lower case: "from", "copy", ...
    flags: tuple[str, ...]  # its leading --name[=value] words, as written
    arguments: str  # the rest, stripped


@dataclass
class Dockerfile:
    directives: dict[str, str] = field(default_factory=dict)  # lower-case name -> value
    instructions: list[Instruction] = field(default_factory=list)
    # an escape directive after another directive: builders disagree on whether it counts
    escape_ambiguous: bool = False


@dataclass(frozen=True)
class ImageUse:
    """One image an instruction takes files or a base from, as written."""

    line: int
    instruction: str  # "FROM", "COPY --from", "ONBUILD COPY --from", ...
    reference: str


def parse(text: str) -> Dockerfile:
    dockerfile = Dockerfile()
    lines = [line.removesuffix("\r") for line in text.removeprefix("\ufeff").split("\n")]
    escape = _read_directives(lines, dockerfile)
    continuation = re.compile(re.escape(escape) + r"[ \t]*$")
    index = 0
    while index < len(lines):
        start = index + 1
        line = lines[index].lstrip()
        index += 1
        if line.startswith("#"):
            continue
        line, ended = _trim_continuation(line, continuation)
        while not ended and index < len(lines):
            following = lines[index]
            index += 1
            if following.lstrip().startswith("#") or not following.strip():
                continue  # a comment or an empty line inside a continued instruction
            following, ended = _trim_continuation(following, continuation)
            line += following
        if line.strip():
            dockerfile.instructions.append(split_instruction(start, line))
    return dockerfile


def _read_directives(lines: list[str], dockerfile: Dockerfile) -> str:
    """The directives at the top; returns the escape character."""
    escape = "\\"
    for line in lines:
        match = DIRECTIVE.match(line.lstrip())
        if not match:
            break
        name, value = match.group(1).lower(), match.group(2)
        if name == "escape":
            dockerfile.escape_ambiguous = bool(dockerfile.directives)
            escape = value[0] if value[0] in ESCAPES else escape
        if name in KNOWN_DIRECTIVES:
            dockerfile.directives.setdefault(name, value)
        else:
            dockerfile.directives[name] = value
    return escape


def _trim_continuation(line: str, continuation: re.Pattern) -> tuple[str, bool]:
    if continuation.search(line):
        return continuation.sub("", line), False
    return line, True


def split_instruction(line_number: int, line: str) -> Instruction:
    parts = WHITESPACE.split(line.strip(), maxsplit=1)
    words = WHITESPACE.split(parts[1].strip()) if len(parts) == 2 else []
    flags = []
    while words and words[0].startswith("--"):
        flags.append(words.pop(0))
    rest = parts[1].strip() if len(parts) == 2 else ""
    for flag in flags:
        rest = rest[len(flag) :].lstrip()
    return Instruction(line_number, parts[0].lower(), tuple(flags), rest)


def flag_values(instruction: Instruction, name: str) -> list[str]:
    """The values of a `--name=value` flag (a bare `--name` has the value "")."""
    values = []
    for flag in instruction.flags:
        flag_name, _, value = flag[2:].partition("=")
        if flag_name.lower() == name:
            values.append(value)
    return values


def image_uses(dockerfile: Dockerfile) -> list[ImageUse]:
    """Every image the instructions name (not earlier stages, not scratch), in order."""
    stages: list[str] = []
    uses: list[ImageUse] = []
    for instruction in dockerfile.instructions:
        _uses_of(instruction, "", stages, uses)
    return uses


def _uses_of(instruction: Instruction, prefix: str, stages: list[str], uses: list[ImageUse]) -> None:
    keyword = instruction.keyword
    if keyword == "onbuild":
        inner = split_instruction(instruction.line, instruction.arguments)
        _uses_of(inner, "ONBUILD ", [], uses)  # it runs in a later build, where no stage is known
    elif keyword == "from":
        words = WHITESPACE.split(instruction.arguments) if instruction.arguments else []
        if not words:
            return
        image = words[0]
        if image.lower() not in stages and image.lower() != NO_IMAGE:
            uses.append(ImageUse(instruction.line, prefix + "FROM", image))
        has_name = len(words) >= 3 and words[1].lower() == "as"
        stages.append(words[2].lower() if has_name else f"\0stage {len(stages)}")
    elif keyword in ("copy", "add"):
        finished = stages[:-1]  # --from names a stage before this one, else an image
        for source in flag_values(instruction, "from"):
            is_index = source.isdigit() and int(source) < len(finished)
            if source.lower() not in finished and not is_index:
                uses.append(ImageUse(instruction.line, f"{prefix}{keyword.upper()} --from", source))


def base_images(text: str) -> list[str]:
    """The images the Dockerfile's FROM lines name (not earlier stages, scratch, or ${ARG}s)."""
    return [use.reference for use in image_uses(parse(text)) if use.instruction == "FROM" and "$" not in use.reference]
