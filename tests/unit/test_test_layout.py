"""The suite's own layout: pytest (in its default import mode) cannot collect two test modules
that share a file name, even in different folders, and then stops before running anything."""

from collections import Counter
from pathlib import Path

TESTS = Path(__file__).resolve().parents[1]


def test_no_two_test_files_share_a_name():
    names = Counter(path.name for path in TESTS.rglob("test_*.py"))
    assert [name for name, count in names.items() if count > 1] == []
