"""The accountant's review in one browser tour (issue 9): pick a client and its bank
account, load a range, correct one vendor, see the new rule and the next matching lines
turn green, and the match coverage rise."""

from datetime import timedelta

from odoo import fields
from odoo.tests import HttpCase, new_test_user, tagged

from .common import DEMO_EMAIL, PASSWORD, SandboxMixin

COFFEE = "TOUR COFFEE ROASTERS #{}"


@tagged("post_install", "-at_install")
class TestAccountantTour(SandboxMixin, HttpCase):
    sandbox_over_http = True  # the wizard's request fetches the range from LedgerSync
    sandbox_config = {
        "clients": 1,
        "accounts_per_client": 1,
        "transactions_per_account": 60,
        "history_days": 60,
    }

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.start_sandbox()
        cls.accountant = new_test_user(
            cls.env,
            login="review_tour_accountant",
            groups="account.group_account_invoice",
            company_id=cls.env.company.id,
        )
        cls.env["ir.config_parameter"].set_param("ledgersync_connector.rule_learning", "always")
        cls.vendor = cls.env["res.partner"].create({"name": "Coffee Roasters Inc"})

    def test_an_accountant_reviews_a_loaded_range_and_teaches_a_rule(self):
        connection = self.env["ledgersync.connection"]._for_company(self.env.company)
        connection = connection.action_connect(DEMO_EMAIL, PASSWORD, self.sandbox.base_url)
        # Nothing synced yet: the accountant loads the range.
        connection.history_start_date = fields.Date.today() + timedelta(days=10)
        connection._sync("initial", commit=lambda: float("inf"))
        client = connection.client_ids
        client.name = "Tour Client"
        account = self.env["ledgersync.bank.account"].search([("client_id", "=", client.id)])
        account.sudo().name = "Tour Checking"
        self.assertFalse(self.env["ledgersync.transaction"].search_count([]))
        today = fields.Date.today()
        for days, number in ((5, 1001), (6, 2002), (7, 3003)):
            self.sandbox.app.mutations.add_transaction(
                account.ledgersync_id,
                date=(today - timedelta(days=days)).isoformat(),
                description=COFFEE.format(number),
                amount="-12.50",
            )
        self.start_tour(
            "/odoo/action-ledgersync_connector.ledgersync_transaction_action",
            "ledgersync_accountant_tour",
            login=self.accountant.login,
            timeout=180,
        )
        Transaction = self.env["ledgersync.transaction"]
        # Step 2: the range typed in the browser (its own today: this machine's), loaded
        # by one range run, and nothing else.
        loaded = Transaction.search([("bank_account_id", "=", account.id)])
        run = self.env["ledgersync.sync.run"].search([("trigger", "=", "range")])
        self.assertEqual(run.state, "done", run.error_message)
        self.assertEqual(
            (run.range_start, run.range_end),
            (today - timedelta(days=20), today - timedelta(days=1)),
        )
        self.assertEqual(run.created_count, len(loaded))
        self.assertTrue(
            all(
                today - timedelta(days=20) <= day <= today - timedelta(days=1)
                for day in loaded.mapped("date")
            )
        )
        coffee = Transaction.search([("description", "like", "TOUR COFFEE ROASTERS")])
        self.assertEqual(len(coffee), 3)
        self.assertEqual(coffee.partner_id, self.vendor)
        rule = self.env["ledgersync.rule"].search([("client_id", "=", client.id)])
        self.assertEqual(len(rule), 1)
        followed = coffee.filtered(lambda t: t.rule_id == rule)
        self.assertEqual(
            sorted(followed.mapped("description")), [COFFEE.format(2002), COFFEE.format(3003)]
        )
        corrected = coffee - followed
        self.assertEqual(corrected.partner_set_uid, self.accountant)
