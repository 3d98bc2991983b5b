"""A large firm under Odoo's time limits: each call of the scheduled action ends within the
time Odoo gives its job, a bank account's years of history and a long list of clients take
several calls without fetching anything twice, and a call that leaves work wakes a cron
worker for the rest."""

from unittest.mock import patch

from odoo.tests import tagged

from ..dates import date_windows, tomorrow_utc
from .common import SyncCase

# Odoo's time for one job (ir.cron's MIN_TIME_PER_JOB): _commit_progress returns what is
# left of it.
JOB_SECONDS = 10


class OdooJobClock:
    """``ir.cron._commit_progress`` as in a cron job, on a simulated clock where each
    request to LedgerSync takes ``seconds_per_request``: it returns the seconds left of the
    job's time, never less than 0, as Odoo does."""

    def __init__(self, requests, seconds_per_request):
        self.requests = requests  # the number of requests answered so far
        self.seconds_per_request = seconds_per_request
        self.job_started_at = 0
        self.reports = []  # (processed, remaining) of each call's final report

    def new_job(self):
        self.job_started_at = self.requests()

    def spent(self):
        return (self.requests() - self.job_started_at) * self.seconds_per_request

    def __call__(self, processed=0, *, remaining=None, deactivate=False):
        if processed or remaining is not None:
            self.reports.append((processed, remaining))
        return max(JOB_SECONDS - self.spent(), 0.0)


@tagged("post_install", "-at_install")
class TestTimeLimits(SyncCase):
    # Two bank accounts with six years of history: seven date windows each.
    sandbox_config = {
        "clients": 2,
        "accounts_per_client": 1,
        "transactions_per_account": 700,
        "history_days": 6 * 365,
    }

    def setUp(self):
        super().setUp()
        self.connection_record.history_days = 6 * 365 + 5
        self.cron = self.env.ref("ledgersync_connector.ir_cron_ledgersync_sync")

    def odoo_clock(self, seconds_per_request):
        clock = OdooJobClock(lambda: self.sandbox.app.stats["total"], seconds_per_request)
        return clock, patch.object(
            type(self.env["ir.cron"]),
            "_commit_progress",
            lambda cron, *args, **kwargs: clock(*args, **kwargs),
        )

    def run_job(self, clock, max_calls=10):
        """What Odoo's cron worker does with the job: calls while each reports units done
        and work left (at most ir.cron's MIN_RUNS_PER_JOB calls). Returns the calls."""
        clock.new_job()
        calls = 0
        while calls < max_calls:
            reports = len(clock.reports)
            self.Connection._cron_sync()
            calls += 1
            processed, remaining = clock.reports[reports]
            if not processed or not remaining:
                break
        return calls

    def test_each_call_ends_within_odoos_time_for_the_job(self):
        """Years of history do not keep a call past the time Odoo gives its job: the
        account's history is paused between two date windows and goes on at the next
        job, each window fetched once, and the run ends done with every row once."""
        windows = len(
            list(date_windows(self.connection_record._history_start_date(), tomorrow_utc()))
        )
        self.assertGreaterEqual(windows, 6)
        clock, patched = self.odoo_clock(seconds_per_request=3)
        jobs = []
        with patched:
            for _job in range(40):
                calls = self.run_job(clock)
                jobs.append((calls, clock.spent()))
                run = self.connection_record.sync_run_ids[:1]
                if run.state != "running":
                    break
        self.assertEqual(run.state, "done", run.error_message)
        self.assertGreater(len(jobs), 2, "years of history take several jobs")
        for calls, seconds in jobs:
            # The job's 10 s, then the request of the unit under way at most (3 s), and a
            # last call that finds the time spent (or nothing left).
            self.assertLessEqual(seconds, JOB_SECONDS + 3, jobs)
            self.assertLessEqual(calls, 2, jobs)
        stats = self.sandbox.app.stats
        self.assertEqual(stats["transactions"], 2 * windows, "each date window fetched once")
        ids = self.ledgersync_ids()
        self.assertEqual(len(ids), self.expected_total())
        self.assertEqual(len(set(ids)), len(ids))
        self.assertFalse(self.BankAccount.search([("last_sync_error", "!=", False)]))
        self.assertFalse(self.BankAccount.search([("sync_lease_until", "!=", False)]))

    def test_a_call_with_work_left_wakes_a_cron_worker(self):
        """Odoo's own rescheduling of a job with work left wakes no cron worker: with
        --workers, an idle cron worker sleeps a minute, and under a shorter time limit it
        is killed in its sleep, again and again, while the run waits. A call that leaves
        work triggers the sync's crons, whose NOTIFY wakes a cron worker at once."""
        Trigger = self.env["ir.cron.trigger"].sudo()
        Trigger.search([]).unlink()
        clock, patched = self.odoo_clock(seconds_per_request=3)
        with patched:
            self.run_job(clock)
        run = self.connection_record.sync_run_ids
        self.assertEqual(run.state, "running")
        self.assertTrue(Trigger.search([("cron_id", "=", self.cron.id)]))
        notify = [
            func
            for func in self.env.cr.postcommit._funcs
            if getattr(func, "__name__", "") == "_notifydb"
        ]
        self.assertTrue(notify, "the commit wakes the cron workers")


@tagged("post_install", "-at_install")
class TestClientListInSlices(SyncCase):
    # Three pages of clients (100 a page).
    sandbox_config = {
        "clients": 250,
        "accounts_per_client": 1,
        "transactions_per_account": 1,
    }

    def test_the_list_of_clients_resumes_from_its_cursor(self):
        """A long list of clients takes several calls when time is short: each call lists
        one page at least and keeps the cursor of the next one on the run; no page is
        asked twice, and clients are archived only once the whole list is in."""
        Client = self.env["ledgersync.client"].with_context(active_test=False)
        gone = Client.create(
            {
                "name": "Gone upstream",
                "ledgersync_id": "cl_gone",
                "connection_id": self.connection_record.id,
                "company_id": self.company.id,
            }
        )
        before = self.sandbox.app.stats["clients"]
        savepoint = self.savepoint_commit()

        def no_time_left():
            savepoint()
            return 0.0

        run, out_of_time = self.connection_record._sync("initial", commit=no_time_left)
        self.assertTrue(out_of_time)
        self.assertEqual((run.clients_pages, run.clients_listed), (1, False))
        self.assertTrue(run.clients_cursor)
        self.assertTrue(gone.active, "archived only once the whole list is in")
        run, out_of_time = self.connection_record._sync("scheduled", commit=no_time_left)
        self.assertEqual((run.clients_pages, run.clients_listed), (2, False))
        run, out_of_time = self.connection_record._sync("scheduled", commit=no_time_left)
        self.assertEqual(run.clients_pages, 3)
        self.assertTrue(run.clients_listed)
        self.assertFalse(run.clients_cursor)
        self.assertFalse(gone.active)
        self.assertEqual(self.sandbox.app.stats["clients"] - before, 3, "each page once")
        self.assertEqual(Client.search_count([("active", "=", True)]), 250)
        # Time enough: the rest of the run.
        run, out_of_time = self.connection_record._sync("scheduled", commit=savepoint)
        self.assertFalse(out_of_time)
        self.assertEqual(run.state, "done", run.error_message)
        self.assertEqual(run.accounts_total, 250)
        self.assertEqual(self.sandbox.app.stats["clients"] - before, 3)

    def test_a_cursor_that_ledgersync_refuses_lists_again_from_the_start(self):
        savepoint = self.savepoint_commit()

        def no_time_left():
            savepoint()
            return 0.0

        run, _out_of_time = self.connection_record._sync("initial", commit=no_time_left)
        run.clients_cursor = "expired-cursor"
        run, out_of_time = self.connection_record._sync("scheduled", commit=no_time_left)
        self.assertTrue(out_of_time)
        self.assertEqual(run.state, "running")
        self.assertFalse(run.clients_cursor)
        self.assertEqual(run.clients_pages, 0)
        run, out_of_time = self.connection_record._sync("scheduled", commit=savepoint)
        self.assertFalse(out_of_time)
        self.assertEqual(run.state, "done", run.error_message)
        self.assertEqual(
            self.env["ledgersync.client"].search_count([]), self.sandbox_config["clients"]
        )
