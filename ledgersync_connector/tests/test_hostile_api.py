"""A hostile or broken LedgerSync as the sync sees it: a page loop stops when time runs
low, and the base URL may name a private host only when the Odoo option allows it. (Endless
pages, absurd numbers and the other answers a bank account fails alone on are cases of the
fault matrix, test_fault_matrix.py.)"""

import io
import json
from unittest.mock import patch

import requests
from requests.structures import CaseInsensitiveDict

from odoo import tools
from odoo.exceptions import UserError
from odoo.tests import tagged

from .. import const
from .common import DEMO_EMAIL, PASSWORD, InProcessSandbox, LedgerSyncCase

HOSTILE = "ba_d_0001_01"


def json_answer(request, payload):
    response = requests.Response()
    response.status_code = 200
    response.headers = CaseInsensitiveDict({"Content-Type": "application/json"})
    response.raw = io.BytesIO(json.dumps(payload).encode())
    response.url = request.url
    response.request = request
    return response


@tagged("post_install", "-at_install")
class TestHostileApi(LedgerSyncCase):
    sandbox_config = {"clients": 2, "accounts_per_client": 2, "transactions_per_account": 5}

    def setUp(self):
        super().setUp()
        self.env.ref("base.EUR").active = True  # the sandbox's ba_d_0001_02 is in EUR
        self.connection_record = self.connect()
        self.connection_record.history_days = 500  # the sandbox's whole history
        self.BankAccount = self.env["ledgersync.bank.account"]
        self.seconds_left = float("inf")
        self.hostile_pages = []
        self.hostile = None  # request -> answer for the hostile account's transactions
        self.hostile_account = HOSTILE  # None: every account is hostile
        answer = InProcessSandbox.answer

        def hostile_answer(sandbox, request):
            account = self.hostile_account
            if self.hostile and "/transactions" in request.url and account in request.url:
                self.hostile_pages.append(request.url)
                self.assertLess(len(self.hostile_pages), 100, "the page loop did not stop")
                return self.hostile(sandbox, request, answer)
            return answer(sandbox, request)

        self.patch(InProcessSandbox, "answer", hostile_answer)

    def commit(self):
        self.env.flush_all()
        self.env.cr.execute("SAVEPOINT ledgersync_test_commit")
        return self.seconds_left

    def sync(self):
        self.commit()
        return self.connection_record._sync("scheduled", commit=self.commit)

    def endless_pages(self, sandbox, request, answer):
        return json_answer(request, {"data": [], "next_cursor": f"c{len(self.hostile_pages)}"})

    def account(self, ledgersync_id):
        return self.BankAccount.search([("ledgersync_id", "=", ledgersync_id)])

    def test_a_page_loop_stops_when_time_runs_low(self):
        """The account taken last before the time runs out is not finished at any cost:
        its page loop stops between two pages, the account says so, and the run goes on
        with the other accounts at the next call."""
        self.hostile, self.hostile_account = self.endless_pages, ""  # every account
        self.seconds_left = -(const.CRON_PAGE_LOOP_OVERRUN_SECONDS + 1)
        run, out_of_time = self.sync()
        while run.phase == "structure":  # the first phase works in slices too: one unit a call
            self.assertTrue(out_of_time)
            run, out_of_time = self.sync()
        self.assertTrue(out_of_time)
        taken = self.BankAccount.search([("last_sync_run_id", "=", run.id)])
        self.assertEqual(len(taken), 1, "one account per call, even out of time")
        self.assertEqual(len(self.hostile_pages), 1)  # its first page, then it stopped
        self.assertIn("out_of_time", taken.last_sync_error)
        self.assertEqual((run.accounts_done, run.accounts_failed), (1, 1))
        # Next call, time enough: the other accounts; the stopped one waits for the next run.
        self.seconds_left = float("inf")
        self.hostile = None
        run, out_of_time = self.sync()
        self.assertFalse(out_of_time)
        self.assertEqual((run.state, run.accounts_done, run.accounts_failed), ("partial", 4, 1))
        self.assertEqual(run.created_count, 3 * 5)

    def test_private_hosts_need_the_allow_list(self):
        connection = self.connection_record
        with self.assertRaises(UserError):
            connection._validate_credentials(DEMO_EMAIL, PASSWORD, "https://10.1.2.3")
        options = {"ledgersync_allowed_hosts": "10.1.2.3"}
        with patch.dict(tools.config._runtime_options, options):
            _email, url = connection._validate_credentials(DEMO_EMAIL, PASSWORD, "https://10.1.2.3")
            self.assertEqual(url, "https://10.1.2.3")
            # The option replaces the default: localhost is not in it any more.
            with self.assertRaises(UserError):
                connection._validate_credentials(DEMO_EMAIL, PASSWORD, "http://localhost:8079")

    def test_a_stored_base_url_no_longer_allowed_fails_the_connection(self):
        # Saved while the option allowed the host; the option changed since. (Writing the
        # URL through the ORM now validates it, and forgets the password.)
        self.env.cr.execute(
            "UPDATE ledgersync_connection SET base_url = %s WHERE id = %s",
            ["https://10.1.2.3", self.connection_record.id],
        )
        self.connection_record.invalidate_recordset(["base_url"])
        run, _out_of_time = self.sync()
        self.assertEqual(run.state, "failed")
        self.assertEqual(self.connection_record.failure_code, "invalid_base_url")
        self.assertIn("ledgersync_allowed_hosts", run.error_message)
