"""Odoo's own runner only runs the test modules that the addon's tests package imports."""

import ast
from pathlib import Path

TESTS = Path(__file__).resolve().parent.parent / "ledgersync_connector" / "tests"


def test_every_odoo_test_module_is_imported_by_the_tests_package():
    tree = ast.parse((TESTS / "__init__.py").read_text(encoding="utf-8"))
    imported = {
        alias.name
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom) and node.level == 1
        for alias in node.names
    }
    modules = {path.stem for path in TESTS.glob("test_*.py")}
    assert modules, f"no test module found in {TESTS}"
    assert modules - imported == set(), "not imported by tests/__init__.py: odoo-bin skips them"
