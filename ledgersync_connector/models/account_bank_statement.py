from odoo import api, fields, models


class AccountBankStatement(models.Model):
    """A bank statement that a LedgerSync export built, with LedgerSync's balances beside
    Odoo's (exports/statements.py): its starting balance and its ending balance
    (``balance_end_real``) are LedgerSync's around its days, so Odoo itself shows a
    statement whose lines do not add up as incomplete; the difference is kept here too,
    and the export shows it."""

    _inherit = "account.bank.statement"

    ledgersync_export_id = fields.Many2one(
        "ledgersync.statement.export",
        string="LedgerSync Export",
        readonly=True,
        copy=False,
        index="btree_not_null",
        ondelete="set null",
    )
    ledgersync_balance_end = fields.Monetary(
        string="LedgerSync Balance",
        readonly=True,
        help="The balance LedgerSync implies after the statement's last day: its current "
        "balance less what was posted after that day.",
    )
    ledgersync_current_balance = fields.Monetary(string="LedgerSync Current Balance", readonly=True)
    ledgersync_posted_after = fields.Monetary(
        string="Posted After",
        readonly=True,
        help="What LedgerSync lists as posted after the statement's last day.",
    )
    ledgersync_difference = fields.Monetary(
        string="Difference",
        compute="_compute_ledgersync_difference",
        store=True,
        help="The statement's computed balance less LedgerSync's: posted transactions of "
        "those days that were not exported, or changed in LedgerSync since.",
    )

    @api.depends("balance_end", "ledgersync_balance_end", "ledgersync_export_id")
    def _compute_ledgersync_difference(self):
        for statement in self:
            statement.ledgersync_difference = (
                statement.balance_end - statement.ledgersync_balance_end
                if statement.ledgersync_export_id
                else 0.0
            )
