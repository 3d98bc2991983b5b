"""Install then uninstall the addon in a throw-away database, with real Odoo processes.

Runs when run_tests.sh found Odoo 19 (it exports LEDGERSYNC_ODOO_SRC); skipped otherwise.
"""

import os
import re
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

ODOO_SRC = os.environ.get("LEDGERSYNC_ODOO_SRC")
ADDONS_PATH = os.environ.get("LEDGERSYNC_ODOO_ADDONS_PATH")
DATA_DIR = os.environ.get("LEDGERSYNC_ODOO_DATA_DIR")

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        not (ODOO_SRC and ADDONS_PATH),
        reason="no Odoo 19 found by run_tests.sh (LEDGERSYNC_ODOO_SRC unset)",
    ),
]

# An Odoo log record of level ERROR or CRITICAL (not docutils chatter about other modules).
ODOO_ERROR_LINE = re.compile(r"^[0-9-]+ [0-9:,]+ [0-9]+ (ERROR|CRITICAL) ", re.MULTILINE)

# The encryption key file, as the first Save Integration makes it (no key configured).
KEY_FILE_SCRIPT = """
print("KEY FILE:", env["ledgersync.connection"]._key_file_path())
env["ledgersync.connection"]._secret_box()
env.cr.commit()
"""

UNINSTALL_SCRIPT = """
module = env["ir.module.module"].search([("name", "=", "ledgersync_connector")])
assert module.state == "installed", module.state
module.button_immediate_uninstall()
env.cr.commit()
"""


def odoo(database, *arguments, stdin=None):
    command = [
        sys.executable,
        os.path.join(ODOO_SRC, "odoo-bin"),
        *arguments[:1],
        f"--addons-path={ADDONS_PATH}",
        f"--data-dir={DATA_DIR}",
        f"--db_host={os.environ.get('PGHOST', 'localhost')}",
        f"--db_port={os.environ.get('PGPORT', '5432')}",
        f"--db_user={os.environ.get('PGUSER', 'root')}",
        "-d",
        database,
        "--http-interface=127.0.0.1",
        "--log-level=warn",
        *arguments[1:],
    ]
    # No key from the environment: the addon keeps its key in a key file.
    environment = {k: v for k, v in os.environ.items() if k != "LEDGERSYNC_ENCRYPTION_KEYS"}
    return subprocess.run(
        command,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
        env=environment,
    )


def psql(database, query):
    result = subprocess.run(
        ["psql", "-X", "-At", "-d", database, "-c", query],
        capture_output=True,
        text=True,
        check=True,
    )
    return result.stdout.strip()


@pytest.fixture
def database():
    name = f"ledgersync_install_{uuid.uuid4().hex[:8]}"
    yield name
    subprocess.run(["dropdb", "--if-exists", name], check=False)
    # A key file left by a failed run of the test.
    if DATA_DIR:
        (Path(DATA_DIR) / "ledgersync_connector" / f"{name}.key").unlink(missing_ok=True)


def test_install_then_uninstall_leaves_nothing_behind(database):
    installed = odoo(database, "server", "-i", "ledgersync_connector", "--stop-after-init")
    assert installed.returncode == 0, installed.stderr[-3000:]
    assert not ODOO_ERROR_LINE.search(installed.stderr), installed.stderr[-3000:]
    assert psql(database, "SELECT to_regclass('ledgersync_connection')") == "ledgersync_connection"
    assert (
        psql(
            database,
            "SELECT count(*) FROM ir_cron c JOIN ir_model_data d ON d.res_id = c.id "
            "AND d.model = 'ir.cron' AND d.module = 'ledgersync_connector'",
        )
        == "2"  # the sync, and the export to bank statements
    )

    made = odoo(database, "shell", "--no-http", stdin=KEY_FILE_SCRIPT)
    assert made.returncode == 0, made.stderr[-3000:]
    key_file = Path(re.search(r"^KEY FILE: (.+)$", made.stdout, re.MULTILINE).group(1))
    assert key_file.is_file()
    assert key_file.name == f"{database}.key"

    uninstalled = odoo(database, "shell", "--no-http", stdin=UNINSTALL_SCRIPT)
    assert uninstalled.returncode == 0, uninstalled.stderr[-3000:]
    assert psql(database, "SELECT to_regclass('ledgersync_connection')") == ""
    assert psql(database, "SELECT to_regclass('ledgersync_client')") == ""
    assert psql(database, "SELECT count(*) FROM ir_model WHERE model LIKE 'ledgersync.%'") == "0"
    # The columns added to Odoo's bank statements and their lines go too.
    assert (
        psql(
            database,
            "SELECT count(*) FROM information_schema.columns WHERE table_name IN "
            "('account_bank_statement', 'account_bank_statement_line') "
            "AND column_name LIKE 'ledgersync%'",
        )
        == "0"
    )
    assert (
        psql(database, "SELECT state FROM ir_module_module WHERE name = 'ledgersync_connector'")
        == "uninstalled"
    )
    # The key file protected the secrets that the uninstall dropped: it goes too.
    assert not key_file.exists()
