"""Parallel sync workers: the setting, its scheduled actions, and a worker's cron call."""

from unittest.mock import patch

from odoo.exceptions import UserError
from odoo.tests import tagged

from ..models import ledgersync_sync_workers
from .common import LedgerSyncCase

WORKER = "ledgersync_connector.ir_cron_ledgersync_sync_worker_%d"


@tagged("post_install", "-at_install")
class TestSyncWorkers(LedgerSyncCase):
    sandbox_config = {"clients": 2, "accounts_per_client": 2, "transactions_per_account": 10}

    def setUp(self):
        super().setUp()
        self.Workers = self.env["ledgersync.sync.workers"]
        self.main_cron = self.env.ref("ledgersync_connector.ir_cron_ledgersync_sync")
        self.Trigger = self.env["ir.cron.trigger"]
        self.env.ref("base.EUR").active = True  # the sandbox has one EUR bank account

    # -- helpers --------------------------------------------------------------------

    def save_settings(self, **values):
        settings = self.env["res.config.settings"].create(values)
        settings.execute()
        return settings

    def setting_value(self):
        return self.env["res.config.settings"].create({}).ledgersync_sync_workers

    def worker(self, number):
        return self.env.ref(WORKER % number, raise_if_not_found=False)

    def triggered(self, crons):
        """The crons among ``crons`` that have a pending trigger."""
        return self.Trigger.search([("cron_id", "in", crons.ids)]).cron_id

    # -- the setting ------------------------------------------------------------------

    def test_default_is_one_worker_the_addons_cron(self):
        self.assertEqual(self.setting_value(), 1)
        self.assertEqual(self.Workers._worker_crons(), self.main_cron)
        self.assertFalse(self.worker(2))

    def test_setting_creates_and_removes_worker_crons(self):
        self.save_settings(ledgersync_sync_workers=3)
        self.assertEqual(self.setting_value(), 3)
        extras = self.worker(2) | self.worker(3)
        self.assertEqual(len(extras), 2)
        self.assertFalse(self.worker(4))
        for number, cron in ((2, self.worker(2)), (3, self.worker(3))):
            self.assertEqual(
                cron.name, f"LedgerSync: synchronize connected companies (worker {number})"
            )
            self.assertTrue(cron.active)
            self.assertEqual(cron.model_id, self.main_cron.model_id)
            self.assertEqual(cron.state, "code")
            self.assertEqual(cron.code, "model._cron_sync()")
            self.assertEqual(cron.user_id, self.main_cron.user_id)
            self.assertEqual(
                (cron.interval_number, cron.interval_type),
                (self.main_cron.interval_number, self.main_cron.interval_type),
            )
        # Linked to the addon (removed on uninstall), kept by module updates (noupdate).
        data = self.env["ir.model.data"].search(
            [("model", "=", "ir.cron"), ("res_id", "in", extras.ids)]
        )
        self.assertEqual(set(data.mapped("module")), {"ledgersync_connector"})
        self.assertTrue(all(data.mapped("noupdate")))
        self.assertEqual(self.Workers._worker_crons(), self.main_cron | extras)

        # Fewer workers: the extra crons go, with their xml ids; worker 1 stays.
        worker_3 = self.worker(3)
        self.save_settings(ledgersync_sync_workers=2)
        self.assertFalse(worker_3.exists())
        self.assertTrue(self.worker(2))
        self.assertEqual(self.setting_value(), 2)
        self.save_settings(ledgersync_sync_workers=1)
        self.assertFalse(self.worker(2))
        self.assertEqual(self.Workers._worker_crons(), self.main_cron)
        self.assertTrue(self.main_cron.exists() and self.main_cron.active)
        self.assertEqual(self.setting_value(), 1)

    def test_setting_saved_again_creates_nothing_more(self):
        self.save_settings(ledgersync_sync_workers=2)
        crons = self.env["ir.cron"].search_count([])
        self.save_settings(ledgersync_sync_workers=2)
        self.assertEqual(self.env["ir.cron"].search_count([]), crons)

    def test_setting_out_of_range_is_refused(self):
        for count in (0, 17):
            with self.subTest(count=count), self.assertRaises(UserError):
                self.save_settings(ledgersync_sync_workers=count)
        self.assertEqual(self.setting_value(), 1)
        self.save_settings(ledgersync_sync_workers=16)
        self.assertTrue(self.worker(16))

    def test_an_archived_worker_comes_back(self):
        self.save_settings(ledgersync_sync_workers=2)
        self.worker(2).active = False
        self.assertEqual(self.setting_value(), 1)
        self.save_settings(ledgersync_sync_workers=2)
        self.assertTrue(self.worker(2).active)

    def test_sync_interval_applies_to_every_worker(self):
        self.save_settings(ledgersync_sync_workers=2)
        self.save_settings(ledgersync_sync_workers=2, ledgersync_sync_interval_hours=6)
        for cron in (self.main_cron, self.worker(2)):
            self.assertEqual((cron.interval_number, cron.interval_type), (6, "hours"))

    # -- triggering -------------------------------------------------------------------

    def test_sync_now_and_first_sync_trigger_every_worker(self):
        self.save_settings(ledgersync_sync_workers=3)
        crons = self.Workers._worker_crons()
        self.assertEqual(len(crons), 3)
        # Save Integration's first sync.
        connection = self.connect()
        self.assertEqual(self.triggered(crons), crons)
        self.Trigger.search([("cron_id", "in", crons.ids)]).unlink()
        # Sync Now.
        connection.action_sync_now()
        self.assertEqual(self.triggered(crons), crons)

    # -- in a worker ------------------------------------------------------------------

    def run_cron(self, cron):
        """What Odoo's cron worker does for ``cron``, without its commits."""
        cron.ir_actions_server_id.with_context(cron_id=cron.id).run()

    def test_both_worker_crons_run_the_sync(self):
        self.save_settings(ledgersync_sync_workers=2)
        connection = self.connect()
        connection.history_days = 500
        calls = []
        cron_sync = type(self.env["ledgersync.sync.run"])._cron_sync

        def recording_cron_sync(model):
            calls.append(model.env.context.get("cron_id"))
            return cron_sync(model)

        with patch.object(type(self.env["ledgersync.sync.run"]), "_cron_sync", recording_cron_sync):
            # Worker 2 alone does a whole sync.
            self.run_cron(self.worker(2))
            run = connection.sync_run_ids
            self.assertEqual(len(run), 1)
            self.assertEqual(run.state, "done", run.error_message)
            self.assertEqual(run.accounts_done, 4)
            self.assertEqual(len(self.env["ledgersync.transaction"].search([])), 40)
            self.run_cron(self.main_cron)
        self.assertEqual(calls, [self.worker(2).id, self.main_cron.id])

    def structure_held_by_another_worker(self, connection):
        """A running run whose first phase a live PostgreSQL backend (not this one) holds."""
        self.env.cr.execute(
            "SELECT pid FROM pg_stat_activity WHERE pid != pg_backend_pid() LIMIT 1"
        )
        other_pid = self.env.cr.fetchone()[0]
        return self.env["ledgersync.sync.run"].create(
            {"connection_id": connection.id, "trigger": "manual", "worker_pid": other_pid}
        )

    def record_progress(self):
        progress = []

        def commit_progress(cron, processed=0, *, remaining=None, deactivate=False):
            if processed or remaining is not None:
                progress.append((processed, remaining))
            return float("inf")

        return progress, patch.object(
            type(self.env["ir.cron"]), "_commit_progress", commit_progress
        )

    def test_worker_finding_the_first_phase_held_returns_and_comes_back(self):
        connection = self.connect()
        connection.history_days = 500
        self.sync_once(connection)
        run = self.structure_held_by_another_worker(connection)
        progress, patched = self.record_progress()
        with (
            patched,
            # No time to wait: the worker returns at once.
            patch("odoo.addons.ledgersync_connector.const.CRON_SLICE_SECONDS", 0),
        ):
            self.env["ledgersync.connection"]._cron_sync()
        # It took nothing, and told Odoo that work is left: Odoo calls it again soon.
        self.assertEqual(run.phase, "structure")
        self.assertEqual(run.accounts_done, 0)
        self.assertFalse(run.worker_ids)
        self.assertEqual(progress[-1], (0, 1))
        self.assertEqual(connection.sync_run_ids, run | connection.sync_run_ids[1:])
        self.assertEqual(len(connection.sync_run_ids), 2)

    def test_worker_waits_for_the_first_phase_then_takes_bank_accounts(self):
        connection = self.connect()
        connection.history_days = 500
        self.sync_once(connection)
        run = self.structure_held_by_another_worker(connection)
        waits = []

        def other_worker_finishes_the_first_phase(seconds):
            waits.append(seconds)
            run.write({"phase": "transactions", "accounts_total": 4})

        progress, patched = self.record_progress()
        with (
            patched,
            patch.object(
                ledgersync_sync_workers.time, "sleep", other_worker_finishes_the_first_phase
            ),
        ):
            self.env["ledgersync.connection"]._cron_sync()
        self.assertEqual(len(waits), 1)
        # Joined the run after the wait and took every bank account.
        self.assertEqual(run.accounts_done, 4)
        self.assertEqual(run.state, "done", run.error_message)
        # Units of work done (pages, bank accounts ...), nothing left.
        done, left = progress[-1]
        self.assertGreaterEqual(done, 4)
        self.assertEqual(left, 0)

    def sync_once(self, connection):
        run, out_of_time = connection._sync("initial")
        self.assertFalse(out_of_time)
        self.assertEqual(run.state, "done", run.error_message)
        return run
