import logging
from datetime import timedelta

from markupsafe import Markup

from odoo import api, fields, models, tools
from odoo.exceptions import UserError

from .. import const, failures
from ..api import LedgerSyncApiClient, errors, parse_allowed_hosts, validate_base_url
from ..dates import naive_utc
from ..empty_states import EMPTY_STATES, empty_list_reason

# The bus channel of a company's LedgerSync news (see models/ir_websocket.py), the type of
# its notifications, and the fields whose change is news.
LIVE_SUBCHANNEL = "ledgersync"
LIVE_NOTIFICATION = "ledgersync/update"
LIVE_FIELDS = frozenset({"state", "failure_code", "login_blocked", "last_sync_at"})

_logger = logging.getLogger(__name__)

# Failures after which logging in again can only make things worse: LedgerSync locks an
# account after repeated wrong passwords, so we wait for an administrator's new credentials.
LOGIN_BLOCKING_CODES = {"invalid_credentials", "account_locked"}
# A connection stopped with its secrets forgotten: new credentials are typed to go on.
DISCONNECTED = {
    "state": "disconnected",
    "login_blocked": False,
    "failure_code": False,
    "failure_detail": False,
}


class LedgerSyncConnection(models.Model):
    _name = "ledgersync.connection"
    _description = "LedgerSync Connection"
    _inherit = ["mail.thread", "ledgersync.secrets.mixin", "ledgersync.admin.alert.mixin"]
    _order = "active desc, company_id, id desc"

    name = fields.Char(compute="_compute_name", store=True)
    active = fields.Boolean(default=True)
    company_id = fields.Many2one(
        "res.company",
        required=True,
        index=True,
        ondelete="cascade",
        default=lambda self: self.env.company,
    )
    email = fields.Char(string="LedgerSync Email", tracking=True)
    base_url = fields.Char(
        string="API Base URL",
        required=True,
        tracking=True,
        default=lambda self: self._default_base_url(),
    )
    # Fernet ciphertext only; the key lives outside the database (crypto.py). No user, not
    # even an administrator, reads it through RPC: the code reads it with sudo.
    password_encrypted = fields.Char(
        groups=fields.NO_ACCESS, copy=False, prefetch=False, exportable=False
    )
    token_encrypted = fields.Char(
        groups=fields.NO_ACCESS, copy=False, prefetch=False, exportable=False
    )
    token_expires_at = fields.Datetime(groups="base.group_system", copy=False)
    has_password = fields.Boolean(string="Password Stored", compute="_compute_has_password")
    state = fields.Selection(
        [
            ("not_configured", "Not configured"),
            ("connected", "Connected"),
            ("failed", "Failed"),
            ("disconnected", "Disconnected"),
        ],
        default="not_configured",
        required=True,
        tracking=True,
        copy=False,
    )
    failure_code = fields.Char(copy=False, readonly=True)
    failure_detail = fields.Char(copy=False, readonly=True)
    failure_reason = fields.Char(compute="_compute_failure_text")
    failure_hint = fields.Char(string="What to do", compute="_compute_failure_text")
    login_blocked = fields.Boolean(
        copy=False,
        readonly=True,
        help="Set after LedgerSync refused the credentials: nothing signs in again until an "
        "administrator saves new credentials, because repeated failures lock the account.",
    )
    firm_name = fields.Char(copy=False, readonly=True)
    last_verified_at = fields.Datetime(string="Verified On", copy=False, readonly=True)
    last_sync_at = fields.Datetime(string="Last Sync", copy=False, readonly=True)
    history_days = fields.Integer(
        string="History (days)",
        default=const.DEFAULT_HISTORY_DAYS,
        help="How far back the first sync of a bank account loads its transactions.",
    )
    history_start_date = fields.Date(
        help="Load history from this day instead (overrides the number of days)."
    )
    client_ids = fields.One2many("ledgersync.client", "connection_id", string="Clients")
    sync_run_ids = fields.One2many("ledgersync.sync.run", "connection_id", string="Sync Runs")
    sync_requested = fields.Boolean(
        copy=False, readonly=True, help="Sync Now was pressed: the next cron call syncs."
    )
    client_count = fields.Integer(compute="_compute_client_count")

    _one_active_per_company = models.UniqueIndex(
        "(company_id) WHERE active",
        "A company has only one active LedgerSync connection.",
    )

    @api.model
    def _default_base_url(self):
        return tools.config.get("ledgersync_base_url") or const.DEFAULT_BASE_URL

    @api.model
    def _allowed_hosts(self):
        """Hosts the base URL may name although not public (option ledgersync_allowed_hosts)."""
        return parse_allowed_hosts(tools.config.get("ledgersync_allowed_hosts"))

    @api.depends("firm_name", "company_id.name")
    def _compute_name(self):
        for connection in self:
            connection.name = connection.firm_name or connection.company_id.name

    @api.depends("password_encrypted")
    def _compute_has_password(self):
        for connection in self:
            connection.has_password = bool(connection.sudo().password_encrypted)

    @api.depends("client_ids")
    def _compute_client_count(self):
        counts = dict(
            self.env["ledgersync.client"]._read_group(
                [("connection_id", "in", self.ids)], ["connection_id"], ["__count"]
            )
        )
        for connection in self:
            connection.client_count = counts.get(connection, 0)

    @api.depends("failure_code", "failure_detail")
    def _compute_failure_text(self):
        for connection in self:
            connection.failure_reason, connection.failure_hint = failures.describe(
                self.env, connection.failure_code, connection.failure_detail
            )

    # ------------------------------------------------------------------ API access

    def _api_client(self):
        """A client for this connection, reusing the stored token while it is valid."""
        self.ensure_one()
        client = LedgerSyncApiClient(
            self.base_url,
            self.email,
            self._decrypted("password_encrypted"),
            allowed_hosts=self._allowed_hosts(),  # timeout: const.REQUEST_TIMEOUT
        )
        sudo_self = self.sudo()
        token_valid = sudo_self.token_expires_at and sudo_self.token_expires_at > (
            fields.Datetime.now() + timedelta(seconds=const.TOKEN_EXPIRY_MARGIN)
        )
        if sudo_self.token_encrypted and token_valid:
            client.token = self._decrypted("token_encrypted")
            client.token_expires_at = sudo_self.token_expires_at
        return client

    def _store_token(self, client):
        """Keep the token the client ended with, so the next run need not sign in."""
        self.ensure_one()
        if not client.token:
            return
        values = {"token_encrypted": self._secret_box().encrypt(client.token)}
        if client.token_expires_at:
            values["token_expires_at"] = naive_utc(client.token_expires_at)
        self.sudo().write(values)

    # ------------------------------------------------------------------ connect

    @api.model
    def _for_company(self, company):
        """The active connection of ``company``, created on first use."""
        connection = self.search([("company_id", "=", company.id)], limit=1)
        return connection or self.create({"company_id": company.id})

    def _validate_credentials(self, email, password, base_url):
        _ = self.env._
        email = (email or "").strip()
        if not email:
            raise UserError(_("Type the email address of your LedgerSync account."))
        if not tools.single_email_re.match(email):
            raise UserError(_("“%(email)s” is not a valid email address.", email=email))
        if not password:
            raise UserError(_("Type the password of your LedgerSync account."))
        return email, self._checked_base_url(base_url or self._default_base_url())

    @api.model
    def _checked_base_url(self, base_url):
        """The normalized API base URL, or a UserError saying what is wrong with it."""
        try:
            return validate_base_url(base_url, self._allowed_hosts())
        except errors.ConfigurationError as error:
            raise UserError(
                self.env._(
                    "The API base URL is not valid: %(reason)s It must start with https:// and "
                    "name a public host, unless the host is allowed by ledgersync_allowed_hosts.",
                    reason=str(error),
                )
            ) from error

    @api.model_create_multi
    def create(self, vals_list):
        for vals in vals_list:
            if "base_url" in vals:
                vals["base_url"] = self._checked_base_url(vals["base_url"])
        return super().create(vals_list)

    def write(self, vals):
        if "base_url" in vals:
            vals = dict(vals, base_url=self._checked_base_url(vals["base_url"]))
        if "password_encrypted" not in vals:
            # The stored password goes only to the server and the account it was typed
            # for: another base URL or email needs it typed again (Save Integration).
            moved = self.filtered(
                lambda c: any(
                    name in vals and (vals[name] or False) != (c[name] or False)
                    for name in ("base_url", "email")
                )
            )
            for connection in moved:
                stopped = connection.state in ("connected", "failed")
                connection._forget_secrets(**(DISCONNECTED if stopped else {}))
        result = super().write(vals)
        if LIVE_FIELDS.intersection(vals):
            self._notify_live()
        return result

    def _notify_live(self):
        """Tell the web clients of each connection's company that its status or sync moved
        on: their LedgerSync lists and Settings reload (static/src/live)."""
        for connection in self:
            self.env["bus.bus"]._sendone(
                (connection.company_id, LIVE_SUBCHANNEL),
                LIVE_NOTIFICATION,
                {"connection_id": connection.id},
            )

    @api.model
    def _empty_list_help(self, model_name):
        """The help of an empty list of ``model_name`` when the LedgerSync side explains
        it (not connected, broken, first sync running, no clients, no bank accounts), as
        HTML; None when the list's own help applies."""
        connections = self.sudo().search([("company_id", "in", self.env.companies.ids)])
        connection = connections.filtered(lambda c: c.company_id == self.env.company)[:1]
        connection = connection or connections[:1]
        running = self.env["ledgersync.sync.run"].sudo()._running_of(connection)
        first_sync_running = bool(running) and not connection.sync_run_ids.filtered(
            lambda run: run.state in ("done", "partial")
        )
        reason = empty_list_reason(
            model_name,
            connection_state=connection.state or None,
            first_sync_running=first_sync_running,
            clients=self.env["ledgersync.client"].search_count([], limit=1),
            bank_accounts=self.env["ledgersync.bank.account"].search_count([], limit=1),
        )
        if reason is None:
            return None
        _ = self.env._
        if not running.accounts_total:
            progress = _("listing the clients and their bank accounts")
        else:
            progress = _(
                "%(done)s of %(total)s bank accounts done",
                done=running.accounts_done,
                total=running.accounts_total,
            )
        state = EMPTY_STATES[reason]
        text = Markup.escape(_(state.text)) % {
            "progress": progress,
            "reason": connection.failure_reason or "",
        }
        return Markup('<p class="o_view_nocontent_empty_folder">%s</p><p>%s</p>') % (
            _(state.title),
            text,
        )

    def _forget_secrets(self, **values):
        """Drop the stored password and token, writing ``values`` with them."""
        secrets = {"password_encrypted": False, "token_encrypted": False, "token_expires_at": False}
        self.sudo().write(dict(secrets, **values))

    def action_connect(self, email, password, base_url=None):
        """Save the credentials (encrypted), verify them against LedgerSync, show the outcome.

        Returns the connection that holds the result: a new one when the credentials
        belong to another LedgerSync firm than before (the previous firm's records are
        archived with the previous connection instead of being mixed with the new ones).
        """
        self.ensure_one()
        email, base_url = self._validate_credentials(email, password, base_url)
        box = self._secret_box_or_raise()
        client = LedgerSyncApiClient(base_url, email, password, allowed_hosts=self._allowed_hosts())
        credentials = {
            "email": email,
            "base_url": base_url,
            "password_encrypted": box.encrypt(password),
            "token_encrypted": False,
            "token_expires_at": False,
            "login_blocked": False,
        }
        try:
            account, first_page = client.verify(deadline=const.VERIFY_DEADLINE)
        except errors.LedgerSyncError as error:
            self.sudo().write(credentials)
            self._record_failure(error.code, self._failure_detail(error))
            return self
        finally:
            client.close()

        connection = self
        if self.firm_name and self.firm_name != account.firm_name:
            connection = self._switch_firm(account.firm_name)
        connection.sudo().write(credentials)
        if not first_page.items:
            connection._record_failure("no_clients")
            return connection
        connection._store_token(client)
        connection.write(
            {
                "state": "connected",
                "firm_name": account.firm_name,
                "last_verified_at": fields.Datetime.now(),
                "failure_code": False,
                "failure_detail": False,
            }
        )
        self.env["ledgersync.client"]._upsert_from_api(connection, first_page.items)
        connection.message_post(
            body=self.env._(
                "Connected to LedgerSync firm %(firm)s as %(email)s.",
                firm=account.firm_name,
                email=email,
            )
        )
        self.env["ledgersync.sync.workers"]._trigger_all()
        return connection

    def _switch_firm(self, new_firm_name):
        """Archive this connection (and its firm's records), start a new one for the company."""
        self.ensure_one()
        self.message_post(
            body=self.env._(
                "Credentials of another LedgerSync firm (%(firm)s) were saved: the records "
                "of %(old_firm)s are archived.",
                firm=new_firm_name,
                old_firm=self.firm_name,
            )
        )
        self.client_ids.action_archive()
        self._forget_secrets(active=False, state="disconnected")
        # The archived row must reach the database before the new one meets the unique index.
        self.flush_recordset(["active"])
        return self.create({"company_id": self.company_id.id})

    @api.model
    def _failure_detail(self, error):
        if error.code == "timeout":
            return self.env._("no answer within %(seconds)s seconds", seconds=const.VERIFY_DEADLINE)
        if error.code in ("server_error", "rate_limited") and error.status:
            return self.env._("HTTP %(status)s", status=error.status)
        return False

    def _record_failure(self, code, detail=False):
        self.ensure_one()
        values = {"state": "failed", "failure_code": code, "failure_detail": detail}
        if code in LOGIN_BLOCKING_CODES:
            values.update(login_blocked=True, token_encrypted=False, token_expires_at=False)
        self.sudo().write(values)
        reason, hint = failures.describe(self.env, code, detail)
        self.message_post(
            body=self.env._(
                "LedgerSync connection failed: %(reason)s %(hint)s", reason=reason, hint=hint
            )
        )
        _logger.info(
            "LedgerSync connection %s (company %s) failed: %s", self.id, self.company_id.id, code
        )

    def action_disconnect(self):
        """Forget the password and token and stop syncing; synced records stay for review."""
        for connection in self:
            connection._forget_secrets(**DISCONNECTED)
            connection.message_post(body=self.env._("Disconnected from LedgerSync."))
        return True

    # ------------------------------------------------------------------ sync

    def _history_start_date(self):
        self.ensure_one()
        if self.history_start_date:
            return self.history_start_date
        return fields.Date.context_today(self) - timedelta(days=self.history_days or 0)

    def _can_sync(self):
        self.ensure_one()
        return bool(
            self.active
            and self.state == "connected"
            and not self.login_blocked
            and self.sudo().password_encrypted
        )

    def _sync(self, trigger="scheduled", commit=None):
        """Run (or help with) this connection's sync; returns ``(run, out_of_time)``.

        The orchestration lives with the runs: ``ledgersync.sync.run._sync_connection``.
        """
        self.ensure_one()
        return self.env["ledgersync.sync.run"]._sync_connection(self, trigger, commit)

    @api.model
    def _cron_sync(self):
        """The scheduled action (data/ir_cron_data.xml): ``ledgersync.sync.run._cron_sync``."""
        self.env["ledgersync.sync.run"]._cron_sync()

    def action_sync_now(self):
        """Start a sync in the background (the cron), unless one is already running."""
        self.ensure_one()
        running = self.env["ledgersync.sync.run"]._running_of(self)
        if running:
            return {
                "type": "ir.actions.client",
                "tag": "display_notification",
                "params": {
                    "type": "warning",
                    "title": self.env._("LedgerSync sync already running"),
                    "message": self.env._(
                        "A sync started on %(start)s is still running (%(done)s of %(total)s "
                        "bank accounts done). It is not started twice.",
                        start=tools.format_datetime(self.env, running.started_at),
                        done=running.accounts_done,
                        total=running.accounts_total,
                    ),
                },
            }
        if not self._can_sync():
            raise UserError(
                self.env._("Connect LedgerSync first: Settings → LedgerSync Integration.")
            )
        self.sync_requested = True
        self.env["ledgersync.sync.workers"]._trigger_all()
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "type": "info",
                "title": self.env._("LedgerSync sync started"),
                "message": self.env._("The sync runs in the background; see Sync History."),
                "next": {"type": "ir.actions.client", "tag": "soft_reload"},
            },
        }

    def action_open_clients(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "ledgersync_connector.ledgersync_client_action"
        )
        action["domain"] = [("connection_id", "=", self.id)]
        return action
