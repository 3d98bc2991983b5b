"""Rules on the addon's own code that no linter checks."""

import ast
from pathlib import Path

ADDON = Path(__file__).resolve().parent.parent / "ledgersync_connector"


def test_no_assert_statement_guards_anything():
    """``python -O`` strips assert statements: a check (an SQL identifier, a counter's
    name) must raise an exception of its own. Tests may assert."""
    found = [
        f"{path.relative_to(ADDON)}:{node.lineno}"
        for path in ADDON.rglob("*.py")
        if "tests" not in path.relative_to(ADDON).parts
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
        if isinstance(node, ast.Assert)
    ]
    assert not found, f"assert statements in the addon: {found}"
