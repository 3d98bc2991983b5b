import psycopg2

from odoo.exceptions import AccessError, UserError
from odoo.tests import tagged
from odoo.tools import mute_logger

from odoo.addons.account.tests.common import AccountTestInvoicingCommon

from .common import SandboxMixin, company_user


@tagged("post_install", "-at_install")
class TestExportToBankStatement(SandboxMixin, AccountTestInvoicingCommon):
    sandbox_config = {
        "clients": 1,
        "accounts_per_client": 2,
        "transactions_per_account": 12,
        "pending_days": 90,
    }

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.start_sandbox()
        cls.env.ref("base.EUR").active = True
        cls.bank_journal = cls.company_data["default_journal_bank"]
        cls.expense_account = cls.company_data["default_account_expense"]
        cls.vendor = cls.env["res.partner"].create({"name": "Office Depot"})
        cls.bookkeeper = company_user(
            cls.env, cls.env.company, "ledgersync_bookkeeper", "account.group_account_basic"
        )
        cls.invoicing_user = company_user(
            cls.env, cls.env.company, "ledgersync_invoicing_only", "account.group_account_invoice"
        )
        cls.accounting_admin = company_user(
            cls.env,
            cls.env.company,
            "ledgersync_accounting_manager",
            "account.group_account_manager",
        )

    def setUp(self):
        super().setUp()
        self.synced_connection()
        accounts = self.env["ledgersync.bank.account"].search([])
        self.usd_account = accounts.filtered(lambda a: a.currency_code == "USD")
        self.eur_account = accounts.filtered(lambda a: a.currency_code == "EUR")
        self.usd_account.journal_id = self.bank_journal
        self.posted = self.env["ledgersync.transaction"].search(
            [("bank_account_id", "=", self.usd_account.id), ("ledgersync_status", "=", "posted")],
            limit=3,
        )
        self.posted.write({"partner_id": self.vendor.id, "account_id": self.expense_account.id})
        self.posted.action_mark_reviewed()

    def test_reviewed_posted_transactions_become_statement_lines_once(self):
        self.posted.with_user(self.bookkeeper).action_export_to_statement()
        lines = self.posted.statement_line_id
        self.assertEqual(len(lines), 3)
        self.assertEqual(set(self.posted.mapped("review_state")), {"exported"})
        for transaction in self.posted:
            line = transaction.statement_line_id
            self.assertEqual(line.journal_id, self.bank_journal)
            self.assertEqual(line.date, transaction.date)
            self.assertAlmostEqual(line.amount, transaction.amount)
            self.assertEqual(line.partner_id, self.vendor)
            # The chosen GL account is the counterpart, not the suspense account.
            self.assertIn(self.expense_account, line.move_id.line_ids.account_id)
        # Exporting them again (a double click, a re-sent request) shows the same export.
        export = self.posted.statement_export_id
        self.assertEqual(len(export), 1)
        action = self.posted.with_user(self.bookkeeper).action_export_to_statement()
        self.assertEqual(action["params"]["next"]["res_id"], export.id)
        self.assertEqual(self.posted.statement_line_id, lines)
        self.assertEqual(
            self.env["account.bank.statement.line"].search_count(
                [("ledgersync_transaction_id", "in", self.posted.ids)]
            ),
            3,
        )

    def test_exported_entries_are_posted_balanced_named_and_in_the_audit_trail(self):
        # What the speed-ups measured by bench/bench_statement_export.py must not cost:
        # context keys that skip the chatter (tracking_disable, mail_create_nolog) also
        # drop the entry's creation from Odoo's Audit Trail report. (Odoo's test classes
        # turn the chatter off: on again, as on a server.)
        chatter_on = dict.fromkeys(("tracking_disable", "mail_create_nolog", "mail_notrack"), False)
        self.posted.with_user(self.bookkeeper).with_context(
            **chatter_on
        ).action_export_to_statement()
        suspense = self.bank_journal.suspense_account_id
        names = set()
        for transaction in self.posted:
            move = transaction.statement_line_id.move_id
            self.assertEqual(move.state, "posted")
            self.assertEqual(move.journal_id, self.bank_journal)
            self.assertNotIn(move.name, (False, "/"))
            self.assertTrue(move.name.startswith(f"{self.bank_journal.code}/"), move.name)
            names.add(move.name)
            items = move.line_ids
            self.assertEqual(len(items), 2)
            self.assertAlmostEqual(sum(items.mapped("debit")), sum(items.mapped("credit")))
            self.assertAlmostEqual(sum(items.mapped("balance")), 0.0)
            self.assertEqual(
                items.account_id,
                self.bank_journal.default_account_id | self.expense_account,
            )
            self.assertNotIn(suspense, items.account_id)
            self.assertEqual(items.partner_id, self.vendor)
            liquidity = items.filtered(
                lambda item: item.account_id == self.bank_journal.default_account_id
            )
            self.assertAlmostEqual(liquidity.balance, transaction.amount)
            audit_trail = self.env["mail.message"].search(
                [
                    ("model", "=", "account.move"),
                    ("res_id", "=", move.id),
                    ("message_type", "=", "notification"),
                ]
            )
            self.assertTrue(audit_trail, "the entry's creation is in the audit trail")
            self.assertEqual(audit_trail.author_id, self.bookkeeper.partner_id)
        self.assertEqual(len(names), 3)

    def test_the_database_refuses_a_second_line_for_one_transaction(self):
        # What a re-sent request or a second server would do if it got past the row lock.
        self.posted.with_user(self.bookkeeper).action_export_to_statement()
        transaction = self.posted[0]
        self.assertEqual(transaction.statement_line_id.ledgersync_transaction_id, transaction)
        values = transaction._statement_line_values()
        with self.assertRaises(psycopg2.errors.UniqueViolation), mute_logger("odoo.sql_db"):
            with self.env.cr.savepoint():
                self.env["account.bank.statement.line"].create(values)
                self.env.flush_all()
        self.assertEqual(
            self.env["account.bank.statement.line"].search_count(
                [("ledgersync_transaction_id", "=", transaction.id)]
            ),
            1,
        )

    def test_an_overlapping_selection_exports_only_what_is_new(self):
        first, rest = self.posted[:1], self.posted[1:]
        first.with_user(self.bookkeeper).action_export_to_statement()
        line = first.statement_line_id
        self.posted.with_user(self.bookkeeper).action_export_to_statement()
        self.assertEqual(first.statement_line_id, line)
        self.assertEqual(len(rest.statement_line_id), 2)
        self.assertEqual(
            self.env["account.bank.statement.line"].search_count(
                [("ledgersync_transaction_id", "in", self.posted.ids)]
            ),
            3,
        )

    def test_pending_missing_journal_and_currency_are_clear_errors(self):
        pending = self.env["ledgersync.transaction"].search(
            [("ledgersync_status", "=", "pending")], limit=1
        )
        self.assertTrue(pending, "the sandbox has pending transactions in its last 90 days")
        pending.action_mark_reviewed()
        with self.assertRaisesRegex(UserError, "pending"):
            pending.action_export_to_statement()
        eur_transaction = self.env["ledgersync.transaction"].search(
            [("bank_account_id", "=", self.eur_account.id), ("ledgersync_status", "=", "posted")],
            limit=1,
        )
        eur_transaction.action_mark_reviewed()
        with self.assertRaisesRegex(UserError, "bank journal"):
            eur_transaction.action_export_to_statement()
        self.eur_account.journal_id = self.bank_journal
        with self.assertRaisesRegex(UserError, "EUR"):
            eur_transaction.action_export_to_statement()
        self.assertFalse(eur_transaction.statement_line_id)

    def test_inactive_currency_is_shown_but_export_asks_to_activate_it(self):
        eur = self.env.ref("base.EUR")
        eur_transaction = self.env["ledgersync.transaction"].search(
            [("bank_account_id", "=", self.eur_account.id), ("ledgersync_status", "=", "posted")],
            limit=1,
        )
        eur_transaction.action_mark_reviewed()
        eur_journal = self.bank_journal.copy({"name": "EUR Bank", "code": "EURB"})
        eur_journal.currency_id = eur
        self.eur_account.journal_id = eur_journal
        eur.active = False
        self.assertEqual(eur_transaction.currency_id, eur)
        with self.assertRaisesRegex(UserError, r"not active in Odoo \(EUR\)"):
            eur_transaction.with_user(self.bookkeeper).action_export_to_statement()
        self.assertFalse(eur_transaction.statement_line_id)
        eur.active = True
        eur_transaction.with_user(self.bookkeeper).action_export_to_statement()
        self.assertTrue(eur_transaction.statement_line_id)

    def test_accounting_administrators_can_export(self):
        manager = company_user(
            self.env,
            self.env.company,
            "ledgersync_accounting_admin",
            "account.group_account_manager",
        )
        self.posted.with_user(manager).action_export_to_statement()
        self.assertEqual(len(self.posted.statement_line_id), 3)

    def test_invoicing_only_users_cannot_export(self):
        with self.assertRaises(AccessError):
            self.posted.with_user(self.invoicing_user).action_export_to_statement()
        self.assertFalse(self.posted.statement_line_id)

    def test_accountants_move_only_between_to_review_and_reviewed(self):
        transaction = self.posted[0]
        for user in (self.invoicing_user, self.bookkeeper):
            with self.subTest(user=user.login):
                with self.assertRaisesRegex(AccessError, "Export to Bank Statement"):
                    transaction.with_user(user).write({"review_state": "exported"})
                self.assertEqual(transaction.review_state, "reviewed")
                self.assertFalse(transaction.statement_line_id)
                transaction.with_user(user).write({"review_state": "to_review"})
                transaction.with_user(user).write({"review_state": "reviewed"})

    def test_exported_transactions_are_locked(self):
        self.posted.with_user(self.bookkeeper).action_export_to_statement()
        transaction = self.posted[0]
        other_vendor = self.env["res.partner"].create({"name": "Someone Else"})
        other_account = self.company_data["default_account_revenue"]
        for user in (self.invoicing_user, self.bookkeeper, self.accounting_admin):
            for values in (
                {"partner_id": other_vendor.id},
                {"account_id": other_account.id},
                {"review_state": "to_review"},
                {"review_state": "reviewed"},
            ):
                with self.subTest(user=user.login, values=values):
                    with self.assertRaisesRegex(UserError, "Undo Export"):
                        transaction.with_user(user).write(values)
        transaction.with_user(self.bookkeeper).action_mark_to_review()
        self.assertEqual(
            (transaction.partner_id, transaction.account_id, transaction.review_state),
            (self.vendor, self.expense_account, "exported"),
        )

    def test_accounting_administrators_undo_an_export(self):
        self.posted.with_user(self.bookkeeper).action_export_to_statement()
        lines = self.posted.statement_line_id
        self.assertEqual(len(lines), 3)
        for user in (self.invoicing_user, self.bookkeeper):
            with self.subTest(user=user.login), self.assertRaises(AccessError):
                self.posted.with_user(user).action_undo_export()
        self.assertEqual(set(self.posted.mapped("review_state")), {"exported"})
        self.posted.with_user(self.accounting_admin).action_undo_export()
        self.assertFalse(lines.exists())
        self.assertFalse(self.posted.statement_line_id)
        self.assertEqual(set(self.posted.mapped("review_state")), {"reviewed"})
        # Unlocked again: the review can change, and the export can be done again.
        self.posted[0].with_user(self.bookkeeper).write({"partner_id": False})
        self.posted.with_user(self.bookkeeper).action_export_to_statement()
        self.assertEqual(len(self.posted.statement_line_id), 3)

    def test_undo_export_refuses_a_reconciled_statement_line(self):
        payable = self.company_data["default_account_payable"]
        transaction = self.posted.filtered(lambda t: t.amount < 0)[:1]
        self.assertTrue(transaction, "the sandbox has money going out")
        transaction.write({"review_state": "to_review"})
        transaction.write({"account_id": payable.id, "review_state": "reviewed"})
        transaction.with_user(self.bookkeeper).action_export_to_statement()
        line = transaction.statement_line_id
        bill = self.init_invoice(
            "in_invoice", partner=self.vendor, amounts=[abs(transaction.amount)], post=True
        )
        (line.move_id.line_ids | bill.line_ids).filtered(
            lambda move_line: move_line.account_id == payable
        ).reconcile()
        with self.assertRaisesRegex(UserError, "reconciled"):
            transaction.with_user(self.accounting_admin).action_undo_export()
        self.assertEqual(transaction.statement_line_id, line)
        self.assertEqual(transaction.review_state, "exported")
        # A statement line deleted in Odoo (out of its statement first, as Odoo asks)
        # returns its transaction to the review.
        other = self.posted - transaction
        other.with_user(self.bookkeeper).action_export_to_statement()
        other.statement_line_id.write({"statement_id": False})
        other.statement_line_id.unlink()
        self.assertEqual(set(other.mapped("review_state")), {"reviewed"})
        self.assertFalse(other.statement_export_id)
