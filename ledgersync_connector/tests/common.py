"""Shared setup of the Odoo tests: a LedgerSync sandbox served over real HTTP on localhost."""

import importlib.util
import sys
from pathlib import Path
from unittest.mock import patch

from cryptography.fernet import Fernet

from odoo import Command, tools
from odoo.tests import TransactionCase, new_test_user

# The sandbox lives beside the addon in the repository (ledgersync_sandbox/). Odoo's own
# runner imports these tests with only Odoo's folders on sys.path, from any working
# directory: so the sandbox is loaded from its place next to this addon, by path.
SANDBOX_DIR = Path(__file__).resolve().parents[2] / "ledgersync_sandbox"


def _import_sandbox():
    if "ledgersync_sandbox" in sys.modules:
        return sys.modules["ledgersync_sandbox"]
    init = SANDBOX_DIR / "__init__.py"
    if not init.is_file():
        raise ImportError(
            f"The LedgerSync sandbox was not found at {SANDBOX_DIR}: these tests need the "
            "ledgersync_connector repository checkout (the addon and ledgersync_sandbox/ side "
            "by side), not the addon folder alone."
        )
    spec = importlib.util.spec_from_file_location(
        "ledgersync_sandbox", init, submodule_search_locations=[str(SANDBOX_DIR)]
    )
    module = importlib.util.module_from_spec(spec)
    sys.modules["ledgersync_sandbox"] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        del sys.modules["ledgersync_sandbox"]
        raise
    return module


ledgersync_sandbox = _import_sandbox()
importlib.import_module("ledgersync_sandbox.silent")
SandboxConfig = ledgersync_sandbox.SandboxConfig
serve_in_thread = ledgersync_sandbox.serve_in_thread
closed_port_url = ledgersync_sandbox.silent.closed_port_url
silent_server = ledgersync_sandbox.silent.silent_server

DEMO_EMAIL = "demo@ledgersync.test"
OTHER_EMAIL = "other@ledgersync.test"
PASSWORD = "demo-password"
DEMO_FIRM = "Demo Accounting LLP"


class SandboxMixin:
    """Starts one sandbox per test class, and a fixed encryption key for the class."""

    sandbox_config = {"clients": 3, "accounts_per_client": 2, "transactions_per_account": 20}

    @classmethod
    def start_sandbox(cls):
        cls.sandbox = cls.enterClassContext(serve_in_thread(SandboxConfig(**cls.sandbox_config)))
        cls.encryption_key = Fernet.generate_key().decode()
        cls.enterClassContext(
            # The first layer of Odoo's configuration, as if set in the config file.
            patch.dict(
                tools.config._runtime_options, {"ledgersync_encryption_keys": cls.encryption_key}
            )
        )
        # Outside a cron, _commit_progress commits, which test cursors refuse.
        cls.enterClassContext(
            patch.object(
                type(cls.env["ir.cron"]), "_commit_progress", lambda self, *a, **k: float("inf")
            )
        )

    def setUp(self):
        super().setUp()
        self.sandbox.app.reset()


class TwoCompaniesMixin:
    """Company A (the current one) and company B, both allowed to the test's user, and
    users of company A only: an accountant (invoicing rights) and an accounting manager."""

    @classmethod
    def setup_two_companies(cls, prefix):
        cls.company_a = cls.env.company
        cls.company_b = cls.env["res.company"].create({"name": f"{prefix} Second Office"})
        cls.env.user.company_ids = [Command.link(cls.company_b.id)]
        login = prefix.lower().replace(" ", "_")
        cls.accountant_a = cls.company_a_user(
            f"{login}_accountant_a", "account.group_account_invoice"
        )
        cls.manager_a = cls.company_a_user(f"{login}_manager_a", "account.group_account_manager")

    @classmethod
    def company_a_user(cls, login, groups):
        return new_test_user(
            cls.env,
            login=login,
            groups=groups,
            company_id=cls.company_a.id,
            company_ids=[Command.set(cls.company_a.ids)],
        )


class LedgerSyncCase(SandboxMixin, TransactionCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.start_sandbox()
        cls.company = cls.env.company
        cls.Connection = cls.env["ledgersync.connection"]
        cls.Client = cls.env["ledgersync.client"]

    def connection(self, company=None):
        return self.Connection._for_company(company or self.company)

    def connect(self, email=DEMO_EMAIL, password=PASSWORD, company=None, base_url=None):
        return self.connection(company).action_connect(
            email, password, base_url or self.sandbox.base_url
        )
