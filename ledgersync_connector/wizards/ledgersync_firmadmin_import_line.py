from odoo import fields, models


class LedgerSyncFirmadminImportLine(models.TransientModel):
    """One row of a FIRMADMIN file in the import's preview: what Confirm Import does."""

    _name = "ledgersync.firmadmin.import.line"
    _description = "FIRMADMIN Import Preview Line"
    _order = "kind, line"

    import_id = fields.Many2one("ledgersync.firmadmin.import", required=True, ondelete="cascade")
    kind = fields.Selection([("client", "Client"), ("vendor", "Vendor")], required=True)
    line = fields.Integer(help="The line of the file (the header is line 1).")
    code = fields.Char()
    name = fields.Char()
    action = fields.Selection(
        [
            ("create", "Create"),
            ("update", "Update"),
            ("match", "Matched"),
            ("reject", "Rejected"),
        ],
        required=True,
    )
    reason = fields.Char(help="Why the row is rejected.")
    client_id = fields.Many2one("ledgersync.client", string="LedgerSync Client")
    partner_id = fields.Many2one("res.partner", string="Contact")
    gl_account_id = fields.Many2one("account.account", string="Default GL Account")
