from datetime import timedelta
from unittest.mock import patch

from odoo import fields
from odoo.tests import tagged

from .common import OTHER_EMAIL, SyncCase


@tagged("post_install", "-at_install")
class TestSync(SyncCase):
    def test_the_sandbox_answers_in_this_process(self):
        """The seam of most Odoo tests: the API client's requests never open a socket."""
        with patch("socket.socket.connect", side_effect=AssertionError("a socket was opened")):
            run = self.sync("initial")
        self.assertEqual(run.state, "done", run.error_message)
        self.assertEqual(len(self.ledgersync_ids()), self.expected_total())

    def test_the_first_phase_resumes_where_it_stopped(self):
        """Time runs out while bank accounts are listed: the next call goes on from the
        next client, without listing the clients or any client's accounts twice."""
        stats = self.sandbox.app.stats
        clients_before, accounts_before = stats["clients"], stats["bank_accounts"]
        savepoint = self.savepoint_commit()

        def commit_until_an_account_is_listed():
            savepoint()
            return -1.0 if self.BankAccount.search_count([]) else float("inf")

        run, out_of_time = self.connection_record._sync(
            "initial", commit=commit_until_an_account_is_listed
        )
        self.assertTrue(out_of_time)
        self.assertEqual((run.state, run.phase), ("running", "structure"))
        self.assertTrue(run.clients_listed)
        self.assertEqual(self.BankAccount.search_count([]), 2)  # the first client's
        self.assertFalse(self.ledgersync_ids())

        resumed, out_of_time = self.connection_record._sync("scheduled", commit=savepoint)
        self.assertFalse(out_of_time)
        self.assertEqual(resumed, run)
        self.assertEqual(run.state, "done", run.error_message)
        self.assertEqual(run.accounts_total, 6)
        self.assertEqual(len(self.ledgersync_ids()), self.expected_total())
        stats = self.sandbox.app.stats
        self.assertEqual(stats["clients"] - clients_before, 1)
        self.assertEqual(stats["bank_accounts"] - accounts_before, 3)

    def test_initial_sync_brings_everything_once(self):
        run = self.sync("initial")
        self.assertEqual(run.state, "done", run.error_message)
        self.assertEqual(self.BankAccount.search_count([]), 6)
        ids = self.ledgersync_ids()
        self.assertEqual(len(ids), self.expected_total())
        self.assertEqual(len(set(ids)), len(ids))
        self.assertEqual(run.created_count, self.expected_total())
        self.assertEqual(run.accounts_done, 6)
        self.assertEqual(run.accounts_total, 6)
        self.assertTrue(all(self.BankAccount.search([]).mapped("initial_sync_done")))
        # Amounts stay exact and keep the sign of the API's decimal strings.
        sample = self.sandbox.app.get_transaction(ids[0])
        transaction = self.Transaction.search([("ledgersync_id", "=", ids[0])])
        self.assertEqual(f"{transaction.amount:.2f}", sample["amount"])
        self.assertEqual(transaction.currency_id.name, sample["currency"])
        self.assertEqual(transaction.company_id, self.company)
        eur_account = self.BankAccount.search([("currency_code", "=", "EUR")])
        self.assertEqual(eur_account.currency_id, self.env.ref("base.EUR"))

    def test_second_sync_is_a_no_op_with_one_call_per_account(self):
        self.sync("initial")
        before = self.sandbox.app.stats
        run = self.sync()
        after = self.sandbox.app.stats
        self.assertEqual(run.state, "done")
        self.assertEqual((run.created_count, run.updated_count, run.archived_count), (0, 0, 0))
        self.assertEqual(after["transactions"] - before["transactions"], 6)
        self.assertEqual(after["login"], before["login"])
        self.assertEqual(len(self.ledgersync_ids()), self.expected_total())

    def test_vanished_and_reappearing_clients_and_accounts(self):
        self.sync("initial")
        client = self.env["ledgersync.client"].search([], limit=1)
        accounts = self.BankAccount.search([("client_id", "=", client.id)])
        self.sandbox.app.remove_client(client.ledgersync_id)
        self.sync()
        self.assertFalse(client.active)
        self.sandbox.app.restore_client(client.ledgersync_id)
        run = self.sync()
        self.assertTrue(client.active)
        self.assertTrue(all(accounts.mapped("active")))
        self.assertEqual(run.created_count, 0)
        self.assertEqual(len(self.ledgersync_ids()), self.expected_total())

    def test_concurrent_trigger_reports_already_running(self):
        # Another live database session than this worker's own (which would resume).
        self.env.cr.execute(
            "SELECT pid FROM pg_stat_activity WHERE backend_type = 'checkpointer' LIMIT 1"
        )
        live_worker = self.env.cr.fetchone()[0]
        run = self.env["ledgersync.sync.run"].create(
            {
                "connection_id": self.connection_record.id,
                "trigger": "manual",
                "worker_pid": live_worker,
            }
        )
        action = self.connection_record.action_sync_now()
        self.assertEqual(action["params"]["type"], "warning")
        self.assertIn("already running", action["params"]["title"])
        # A second worker does not start the first phase twice.
        second_run, _out_of_time = self.connection_record._sync(commit=self.savepoint_commit())
        self.assertFalse(second_run)
        self.assertEqual(self.sandbox.app.stats["clients"], 1)  # only Save Integration's
        # Once the first phase is done, other workers join the same run.
        run.phase = "transactions"
        joined, _out_of_time = self.connection_record._sync(commit=self.savepoint_commit())
        self.assertEqual(joined, run)

    def test_abandoned_first_phase_is_taken_over(self):
        run = self.env["ledgersync.sync.run"].create(
            # No such backend: the worker that started the run was killed.
            {"connection_id": self.connection_record.id, "trigger": "initial", "worker_pid": -1}
        )
        taken_over, _out_of_time = self.connection_record._sync(commit=self.savepoint_commit())
        self.assertEqual(taken_over, run)
        self.assertEqual(run.state, "done")
        self.assertEqual(len(self.ledgersync_ids()), self.expected_total())

    def test_inactive_currency_is_synced_in_its_currency(self):
        # A fresh database: EUR exists in Odoo, but is not active.
        eur = self.env.ref("base.EUR")
        eur.active = False
        run = self.sync("initial")
        self.assertEqual(run.state, "done", run.error_message)
        eur_account = self.BankAccount.search([("currency_code", "=", "EUR")])
        self.assertEqual(eur_account.currency_id, eur)
        self.assertFalse(eur_account.last_sync_error)
        transactions = self.Transaction.search([("bank_account_id", "=", eur_account.id)])
        self.assertEqual(len(transactions), self.sandbox_config["transactions_per_account"])
        self.assertEqual(transactions.currency_id, eur)
        self.assertEqual(len(self.ledgersync_ids()), self.expected_total())
        self.assertFalse(eur.active, "the sync does not activate a currency")

    def test_unknown_currency_is_a_clear_account_error(self):
        self.sandbox.app.modify_bank_account("ba_d_0002_01", currency="XQQ")
        run = self.sync("initial")
        self.assertEqual(run.state, "partial")
        account = self.BankAccount.search([("ledgersync_id", "=", "ba_d_0002_01")])
        self.assertEqual(account.currency_code, "XQQ")
        self.assertFalse(account.currency_id)
        self.assertIn("Currency XQQ", account.last_sync_error)
        self.assertIn("unknown", account.last_sync_error)
        self.assertFalse(self.Transaction.search([("bank_account_id", "=", account.id)]))
        per_account = self.sandbox_config["transactions_per_account"]
        self.assertEqual(len(self.ledgersync_ids()), self.expected_total() - per_account)

    def test_cron_syncs_connected_companies(self):
        self.Connection._cron_sync()
        runs = self.connection_record.sync_run_ids
        self.assertEqual(len(runs), 1)
        self.assertEqual(runs.trigger, "initial")
        self.assertEqual(runs.state, "done")
        self.assertEqual(len(self.ledgersync_ids()), self.expected_total())
        # Odoo calls the job again within one job run: a connection just synced waits.
        self.Connection._cron_sync()
        self.assertEqual(len(self.connection_record.sync_run_ids), 1)
        # Sync Now asks for a run at once, recorded as manual.
        self.connection_record.action_sync_now()
        self.Connection._cron_sync()
        self.assertEqual(self.connection_record.sync_run_ids[0].trigger, "manual")
        self.assertFalse(self.connection_record.sync_requested)
        # Half an interval later the schedule takes over.
        self.connection_record.last_sync_at = fields.Datetime.now() - timedelta(hours=1)
        self.Connection._cron_sync()
        self.assertEqual(len(self.connection_record.sync_run_ids), 3)
        self.assertEqual(self.connection_record.sync_run_ids[0].trigger, "scheduled")

    def test_cron_reports_progress_and_comes_back_when_out_of_time(self):
        """With a spent slice, each call does one unit of work (the page of clients, a
        client's bank accounts, a date window of an account's history), reports it, and
        wakes the cron for the rest; the run goes on from call to call without fetching
        anything twice, and ends done with every row once."""
        progress = []

        def record_progress(cron, processed=0, *, remaining=None, deactivate=False):
            if processed or remaining is not None:
                progress.append((processed, remaining))
            return float("inf")

        cron = self.env.ref("ledgersync_connector.ir_cron_ledgersync_sync")
        Trigger = self.env["ir.cron.trigger"].sudo()
        before = dict(self.sandbox.app.stats)
        calls = 0
        with (
            patch.object(type(self.env["ir.cron"]), "_commit_progress", record_progress),
            patch("odoo.addons.ledgersync_connector.const.CRON_SLICE_SECONDS", 0),
        ):
            while calls < 30 and self.connection_record.sync_run_ids[:1].state != "done":
                Trigger.search([("cron_id", "=", cron.id)]).unlink()
                self.Connection._cron_sync()
                calls += 1
                run = self.connection_record.sync_run_ids
                if run.state == "running":
                    self.assertTrue(Trigger.search_count([("cron_id", "=", cron.id)]))
        self.assertEqual(len(run), 1)
        self.assertEqual(run.state, "done", run.error_message)
        # 3 calls for the clients and 3 clients' bank accounts, 2 per bank account (two
        # windows of history each: 500 days), one that finds nothing left.
        self.assertEqual(calls, 3 + 6 * 2 + 1)
        self.assertTrue(all(done >= 1 and left >= 1 for done, left in progress[:-1]))
        self.assertEqual(progress[-1][1], 0)
        stats = self.sandbox.app.stats
        self.assertEqual(stats["clients"] - before["clients"], 1)
        self.assertEqual(stats["bank_accounts"] - before["bank_accounts"], 3)
        self.assertEqual(stats["transactions"] - before["transactions"], 6 * 2)
        ids = self.ledgersync_ids()
        self.assertEqual(len(ids), self.expected_total())
        self.assertEqual(len(set(ids)), len(ids))

    def test_two_companies_sync_apart(self):
        company_b = self.env["res.company"].create({"name": "Second Office"})
        connection_b = self.connect(OTHER_EMAIL, company=company_b)
        connection_b.history_days = 500
        self.Connection._cron_sync()
        transactions_a = self.Transaction.search([("company_id", "=", self.company.id)])
        transactions_b = self.Transaction.search([("company_id", "=", company_b.id)])
        self.assertEqual(len(transactions_a), self.expected_total())
        self.assertTrue(transactions_b)
        self.assertEqual(transactions_b.bank_account_id.connection_id, connection_b)
        self.assertEqual(transactions_b.client_id.company_id, company_b)
        self.assertFalse(
            set(transactions_a.mapped("ledgersync_id"))
            & set(transactions_b.mapped("ledgersync_id"))
        )

    def test_history_start_date_bounds_the_first_load(self):
        self.connection_record.history_start_date = fields.Date.today() - timedelta(days=30)
        self.sync("initial")
        dates = self.Transaction.search([]).mapped("date")
        self.assertTrue(dates)
        self.assertGreaterEqual(min(dates), self.connection_record.history_start_date)
        # A start date in the future loads nothing, and later syncs still work.
        self.Transaction.search([]).unlink()
        self.BankAccount.search([]).write(
            {"initial_sync_done": False, "history_loaded_until": False, "sync_cursor": False}
        )
        self.connection_record.history_start_date = fields.Date.today() + timedelta(days=10)
        self.sync()
        self.assertFalse(self.Transaction.search([]))
        self.assertTrue(all(self.BankAccount.search([]).mapped("sync_cursor")))
        self.assertEqual(self.sync().state, "done")
