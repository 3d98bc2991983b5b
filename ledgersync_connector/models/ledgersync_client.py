from odoo import api, fields, models


class LedgerSyncClient(models.Model):
    _name = "ledgersync.client"
    _description = "LedgerSync Client"
    _inherit = ["mail.thread", "ledgersync.synced.mixin"]
    _ledgersync_parent_field = "connection_id"
    _order = "name, id"
    _check_company_auto = True

    name = fields.Char(required=True, tracking=True)
    code = fields.Char()
    accounting_cs_id = fields.Char(
        string="Accounting CS Client ID", help="Set by the FIRMADMIN import."
    )
    ledgersync_status = fields.Selection(
        [("active", "Active"), ("inactive", "Inactive")],
        string="LedgerSync Status",
        readonly=True,
    )
    ledgersync_updated_at = fields.Datetime(string="Updated in LedgerSync", readonly=True)
    connection_id = fields.Many2one(
        "ledgersync.connection", required=True, readonly=True, index=True, ondelete="cascade"
    )
    company_id = fields.Many2one(
        "res.company", required=True, readonly=True, index=True, ondelete="cascade"
    )

    _ledgersync_id_unique = models.Constraint(
        "UNIQUE (connection_id, ledgersync_id)",
        "A LedgerSync client is stored once per connection.",
    )

    @api.model
    def _values_from_api(self, record, connection):
        return {
            "name": record.name,
            "code": record.code or False,
            "ledgersync_status": record.status
            if record.status in ("active", "inactive")
            else False,
            "ledgersync_updated_at": self._datetime_from_api(record.updated_at),
        }

    @api.model
    def _create_values_from_api(self, record, connection):
        return dict(
            super()._create_values_from_api(record, connection),
            company_id=connection.company_id.id,
        )
