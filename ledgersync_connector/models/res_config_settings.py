from odoo import api, fields, models


class ResConfigSettings(models.TransientModel):
    _inherit = "res.config.settings"

    ledgersync_connection_id = fields.Many2one(
        "ledgersync.connection", compute="_compute_ledgersync_connection_id"
    )
    # Email and base URL are edited here and applied only by "Save Integration", never by
    # the general Save, so that nothing reaches the connection unverified.
    ledgersync_email = fields.Char(
        string="LedgerSync Email",
        compute="_compute_ledgersync_email",
        store=True,
        readonly=False,
    )
    ledgersync_base_url = fields.Char(
        string="LedgerSync API Base URL",
        compute="_compute_ledgersync_base_url",
        store=True,
        readonly=False,
    )
    # The typed password must survive between saving this form and the button call, but
    # must never sit in clear text in a table: it is kept here encrypted, and it is never
    # sent back to the browser (the field always reads empty).
    ledgersync_password = fields.Char(
        string="LedgerSync Password",
        compute="_compute_ledgersync_password",
        inverse="_inverse_ledgersync_password",
    )
    ledgersync_password_encrypted = fields.Char(groups="base.group_system")
    ledgersync_password_set = fields.Boolean(related="ledgersync_connection_id.has_password")
    ledgersync_state = fields.Selection(related="ledgersync_connection_id.state")
    ledgersync_firm_name = fields.Char(related="ledgersync_connection_id.firm_name")
    ledgersync_last_verified_at = fields.Datetime(
        related="ledgersync_connection_id.last_verified_at"
    )
    ledgersync_failure_reason = fields.Char(related="ledgersync_connection_id.failure_reason")
    ledgersync_failure_hint = fields.Char(related="ledgersync_connection_id.failure_hint")
    ledgersync_client_count = fields.Integer(related="ledgersync_connection_id.client_count")

    @api.depends("company_id")
    def _compute_ledgersync_connection_id(self):
        for settings in self:
            settings.ledgersync_connection_id = self.env["ledgersync.connection"].search(
                [("company_id", "=", settings.company_id.id)], limit=1
            )

    # One compute method per field: a value typed for one must not stop the other's compute.
    @api.depends("company_id")
    def _compute_ledgersync_email(self):
        for settings in self:
            settings.ledgersync_email = settings.ledgersync_connection_id.email

    @api.depends("company_id")
    def _compute_ledgersync_base_url(self):
        default_base_url = self.env["ledgersync.connection"]._default_base_url()
        for settings in self:
            settings.ledgersync_base_url = (
                settings.ledgersync_connection_id.base_url or default_base_url
            )

    def _compute_ledgersync_password(self):
        self.ledgersync_password = False

    def _inverse_ledgersync_password(self):
        for settings in self:
            if settings.ledgersync_password:
                box = self.env["ledgersync.connection"]._secret_box_or_raise()
                settings.sudo().ledgersync_password_encrypted = box.encrypt(
                    settings.ledgersync_password
                )

    def _ledgersync_typed_password(self):
        self.ensure_one()
        ciphertext = self.sudo().ledgersync_password_encrypted
        if not ciphertext:
            return False
        return self.env["ledgersync.connection"]._secret_box_or_raise().decrypt(ciphertext)

    def action_ledgersync_save_integration(self):
        self.ensure_one()
        connection = self.env["ledgersync.connection"]._for_company(self.company_id)
        password = self._ledgersync_typed_password()
        if not password and connection.has_password and not connection.login_blocked:
            # Verify again with the stored password; never after LedgerSync refused it.
            password = connection._decrypted("password_encrypted")
        # Drop the typed password from this transient row whatever happens next.
        self.sudo().ledgersync_password_encrypted = False
        connection.action_connect(self.ledgersync_email, password, self.ledgersync_base_url)
        return self._ledgersync_reload()

    def action_ledgersync_disconnect(self):
        self.ensure_one()
        self.ledgersync_connection_id.action_disconnect()
        return self._ledgersync_reload()

    def action_ledgersync_sync_now(self):
        self.ensure_one()
        self.ledgersync_connection_id.action_sync_now()
        return self._ledgersync_reload()

    def action_ledgersync_open_clients(self):
        self.ensure_one()
        return self.ledgersync_connection_id.action_open_clients()

    def _ledgersync_reload(self):
        return {"type": "ir.actions.client", "tag": "reload"}
