from odoo import api, fields, models


class LedgerSyncClient(models.Model):
    _name = "ledgersync.client"
    _description = "LedgerSync Client"
    _inherit = ["mail.thread"]
    _order = "name, id"
    _check_company_auto = True

    name = fields.Char(required=True, tracking=True)
    code = fields.Char()
    ledgersync_id = fields.Char(string="LedgerSync ID", required=True, readonly=True)
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
    active = fields.Boolean(default=True)
    last_synced_at = fields.Datetime(readonly=True)

    _ledgersync_id_unique = models.Constraint(
        "UNIQUE (connection_id, ledgersync_id)",
        "A LedgerSync client is stored once per connection.",
    )

    @api.model
    def _values_from_api(self, record):
        return {
            "name": record.name,
            "code": record.code or False,
            "ledgersync_status": record.status
            if record.status in ("active", "inactive")
            else False,
            "ledgersync_updated_at": (
                fields.Datetime.to_string(record.updated_at.replace(tzinfo=None))
                if record.updated_at
                else False
            ),
        }

    @api.model
    def _upsert_from_api(self, connection, records):
        """Create or update ``records`` (api Client objects) of ``connection`` in one batch.

        Archived clients that reappear upstream are restored.
        """
        if not records:
            return self.browse()
        existing = self.with_context(active_test=False).search(
            [
                ("connection_id", "=", connection.id),
                ("ledgersync_id", "in", [record.id for record in records]),
            ]
        )
        by_ledgersync_id = {client.ledgersync_id: client for client in existing}
        now = fields.Datetime.now()
        to_create = []
        for record in records:
            values = self._values_from_api(record)
            client = by_ledgersync_id.get(record.id)
            if client is None:
                to_create.append(
                    dict(
                        values,
                        ledgersync_id=record.id,
                        connection_id=connection.id,
                        company_id=connection.company_id.id,
                        last_synced_at=now,
                    )
                )
                continue
            changed = {
                name: value
                for name, value in dict(values, active=True).items()
                if client._field_differs(name, value)
            }
            client.write(dict(changed, last_synced_at=now))
        return existing | self.create(to_create)

    def _field_differs(self, name, value):
        current = self[name]
        if self._fields[name].type == "datetime":
            current = fields.Datetime.to_string(current) if current else False
        return (current or False) != (value or False)

    @api.model
    def _archive_missing(self, connection, seen_ledgersync_ids):
        """Archive the connection's clients that LedgerSync no longer lists."""
        missing = self.search(
            [
                ("connection_id", "=", connection.id),
                ("ledgersync_id", "not in", list(seen_ledgersync_ids)),
            ]
        )
        missing.action_archive()
        return missing
