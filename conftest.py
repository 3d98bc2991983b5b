"""Repository-wide pytest setup: without Odoo, the addon's tests are skipped loudly."""

import importlib.util

ODOO_AVAILABLE = importlib.util.find_spec("odoo") is not None

if not ODOO_AVAILABLE:
    collect_ignore_glob = ["ledgersync_connector/tests/*"]


def pytest_report_header(config):
    if ODOO_AVAILABLE:
        return "Odoo: importable, Odoo tests included"
    return "Odoo: NOT importable -- Odoo tests in ledgersync_connector/tests are SKIPPED"


def pytest_terminal_summary(terminalreporter):
    if not ODOO_AVAILABLE:
        terminalreporter.write_line(
            "ODOO NOT FOUND: the Odoo tests in ledgersync_connector/tests were SKIPPED "
            "(run ./run_tests.sh with ODOO_SRC set, see README).",
            yellow=True,
            bold=True,
        )
