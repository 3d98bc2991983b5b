from odoo import api, fields, models
from odoo.exceptions import UserError

from ..dates import interval_hours
from .ledgersync_rule_lesson import DEFAULT_LEARNING, LEARNING_MODES, LEARNING_PARAM


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
    # The typed password is never stored, not even here: the web client saves this form
    # (one request) before it calls a button (another), so the credentials are verified
    # and saved when the form is saved, in the request that carries the password. The field
    # always reads empty: the password is never sent back to the browser.
    ledgersync_password = fields.Char(
        string="LedgerSync Password",
        compute="_compute_ledgersync_password",
        inverse="_inverse_ledgersync_password",
    )
    ledgersync_credentials_saved = fields.Boolean(
        help="The typed credentials were verified and saved when this form was saved."
    )
    ledgersync_password_set = fields.Boolean(related="ledgersync_connection_id.has_password")
    ledgersync_login_blocked = fields.Boolean(related="ledgersync_connection_id.login_blocked")
    ledgersync_state = fields.Selection(related="ledgersync_connection_id.state")
    ledgersync_firm_name = fields.Char(related="ledgersync_connection_id.firm_name")
    ledgersync_last_verified_at = fields.Datetime(
        related="ledgersync_connection_id.last_verified_at"
    )
    ledgersync_failure_code = fields.Char(related="ledgersync_connection_id.failure_code")
    ledgersync_failure_reason = fields.Char(related="ledgersync_connection_id.failure_reason")
    ledgersync_failure_hint = fields.Char(related="ledgersync_connection_id.failure_hint")
    ledgersync_client_count = fields.Integer(related="ledgersync_connection_id.client_count")
    ledgersync_last_sync_at = fields.Datetime(related="ledgersync_connection_id.last_sync_at")
    ledgersync_history_days = fields.Integer(
        string="LedgerSync History (days)",
        compute="_compute_ledgersync_history_days",
        store=True,
        readonly=False,
    )
    ledgersync_history_start_date = fields.Date(
        string="LedgerSync History From",
        compute="_compute_ledgersync_history_start_date",
        store=True,
        readonly=False,
    )
    ledgersync_client_company_id = fields.Many2one(
        "res.company",
        string="LedgerSync Books Company of New Clients",
        compute="_compute_ledgersync_client_company_id",
        store=True,
        readonly=False,
    )
    ledgersync_sync_interval_hours = fields.Integer(
        string="LedgerSync Sync Interval (hours)",
        compute="_compute_ledgersync_sync_interval_hours",
        store=True,
        readonly=False,
    )
    # Not stored anywhere else: the number of the sync's scheduled actions (see
    # ledgersync.sync.workers).
    ledgersync_sync_workers = fields.Integer(
        string="Parallel sync workers",
        compute="_compute_ledgersync_sync_workers",
        store=True,
        readonly=False,
        help="Scheduled actions that sync bank accounts at the same time (1 to 16). Odoo "
        "runs them on its cron workers, and on every Odoo server sharing the database; "
        "more workers than cron threads in total bring nothing.",
    )

    ledgersync_rule_learning = fields.Selection(
        LEARNING_MODES,
        string="Corrections that teach",
        config_parameter=LEARNING_PARAM,
        default=DEFAULT_LEARNING,
        help="Always: a correction creates or updates a client rule, and says so with Undo. "
        "Ask: the person is asked first. Never: corrections stay on their transactions.",
    )

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

    @api.depends("company_id")
    def _compute_ledgersync_history_days(self):
        default_days = (
            self.env["ledgersync.connection"]
            ._fields["history_days"]
            .default(self.env["ledgersync.connection"])
        )
        for settings in self:
            connection = settings.ledgersync_connection_id
            settings.ledgersync_history_days = (
                connection.history_days if connection else default_days
            )

    @api.depends("company_id")
    def _compute_ledgersync_history_start_date(self):
        for settings in self:
            settings.ledgersync_history_start_date = (
                settings.ledgersync_connection_id.history_start_date
            )

    @api.depends("company_id")
    def _compute_ledgersync_client_company_id(self):
        for settings in self:
            settings.ledgersync_client_company_id = (
                settings.ledgersync_connection_id.client_company_id
            )

    @api.depends("company_id")
    def _compute_ledgersync_sync_interval_hours(self):
        cron = self._ledgersync_cron()
        hours = interval_hours(cron.interval_type, cron.interval_number) if cron else 1
        for settings in self:
            settings.ledgersync_sync_interval_hours = max(int(hours), 1)

    @api.depends("company_id")
    def _compute_ledgersync_sync_workers(self):
        count = self.env["ledgersync.sync.workers"]._worker_count()
        for settings in self:
            settings.ledgersync_sync_workers = count

    def _ledgersync_cron(self):
        return self.env.ref(
            "ledgersync_connector.ir_cron_ledgersync_sync", raise_if_not_found=False
        )

    def set_values(self):
        result = super().set_values()
        if self.ledgersync_history_days < 0 or self.ledgersync_sync_interval_hours < 1:
            raise UserError(
                self.env._(
                    "The LedgerSync history must be 0 days or more, and the sync interval at "
                    "least 1 hour."
                )
            )
        connection = self.ledgersync_connection_id
        if self.ledgersync_credentials_saved:
            pass  # verified and saved with the typed password, history included
        elif self._ledgersync_credentials_changed():
            # New credentials typed, then the general Save: they are verified exactly as
            # Save Integration does, never stored unverified nor silently dropped.
            self._ledgersync_connect()
        elif connection:
            self._ledgersync_apply_history(connection)
        workers = self.env["ledgersync.sync.workers"]
        if self.ledgersync_sync_workers != workers._worker_count():
            workers._set_worker_count(self.ledgersync_sync_workers)
        workers._set_interval(self.ledgersync_sync_interval_hours, "hours")
        return result

    def _ledgersync_apply_history(self, connection):
        values = {
            "history_days": self.ledgersync_history_days,
            "history_start_date": self.ledgersync_history_start_date,
        }
        if any(connection[name] != value for name, value in values.items()):
            connection.write(values)
        if connection.client_company_id != self.ledgersync_client_company_id:
            connection.client_company_id = self.ledgersync_client_company_id

    def _compute_ledgersync_password(self):
        self.ledgersync_password = False

    def _inverse_ledgersync_password(self):
        for settings in self:
            if settings.ledgersync_password:
                settings._ledgersync_connect(settings.ledgersync_password)
                settings.ledgersync_credentials_saved = True
        # Read back (web_save), the field is empty again.
        self.invalidate_recordset(["ledgersync_password"])

    def _ledgersync_credentials_changed(self):
        self.ensure_one()
        connection = self.ledgersync_connection_id
        if not connection:
            return bool(self.ledgersync_email)
        return (self.ledgersync_email or False) != (connection.email or False) or (
            self.ledgersync_base_url or False
        ) != (connection.base_url or False)

    def action_ledgersync_save_integration(self):
        self.ensure_one()
        if not self.ledgersync_credentials_saved:
            self._ledgersync_connect()
        return self._ledgersync_reload()

    def _ledgersync_connect(self, password=False):
        """Verify and save the credentials: with the typed ``password``, or else the stored
        one, which goes only to the server and the account it was typed for."""
        self.ensure_one()
        if self.ledgersync_history_days < 0:
            raise UserError(self.env._("The LedgerSync history must be 0 days or more."))
        connection = self.env["ledgersync.connection"]._for_company(self.company_id)
        if not password and connection.has_password and not connection.login_blocked:
            if self._ledgersync_target_changed(connection):
                raise UserError(
                    self.env._(
                        "Type the LedgerSync password again: the email or the API base URL "
                        "changed, and the stored password is sent only to the server and the "
                        "account it was saved for."
                    )
                )
            # Verify again with the stored password; never after LedgerSync refused it.
            with connection._key_errors_as_user_errors():
                password = connection._decrypted("password_encrypted")
        connection = connection.action_connect(
            self.ledgersync_email, password, self.ledgersync_base_url
        )
        self._ledgersync_apply_history(connection)
        self.invalidate_recordset(["ledgersync_connection_id"])
        return connection

    def _ledgersync_target_changed(self, connection):
        """Whether the form's email or base URL differs from the stored credentials'."""
        email = (self.ledgersync_email or "").strip().lower()
        if email != (connection.email or "").strip().lower():
            return True
        default_url = connection._default_base_url()
        return connection._checked_base_url(
            self.ledgersync_base_url or default_url
        ) != connection._checked_base_url(connection.base_url or default_url)

    def action_ledgersync_disconnect(self):
        self.ensure_one()
        self.ledgersync_connection_id.action_disconnect()
        return self._ledgersync_reload()

    def action_ledgersync_sync_now(self):
        self.ensure_one()
        return self.ledgersync_connection_id.action_sync_now()

    def action_ledgersync_open_sync_history(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "ledgersync_connector.ledgersync_sync_run_action"
        )
        action["domain"] = [("connection_id", "=", self.ledgersync_connection_id.id)]
        return action

    def action_ledgersync_open_clients(self):
        self.ensure_one()
        return self.ledgersync_connection_id.action_open_clients()

    def _ledgersync_reload(self):
        return {"type": "ir.actions.client", "tag": "reload"}
