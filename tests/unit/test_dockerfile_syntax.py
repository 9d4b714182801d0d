"""The Dockerfile reader: instructions and the images they use, as the engine's builder reads them."""

import pytest

from minidokku.build.builders.dockerfile_syntax import image_uses, parse


def uses(text: str) -> list[tuple[int, str, str]]:
    return [(use.line, use.instruction, use.reference) for use in image_uses(parse(text))]


def test_a_continued_line_is_joined_with_nothing_between():
    assert uses("FROM dok\\\nku/victim\n") == [(1, "FROM", "dokku/victim")]


def test_comments_and_empty_lines_inside_a_continuation_are_dropped():
    text = "FROM \\\n# a comment\n\n  dokku/victim \\\n   AS x\nRUN echo\n"
    assert uses(text) == [(1, "FROM", "dokku/victim")]


def test_spaces_after_the_continuation_character_still_continue():
    assert uses("FROM \\  \t\ndokku/victim\n") == [(1, "FROM", "dokku/victim")]


def test_the_escape_directive_changes_the_continuation_character():
    text = "# escape=`\nFROM dok`\nku/victim\nRUN dir c:\\\nFROM python:3\n"
    assert uses(text) == [(2, "FROM", "dokku/victim"), (5, "FROM", "python:3")]
    assert parse(text).directives == {"escape": "`"}


def test_an_escape_directive_after_another_directive_is_ambiguous():
    assert parse("# syntax=x\n# escape=`\nFROM a\n").escape_ambiguous
    assert not parse("# escape=`\n# syntax=x\nFROM a\n").escape_ambiguous


def test_directives_end_at_the_first_other_line():
    dockerfile = parse("\n# escape=`\nFROM a `\n")
    assert dockerfile.directives == {}
    assert dockerfile.instructions[0].arguments == "a `"


def test_instruction_names_are_read_in_any_case_and_indented():
    assert uses("  from --platform=linux/amd64 Python AS Base\nfRoM base\n") == [(1, "FROM", "Python")]


def test_crlf_and_a_byte_order_mark_are_read():
    assert uses("\ufeffFROM a\r\nFROM b AS c\r\n") == [(1, "FROM", "a"), (2, "FROM", "b")]


def test_copy_and_add_from_an_image_are_image_uses_but_not_from_a_stage():
    text = (
        "FROM golang AS build\n"
        "FROM alpine\n"
        "COPY --from=build /a /a\n"
        "COPY --from=BUILD /a /a\n"
        "COPY --from=0 /a /a\n"
        "COPY --chown=1 --from=dokku/victim /app /stolen\n"
        "ADD --from=other /x /x\n"
        "COPY --from=1 /a /a\n"  # the stage being built is not yet a stage to copy from
        "COPY --from=7 /a /a\n"
    )
    assert uses(text) == [
        (1, "FROM", "golang"),
        (2, "FROM", "alpine"),
        (6, "COPY --from", "dokku/victim"),
        (7, "ADD --from", "other"),
        (8, "COPY --from", "1"),
        (9, "COPY --from", "7"),
    ]


def test_copy_from_the_stage_being_built_names_an_image():
    assert uses("FROM alpine AS self\nCOPY --from=self /a /a\n") == [(1, "FROM", "alpine"), (2, "COPY --from", "self")]


def test_onbuild_instructions_are_read_with_no_stage_known():
    text = "FROM alpine AS build\nFROM alpine\nONBUILD COPY --from=build /a /a\n"
    assert uses(text)[-1] == (3, "ONBUILD COPY --from", "build")


def test_scratch_and_earlier_stages_are_no_image():
    assert uses("FROM scratch AS a\nFROM a\nFROM SCRATCH\n") == []


def test_flags_are_split_from_the_arguments():
    instruction = parse("RUN --mount=type=bind,from=dokku/victim,target=/v cat /v/app.py\n").instructions[0]
    assert (instruction.keyword, instruction.flags) == ("run", ("--mount=type=bind,from=dokku/victim,target=/v",))
    assert instruction.arguments == "cat /v/app.py"


@pytest.mark.parametrize("text", ["", "# only a comment\n", "RUN echo FROM dokku/victim\n"])
def test_text_without_from_uses_no_image(text):
    assert uses(text) == []
