import logging
import time
from datetime import timedelta

from odoo import api, fields, models, tools
from odoo.service.model import (
    MAX_TRIES_ON_CONCURRENCY_FAILURE,
    PG_CONCURRENCY_EXCEPTIONS_TO_RETRY,
)
from odoo.tools import SQL

from .. import const, failures
from ..api import errors
from ..crypto import SecretKeyError
from ..dates import range_progress
from ..sync.commits import UnitsOfWork
from ..sync.conflicts import expected_conflicts
from ..sync.engine import RunStopped, SyncEngine, release_account
from ..sync.mapping import CurrencyError
from ..sync.queries import accounts_to_sync
from .ledgersync_sync_worker import COUNTERS

_logger = logging.getLogger(__name__)


class LedgerSyncSyncRun(models.Model):
    """One synchronisation run of a connection: the history and the live progress.

    Also the orchestration of the sync: starting or joining a connection's run, driving the
    engine (sync/engine.py); the scheduled action's calls are in ledgersync_sync_run_cron.py.
    """

    _name = "ledgersync.sync.run"
    _description = "LedgerSync Sync Run"
    _order = "started_at desc, id desc"
    _rec_name = "started_at"

    connection_id = fields.Many2one(
        "ledgersync.connection", required=True, readonly=True, index=True, ondelete="cascade"
    )
    company_id = fields.Many2one(related="connection_id.company_id", store=True, readonly=True)
    trigger = fields.Selection(
        [
            ("initial", "Initial"),
            ("scheduled", "Scheduled"),
            ("manual", "Manual"),
            ("range", "Date Range"),
        ],
        required=True,
        readonly=True,
    )
    state = fields.Selection(
        [
            ("running", "Running"),
            ("done", "Done"),
            ("partial", "Partially Done"),
            ("failed", "Failed"),
        ],
        default="running",
        required=True,
        readonly=True,
    )
    phase = fields.Selection(
        [("structure", "Clients and Bank Accounts"), ("transactions", "Transactions")],
        default="structure",
        required=True,
        readonly=True,
    )
    started_at = fields.Datetime(required=True, readonly=True, default=fields.Datetime.now)
    ended_at = fields.Datetime(readonly=True)
    worker_pid = fields.Integer(
        readonly=True, help="PostgreSQL backend of the worker that started it."
    )
    worker_ids = fields.One2many("ledgersync.sync.worker", "run_id", readonly=True)
    heartbeat_at = fields.Datetime(
        compute="_compute_counters", help="When a worker of this run last made progress."
    )
    duration = fields.Float(string="Duration (s)", compute="_compute_duration", digits=(16, 1))
    accounts_total = fields.Integer(readonly=True)
    # Where the first phase is: it resumes there after a call that ran out of time.
    clients_cursor = fields.Char(readonly=True, help="Cursor of the next page of clients.")
    clients_pages = fields.Integer(readonly=True, help="Pages of clients listed so far.")
    clients_listed = fields.Boolean(readonly=True)
    last_client_listed_id = fields.Integer(
        readonly=True, help="The last client whose bank accounts this run has listed."
    )
    # The sums of the workers' counters (ledgersync.sync.worker).
    accounts_done = fields.Integer(compute="_compute_counters")
    accounts_failed = fields.Integer(compute="_compute_counters")
    created_count = fields.Integer(string="Created", compute="_compute_counters")
    updated_count = fields.Integer(string="Updated", compute="_compute_counters")
    unchanged_count = fields.Integer(string="Unchanged", compute="_compute_counters")
    archived_count = fields.Integer(string="Archived", compute="_compute_counters")
    api_calls = fields.Integer(string="API Calls", compute="_compute_counters")
    pages = fields.Integer(compute="_compute_counters")
    error_code = fields.Char(readonly=True)
    error_message = fields.Text(readonly=True)
    progress = fields.Float(compute="_compute_progress")
    # A range load (trigger "range", see ledgersync.range.load): one account, start..end.
    range_bank_account_id = fields.Many2one(
        "ledgersync.bank.account", string="Bank Account", readonly=True, ondelete="cascade"
    )
    range_start = fields.Date(string="From", readonly=True)
    range_end = fields.Date(string="To", readonly=True)
    range_loaded_until = fields.Date(readonly=True, help="Loaded up to this day (included).")

    @api.depends("started_at", "connection_id")
    def _compute_display_name(self):
        for run in self:
            started = tools.format_datetime(self.env, run.started_at) if run.started_at else ""
            run.display_name = self.env._("Sync of %(start)s", start=started)

    @api.depends("started_at", "ended_at")
    def _compute_duration(self):
        now = fields.Datetime.now()
        for run in self:
            end = run.ended_at or now
            run.duration = (end - run.started_at).total_seconds() if run.started_at else 0.0

    @api.depends("accounts_total", "accounts_done", "range_loaded_until")
    def _compute_progress(self):
        for run in self:
            total = run.accounts_total
            run.progress = 100.0 * run.accounts_done / total if total else 0.0
            if run.trigger == "range":  # in days
                start, end, until = run.range_start, run.range_end, run.range_loaded_until
                run.progress = range_progress(start, end, until)

    @api.depends("started_at", *(f"worker_ids.{name}" for name in COUNTERS))
    def _compute_counters(self):
        groups = (
            self.env["ledgersync.sync.worker"]
            .sudo()
            ._read_group(
                [("run_id", "in", self.ids)],
                ["run_id"],
                ["heartbeat_at:max", *(f"{name}:sum" for name in COUNTERS)],
            )
        )
        totals = {run: values for run, *values in groups}
        for run in self:
            heartbeat, *sums = totals.get(run) or [None, *(0 for _name in COUNTERS)]
            run.heartbeat_at = heartbeat or run.started_at
            for name, value in zip(COUNTERS, sums, strict=True):
                run[name] = value

    def _new_worker(self):
        """This worker's counters for the run (see ledgersync.sync.worker)."""
        self.ensure_one()
        self.env.cr.execute(SQL("SELECT pg_backend_pid()"))
        return (
            self.env["ledgersync.sync.worker"]
            .sudo()
            .create({"run_id": self.id, "worker_pid": self.env.cr.fetchone()[0]})
        )

    def _with_retry_on_conflict(self, commit, work):
        """Run ``work`` in a transaction of its own, again if it collides with another
        worker of the run. ``work`` writes rows that other workers write too (the run,
        the connection): under REPEATABLE READ such a write fails with a serialization
        error when another worker changed the row since this transaction began; after a
        commit, a new transaction sees that change and the write goes through."""
        for attempt in range(1, MAX_TRIES_ON_CONCURRENCY_FAILURE + 1):
            commit()
            self.env.invalidate_all()
            try:
                # A collision is expected here and handled: not an error for the log.
                with expected_conflicts(), self.env.cr.savepoint():
                    result = work()
            except PG_CONCURRENCY_EXCEPTIONS_TO_RETRY:
                self.env.invalidate_all()
                if attempt == MAX_TRIES_ON_CONCURRENCY_FAILURE:
                    raise
                time.sleep(0.05 * attempt)
            else:
                commit()
                return result
        return None

    def _is_abandoned(self):
        """True when the worker that holds the first phase is gone, silent for too long,
        or done with its call (its database session idle, back in Odoo's pool)."""
        self.ensure_one()
        stale_before = fields.Datetime.now() - timedelta(seconds=const.RUN_STALE_SECONDS)
        if self.heartbeat_at < stale_before:
            return True
        self.env.cr.execute(
            SQL(
                """
                SELECT 1 FROM pg_stat_activity
                 WHERE pid = %s
                   AND (state IS DISTINCT FROM 'idle'
                        OR state_change > clock_timestamp() - %s * interval '1 second')
                """,
                self.worker_pid,
                const.IDLE_WORKER_SECONDS,
            )
        )
        return not self.env.cr.fetchone()

    def _finish(self, state, error_code=False, error_message=False):
        self.ensure_one()
        self.write(
            {
                "state": state,
                "ended_at": fields.Datetime.now(),
                "error_code": error_code,
                "error_message": error_message,
            }
        )
        self.connection_id._notify_live()

    def _finish_if_complete(self):
        """Close the run when no bank account is left to sync or held by another worker."""
        self.ensure_one()
        self.env.flush_all()
        self.env.cr.execute(
            SQL(
                "SELECT id FROM ledgersync_sync_run WHERE id = %s AND state = 'running' FOR UPDATE",
                self.id,
            )
        )
        if not self.env.cr.fetchone():
            return False
        self.env.cr.execute(
            SQL("SELECT count(*) %s", accounts_to_sync(self.connection_id.id, self.id))
        )
        if self.env.cr.fetchone()[0]:
            return False
        self.invalidate_recordset()
        if not self.accounts_failed:
            self._finish("done")
            return True
        failed = (
            self.env["ledgersync.bank.account"]
            .sudo()
            .search([("last_sync_run_id", "=", self.id), ("last_sync_error", "!=", False)])
        )
        summary = "\n".join(
            f"{account.client_id.name} / {account.display_name}: {account.last_sync_error}"
            for account in failed[:20]
        )
        self._finish(
            "partial",
            "accounts_failed",
            self.env._(
                "%(count)s bank accounts could not be synced:\n%(summary)s",
                count=len(failed),
                summary=summary,
            ),
        )
        return True

    # ------------------------------------------------------------------ orchestration

    @api.model
    def _running_of(self, connection):
        """The sync of ``connection`` going on (empty if none); range loads go beside it."""
        return self.search(
            [
                ("connection_id", "=", connection.id),
                ("state", "=", "running"),
                ("trigger", "!=", "range"),
            ],
            limit=1,
        )

    @api.model
    def _start_or_join(self, connection, trigger):
        """The running run of ``connection``, or a new one; None if another worker holds
        the first phase (listing clients and bank accounts)."""
        # Serialises run creation between workers; released by the next commit.
        self.env.cr.execute(
            SQL(
                "SELECT id FROM ledgersync_connection WHERE id = %s FOR NO KEY UPDATE",
                connection.id,
            )
        )
        self.env.cr.execute(SQL("SELECT pg_backend_pid()"))
        worker_pid = self.env.cr.fetchone()[0]
        run = self._running_of(connection)
        if run:
            if run.phase == "structure" and run.worker_pid != worker_pid:
                if not run._is_abandoned():
                    return None
                run.worker_pid = worker_pid  # take over the first phase
            return run
        connection.sync_requested = False
        return self.create(
            {"connection_id": connection.id, "trigger": trigger, "worker_pid": worker_pid}
        )

    @api.model
    def _sync_connection(
        self, connection, trigger="scheduled", commit=None, page_loop_overrun=None
    ):
        """Run (or help with) the sync of ``connection``.

        ``commit`` is called after each unit of work and returns the seconds left (the
        cron passes ``ir.cron._commit_progress``). Returns ``(run, out_of_time)``: the run
        (empty when there was nothing to do), and whether this worker stopped for lack of
        time with bank accounts left to take.

        Any unexpected error (a bug, a number out of range, a database error) ends the
        run as failed and frees the bank account this worker held; the caller (the cron)
        goes on with the other connections.
        """
        connection.ensure_one()
        if not connection._can_sync():
            return self.browse(), False
        commit = UnitsOfWork(
            self.env.cr, self._live_commit(connection, commit or (lambda: float("inf")))
        )
        run = self.browse()
        try:
            run = self._with_retry_on_conflict(
                commit, lambda: self._start_or_join(connection, trigger)
            )
            if not run:
                return self.browse(), False
            finished = run._work_share(commit, page_loop_overrun)
        except Exception as error:  # one connection must not stop the others
            commit.rollback()
            self._stop_on_unexpected_error(connection, run, error, commit)
            return run, False
        return run, not finished

    @api.model
    def _live_commit(self, connection, commit):
        """``commit``, preceded at most every LIVE_UPDATE_SECONDS by news of the progress
        for the connection's web clients: the news goes out with the work it reports."""
        last_news = None

        def live_commit():
            nonlocal last_news
            now = time.monotonic()
            if last_news is None or now - last_news >= const.LIVE_UPDATE_SECONDS:
                connection._notify_live()
                last_news = now
            return commit()

        return live_commit

    def _work_share(self, commit, page_loop_overrun=None):
        """This worker's share of the run; False when it stopped for lack of time."""
        self.ensure_one()
        connection = self.connection_id
        api_client = self._api_client_or_finish()
        if api_client is None:
            return True
        engine = SyncEngine(self, self._new_worker(), api_client, commit, page_loop_overrun)
        try:
            finished = self._work(engine)
        finally:
            api_client.close()
        engine.worker._add_counts(api_calls=api_client.stats["api_calls"])

        def wrap_up():
            if not connection.login_blocked:
                connection._store_token(api_client)
            connection.last_sync_at = fields.Datetime.now()
            if finished and self.state == "running":
                self._finish_if_complete()

        self._with_retry_on_conflict(commit, wrap_up)
        return finished

    def _api_client_or_finish(self):
        """The connection's API client; None, with the run failed, when none can be made."""
        connection = self.connection_id
        try:
            return connection._api_client()
        except SecretKeyError as error:
            connection._record_failure(error.code, error.detail or False)
            self._finish("failed", error.code, connection.failure_reason)
        except errors.ConfigurationError as error:  # a base URL the server no longer allows
            connection._record_failure(error.code)
            self._finish("failed", error.code, str(error))
        return None

    @api.model
    def _stop_on_unexpected_error(self, connection, run, error, commit):
        """After an unexpected ``error`` (the transaction rolled back to the last unit of
        work): log it with its traceback, end the run as failed, free the bank account this
        worker held."""
        _logger.error(
            "LedgerSync: the sync of connection %s stopped on an unexpected error",
            connection.id,
            exc_info=error,
        )
        message = failures.describe_unexpected_error(self.env, error)

        def stop():
            # The accounts this worker's database session holds a lease on.
            self.env.cr.execute(
                SQL(
                    """
                    SELECT id FROM ledgersync_bank_account
                     WHERE connection_id = %s AND sync_worker_pid = pg_backend_pid()
                    """,
                    connection.id,
                )
            )
            held = self.env["ledgersync.bank.account"].browse(
                row[0] for row in self.env.cr.fetchall()
            )
            for account in held:
                release_account(account, run, error_text=message)
            if run and run.state == "running":
                run._finish("failed", "unexpected_error", message)
            connection.last_sync_at = fields.Datetime.now()

        self._with_retry_on_conflict(commit, stop)

    def _work(self, engine):
        """Drive the engine; False when it stopped for lack of time."""
        self.ensure_one()
        try:
            if self.phase == "structure" and not engine.sync_structure():
                return False
            return engine.sync_transactions()
        except RunStopped as stop:
            self._finish_on_error(stop.error, engine.commit)
        except (errors.LedgerSyncError, CurrencyError) as error:
            self._finish_on_error(error, engine.commit)
        return True

    def _finish_on_error(self, error, commit):
        """End the run on ``error``: failed when LedgerSync refused the sign-in (which also
        turns the connection red), otherwise partial: rate limited or unreachable, the
        positions stay where they are and the next run resumes (never "no new data")."""

        def finish():
            state = "partial"
            if isinstance(error, errors.AuthenticationError):
                self.connection_id._record_failure(error.code)
                state = "failed"
            self._finish(state, error.code, failures.describe_error(self.env, error))

        self._with_retry_on_conflict(commit, finish)
