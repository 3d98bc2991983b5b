"""Repository-wide pytest setup.

Without Odoo, the addon's tests are left out loudly. When run_tests.sh runs the whole
suite with Odoo it sets LEDGERSYNC_REQUIRE_ODOO_TESTS=1: then a run in which no Odoo test
passed, or in which one was skipped, fails, so that a suite that silently did not run
never looks green.
"""

import importlib.util
import os

ODOO_AVAILABLE = importlib.util.find_spec("odoo") is not None
ODOO_TESTS = "ledgersync_connector/tests/"
REQUIRE_ODOO_TESTS = os.environ.get("LEDGERSYNC_REQUIRE_ODOO_TESTS") == "1"

if not ODOO_AVAILABLE:
    collect_ignore_glob = ["ledgersync_connector/tests/*"]

_odoo_outcomes = {"passed": 0, "failed": 0, "skipped": 0}


def pytest_report_header(config):
    if ODOO_AVAILABLE:
        return "Odoo: importable, Odoo tests included"
    return "Odoo: NOT importable -- Odoo tests in ledgersync_connector/tests are SKIPPED"


def pytest_runtest_logreport(report):
    if not report.nodeid.startswith(ODOO_TESTS):
        return
    if report.skipped:
        _odoo_outcomes["skipped"] += 1
    elif report.failed:
        _odoo_outcomes["failed"] += 1
    elif report.when == "call" and report.passed:
        _odoo_outcomes["passed"] += 1


def _odoo_suite_problem():
    if not REQUIRE_ODOO_TESTS:
        return None
    if not _odoo_outcomes["passed"]:
        return "no Odoo test passed: the Odoo suite did not run"
    if _odoo_outcomes["skipped"]:
        return f"{_odoo_outcomes['skipped']} Odoo test(s) skipped: every Odoo test must run"
    return None


def pytest_sessionfinish(session, exitstatus):
    if _odoo_suite_problem() and exitstatus in (0, 5):
        session.exitstatus = 1


def pytest_terminal_summary(terminalreporter):
    if not ODOO_AVAILABLE:
        terminalreporter.write_line(
            "ODOO NOT FOUND: the Odoo tests in ledgersync_connector/tests were SKIPPED "
            "(run ./run_tests.sh, see README).",
            yellow=True,
            bold=True,
        )
        return
    counts = ", ".join(f"{count} {outcome}" for outcome, count in _odoo_outcomes.items())
    terminalreporter.write_line(f"Odoo tests under pytest-odoo: {counts}", bold=True)
    problem = _odoo_suite_problem()
    if problem:
        terminalreporter.write_line(f"FAILED: {problem}", red=True, bold=True)
