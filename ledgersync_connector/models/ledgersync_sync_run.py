from datetime import timedelta

from odoo import api, fields, models, tools

from .. import const

COUNTERS = frozenset(
    {
        "accounts_done",
        "accounts_failed",
        "created_count",
        "updated_count",
        "unchanged_count",
        "archived_count",
        "api_calls",
        "pages",
    }
)


class LedgerSyncSyncRun(models.Model):
    """One synchronisation run of a connection: the history and the live progress."""

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
    heartbeat_at = fields.Datetime(readonly=True, default=fields.Datetime.now)
    worker_pid = fields.Integer(
        readonly=True, help="PostgreSQL backend of the worker that started it."
    )
    duration = fields.Float(string="Duration (s)", compute="_compute_duration", digits=(16, 1))
    accounts_total = fields.Integer(readonly=True)
    accounts_done = fields.Integer(readonly=True)
    accounts_failed = fields.Integer(readonly=True)
    created_count = fields.Integer(string="Created", readonly=True)
    updated_count = fields.Integer(string="Updated", readonly=True)
    unchanged_count = fields.Integer(string="Unchanged", readonly=True)
    archived_count = fields.Integer(string="Archived", readonly=True)
    api_calls = fields.Integer(string="API Calls", readonly=True)
    pages = fields.Integer(readonly=True)
    error_code = fields.Char(readonly=True)
    error_message = fields.Text(readonly=True)
    progress = fields.Float(compute="_compute_progress")

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

    @api.depends("accounts_total", "accounts_done")
    def _compute_progress(self):
        for run in self:
            total = run.accounts_total
            run.progress = 100.0 * run.accounts_done / total if total else 0.0

    def _add_counts(self, **counts):
        """Atomically add to the counters: several workers may update one run."""
        self.ensure_one()
        assert set(counts) <= COUNTERS, set(counts) - COUNTERS
        assignments = ", ".join(f'"{name}" = COALESCE("{name}", 0) + %s' for name in counts)
        self.env.flush_all()
        self.env.cr.execute(
            f'UPDATE "ledgersync_sync_run" SET {assignments}, heartbeat_at = now() at time zone '
            "'UTC' WHERE id = %s",
            [*counts.values(), self.id],
        )
        self.invalidate_recordset([*counts, "heartbeat_at"])

    def _is_abandoned(self):
        """True when the worker that started the run is gone or silent for too long."""
        self.ensure_one()
        stale_before = fields.Datetime.now() - timedelta(seconds=const.RUN_STALE_SECONDS)
        if self.heartbeat_at < stale_before:
            return True
        self.env.cr.execute("SELECT 1 FROM pg_stat_activity WHERE pid = %s", [self.worker_pid])
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

    def _finish_if_complete(self):
        """Close the run when no bank account is left to sync or held by another worker."""
        self.ensure_one()
        self.env.flush_all()
        self.env.cr.execute(
            "SELECT id FROM ledgersync_sync_run WHERE id = %s AND state = 'running' FOR UPDATE",
            [self.id],
        )
        if not self.env.cr.fetchone():
            return False
        self.env.cr.execute(
            """
            SELECT count(*)
              FROM ledgersync_bank_account account
              JOIN ledgersync_client client ON client.id = account.client_id
             WHERE account.connection_id = %s AND account.active AND client.active
               AND account.last_sync_run_id IS DISTINCT FROM %s
            """,
            [self.connection_id.id, self.id],
        )
        if self.env.cr.fetchone()[0]:
            return False
        self.invalidate_recordset()
        if not self.accounts_failed:
            self._finish("done")
            return True
        failed = self.env["ledgersync.bank.account"].search(
            [("last_sync_run_id", "=", self.id), ("last_sync_error", "!=", False)]
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
