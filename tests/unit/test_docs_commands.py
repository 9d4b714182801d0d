"""The documentation says what minidokku has, checked against the commands the CLI declares so that
it cannot drift: the README's table links one page of docs/ per command family; each family's page
has a `### `COMMAND`` section for every command of the family and none for a command that does not
exist; every relative link of the README and docs/ names a file. docs/appendices/dokku-commands.md's
table of Dokku's commands is checked against the list of Dokku 0.38.27's commands
(dokku-0.38.27-commands.txt, one per line, from its plugins' help texts and its docs' command tables)."""

import re
from pathlib import Path

from minidokku.cli import DOKKU_VERSION, all_commands

HERE = Path(__file__).parent
REPO = HERE.parent.parent
README = REPO / "README.md"
DOCS = REPO / "docs"
DOKKU_COMMANDS = set((HERE / f"dokku-{DOKKU_VERSION}-commands.txt").read_text().split())
SECTION = (DOCS / "appendices" / "dokku-commands.md").read_text()
LINK = re.compile(r"\]\(([^)#\s]+)(?:#[^)]*)?\)")
HEADING = re.compile(r"^### `([^`]+)`$", re.M)


def _family(name: str) -> str:
    return name.split(":", 1)[0]


def _subcommand(name: str) -> str:
    return name.split(":", 1)[1] if ":" in name else name


def _pages() -> dict[str, Path]:
    """Each family of the README's documentation table, to the page its row links."""
    section = README.read_text().split("## Documentation", 1)[1].split("\n## ", 1)[0]
    pages = {}
    for line in section.splitlines():
        link = LINK.search(line)
        if line.startswith("| [") and link:
            for family in re.findall(r"`([\w-]+)`", line.split("|")[2]):
                assert family not in pages, f"{family} has two pages"
                pages[family] = REPO / link.group(1)
    return pages


def _markdown_files() -> list[Path]:
    return [README, *sorted(DOCS.rglob("*.md"))]


def test_every_relative_link_names_a_file():
    for page in _markdown_files():
        for target in LINK.findall(page.read_text()):
            if not re.match(r"[a-z]+:", target):
                assert (page.parent / target).is_file(), f"{page.relative_to(REPO)}: {target}"


def test_the_readme_links_one_page_for_each_family_and_only_for_families():
    families = {_family(name) for name in all_commands()}
    assert set(_pages()) == families


def test_each_family_page_has_a_section_for_each_of_its_commands():
    pages = _pages()
    for name in all_commands():
        page = pages[_family(name)]
        assert f"### `{name}`" in page.read_text().splitlines(), f"{name} is not in {page.relative_to(REPO)}"


def test_every_documented_command_exists_and_is_on_its_familys_page():
    ours = set(all_commands())
    pages = _pages()
    for page in sorted(DOCS.rglob("*.md")):
        for name in HEADING.findall(page.read_text()):
            assert name in ours, f"{page.relative_to(REPO)} documents {name}, which minidokku does not declare"
            assert pages[_family(name)] == page, f"{name} is documented in {page.relative_to(REPO)}"


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
