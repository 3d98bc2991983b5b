from datetime import timedelta

from odoo import api, fields, models

# How long an export and its file are kept.
EXPORT_KEPT_DAYS = 90


class LedgerSyncExport(models.Model):
    """One export of reviewed transactions: who made it, when, what it holds, its file."""

    _name = "ledgersync.export"
    _description = "LedgerSync Export"
    _order = "create_date desc, id desc"
    _check_company_auto = True

    name = fields.Char(string="File", required=True, readonly=True)
    kind = fields.Selection([("accounting_cs", "Accounting CS file")], required=True, readonly=True)
    client_id = fields.Many2one(
        "ledgersync.client", required=True, readonly=True, index=True, check_company=True
    )
    bank_account_id = fields.Many2one(
        "ledgersync.bank.account", required=True, readonly=True, check_company=True
    )
    date_from = fields.Date(required=True, readonly=True)
    date_to = fields.Date(required=True, readonly=True)
    line_count = fields.Integer(string="Lines", readonly=True)
    attachment_id = fields.Many2one("ir.attachment", readonly=True, ondelete="set null")
    company_id = fields.Many2one("res.company", required=True, readonly=True, index=True)

    def action_download(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_url",
            "url": f"/web/content/{self.attachment_id.id}?download=true",
            "target": "self",
        }

    @api.autovacuum
    def _gc_old_exports(self):
        """Exports (and their files) older than EXPORT_KEPT_DAYS go."""
        old = self.sudo().search(
            [("create_date", "<", fields.Datetime.now() - timedelta(days=EXPORT_KEPT_DAYS))]
        )
        old.attachment_id.unlink()
        old.unlink()
