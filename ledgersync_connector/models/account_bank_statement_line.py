from odoo import fields, models


class AccountBankStatementLine(models.Model):
    _inherit = "account.bank.statement.line"

    # Odoo 19 community has no unique import id on statement lines: this link, unique in
    # the database, is what makes an export exactly once, whatever the requests do.
    ledgersync_transaction_id = fields.Many2one(
        "ledgersync.transaction",
        string="LedgerSync Transaction",
        readonly=True,
        copy=False,
        index="btree_not_null",
        ondelete="set null",
    )

    _ledgersync_transaction_unique = models.Constraint(
        "UNIQUE (ledgersync_transaction_id)",
        "A LedgerSync transaction is exported to one bank statement line only.",
    )

    def unlink(self):
        # The transactions of a line deleted here (an undone export, or by hand in the
        # statements) are reviewed again, and may be exported again.
        transactions = self.sudo().ledgersync_transaction_id
        exports = transactions.statement_export_id
        if transactions:
            transactions.write(
                {
                    "statement_line_id": False,
                    "statement_export_id": False,
                    "review_state": "reviewed",
                    "changed_after_export": False,
                }
            )
        result = super().unlink()
        exports._after_lines_removed()
        return result
