"""Shared setup of the Odoo tests: the LedgerSync sandbox, in this process or over HTTP.

The seam is the one Odoo gives every test for outgoing HTTP, ``BaseCase._request_handler``
(it replaces ``requests.Session.send``): most tests answer the API client's requests with
the sandbox application in this process, without a socket; the end-to-end tests
(``sandbox_over_http = True``) serve the sandbox on localhost and go through the client's
whole transport (retries, timeouts, a separate Odoo process, the browser).
"""

import importlib.util
import io
import sys
from pathlib import Path
from unittest.mock import patch
from urllib.parse import urlsplit

import requests
from cryptography.fernet import Fernet
from requests.structures import CaseInsensitiveDict
from werkzeug.test import Client as WsgiClient

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
SandboxApp = ledgersync_sandbox.SandboxApp
SandboxConfig = ledgersync_sandbox.SandboxConfig
serve_in_thread = ledgersync_sandbox.serve_in_thread
closed_port_url = ledgersync_sandbox.silent.closed_port_url
silent_server = ledgersync_sandbox.silent.silent_server

DEMO_EMAIL = "demo@ledgersync.test"
OTHER_EMAIL = "other@ledgersync.test"
PASSWORD = "demo-password"
DEMO_FIRM = "Demo Accounting LLP"


class InProcessSandbox:
    """The sandbox application answering requests in this process, through werkzeug's test
    client: what the API client sends and gets is the same HTTP, without a socket (and
    without the retries of its transport, which the end-to-end tests cover)."""

    # localhost, so that the API client accepts plain http; port 1, so that a request that
    # were not answered here would fail at once instead of reaching anything.
    base_url = "http://localhost:1"

    def __init__(self, config):
        self.app = SandboxApp(config)
        self._client = WsgiClient(self.app)

    def serves(self, url):
        return url.startswith(self.base_url + "/")

    def answer(self, request):
        url = urlsplit(request.url)
        answer = self._client.open(
            url.path,
            query_string=url.query,
            method=request.method,
            headers=dict(request.headers),
            data=request.body,
        )
        response = requests.Response()
        response.status_code = answer.status_code
        response.reason = answer.status.partition(" ")[2]
        response.headers = CaseInsensitiveDict(answer.headers.items())
        response.raw = io.BytesIO(answer.get_data())
        response.url = request.url
        response.request = request
        return response


class SandboxMixin:
    """Starts one sandbox per test class, and a fixed encryption key for the class."""

    sandbox_config = {"clients": 3, "accounts_per_client": 2, "transactions_per_account": 20}
    # End-to-end over real HTTP on localhost, or answered in this process.
    sandbox_over_http = False

    @classmethod
    def start_sandbox(cls):
        config = SandboxConfig(**cls.sandbox_config)
        if cls.sandbox_over_http:
            cls.sandbox = cls.enterClassContext(serve_in_thread(config))
        else:
            cls.sandbox = InProcessSandbox(config)
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

    @classmethod
    def _request_handler(cls, session, request, /, **kwargs):
        sandbox = getattr(cls, "sandbox", None)
        if isinstance(sandbox, InProcessSandbox) and sandbox.serves(request.url):
            return sandbox.answer(request)
        return super()._request_handler(session, request, **kwargs)

    def setUp(self):
        super().setUp()
        self.sandbox.app.reset()

    def start_tour(self, *args, **kwargs):
        """A tour's fresh browser gets the bus notifications of the last 50 s (Odoo's
        first poll): the setup's sync news would reload the lists under the tour's first
        clicks, on a timing of their own. The tour starts with no news pending."""
        self.env["bus.bus"].sudo().search([]).unlink()
        return super().start_tour(*args, **kwargs)

    def synced_connection(self):
        """This company's connection to the demo firm, its whole history synced."""
        connection = self.env["ledgersync.connection"]._for_company(self.env.company)
        connection = connection.action_connect(DEMO_EMAIL, PASSWORD, self.sandbox.base_url)
        connection.history_days = 500
        run, _out_of_time = connection._sync("initial")
        self.assertEqual(run.state, "done", run.error_message)
        return connection


def company_user(env, company, login, groups):
    """A test user of ``company`` only, with ``groups`` (comma-separated xml ids)."""
    return new_test_user(
        env,
        login=login,
        groups=groups,
        company_id=company.id,
        company_ids=[Command.set(company.ids)],
    )


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
        return company_user(cls.env, cls.company_a, login, groups)


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


class SyncCase(LedgerSyncCase):
    """A connected company whose first sync loads the whole sandbox history, and a commit
    stand-in for the sync that tests can roll back to, as a crash would."""

    # 3 clients x 2 accounts x 30 transactions; ba_d_0001_02 is the sandbox's EUR account.
    sandbox_config = {
        "clients": 3,
        "accounts_per_client": 2,
        "transactions_per_account": 30,
        "pending_days": 40,
    }

    def setUp(self):
        super().setUp()
        self.env.ref("base.EUR").active = True
        self.connection_record = self.connect()
        # Whole sandbox history (400 days) in the first sync.
        self.connection_record.history_days = 500
        self.Transaction = self.env["ledgersync.transaction"].with_context(active_test=False)
        self.BankAccount = self.env["ledgersync.bank.account"]

    def savepoint_commit(self):
        """A commit stand-in: each unit of work is kept behind a savepoint, so a simulated
        crash rolls back exactly what a real crash would lose."""

        def commit():
            self.env.flush_all()
            self.env.cr.execute("SAVEPOINT ledgersync_test_commit")
            return float("inf")

        commit()
        return commit

    def crash_rollback(self):
        self.env.cr.execute("ROLLBACK TO SAVEPOINT ledgersync_test_commit")
        self.env.invalidate_all()

    def sync(self, trigger="scheduled", connection=None):
        connection = connection or self.connection_record
        run, out_of_time = connection._sync(trigger, commit=self.savepoint_commit())
        self.assertFalse(out_of_time)
        return run

    def expected_total(self):
        config = self.sandbox_config
        return (
            config["clients"] * config["accounts_per_client"] * config["transactions_per_account"]
        )

    def ledgersync_ids(self):
        return self.Transaction.search([]).mapped("ledgersync_id")
