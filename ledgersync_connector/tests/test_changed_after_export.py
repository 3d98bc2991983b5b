from datetime import timedelta

from lxml import etree

from odoo.tests import tagged
from odoo.tools.safe_eval import safe_eval

from odoo.addons.account.tests.common import AccountTestInvoicingCommon

from .common import SandboxMixin


@tagged("post_install", "-at_install")
class TestChangedAfterExport(SandboxMixin, AccountTestInvoicingCommon):
    """LedgerSync changes (or deletes) transactions after their export to a bank
    statement: the sync flags them with the difference, and leaves the statement line, in
    the books, as it was."""

    sandbox_config = {
        "clients": 1,
        "accounts_per_client": 1,
        "transactions_per_account": 12,
        "pending_days": 5,
    }

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.start_sandbox()
        cls.bank_journal = cls.company_data["default_journal_bank"]
        cls.expense_account = cls.company_data["default_account_expense"]
        cls.Transaction = cls.env["ledgersync.transaction"]

    def setUp(self):
        super().setUp()
        self.connection = self.synced_connection()
        self.env["ledgersync.bank.account"].search([]).journal_id = self.bank_journal
        posted = self.Transaction.search([("ledgersync_status", "=", "posted")])
        self.assertGreaterEqual(len(posted), 7, "the sandbox has posted transactions")
        self.exported = posted[:6]
        self.not_exported = posted[6]
        self.exported.write({"account_id": self.expense_account.id})
        self.exported.action_mark_reviewed()
        self.exported.action_export_to_statement()
        # (amount, date) of each statement line, as exported.
        self.in_the_books = {
            transaction: (transaction.statement_line_id.amount, transaction.statement_line_id.date)
            for transaction in self.exported
        }

    def sync(self):
        run, out_of_time = self.connection._sync("manual")
        self.assertEqual(run.state, "done", run.error_message)
        self.assertFalse(out_of_time)
        self.Transaction.invalidate_model()
        return run

    def filter_domain(self):
        view = self.Transaction.get_views([(False, "search")])["views"]["search"]
        nodes = etree.fromstring(view["arch"]).xpath("//filter[@name='changed_after_export']")
        self.assertEqual(len(nodes), 1)
        return safe_eval(nodes[0].get("domain"))

    def assert_books_unchanged(self):
        for transaction, (amount, day) in self.in_the_books.items():
            line = transaction.statement_line_id
            line.invalidate_recordset()
            self.assertEqual((line.amount, line.date), (amount, day), transaction.ledgersync_id)
            self.assertEqual(transaction.review_state, "exported")

    def test_changes_after_export_are_flagged_with_the_difference(self):
        app = self.sandbox.app
        amount_changed, date_changed, pending, deleted, described, untouched = self.exported
        new_amount = amount_changed.amount - 5
        new_date = date_changed.date + timedelta(days=1)
        app.modify_transaction(amount_changed.ledgersync_id, amount=f"{new_amount:.2f}")
        app.modify_transaction(date_changed.ledgersync_id, date=new_date.isoformat())
        app.modify_transaction(pending.ledgersync_id, status="pending")
        app.delete_transaction(deleted.ledgersync_id, force=True)
        # Not a difference with the books: the description is not on the statement line's
        # amount or date.
        app.modify_transaction(described.ledgersync_id, description="RENAMED UPSTREAM")
        app.modify_transaction(self.not_exported.ledgersync_id, amount="-1.00")
        run = self.sync()
        self.assertEqual((run.updated_count, run.archived_count), (5, 1))

        changed = amount_changed | date_changed | pending | deleted
        flagged = self.Transaction.with_context(active_test=False).search(
            [("changed_after_export", "=", True)]
        )
        self.assertEqual(flagged, changed)
        # The transactions mirror LedgerSync; the statement lines stay as exported.
        self.assertEqual(amount_changed.amount, new_amount)
        self.assertEqual(date_changed.date, new_date)
        self.assertEqual(pending.ledgersync_status, "pending")
        self.assertFalse(deleted.active)
        self.assertEqual(described.description, "RENAMED UPSTREAM")
        self.assert_books_unchanged()

        old_amount, _day = self.in_the_books[amount_changed]
        self.assertEqual(
            amount_changed.export_difference, f"Amount: {old_amount:,.2f} → {new_amount:,.2f}"
        )
        self.assertEqual(
            date_changed.export_difference,
            f"Date: {self.in_the_books[date_changed][1]:%m/%d/%Y} → {new_date:%m/%d/%Y}",
        )
        self.assertEqual(pending.export_difference, "Pending again at the bank")
        self.assertEqual(deleted.export_difference, "Deleted in LedgerSync")
        for transaction in (described, untouched, self.not_exported):
            self.assertFalse(transaction.changed_after_export)
            self.assertFalse(transaction.export_difference)

        # The filter lists them all, the archived one included, from the default context.
        self.assertEqual(self.Transaction.search(self.filter_domain()), changed)

        # LedgerSync changes back: the flags go.
        app.modify_transaction(amount_changed.ledgersync_id, amount=f"{old_amount:.2f}")
        app.modify_transaction(pending.ledgersync_id, status="posted")
        app.restore_transaction(deleted.ledgersync_id)
        self.sync()
        self.assertEqual(self.Transaction.search(self.filter_domain()), date_changed)
        for transaction in (amount_changed, pending, deleted):
            self.assertFalse(transaction.export_difference)
        self.assert_books_unchanged()

        # Undoing the export takes the flag away with the statement line.
        date_changed.action_undo_export()
        self.assertEqual(date_changed.review_state, "reviewed")
        self.assertFalse(date_changed.changed_after_export)
        self.assertFalse(date_changed.export_difference)
        self.assertFalse(self.Transaction.search(self.filter_domain()))
