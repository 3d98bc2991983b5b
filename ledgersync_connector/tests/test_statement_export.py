"""Exports to Odoo bank statements: statements per journal with LedgerSync's balances,
the background for big exports (progress, crashes, failures), undo, and companies."""

from decimal import Decimal
from unittest.mock import patch

from odoo import Command
from odoo.exceptions import AccessError, UserError
from odoo.tests import tagged
from odoo.tools import mute_logger

from odoo.addons.account.tests.common import AccountTestInvoicingCommon

from .. import const
from .common import SandboxMixin, company_user

STATEMENT_EXPORT = "odoo.addons.ledgersync_connector.models.ledgersync_statement_export"


@tagged("post_install", "-at_install")
class TestStatementExport(SandboxMixin, AccountTestInvoicingCommon):
    sandbox_config = {
        "clients": 1,
        "accounts_per_client": 2,
        "transactions_per_account": 30,
        "pending_days": 20,
    }

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.start_sandbox()
        cls.bank_journal = cls.company_data["default_journal_bank"]
        cls.expense_account = cls.company_data["default_account_expense"]
        cls.bookkeeper = company_user(
            cls.env, cls.env.company, "statement_bookkeeper", "account.group_account_basic"
        )
        cls.accounting_admin = company_user(
            cls.env, cls.env.company, "statement_admin", "account.group_account_manager"
        )

    def setUp(self):
        super().setUp()
        self.synced_connection()
        self.account = self.env["ledgersync.bank.account"].search(
            [("currency_code", "=", "USD")], limit=1
        )
        self.account.journal_id = self.bank_journal
        self.posted = self.env["ledgersync.transaction"].search(
            [("bank_account_id", "=", self.account.id), ("ledgersync_status", "=", "posted")],
            order="date, id",
        )
        self.assertGreater(len(self.posted), 12, "the sandbox has posted transactions")
        self.posted.write({"account_id": self.expense_account.id})
        self.posted.action_mark_reviewed()

    # ------------------------------------------------------------------ helpers

    def export(self, transactions, user=None):
        action = transactions.with_user(user or self.bookkeeper).action_export_to_statement()
        return self.env["ledgersync.statement.export"].browse(action["params"]["next"]["res_id"])

    def run_cron(self):
        """One call of the scheduled action; returns the lines built after each commit."""
        progress = []
        export_model = self.env["ledgersync.statement.export"]

        def commit_progress(cron, processed=0, remaining=None, **kwargs):
            self.env.flush_all()
            exports = export_model.search([])
            exports.invalidate_recordset(["line_done"])
            progress.append(sum(exports.mapped("line_done")))
            return float("inf")

        with patch.object(type(self.env["ir.cron"]), "_commit_progress", commit_progress):
            export_model._cron_build()
        self.env.invalidate_all()
        return progress

    def small_background(self):
        """Exports of more than 5 lines go to the background, in chunks of 4."""
        return patch.multiple(
            const, STATEMENT_EXPORT_AT_ONCE_LINES=5, STATEMENT_EXPORT_CHUNK_LINES=4
        )

    def expected_balances(self, transactions):
        """LedgerSync's balances around the transactions' days, computed here from the
        synced rows: today's balance less what was posted after, then less the days'."""
        first, last = min(transactions.mapped("date")), max(transactions.mapped("date"))
        posted = self.env["ledgersync.transaction"].search(
            [("bank_account_id", "=", self.account.id), ("ledgersync_status", "=", "posted")]
        )
        after = sum(Decimal(str(t.amount)) for t in posted if t.date > last)
        within = sum(Decimal(str(t.amount)) for t in posted if first <= t.date <= last)
        end = Decimal(str(self.account.current_balance)) - after
        return end - within, end

    def assert_exported_once(self, transactions):
        lines = self.env["account.bank.statement.line"].search(
            [("ledgersync_transaction_id", "in", transactions.ids)]
        )
        self.assertEqual(len(lines), len(transactions))
        self.assertEqual(lines.ledgersync_transaction_id, transactions)
        self.assertEqual(set(transactions.mapped("review_state")), {"exported"})
        for transaction in transactions:
            self.assertEqual(transaction.statement_line_id.ledgersync_transaction_id, transaction)
            self.assertAlmostEqual(transaction.statement_line_id.amount, transaction.amount)

    # ------------------------------------------------------------------ statements

    def test_one_statement_per_journal_with_ledgersync_balances(self):
        export = self.export(self.posted)
        self.assertEqual(export.state, "done")
        self.assert_exported_once(self.posted)
        statement = export.statement_ids
        self.assertEqual(len(statement), 1)
        self.assertEqual(statement.journal_id, self.bank_journal)
        self.assertEqual(statement.line_ids, self.posted.statement_line_id)
        start, end = self.expected_balances(self.posted)
        self.assertAlmostEqual(statement.balance_start, float(start), places=2)
        self.assertAlmostEqual(statement.balance_end, float(end), places=2)
        self.assertAlmostEqual(statement.ledgersync_balance_end, float(end), places=2)
        self.assertAlmostEqual(statement.ledgersync_current_balance, self.account.current_balance)
        self.assertAlmostEqual(statement.ledgersync_difference, 0.0, places=2)
        # Every posted transaction of those days is in: Odoo sees a complete statement.
        self.assertTrue(statement.is_complete)
        self.assertFalse(export.has_balance_difference)
        self.assertEqual(
            (export.line_total, export.line_done), (len(self.posted), len(self.posted))
        )

    def test_a_transaction_left_to_review_is_a_flagged_difference(self):
        days = self.posted[2:10]
        missing = days[3]
        missing.with_user(self.bookkeeper).action_mark_to_review()
        export = self.export(days - missing)
        statement = export.statement_ids
        start, end = self.expected_balances(days)
        self.assertAlmostEqual(statement.balance_start, float(start), places=2)
        self.assertAlmostEqual(statement.ledgersync_balance_end, float(end), places=2)
        self.assertAlmostEqual(statement.ledgersync_difference, -missing.amount, places=2)
        self.assertTrue(export.has_balance_difference)
        # Odoo flags it too: the lines do not reach the ending balance.
        self.assertFalse(statement.is_complete)
        self.assertTrue(statement.problem_description)

    def test_statements_per_journal_and_per_export(self):
        second_journal = self.env["account.journal"].create(
            {"name": "Second Bank", "code": "SBK", "type": "bank"}
        )
        other = self.env["ledgersync.bank.account"].search(
            [("id", "!=", self.account.id), ("client_id", "=", self.account.client_id.id)]
        )
        other.journal_id = second_journal
        self.env.ref("base.EUR").active = True
        second_journal.currency_id = other.currency_id
        other_posted = self.env["ledgersync.transaction"].search(
            [("bank_account_id", "=", other.id), ("ledgersync_status", "=", "posted")], limit=4
        )
        other_posted.action_mark_reviewed()
        export = self.export(self.posted[:4] | other_posted)
        self.assertEqual(export.statement_ids.journal_id, self.bank_journal | second_journal)
        self.assertEqual(len(export.statement_ids), 2)
        later = self.export(self.posted[4:8])
        self.assertEqual(len(later.statement_ids), 1)
        self.assertNotEqual(later.statement_ids, export.statement_ids)

    # ------------------------------------------------------------------ exactly once

    def test_resending_and_overlapping_selections_never_export_twice(self):
        first = self.export(self.posted[:6])
        # The browser sends the same request again (or the button is clicked twice).
        again = self.export(self.posted[:6])
        self.assertEqual(again, first)
        # An overlapping range: only what is new is exported, in a new export.
        overlapping = self.export(self.posted[3:10])
        self.assertNotEqual(overlapping, first)
        self.assertEqual(overlapping.line_total, 4)
        self.assert_exported_once(self.posted[:10])

    def test_pending_transactions_are_never_exported(self):
        pending = self.env["ledgersync.transaction"].search(
            [("bank_account_id", "=", self.account.id), ("ledgersync_status", "=", "pending")],
            limit=1,
        )
        self.assertTrue(pending, "the sandbox has pending transactions")
        pending.action_mark_reviewed()
        with self.assertRaisesRegex(UserError, "pending"):
            self.export(self.posted[:3] | pending)
        self.assertFalse((self.posted[:3] | pending).statement_line_id)
        # One that goes back to pending while a background export waits is left out.
        with self.small_background():
            export = self.export(self.posted[:8])
            self.env.cr.execute(
                "UPDATE ledgersync_transaction SET ledgersync_status = 'pending' WHERE id = %s",
                [self.posted[1].id],
            )
            self.env.invalidate_all()
            self.run_cron()
        self.assertEqual(export.state, "done")
        self.assertEqual((export.line_total, export.left_out_count), (7, 1))
        self.assertFalse(self.posted[1].statement_line_id)
        self.assertFalse(self.posted[1].statement_export_id)
        self.assertEqual(self.posted[1].review_state, "reviewed")
        self.assert_exported_once(self.posted[:8] - self.posted[1])

    # ------------------------------------------------------------------ background

    def test_a_big_export_runs_in_the_background_with_progress(self):
        cron = self.env.ref("ledgersync_connector.ir_cron_ledgersync_statement_export")
        triggers = self.env["ir.cron.trigger"].search_count([("cron_id", "=", cron.id)])
        with self.small_background():
            action = self.posted[:10].with_user(self.bookkeeper).action_export_to_statement()
            export = self.env["ledgersync.statement.export"].browse(
                action["params"]["next"]["res_id"]
            )
            self.assertIn("background", action["params"]["message"])
            self.assertEqual(
                (export.state, export.line_total, export.line_done), ("in_progress", 10, 0)
            )
            self.assertFalse(self.posted[:10].statement_line_id)
            self.assertGreater(
                self.env["ir.cron.trigger"].search_count([("cron_id", "=", cron.id)]), triggers
            )
            # The accountant sees the progress; the claimed lines are locked meanwhile.
            self.assertEqual(export.with_user(self.bookkeeper).progress, 0.0)
            with self.assertRaisesRegex(UserError, "Undo Export"):
                self.posted[0].with_user(self.bookkeeper).write({"partner_id": False})
            progress = self.run_cron()
        # Commits: the start, each chunk of 4 lines, the statements, the call's end.
        self.assertEqual(progress, [0, 4, 8, 10, 10, 10])
        self.assertEqual(export.state, "done")
        self.assertEqual(export.progress, 100.0)
        self.assertEqual(len(export.statement_ids), 1)
        self.assert_exported_once(self.posted[:10])
        # The exporter is told, wherever they are in Odoo.
        notices = (
            self.env["bus.bus"]
            .sudo()
            .search(
                [("message", "like", "simple_notification"), ("message", "like", "Export to Bank")]
            )
        )
        self.assertTrue(notices)

    def test_a_crash_mid_way_resumes_without_duplicates(self):
        transaction_model = type(self.env["ledgersync.transaction"])
        create_lines = transaction_model._create_statement_lines
        calls = []

        def crash_on_second_chunk(transactions):
            calls.append(len(transactions))
            if len(calls) == 2:
                # Lines created, then the worker dies before its commit.
                create_lines(transactions)
                raise MemoryError("worker killed")
            return create_lines(transactions)

        with self.small_background():
            export = self.export(self.posted[:10])
            with (
                patch.object(transaction_model, "_create_statement_lines", crash_on_second_chunk),
                mute_logger(STATEMENT_EXPORT),
            ):
                self.run_cron()
            # The first chunk is kept, the second rolled back with its lines.
            self.assertEqual(export.state, "in_progress")
            self.assertEqual(export.line_done, 4)
            self.assertEqual(export.failed_attempts, 1)
            self.assertEqual(
                self.env["account.bank.statement.line"].search_count(
                    [("ledgersync_transaction_id", "in", self.posted[:10].ids)]
                ),
                4,
            )
            self.run_cron()
        self.assertEqual((export.state, export.line_done, export.failed_attempts), ("done", 10, 0))
        self.assert_exported_once(self.posted[:10])

    def test_errors_that_last_fail_the_export_and_release_the_rest(self):
        transaction_model = type(self.env["ledgersync.transaction"])
        create_lines = transaction_model._create_statement_lines

        def fail_after_first_chunk(transactions):
            if self.env["account.bank.statement.line"].search_count(
                [("ledgersync_transaction_id", "!=", False)]
            ):
                raise UserError(self.env._("The journal entries of that period are locked."))
            lines = create_lines(transactions)
            # Deleted in LedgerSync once its line is built: it stays the export's.
            self.env.cr.execute(
                "UPDATE ledgersync_transaction SET active = FALSE WHERE id = %s",
                [transactions[0].id],
            )
            return lines

        with self.small_background():
            export = self.export(self.posted[:10])
            with patch.object(transaction_model, "_create_statement_lines", fail_after_first_chunk):
                self.run_cron()
        self.assertEqual(export.state, "failed")
        self.assertIn("locked", export.error)
        self.assertEqual(export.line_done, 4)
        built, released = self.posted[:4], self.posted[4:10]
        self.assert_exported_once(built)
        self.assertEqual(export.statement_ids.line_ids, built.statement_line_id)
        self.assertFalse(built[0].active)
        self.assertEqual(built.statement_export_id, export)
        # The rest is reviewed again, free to be exported once the cause is fixed.
        self.assertFalse(released.statement_export_id)
        self.assertEqual(set(released.mapped("review_state")), {"reviewed"})
        retry = self.export(released)
        self.assertEqual(retry.state, "done")
        self.assert_exported_once(self.posted[:10])

    # ------------------------------------------------------------------ undo

    def test_accounting_administrators_undo_an_export(self):
        export = self.export(self.posted[:6])
        lines, statement = export.statement_ids.line_ids, export.statement_ids
        with self.assertRaises(AccessError):
            export.with_user(self.bookkeeper).action_undo()
        export.with_user(self.accounting_admin).action_undo()
        self.assertEqual(export.state, "undone")
        self.assertFalse(lines.exists())
        self.assertFalse(statement.exists())
        self.assertEqual(set(self.posted[:6].mapped("review_state")), {"reviewed"})
        self.assertFalse(self.posted[:6].statement_export_id)
        # They can be exported again.
        self.assertEqual(self.export(self.posted[:6]).state, "done")
        self.assert_exported_once(self.posted[:6])

    def test_a_big_undo_runs_in_the_background(self):
        with self.small_background():
            export = self.export(self.posted[:10])
            self.run_cron()
            export.with_user(self.accounting_admin).action_undo()
            self.assertEqual(export.state, "undoing")
            self.run_cron()
        self.assertEqual(export.state, "undone")
        self.assertFalse(self.posted[:10].statement_line_id)
        self.assertFalse(export.statement_ids)

    def test_undo_refuses_reconciled_lines_with_the_reason(self):
        payable = self.company_data["default_account_payable"]
        vendor = self.env["res.partner"].create({"name": "Reconciled Vendor"})
        outgoing = self.posted.filtered(lambda t: t.amount < 0)[:2]
        outgoing.with_user(self.bookkeeper).write(
            {"account_id": payable.id, "partner_id": vendor.id}
        )
        export = self.export(outgoing)
        line = outgoing[0].statement_line_id
        bill = self.init_invoice(
            "in_invoice", partner=vendor, amounts=[abs(outgoing[0].amount)], post=True
        )
        (line.move_id.line_ids | bill.line_ids).filtered(
            lambda item: item.account_id == payable
        ).reconcile()
        with self.assertRaisesRegex(UserError, "reconciled"):
            export.with_user(self.accounting_admin).action_undo()
        self.assertEqual(export.state, "done")
        self.assertEqual(export.statement_ids.line_ids, outgoing.statement_line_id)

    def test_undoing_one_line_shows_the_difference_then_the_whole_export(self):
        export = self.export(self.posted[:6])
        self.posted[2].with_user(self.accounting_admin).action_undo_export()
        self.assertTrue(export.has_balance_difference)
        self.assertAlmostEqual(
            export.statement_ids.ledgersync_difference, -self.posted[2].amount, places=2
        )
        self.assertEqual(export.line_done, 5)
        (self.posted[:6] - self.posted[2]).with_user(self.accounting_admin).action_undo_export()
        self.assertEqual(export.state, "undone")
        self.assertFalse(export.statement_ids)


@tagged("post_install", "-at_install")
class TestStatementExportCompanies(SandboxMixin, AccountTestInvoicingCommon):
    """A client whose books another company keeps: its lines go to that company's
    journal; each company's people see their own exports only."""

    sandbox_config = {"clients": 2, "accounts_per_client": 1, "transactions_per_account": 12}

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.start_sandbox()
        cls.firm = cls.env.company
        cls.books = cls.setup_other_company(name="Client Books Company")["company"]
        cls.env.user.company_ids = [Command.link(cls.books.id)]
        cls.books_journal = cls.env["account.journal"].create(
            {"name": "Books Bank", "code": "BKB", "type": "bank", "company_id": cls.books.id}
        )
        cls.firm_bookkeeper = company_user(
            cls.env, cls.firm, "statement_firm_bookkeeper", "account.group_account_basic"
        )
        cls.books_bookkeeper = company_user(
            cls.env, cls.books, "statement_books_bookkeeper", "account.group_account_basic"
        )

    def setUp(self):
        super().setUp()
        self.synced_connection()
        clients = self.env["ledgersync.client"].search([], order="id")
        self.mapped_client, self.firm_client = clients[0], clients[1]
        self.mapped_client.company_id = self.books
        self.accounts_of(self.mapped_client).journal_id = self.books_journal
        self.accounts_of(self.firm_client).journal_id = self.company_data["default_journal_bank"]
        self.mapped_rows = self.posted_of(self.mapped_client)
        self.firm_rows = self.posted_of(self.firm_client)

    def as_user(self, records, user):
        return records.with_user(user).with_context(allowed_company_ids=user.company_ids.ids)

    def accounts_of(self, client):
        return self.env["ledgersync.bank.account"].search([("client_id", "=", client.id)])

    def posted_of(self, client):
        rows = (
            self.env["ledgersync.transaction"]
            .with_context(allowed_company_ids=(self.firm | self.books).ids)
            .search([("client_id", "=", client.id), ("ledgersync_status", "=", "posted")], limit=4)
        )
        rows.action_mark_reviewed()
        return rows

    def test_a_mapped_client_exports_into_its_company_journal(self):
        self.assertEqual(self.mapped_rows.company_id, self.books)
        action = self.as_user(self.mapped_rows, self.books_bookkeeper).action_export_to_statement()
        export = self.env["ledgersync.statement.export"].browse(action["params"]["next"]["res_id"])
        self.assertEqual(export.company_id, self.books)
        self.assertEqual(export.statement_ids.journal_id, self.books_journal)
        self.assertEqual(export.statement_ids.company_id, self.books)
        self.assertEqual(self.mapped_rows.statement_line_id.company_id, self.books)
        # The firm's people see neither the client's rows nor its export.
        exports = self.env["ledgersync.statement.export"].with_user(self.firm_bookkeeper)
        self.assertFalse(exports.search([]))
        with self.assertRaises(AccessError):
            self.as_user(self.mapped_rows, self.firm_bookkeeper).action_export_to_statement()
        # The firm's own client goes to the firm's journal, in an export of its own.
        action = self.as_user(self.firm_rows, self.firm_bookkeeper).action_export_to_statement()
        firm_export = exports.browse(action["params"]["next"]["res_id"])
        self.assertEqual(firm_export.company_id, self.firm)
        self.assertEqual(exports.search([]), firm_export)
        self.assertEqual(
            self.env["ledgersync.statement.export"].with_user(self.books_bookkeeper).search([]),
            export,
        )

    def test_one_export_holds_the_transactions_of_one_company(self):
        rows = (self.mapped_rows | self.firm_rows).with_context(
            allowed_company_ids=(self.firm | self.books).ids
        )
        with self.assertRaisesRegex(UserError, "one company at a time"):
            rows.action_export_to_statement()
        self.assertFalse(rows.statement_line_id)
