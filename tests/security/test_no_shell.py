"""Nothing user-provided reaches a shell: every subprocess minidokku starts is an argv list.

Read from the source, so it holds for code paths no other test reaches."""

import ast
import re
from pathlib import Path

import minidokku

SOURCES = sorted(Path(minidokku.__file__).parent.rglob("*.py"))
SHELL_CALLS = re.compile(r"shell\s*=\s*True|os\.system|os\.popen")
# Calls that hand a string to /bin/sh, by their dotted name.
SHELL_FUNCTIONS = {"os.system", "os.popen", "subprocess.getoutput", "subprocess.getstatusoutput"}
SHELL_FUNCTIONS |= {"asyncio.create_subprocess_shell"}


def test_minidokku_source_has_no_shell_true_os_system_or_os_popen():
    assert len(SOURCES) > 40, "the minidokku package was not found"
    found = [
        f"{path.relative_to(path.parents[1])}:{number}: {line.strip()}"
        for path in SOURCES
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1)
        if SHELL_CALLS.search(line)
    ]
    assert found == []


def _dotted(node: ast.AST) -> str:
    if isinstance(node, ast.Attribute):
        return f"{_dotted(node.value)}.{node.attr}"
    return node.id if isinstance(node, ast.Name) else ""


def test_no_call_in_minidokku_asks_for_a_shell():
    """Also what the text search cannot see: `shell=flag`, `from os import system`."""
    found = []
    for path in SOURCES:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
            where = f"{path.name}:{getattr(node, 'lineno', 0)}"
            if isinstance(node, ast.Call):
                for keyword in node.keywords:
                    if keyword.arg == "shell" and not (
                        isinstance(keyword.value, ast.Constant) and keyword.value.value is False
                    ):
                        found.append(f"{where}: shell={ast.unparse(keyword.value)}")
                if _dotted(node.func) in SHELL_FUNCTIONS:
                    found.append(f"{where}: {_dotted(node.func)}()")
            elif isinstance(node, ast.ImportFrom):
                for alias in node.names:
                    if f"{node.module}.{alias.name}" in SHELL_FUNCTIONS:
                        found.append(f"{where}: from {node.module} import {alias.name}")
    assert found == []
