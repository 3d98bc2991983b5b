"""Shared setup of the Odoo tests: a LedgerSync sandbox served over real HTTP on localhost."""

import unittest
from unittest.mock import patch

from cryptography.fernet import Fernet

from odoo import tools
from odoo.tests import TransactionCase

try:
    from ledgersync_sandbox import SandboxConfig, serve_in_thread
    from ledgersync_sandbox.silent import closed_port_url, silent_server
except ImportError:  # run outside the checkout (e.g. Odoo's own runner without PYTHONPATH)
    SandboxConfig = serve_in_thread = closed_port_url = silent_server = None

DEMO_EMAIL = "demo@ledgersync.test"
OTHER_EMAIL = "other@ledgersync.test"
PASSWORD = "demo-password"
DEMO_FIRM = "Demo Accounting LLP"


class SandboxMixin:
    """Starts one sandbox per test class, and a fixed encryption key for the class."""

    sandbox_config = {"clients": 3, "accounts_per_client": 2, "transactions_per_account": 20}

    @classmethod
    def start_sandbox(cls):
        if serve_in_thread is None:
            raise unittest.SkipTest(
                "ledgersync_sandbox is not importable: run the tests from the repository "
                "root (./run_tests.sh) so the sandbox server is on the path"
            )
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
