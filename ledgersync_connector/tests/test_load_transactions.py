from datetime import timedelta

from odoo import fields
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tests import tagged

from .common import SyncCase, company_user


@tagged("post_install", "-at_install")
class TestLoadTransactions(SyncCase):
    """Load Transactions: a bank account's date range fetched on demand, exactly once."""

    # About one transaction a day over 300 days, per account.
    sandbox_config = {
        "clients": 2,
        "accounts_per_client": 1,
        "transactions_per_account": 300,
        "history_days": 300,
        "pending_days": 3,
    }

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.accountant = company_user(
            cls.env, cls.env.company, "load_accountant", "account.group_account_invoice"
        )

    def setUp(self):
        super().setUp()
        # The first sync lists the clients and bank accounts, and loads no history.
        self.connection_record.history_start_date = fields.Date.today() + timedelta(days=10)
        self.sync("initial")
        self.assertFalse(self.Transaction.search_count([]))
        self.client, self.other_client = self.connection_record.client_ids
        self.account = self.BankAccount.search([("client_id", "=", self.client.id)])
        self.today = fields.Date.context_today(self.accountant)
        self.Run = self.env["ledgersync.sync.run"]
        self.RangeLoad = self.env["ledgersync.range.load"]

    def days_ago(self, days):
        return self.today - timedelta(days=days)

    def wizard(self, start, end, account=None, client=None, user=None):
        account = account or self.account
        return (
            self.env["ledgersync.load.transactions"]
            .with_user(user or self.accountant)
            .create(
                {
                    "client_id": (client or account.client_id).id,
                    "bank_account_id": account.id,
                    "date_from": start,
                    "date_to": end,
                }
            )
        )

    def expected_ids(self, start, end, account=None):
        """The ids LedgerSync lists for the account and the days start..end."""
        store = self.sandbox.app.store
        ids, cursor = set(), None
        while True:
            records, cursor = store.query_transactions(
                (account or self.account).ledgersync_id,
                start_date=start,
                end_date=end,
                limit=500,
                cursor=cursor,
            )
            ids.update(record["id"] for record in records)
            if not cursor:
                return ids

    def stored_ids(self):
        ids = self.Transaction.search([("bank_account_id", "=", self.account.id)]).mapped(
            "ledgersync_id"
        )
        self.assertEqual(len(ids), len(set(ids)), "a transaction is stored twice")
        return set(ids)

    def last_range_run(self):
        return self.Run.search([("trigger", "=", "range")], limit=1, order="id desc")

    def test_small_range_loads_at_once_exactly_once(self):
        positions = self.account.read(["history_loaded_until", "sync_cursor", "last_sync_run_id"])
        token = self.connection_record.sudo().token_encrypted
        result = self.wizard(self.days_ago(20), self.days_ago(1)).action_load()
        # The stored token was valid: used, and the connection's row left alone.
        self.assertEqual(self.connection_record.sudo().token_encrypted, token)
        run = self.last_range_run()
        self.assertEqual(run.state, "done", run.error_message)
        expected = self.expected_ids(self.days_ago(20), self.days_ago(1))
        self.assertGreater(len(expected), 10)
        self.assertEqual(self.stored_ids(), expected)
        self.assertEqual(run.created_count, len(expected))
        self.assertEqual(run.progress, 100.0)
        self.assertEqual(run.company_id, self.company)
        # The outcome, then the list of that client, account and range.
        self.assertEqual(result["params"]["type"], "success")
        self.assertIn(f"{len(expected)} new", result["params"]["message"])
        listing = result["params"]["next"]
        self.assertEqual(listing["res_model"], "ledgersync.transaction")
        shown = (
            self.env["ledgersync.transaction"].with_user(self.accountant).search(listing["domain"])
        )
        self.assertEqual(set(shown.mapped("ledgersync_id")), expected)
        self.assertEqual(listing["context"]["searchpanel_default_client_id"], self.client.id)

        # The same range again: nothing new, nothing twice.
        self.wizard(self.days_ago(20), self.days_ago(1)).action_load()
        again = self.last_range_run()
        self.assertEqual(again.state, "done", again.error_message)
        self.assertEqual(again.created_count, 0)
        self.assertEqual(again.unchanged_count, len(expected))
        # An overlapping range: exactly the rows of the union.
        self.wizard(self.days_ago(30), self.days_ago(10)).action_load()
        self.assertEqual(self.stored_ids(), self.expected_ids(self.days_ago(30), self.days_ago(1)))
        # The account's own sync positions are not moved by a range load.
        self.account.invalidate_recordset()
        self.assertEqual(
            self.account.read(["history_loaded_until", "sync_cursor", "last_sync_run_id"]),
            positions,
        )
        # Only the account asked for was loaded.
        other = self.BankAccount.search([("client_id", "=", self.other_client.id)])
        self.assertFalse(self.Transaction.search_count([("bank_account_id", "=", other.id)]))

    def test_a_review_survives_a_reload(self):
        self.wizard(self.days_ago(10), self.days_ago(1)).action_load()
        transaction = self.Transaction.search([("bank_account_id", "=", self.account.id)], limit=1)
        vendor = self.env["res.partner"].create({"name": "Reload vendor"})
        transaction.with_user(self.accountant).write(
            {"partner_id": vendor.id, "review_state": "reviewed"}
        )
        self.wizard(self.days_ago(10), self.days_ago(1)).action_load()
        self.assertEqual(transaction.partner_id, vendor)
        self.assertEqual(transaction.review_state, "reviewed")

    def test_large_range_loads_in_the_background_with_progress(self):
        cron = self.env.ref("ledgersync_connector.ir_cron_ledgersync_sync")
        triggers = self.env["ir.cron.trigger"].search_count([("cron_id", "=", cron.id)])
        result = self.wizard(self.days_ago(200), self.days_ago(1)).action_load()
        run = self.last_range_run()
        self.assertEqual(run.state, "running")
        self.assertEqual(result["params"]["type"], "info")
        self.assertFalse(self.stored_ids())
        self.assertGreater(
            self.env["ir.cron.trigger"].search_count([("cron_id", "=", cron.id)]), triggers
        )
        status = self.account.with_user(self.accountant).range_load_status
        self.assertIn("0% done", status)
        # A second load of the same account waits for this one.
        with self.assertRaisesRegex(UserError, "already loading"):
            self.wizard(self.days_ago(5), self.days_ago(1)).action_load()

        # The scheduled action, with its time running out after the first window.
        savepoint = self.savepoint_commit()

        def out_of_time():
            savepoint()
            return -1.0

        self.assertFalse(self.RangeLoad._cron_loads(out_of_time))
        self.assertEqual(run.state, "running")
        self.assertEqual(run.range_loaded_until, self.days_ago(200) + timedelta(days=30))
        self.assertTrue(0 < run.progress < 100)
        self.assertEqual(
            self.stored_ids(), self.expected_ids(self.days_ago(200), run.range_loaded_until)
        )
        self.assertFalse(self.account.sync_lease_until)  # released between two calls
        # The next call goes on where it stopped, and ends the load.
        self.assertTrue(self.RangeLoad._cron_loads(savepoint))
        self.assertEqual(run.state, "done", run.error_message)
        self.assertEqual(run.progress, 100.0)
        self.assertEqual(self.stored_ids(), self.expected_ids(self.days_ago(200), self.days_ago(1)))
        self.assertEqual(run.created_count, len(self.stored_ids()))
        self.assertFalse(self.account.with_user(self.accountant).range_load_status)

    def test_an_account_being_synced_is_loaded_after_its_sync(self):
        self.env.cr.execute(
            """UPDATE ledgersync_bank_account
                  SET sync_lease_until = (now() at time zone 'UTC') + interval '5 minutes',
                      sync_worker_pid = pg_backend_pid()
                WHERE id = %s""",
            [self.account.id],
        )
        self.account.invalidate_recordset()
        result = self.wizard(self.days_ago(5), self.days_ago(1)).action_load()
        run = self.last_range_run()
        self.assertEqual(run.state, "running")
        self.assertEqual(result["params"]["type"], "info")
        self.assertFalse(self.stored_ids())
        self.account.sudo().write({"sync_lease_until": False, "sync_worker_pid": False})
        self.assertTrue(self.RangeLoad._cron_loads(self.savepoint_commit()))
        self.assertEqual(run.state, "done", run.error_message)
        self.assertEqual(self.stored_ids(), self.expected_ids(self.days_ago(5), self.days_ago(1)))

    def test_a_sync_goes_on_beside_a_range_load(self):
        self.wizard(self.days_ago(100), self.days_ago(1)).action_load()  # in the background
        self.assertEqual(self.last_range_run().state, "running")
        run = self.sync()
        self.assertEqual(run.trigger, "scheduled")
        self.assertEqual(run.state, "done", run.error_message)

    def test_wizard_validation(self):
        cases = [
            ((self.days_ago(1), self.days_ago(2)), "start date must be on or before"),
            ((self.days_ago(1), self.today + timedelta(days=1)), "cannot be after today"),
            ((self.days_ago(400), self.days_ago(1)), "At most 366 days"),
        ]
        for (start, end), message in cases:
            with self.subTest(message=message), self.assertRaisesRegex(ValidationError, message):
                self.wizard(start, end)
        with self.assertRaisesRegex(ValidationError, "is not a bank account of"):
            self.wizard(self.days_ago(2), self.days_ago(1), client=self.other_client)
        # 366 days, today included, are accepted.
        self.assertTrue(self.wizard(self.days_ago(365), self.today))
        self.assertFalse(self.Run.search_count([("trigger", "=", "range")]))

    def test_opened_from_a_bank_account(self):
        Wizard = self.env["ledgersync.load.transactions"].with_user(self.accountant)
        values = Wizard.with_context(default_bank_account_id=self.account.id).default_get(
            ["client_id", "bank_account_id", "date_from", "date_to"]
        )
        self.assertEqual(values["client_id"], self.client.id)
        self.assertEqual(values["bank_account_id"], self.account.id)
        self.assertEqual(values["date_to"], self.today)
        self.assertEqual(values["date_from"], self.today.replace(day=1))

    def test_another_companys_account_is_refused(self):
        other_company = self.env["res.company"].create({"name": "Load Other Office"})
        stranger = company_user(
            self.env, other_company, "load_stranger", "account.group_account_invoice"
        )
        with self.assertRaises(AccessError):
            self.wizard(self.days_ago(2), self.days_ago(1), user=stranger).action_load()
        self.assertFalse(self.Run.search_count([("trigger", "=", "range")]))

    def test_a_disconnected_firm_loads_nothing(self):
        self.connection_record.action_disconnect()
        with self.assertRaisesRegex(UserError, "not connected"):
            self.wizard(self.days_ago(2), self.days_ago(1)).action_load()

    def test_the_scheduled_action_takes_background_loads(self):
        self.wizard(self.days_ago(90), self.days_ago(1)).action_load()
        run = self.last_range_run()
        self.assertEqual(run.state, "running")
        self.env["ledgersync.connection"]._cron_sync()
        self.assertEqual(run.state, "done", run.error_message)
        self.assertEqual(self.stored_ids(), self.expected_ids(self.days_ago(90), self.days_ago(1)))

    def test_a_range_over_synced_history_creates_nothing_twice(self):
        # The sync loads the last 40 days of history, then a range covers 60 days.
        self.connection_record.history_start_date = self.days_ago(40)
        self.BankAccount.search([]).sudo().write(
            {"initial_sync_done": False, "history_loaded_until": False, "sync_cursor": False}
        )
        self.assertEqual(self.sync().state, "done")
        synced = self.stored_ids()
        self.assertTrue(synced)
        self.wizard(self.days_ago(60), self.days_ago(1)).action_load()  # in the background
        self.assertTrue(self.RangeLoad._cron_loads(self.savepoint_commit()))
        run = self.last_range_run()
        self.assertEqual(run.state, "done", run.error_message)
        expected = self.expected_ids(self.days_ago(60), self.days_ago(1))
        self.assertEqual(run.created_count, len(expected - synced))
        self.assertEqual(run.unchanged_count, len(expected & synced))
        self.assertEqual(self.stored_ids(), expected | synced)
        # The next sync finds nothing to create either.
        self.assertEqual(self.sync().created_count, 0)
        self.assertEqual(self.stored_ids(), expected | synced)
