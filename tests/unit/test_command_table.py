"""cli/command_table.py, what the `dokku` group reads to load only the family module of the command
run, is what the declarations make it (`make command-table` writes it again after a change)."""

from pathlib import Path

from minidokku import cli
from minidokku.cli import command_table

STALE = "cli/command_table.py is not what the declarations make: run `make command-table`"


def test_the_table_is_written_from_the_declarations():
    assert Path(command_table.__file__).read_text() == cli.render_command_table(), STALE


def test_every_command_is_in_the_table_but_the_groups_own():
    assert set(cli.all_commands()) - set(command_table.COMMAND_MODULES) == {"help", "version"}
