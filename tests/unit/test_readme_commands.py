"""The README's table of Dokku's commands says what minidokku has: it is checked here against the
commands the CLI declares and the list of Dokku 0.38.27's commands (dokku-0.38.27-commands.txt, one
per line, from its plugins' help texts and its docs' command tables), so it cannot drift."""

import re
from pathlib import Path

from minidokku.cli import DOKKU_VERSION, all_commands

HERE = Path(__file__).parent
README = (HERE.parent.parent / "README.md").read_text()
DOKKU_COMMANDS = set((HERE / f"dokku-{DOKKU_VERSION}-commands.txt").read_text().split())
SECTION = README.split("### Dokku's commands in minidokku", 1)[1].split("\n## ", 1)[0]


def _family(name: str) -> str:
    return name.split(":", 1)[0]


def _subcommand(name: str) -> str:
    return name.split(":", 1)[1] if ":" in name else name


def _table() -> dict[str, tuple[set[str], set[str]]]:
    rows = {}
    for line in SECTION.splitlines():
        cells = [cell.strip() for cell in line.strip("|").split("|")]
        if len(cells) == 3 and cells[0].startswith("`"):
            has, missing = ({word for word in cell.split(", ") if word != "—"} for cell in cells[1:])
            rows[cells[0].strip("`")] = (has, missing)
    return rows


def _not_planned() -> set[str]:
    line = next(line for line in SECTION.splitlines() if line.startswith("Not planned"))
    return set(re.findall(r"`([\w-]+):\*`", line))


def test_the_table_lists_each_dokku_family_once_but_those_not_planned():
    families = {_family(name) for name in DOKKU_COMMANDS}
    assert set(_table()) == families - _not_planned()


def test_each_row_says_which_of_its_commands_minidokku_has():
    ours = set(all_commands())
    for family, (has, missing) in _table().items():
        dokku = {name for name in DOKKU_COMMANDS if _family(name) == family}
        assert has == {_subcommand(name) for name in dokku & ours}, family
        assert missing == {_subcommand(name) for name in dokku - ours}, family


def test_the_counts_in_the_text_are_the_tables():
    dokku_count, ours_count = map(
        int, re.search(r"has (\d+) commands .*?minidokku\s+has (\d+) of them", SECTION, re.S).groups()
    )
    assert dokku_count == len(DOKKU_COMMANDS)
    assert ours_count == len(DOKKU_COMMANDS & set(all_commands()))
