"""One export of reviewed transactions to Odoo bank statements, built in units of work.

The export claims its transactions in the accountant's request (``statement_export_id``,
under their row locks), then builds their statement lines chunk by chunk: in the request
when it is small, otherwise in the background by its scheduled action, one commit per
chunk. A chunk builds the claimed transactions that have no line yet, so a crash resumes
where the last commit stopped, and the statement line's unique link to its transaction
makes a second line impossible whatever happens. Once every line exists, they are grouped
into one bank statement per journal, with LedgerSync's balances around its days.
"""

import logging
import time

from odoo import Command, api, fields, models, tools
from odoo.exceptions import UserError
from odoo.tools import SQL

from .. import const
from ..exports.statements import in_background, ledgersync_balances
from ..sync.budget import call_budget, cron_time_limit
from ..sync.commits import UnitsOfWork
from ..sync.queries import execute_values
from .ledgersync_connection import LIVE_NOTIFICATION, LIVE_SUBCHANNEL

_logger = logging.getLogger(__name__)

# The states in which the scheduled action has work.
WORKING_STATES = ("in_progress", "undoing")


class LedgerSyncStatementExport(models.Model):
    _name = "ledgersync.statement.export"
    _description = "LedgerSync Export to Bank Statements"
    _order = "create_date desc, id desc"
    _check_company_auto = True

    company_id = fields.Many2one("res.company", required=True, readonly=True, index=True)
    state = fields.Selection(
        [
            ("in_progress", "In Progress"),
            ("done", "Done"),
            ("failed", "Failed"),
            ("undoing", "Undoing"),
            ("undone", "Undone"),
        ],
        required=True,
        default="in_progress",
        readonly=True,
    )
    date_from = fields.Date(readonly=True)
    date_to = fields.Date(readonly=True)
    line_total = fields.Integer(string="Transactions", readonly=True)
    line_done = fields.Integer(string="Statement Lines", compute="_compute_line_done")
    progress = fields.Float(compute="_compute_line_done")
    left_out_count = fields.Integer(
        string="Left Out",
        readonly=True,
        help="Transactions that were no longer exportable when their turn came: pending "
        "again at the bank, or deleted in LedgerSync. They stay to review.",
    )
    transaction_ids = fields.One2many(
        "ledgersync.transaction", "statement_export_id", readonly=True
    )
    statement_ids = fields.One2many(
        "account.bank.statement", "ledgersync_export_id", string="Bank Statements", readonly=True
    )
    has_balance_difference = fields.Boolean(
        string="Balance Difference",
        compute="_compute_has_balance_difference",
        store=True,
        help="A statement's lines do not add up to LedgerSync's balance.",
    )
    error = fields.Text(readonly=True)
    failed_attempts = fields.Integer(readonly=True)

    @api.depends("line_total")
    def _compute_line_done(self):
        counts = dict(
            self.env["ledgersync.transaction"]
            .sudo()
            .with_context(active_test=False)
            ._read_group(
                [("statement_export_id", "in", self.ids), ("statement_line_id", "!=", False)],
                ["statement_export_id"],
                ["__count"],
            )
        )
        for export in self:
            export.line_done = counts.get(export, 0)
            total = export.line_total
            export.progress = 100.0 * export.line_done / total if total else 0.0

    @api.depends("statement_ids.ledgersync_difference")
    def _compute_has_balance_difference(self):
        for export in self:
            # (A statement emptied by an undo has no journal, hence no currency.)
            export.has_balance_difference = any(
                statement.currency_id
                and not statement.currency_id.is_zero(statement.ledgersync_difference)
                for statement in export.statement_ids
            )

    @api.depends("create_date", "date_from", "date_to")
    def _compute_display_name(self):
        for export in self:
            export.display_name = self.env._(
                "Bank statements %(date_from)s to %(date_to)s",
                date_from=tools.format_date(self.env, export.date_from),
                date_to=tools.format_date(self.env, export.date_to),
            )

    # ------------------------------------------------------------------ start

    @api.model
    def _start(self, transactions):
        """Export ``transactions`` (the caller checked the rights, locked the rows and
        validated them): claim them, then build their lines at once when they are few,
        otherwise in the background. Returns the export."""
        export = self.sudo().create(
            {
                "company_id": transactions.company_id.id,
                "line_total": len(transactions),
                "date_from": min(transactions.mapped("date")),
                "date_to": max(transactions.mapped("date")),
            }
        )
        self.env.cr.execute(
            SQL(
                "UPDATE ledgersync_transaction SET statement_export_id = %s WHERE id = ANY(%s)",
                export.id,
                transactions.ids,
            )
        )
        transactions.invalidate_recordset(["statement_export_id"])
        export._go_on(len(transactions))
        return export

    def _go_on(self, line_count):
        """Work on ``line_count`` lines: in the person's request when they are few (no
        commit until it ends, as any form's save; what the time allowed is kept), and
        what is left in the background."""
        if not in_background(line_count, const.STATEMENT_EXPORT_AT_ONCE_LINES):
            deadline = time.monotonic() + const.STATEMENT_EXPORT_REQUEST_SECONDS
            self._work(
                lambda: deadline - time.monotonic(),
                chunk_lines=const.STATEMENT_EXPORT_REQUEST_CHUNK_LINES,
            )
        if self.state in WORKING_STATES:
            self._cron()._trigger()

    def _open_action(self, message):
        """A notification of ``message``, then the export's form (its statements,
        balances and progress)."""
        self.ensure_one()
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "type": "warning" if self.has_balance_difference else "success",
                "message": message,
                "next": {
                    "type": "ir.actions.act_window",
                    "res_model": self._name,
                    "res_id": self.id,
                    "views": [(False, "form")],
                    "target": "current",
                },
            },
        }

    @api.model
    def _cron(self):
        return self.env.ref("ledgersync_connector.ir_cron_ledgersync_statement_export").sudo()

    def _worker_env(self):
        """The environment that builds and removes the lines: the rights were checked
        when the export started (or its undo), and the lines are the exporter's."""
        return self.env(user=self.create_uid.id, su=True)

    # ------------------------------------------------------------------ work

    def _work(self, time_left, commit=None, chunk_lines=None):
        """Build (or undo) this export chunk by chunk while ``time_left()`` is positive,
        calling ``commit`` (the scheduled action's) after each chunk. Returns whether the
        export has no work left."""
        self.ensure_one()
        chunk_lines = chunk_lines or const.STATEMENT_EXPORT_CHUNK_LINES
        while self.state in WORKING_STATES:
            if commit is not None and not self._lock_for_work():
                return False  # being worked on elsewhere
            if self.state == "in_progress":
                self._build_chunk(chunk_lines)
            else:
                self._undo_chunk(chunk_lines)
            if commit is not None:
                self.sudo().failed_attempts = 0
                self._notify_progress()
                if self.state not in WORKING_STATES:
                    self._notify_done()
                commit()
            if self.state in WORKING_STATES and time_left() <= 0:
                return False
        return True

    def _lock_for_work(self):
        self.env.cr.execute(
            SQL(
                "SELECT id FROM ledgersync_statement_export WHERE id = %s AND state IN %s "
                "FOR NO KEY UPDATE SKIP LOCKED",
                self.id,
                WORKING_STATES,
            )
        )
        return bool(self.env.cr.fetchone())

    def _next_transactions(self, chunk_lines, exported):
        """The next ``chunk_lines`` transactions of the export, locked: those without a
        statement line yet (``exported`` False) or with one."""
        self.env.flush_all()
        self.env.cr.execute(
            SQL(
                """
                SELECT id FROM ledgersync_transaction
                 WHERE statement_export_id = %s AND statement_line_id IS %s NULL
                 ORDER BY bank_account_id, date, id
                 LIMIT %s
                   FOR NO KEY UPDATE
                """,
                self.id,
                SQL("NOT") if exported else SQL(),
                chunk_lines,
            )
        )
        ids = [row[0] for row in self.env.cr.fetchall()]
        transactions = self._worker_env()["ledgersync.transaction"].with_context(active_test=False)
        return transactions.browse(ids)

    def _build_chunk(self, chunk_lines):
        """Create the statement lines of the next chunk and link them to their
        transactions; once none is left, group them into statements."""
        transactions = self._next_transactions(chunk_lines, exported=False)
        if not transactions:
            self._group_into_statements()
            self.sudo().write({"state": "done", "error": False})
            return
        # Pending again at the bank, or deleted in LedgerSync, since the export started:
        # never exported; they go back to the review.
        left_out = transactions.filtered(
            lambda t: (
                not t.active or t.ledgersync_status != "posted" or t.review_state != "reviewed"
            )
        )
        if left_out:
            left_out.write({"statement_export_id": False})
            self.sudo().write(
                {
                    "left_out_count": self.left_out_count + len(left_out),
                    "line_total": self.line_total - len(left_out),
                }
            )
        to_export = transactions - left_out
        lines = to_export._create_statement_lines()
        execute_values(
            self.env.cr,
            SQL(
                """
                UPDATE ledgersync_transaction AS t
                   SET statement_line_id = v.line_id, review_state = 'exported',
                       write_uid = %s, write_date = (now() at time zone 'UTC')
                  FROM (VALUES %%s) AS v (id, line_id)
                 WHERE t.id = v.id
                """,
                self.create_uid.id,
            ),
            list(zip(to_export.ids, lines.ids, strict=True)),
        )
        to_export.invalidate_recordset(["statement_line_id", "review_state"])
        self.invalidate_recordset(["line_done", "progress"])

    def _group_into_statements(self):
        """One bank statement per journal for the export's lines not in one yet, its
        starting and ending balances LedgerSync's around its days."""
        env = self._worker_env()
        transactions = (
            env["ledgersync.transaction"]
            .with_context(active_test=False)
            .search([("statement_export_id", "=", self.id), ("statement_line_id", "!=", False)])
        )
        by_journal = transactions.filtered(lambda t: not t.statement_line_id.statement_id).grouped(
            lambda t: t.statement_line_id.journal_id
        )
        for journal, journal_transactions in by_journal.items():
            first, last = (
                min(journal_transactions.mapped("date")),
                max(journal_transactions.mapped("date")),
            )
            balances = self._ledgersync_balances(journal_transactions.bank_account_id, first, last)
            env["account.bank.statement"].create(
                {
                    "name": self.env._(
                        "%(journal)s LedgerSync %(date_from)s to %(date_to)s",
                        journal=journal.code,
                        date_from=tools.format_date(self.env, first),
                        date_to=tools.format_date(self.env, last),
                    ),
                    "line_ids": [Command.set(journal_transactions.statement_line_id.ids)],
                    "balance_start": float(balances.start),
                    "balance_end_real": float(balances.end),
                    "ledgersync_export_id": self.id,
                    "ledgersync_balance_end": float(balances.end),
                    "ledgersync_current_balance": float(balances.current),
                    "ledgersync_posted_after": float(balances.posted_after),
                }
            )

    def _ledgersync_balances(self, bank_accounts, first, last):
        """LedgerSync's balances around ``first``..``last`` for ``bank_accounts`` (those
        exported into one journal): exports/statements.py."""
        self.env.cr.execute(
            SQL(
                """
                SELECT COALESCE(SUM(amount) FILTER (WHERE date BETWEEN %s AND %s), 0),
                       COALESCE(SUM(amount) FILTER (WHERE date > %s), 0)
                  FROM ledgersync_transaction
                 WHERE bank_account_id = ANY(%s) AND active AND ledgersync_status = 'posted'
                """,
                first,
                last,
                last,
                bank_accounts.ids,
            )
        )
        posted_in_range, posted_after = self.env.cr.fetchone()
        current = sum(bank_accounts.sudo().mapped("current_balance"))
        return ledgersync_balances(current, posted_in_range, posted_after)

    def action_open_transactions(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Exported Transactions"),
            "res_model": "ledgersync.transaction",
            "views": [(False, "list"), (False, "form")],
            "domain": [("statement_export_id", "=", self.id)],
            "context": {"active_test": False},
        }

    # ------------------------------------------------------------------ undo

    def action_undo(self):
        """Remove the export's statement lines and make its transactions reviewed again
        (accounting administrators): at once when they are few, otherwise in the
        background. Refused, with the reason, when any of its lines is reconciled."""
        self.ensure_one()
        transactions = self.env["ledgersync.transaction"]
        transactions._check_may_undo_export()
        if self.state not in ("done", "failed"):
            raise UserError(self.env._("Only a finished export can be undone."))
        self.env.cr.execute(
            SQL(
                "SELECT id FROM ledgersync_statement_export WHERE id = %s FOR NO KEY UPDATE",
                self.id,
            )
        )
        exported = transactions.with_context(active_test=False).search(
            [("statement_export_id", "=", self.id), ("statement_line_id", "!=", False)]
        )
        exported._check_lines_not_reconciled()
        self.sudo().write({"state": "undoing", "error": False})
        self._go_on(len(exported))
        return True

    def _undo_chunk(self, chunk_lines):
        transactions = self._next_transactions(chunk_lines, exported=True)
        if transactions:
            # Reconciled since the undo started: stop there, with the reason.
            transactions._check_lines_not_reconciled()
            transactions._remove_statement_lines()
        else:
            # The statements are empty now (the claims left with the lines).
            self.sudo().statement_ids.unlink()
            self.sudo().write({"state": "undone", "line_total": 0})

    def _after_lines_removed(self):
        """Exports whose lines are all gone (undone line by line, or deleted in Odoo's
        statements) are undone; their statements left empty go."""
        for export in self.sudo():
            empty = export.statement_ids.filtered(lambda s: not s.line_ids)
            empty.unlink()
            if export.state == "done" and not export.statement_ids:
                export.write({"state": "undone", "line_total": 0})

    # ------------------------------------------------------------------ scheduled action

    @api.model
    def _cron_build(self):
        """One call of the scheduled action: build (or undo) the exports waiting, oldest
        first, within Odoo's time for the job and this call's share of its time limit;
        each chunk is committed, so that a crash resumes from the last one."""
        cron = self.env["ir.cron"]
        slice_seconds, _overrun = call_budget(cron_time_limit(tools.config))
        slice_end = time.monotonic() + slice_seconds
        seconds_left = float("inf")

        def commit():
            nonlocal seconds_left
            seconds_left = min(cron._commit_progress(1), slice_end - time.monotonic())
            return seconds_left

        units = UnitsOfWork(self.env.cr, commit)
        units()
        for export in self.sudo().search([("state", "in", WORKING_STATES)], order="id"):
            try:
                export._work(lambda: seconds_left, units)
            except UserError as error:
                # A business error (a lock date, a journal changed ...): retrying is vain.
                units.rollback()
                export._fail(str(error))
                units()
            except Exception as error:
                # A crash-like error: the chunk is rolled back and tried again later.
                units.rollback()
                _logger.exception("LedgerSync export %s: unexpected error", export.id)
                export._count_failed_attempt(error)
                units()
            if seconds_left <= 0:
                break
        remaining = self.sudo().search_count([("state", "in", WORKING_STATES)])
        cron._commit_progress(0, remaining=remaining)

    def _fail(self, reason):
        """Stop the export: the transactions not built yet return to the review, the
        lines already built are grouped into statements (their balances show what is
        missing), and the reason is kept."""
        self.ensure_one()
        export = self.sudo()
        if export.state == "undoing":
            export.write({"state": "done", "error": reason})
            return
        # Archived ones too: one deleted in LedgerSync after its line was built keeps it.
        claimed = export.with_context(active_test=False).transaction_ids
        built = claimed.filtered("statement_line_id")
        (claimed - built).write({"statement_export_id": False})
        export._group_into_statements()
        export.write({"state": "failed", "error": reason, "line_total": len(built)})
        export._notify_done()

    def _count_failed_attempt(self, error):
        self.ensure_one()
        attempts = self.failed_attempts + 1
        if attempts >= const.STATEMENT_EXPORT_MAX_ATTEMPTS:
            self._fail(
                self.env._("The export stopped on an unexpected error: %(error)s", error=error)
            )
        else:
            self.sudo().failed_attempts = attempts

    # ------------------------------------------------------------------ news

    def _notify_progress(self):
        """The export's form reloads itself (static/src/live) as the work goes on."""
        self.env["bus.bus"]._sendone(
            (self.company_id, LIVE_SUBCHANNEL), LIVE_NOTIFICATION, {"statement_export_id": self.id}
        )

    def _notify_done(self):
        """Tell the accountant who exported, wherever they are in Odoo."""
        if not self.create_uid or self.create_uid._is_public():
            return
        self.invalidate_recordset(["line_done", "progress", "has_balance_difference"])
        _ = self.env._
        message = _(
            "%(lines)s statement lines exported into %(statements)s bank statements.",
            lines=self.line_done,
            statements=len(self.statement_ids),
        )
        if self.has_balance_difference:
            message += " " + _("A balance differs from LedgerSync's: see the export.")
        if self.state == "failed":
            message = _("The export to bank statements stopped: %(reason)s", reason=self.error)
        warn = self.state == "failed" or self.has_balance_difference
        self.create_uid._bus_send(
            "simple_notification",
            {
                "type": "warning" if warn else "success",
                "title": _("Export to Bank Statements"),
                "message": message,
            },
        )
