"""Export to Accounting CS: the file of one client's bank account and range, its export
history (who, when, how many lines, the file, 90 days), and its refusals."""

import base64
import csv
import io
from datetime import timedelta

from odoo import fields
from odoo.exceptions import UserError
from odoo.tests import tagged

from odoo.addons.account.tests.common import AccountTestInvoicingCommon

from ..exports.accounting_cs import COLUMNS, file_name
from ..models.ledgersync_export import EXPORT_KEPT_DAYS
from .common import SandboxMixin, company_user


@tagged("post_install", "-at_install")
class TestExportToAccountingCs(SandboxMixin, AccountTestInvoicingCommon):
    sandbox_config = {
        "clients": 2,
        "accounts_per_client": 1,
        "transactions_per_account": 20,
        "pending_days": 5,
    }

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.start_sandbox()
        cls.expense_account = cls.company_data["default_account_expense"]
        cls.vendor = cls.env["res.partner"].create({"name": "Office Depot", "ref": "OFF01"})
        cls.accountant = company_user(
            cls.env, cls.env.company, "ledgersync_cs_accountant", "account.group_account_invoice"
        )

    def setUp(self):
        super().setUp()
        self.synced_connection()
        self.account = self.env["ledgersync.bank.account"].search([], limit=1, order="id")
        self.client = self.account.client_id
        self.Transaction = self.env["ledgersync.transaction"]
        lines = self.Transaction.search([("bank_account_id", "=", self.account.id)])
        self.posted = lines.filtered(lambda t: t.ledgersync_status == "posted")
        self.pending = lines - self.posted
        self.assertTrue(self.posted and self.pending)
        self.reviewed = self.posted[:6]
        self.reviewed.write({"partner_id": self.vendor.id, "account_id": self.expense_account.id})
        self.reviewed.action_mark_reviewed()
        self.start = min(lines.mapped("date"))
        self.end = max(lines.mapped("date"))

    def wizard(self, user=None, **values):
        Wizard = self.env["ledgersync.export.accounting.cs"].with_user(user or self.accountant)
        return Wizard.create(
            {
                "client_id": self.client.id,
                "bank_account_id": self.account.id,
                "date_from": self.start,
                "date_to": self.end,
                **values,
            }
        )

    def exported_rows(self, action):
        attachment_id = int(action["url"].split("/web/content/")[1].split("?")[0])
        attachment = self.env["ir.attachment"].browse(attachment_id)
        data = base64.b64decode(attachment.datas)
        self.assertTrue(data.startswith("\ufeff".encode()))
        return list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))

    def test_the_file_holds_the_reviewed_posted_lines_by_date(self):
        action = self.wizard().action_export()
        rows = self.exported_rows(action)
        self.assertEqual(tuple(rows[0]), COLUMNS)
        expected = self.reviewed.sorted(lambda t: (t.date, t.id))
        self.assertEqual([row[8] for row in rows[1:]], expected.mapped("ledgersync_id"))
        first, transaction = rows[1], expected[0]
        self.assertEqual(first[0], transaction.date.strftime("%m/%d/%Y"))
        self.assertEqual(first[2:5], ["Office Depot", "OFF01", self.expense_account.code])
        amount = f"{abs(transaction.amount):.2f}"
        self.assertEqual(first[5:7], [amount, ""] if transaction.amount < 0 else ["", amount])
        self.assertEqual(first[10], self.account.mask or "")

    def test_every_posted_line_when_not_only_reviewed_and_never_pending(self):
        rows = self.exported_rows(self.wizard(reviewed_only=False).action_export())
        self.assertEqual(
            sorted(row[8] for row in rows[1:]), sorted(self.posted.mapped("ledgersync_id"))
        )
        self.assertFalse(set(self.pending.mapped("ledgersync_id")) & {row[8] for row in rows})

    def test_the_export_history_keeps_who_when_how_many_and_the_file(self):
        self.wizard().action_export()
        export = self.env["ledgersync.export"].search([])
        self.assertEqual(len(export), 1)
        self.assertEqual(export.create_uid, self.accountant)
        self.assertEqual(export.line_count, 6)
        self.assertEqual(
            export.name, file_name(self.client.name, self.account.name, self.start, self.end)
        )
        self.assertEqual(export.attachment_id.res_id, export.id)
        self.assertEqual(
            export.with_user(self.accountant).action_download()["type"], "ir.actions.act_url"
        )
        # The accountant reads the file through the export, which they can read.
        self.assertTrue(export.attachment_id.with_user(self.accountant).datas)

    def test_exports_older_than_the_kept_days_go_with_their_file(self):
        self.wizard().action_export()
        export = self.env["ledgersync.export"].search([])
        attachment = export.attachment_id
        self.env.cr.execute(
            "UPDATE ledgersync_export SET create_date = %s WHERE id = %s",
            [fields.Datetime.now() - timedelta(days=EXPORT_KEPT_DAYS + 1), export.id],
        )
        export.invalidate_recordset()
        self.env["ledgersync.export"]._gc_old_exports()
        self.assertFalse(export.exists())
        self.assertFalse(attachment.exists())

    def test_bad_requests_are_refused_clearly(self):
        with self.assertRaisesRegex(UserError, "start date must be on or before"):
            self.wizard(date_from=self.end, date_to=self.start).action_export()
        other_client = self.env["ledgersync.client"].search([("id", "!=", self.client.id)], limit=1)
        with self.assertRaisesRegex(UserError, "is not one of"):
            self.wizard(client_id=other_client.id).action_export()
        self.reviewed.action_mark_to_review()
        with self.assertRaisesRegex(UserError, "Nothing to export"):
            self.wizard().action_export()
        self.assertFalse(self.env["ledgersync.export"].search([]))
