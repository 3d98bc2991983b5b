from odoo import fields, models
from odoo.tools import SQL

# The counters of a sync run, each kept per worker and summed by the run.
COUNTERS = (
    "accounts_done",
    "accounts_failed",
    "created_count",
    "updated_count",
    "unchanged_count",
    "archived_count",
    "api_calls",
    "pages",
)


class LedgerSyncSyncWorker(models.Model):
    """One worker's part of a sync run: the counters that this worker alone writes.

    Several workers (scheduled actions, Odoo servers) may share one run. Odoo's
    transactions are REPEATABLE READ, so two workers adding to the counters of one row
    would make one of them fail with a serialization error; each worker adds to its own
    row instead, and the run shows the sums.
    """

    _name = "ledgersync.sync.worker"
    _description = "LedgerSync Sync Worker"
    _log_access = False

    run_id = fields.Many2one(
        "ledgersync.sync.run", required=True, readonly=True, index=True, ondelete="cascade"
    )
    worker_pid = fields.Integer(readonly=True, help="PostgreSQL backend of the worker.")
    heartbeat_at = fields.Datetime(readonly=True, default=fields.Datetime.now)
    accounts_done = fields.Integer(readonly=True)
    accounts_failed = fields.Integer(readonly=True)
    created_count = fields.Integer(readonly=True)
    updated_count = fields.Integer(readonly=True)
    unchanged_count = fields.Integer(readonly=True)
    archived_count = fields.Integer(readonly=True)
    api_calls = fields.Integer(readonly=True)
    pages = fields.Integer(readonly=True)

    def _add_counts(self, **counts):
        """Add to this worker's counters, in one statement (no other worker writes this
        row); the run's sums are read again when next needed."""
        self.ensure_one()
        unknown = set(counts) - set(COUNTERS)
        if unknown:
            raise ValueError(f"not a counter of a LedgerSync sync run: {sorted(unknown)}")
        assignments = [
            SQL("%s = COALESCE(%s, 0) + %s", SQL.identifier(name), SQL.identifier(name), value)
            for name, value in counts.items()
        ]
        self.env.cr.execute(
            SQL(
                "UPDATE ledgersync_sync_worker SET %s, heartbeat_at = now() at time zone 'UTC' "
                "WHERE id = %s",
                SQL(", ").join(assignments),
                self.id,
            )
        )
        self.invalidate_recordset([*counts, "heartbeat_at"])
        self.env["ledgersync.sync.run"].invalidate_model([*counts, "heartbeat_at"])
