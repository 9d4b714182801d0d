"""The audit trail's line format: one line per event, whatever a key puts in its arguments."""

from minidokku.access.events import MAX_FIELD, Event


def test_a_line_has_six_tab_separated_fields():
    line = Event("eve", "config:set", "catmeow", "keys A B", "ok").line(0)
    assert line.split("\t") == ["1970-01-01T00:00:00Z", "eve", "config:set", "catmeow", "ok", "keys A B"]


def test_terminal_escapes_and_newlines_in_a_field_cannot_forge_or_hide_lines():
    forged = "x\x1b[1A\x1b[2K\r\n1970-01-01T00:00:00Z\tadmin\tapps:destroy\x07\x9b"
    line = Event("eve", "config:show", forged, "", "denied").line(0)
    assert "\n" not in line and "\r" not in line
    assert all(char.isprintable() for field in line.split("\t") for char in field)
    assert len(line.split("\t")) == 6
    assert "\\x1b[1A" in line  # shown, escaped


def test_a_field_is_cut_to_a_bounded_length():
    line = Event("eve", "config:show", "a" * 200_000, "", "denied").line(0)
    assert len(line.split("\t")[3]) == MAX_FIELD
