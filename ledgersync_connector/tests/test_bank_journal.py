from odoo.exceptions import AccessError, UserError
from odoo.tests import tagged

from .common import SyncCase, company_user
from .test_company_mapping import ThreeCompaniesMixin


@tagged("post_install", "-at_install")
class TestBankJournal(ThreeCompaniesMixin, SyncCase):
    """A bank account's journal, created on request in its client's books company."""

    sandbox_config = {"clients": 1, "accounts_per_client": 2, "transactions_per_account": 2}

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.setup_three_companies("Journal")
        cls.env["account.chart.template"].try_loading(
            "generic_coa", company=cls.company_a, install_demo=False
        )
        cls.manager_a = company_user(
            cls.env, cls.company_a, "journal_manager_a", "account.group_account_manager"
        )

    def setUp(self):
        super().setUp()
        self.sync("initial")
        self.client = self.connection_record.client_ids
        self.client.with_user(self.firm_admin).company_id = self.company_a
        accounts = self.BankAccount.search([("client_id", "=", self.client.id)])
        self.usd_account = accounts.filtered(lambda a: a.currency_code == "USD")
        self.eur_account = accounts.filtered(lambda a: a.currency_code == "EUR")
        self.assertTrue(self.usd_account and self.eur_account)
        self.assertEqual(self.company_a.currency_id.name, "USD")

    def test_journal_in_the_books_company_named_with_the_masked_number(self):
        result = self.usd_account.with_user(self.manager_a).action_create_journal()
        journal = self.usd_account.journal_id
        self.assertEqual(journal.company_id, self.company_a)
        self.assertEqual(journal.type, "bank")
        self.assertIn(f"••{self.usd_account.mask}", journal.name)
        self.assertFalse(journal.currency_id)  # the company's own currency
        self.assertEqual(result["params"]["type"], "success")
        self.assertIn(journal.name, self.usd_account.message_ids[0].body)
        with self.assertRaisesRegex(UserError, "already has the bank journal"):
            self.usd_account.with_user(self.manager_a).action_create_journal()
        # Reviewed, posted transactions now export to that journal.
        transaction = self.Transaction.search(
            [("bank_account_id", "=", self.usd_account.id), ("ledgersync_status", "=", "posted")],
            limit=1,
        )
        transaction.review_state = "reviewed"
        transaction.with_user(self.manager_a).action_export_to_statement()
        self.assertEqual(transaction.statement_line_id.journal_id, journal)

    def test_inactive_currency_is_activated_with_a_note(self):
        eur = self.env.ref("base.EUR")
        eur.active = False
        result = self.eur_account.with_user(self.manager_a).action_create_journal()
        self.assertTrue(eur.active)
        self.assertEqual(self.eur_account.journal_id.currency_id, eur)
        self.assertEqual(result["params"]["type"], "warning")
        self.assertIn("EUR was not active", result["params"]["message"])
        self.assertIn("EUR was not active", self.eur_account.message_ids[0].body)

    def test_refusals_say_why(self):
        with self.assertRaises(AccessError):
            self.usd_account.with_user(self.accountant_a).action_create_journal()
        self.client.with_user(self.firm_admin).company_id = self.company_b
        with self.assertRaisesRegex(UserError, "no chart of accounts"):
            self.usd_account.with_user(self.firm_admin).action_create_journal()
        self.assertFalse(self.usd_account.journal_id)
