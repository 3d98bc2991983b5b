from odoo.exceptions import AccessError, UserError
from odoo.tests import tagged

from .common import DEMO_EMAIL, OTHER_EMAIL, LedgerSyncCase, TwoCompaniesMixin


@tagged("post_install", "-at_install")
class TestBankAccountWrites(TwoCompaniesMixin, LedgerSyncCase):
    """A synced bank account is LedgerSync's: people map its journal, nothing else."""

    sandbox_config = {"clients": 1, "accounts_per_client": 1, "transactions_per_account": 2}

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.setup_two_companies("Account Guard")
        cls.admin_a = cls.company_a_user("account_guard_admin_a", "base.group_system")

    def setUp(self):
        super().setUp()
        for email, company in ((DEMO_EMAIL, self.company_a), (OTHER_EMAIL, self.company_b)):
            run, _out_of_time = self.connect(email, company=company)._sync("initial")
            self.assertEqual(run.state, "done", run.error_message)
        Account = self.env["ledgersync.bank.account"]
        self.account_a = Account.search([("company_id", "=", self.company_a.id)], limit=1)
        self.account_b = Account.search([("company_id", "=", self.company_b.id)], limit=1)
        self.client_b = self.account_b.client_id
        self.assertTrue(self.account_a and self.account_b)

    def _journal(self, company, code):
        return self.env["account.journal"].create(
            {"name": f"Guard Bank {code}", "code": code, "type": "bank", "company_id": company.id}
        )

    def test_only_the_journal_is_written_by_people(self):
        watched = ["name", "current_balance", "mask", "ledgersync_id", "sync_cursor", "client_id"]
        before = self.account_a.read(watched)[0]
        tampering = [
            {"name": "renamed"},
            {"current_balance": 1e9},
            {"mask": "0000"},
            {"ledgersync_id": "ba_forged"},
            {"sync_cursor": "2000-01-01 00:00:00"},
            {"sync_lease_until": "2999-01-01 00:00:00"},
            {"sync_worker_pid": 4242},
            {"history_loaded_until": "2000-01-01"},
            {"initial_sync_done": False},
            {"active": False},
            # Moving the account (and its transactions) into company B.
            {"client_id": self.client_b.id},
        ]
        for user in (self.manager_a, self.admin_a):
            account = self.account_a.with_user(user)
            for values in tampering:
                with self.subTest(user=user.login, values=values):
                    with self.assertRaisesRegex(AccessError, "journal"):
                        account.write(values)
        self.account_a.invalidate_recordset()
        self.assertEqual(self.account_a.read(watched)[0], before)
        self.assertEqual(self.account_a.company_id, self.company_a)
        # The journal is what an accounting manager maps, in the account's company only.
        journal_a = self._journal(self.company_a, "GRDA")
        self.account_a.with_user(self.manager_a).write({"journal_id": journal_a.id})
        self.assertEqual(self.account_a.journal_id, journal_a)
        journal_b = self._journal(self.company_b, "GRDB")
        with self.assertRaises(UserError):
            self.account_a.with_user(self.admin_a).write({"journal_id": journal_b.id})
        self.assertEqual(self.account_a.journal_id, journal_a)

    def test_company_consistency_is_declared(self):
        Account = self.env["ledgersync.bank.account"]
        self.assertTrue(Account._check_company_auto)
        for name in ("client_id", "journal_id"):
            with self.subTest(field=name):
                self.assertTrue(Account._fields[name].check_company)
        # The run is the firm's (its connection's company), the account its client's books
        # company: they may differ.
        self.assertFalse(Account._fields["last_sync_run_id"].check_company)
        # Even with the sync's rights, a journal of another company is refused.
        with self.assertRaises(UserError):
            self.account_b.sudo().write({"journal_id": self._journal(self.company_a, "GRDC").id})

    def test_the_sync_still_writes_bank_accounts(self):
        self.sandbox.app.modify_bank_account(
            self.account_a.ledgersync_id, name="Renamed upstream", current_balance="12.34"
        )
        connection = self.connection(self.company_a)
        # Not only as the cron's superuser: also from an administrator's (non-su) session.
        run, _out_of_time = connection.with_user(self.admin_a)._sync("manual")
        self.assertEqual(run.state, "done", run.error_message)
        self.account_a.invalidate_recordset()
        self.assertEqual(self.account_a.name, "Renamed upstream")
        self.assertAlmostEqual(self.account_a.current_balance, 12.34)
        self.assertFalse(self.account_a.sync_lease_until)
        self.assertTrue(self.account_a.last_synced_at)
