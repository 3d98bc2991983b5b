"""An unexpected error (a bug, a number out of range, a database error) in one
connection's sync: the run ends failed with a short, secret-free error, the bank account
the worker held is freed, the traceback is logged, and the other companies still sync."""

import decimal
from unittest.mock import patch

from odoo.tests import tagged
from odoo.tools import mute_logger

from ..sync.engine import SyncEngine
from .common import OTHER_EMAIL, SyncCase

RUN_LOGGER = "odoo.addons.ledgersync_connector.models.ledgersync_sync_run"
BROKEN_ACCOUNT = "ba_d_0002_01"


def failing_apply(fail):
    """SyncEngine._apply_page that calls ``fail(engine)`` on the pages of BROKEN_ACCOUNT,
    and only writes the others."""
    original_apply = SyncEngine._apply_page

    def apply(engine, account, records):
        if account.ledgersync_id == BROKEN_ACCOUNT:
            fail(engine)
        return original_apply(engine, account, records)

    return patch.object(SyncEngine, "_apply_page", apply)


def overflow(_engine):
    raise decimal.Overflow("[<class 'decimal.Overflow'>]")


@tagged("post_install", "-at_install")
class TestUnexpectedSyncErrors(SyncCase):
    def assert_failed_and_freed(self, run, error_name):
        self.assertEqual(run.state, "failed")
        self.assertTrue(run.ended_at)
        self.assertEqual(run.error_code, "unexpected_error")
        self.assertIn(error_name, run.error_message)
        self.assertIn("server log", run.error_message)
        broken = self.BankAccount.search([("ledgersync_id", "=", BROKEN_ACCOUNT)])
        self.assertFalse(broken.sync_lease_until, "the account the worker held is freed")
        self.assertFalse(broken.sync_worker_pid)
        self.assertIn(error_name, broken.last_sync_error)
        self.assertFalse(broken.initial_sync_done)
        self.assertFalse(
            self.BankAccount.search([("sync_lease_until", "!=", False)]), "no lease is left"
        )

    def test_unexpected_error_fails_the_run_frees_the_account_and_is_logged(self):
        with self.assertLogs(RUN_LOGGER, level="ERROR") as logs, failing_apply(overflow):
            run = self.sync("initial")
        self.assert_failed_and_freed(run, "Overflow")
        # The administrators find the traceback in the server log.
        (record,) = logs.records
        self.assertEqual(record.exc_info[0], decimal.Overflow)
        self.assertIn(str(self.connection_record.id), record.getMessage())
        # The accounts synced before stay synced; the next run completes the rest.
        kept = len(self.ledgersync_ids())
        self.assertGreater(kept, 0)
        self.assertLess(kept, self.expected_total())
        run = self.sync()
        self.assertEqual(run.state, "done", run.error_message)
        ids = self.ledgersync_ids()
        self.assertEqual(len(ids), self.expected_total())
        self.assertEqual(len(set(ids)), len(ids))

    def test_database_error_rolls_back_to_the_last_commit(self):
        def division_by_zero(engine):
            engine.cr.execute("SELECT 1 / 0")  # aborts the transaction

        with (
            self.assertLogs(RUN_LOGGER, level="ERROR"),
            mute_logger("odoo.sql_db"),
            failing_apply(division_by_zero),
        ):
            run = self.sync("initial")
        self.assert_failed_and_freed(run, "DivisionByZero")
        self.assertEqual(self.connection_record.state, "connected")
        self.assertEqual(self.sync().state, "done")
        self.assertEqual(len(self.ledgersync_ids()), self.expected_total())

    def test_other_workers_of_a_failed_run_take_no_more_accounts(self):
        with self.assertLogs(RUN_LOGGER, level="ERROR"), failing_apply(overflow):
            run = self.sync("initial")
        self.assertEqual(run.state, "failed")
        done = run.accounts_done
        # A worker that joined the run before it failed finds nothing more to take.
        api_client = self.connection_record._api_client()
        engine = SyncEngine(run, run._new_worker(), api_client, self.savepoint_commit())
        self.assertTrue(engine.sync_transactions())
        api_client.close()
        run.invalidate_recordset()
        self.assertEqual(run.accounts_done, done)

    def test_cron_goes_on_with_the_other_companies(self):
        company_b = self.env["res.company"].create({"name": "Second Office"})
        connection_b = self.connect(OTHER_EMAIL, company=company_b)
        connection_b.history_days = 500
        company_a = self.company

        def fail_for_company_a(engine):
            if engine.connection.company_id == company_a:
                raise RuntimeError("a bug")

        # Company A's broken account is the sandbox's; company B has its own ids: make
        # every account of company A fail.
        original_apply = SyncEngine._apply_page

        def apply(engine, account, records):
            fail_for_company_a(engine)
            return original_apply(engine, account, records)

        with (
            self.assertLogs(RUN_LOGGER, level="ERROR"),
            patch.object(SyncEngine, "_apply_page", apply),
        ):
            self.Connection._cron_sync()
        run_a = self.connection_record.sync_run_ids
        run_b = connection_b.sync_run_ids
        self.assertEqual(run_a.state, "failed")
        self.assertEqual(run_a.error_code, "unexpected_error")
        self.assertEqual(run_b.state, "done", run_b.error_message)
        self.assertTrue(self.Transaction.search([("company_id", "=", company_b.id)]))
        self.assertFalse(self.BankAccount.search([("sync_lease_until", "!=", False)]))
