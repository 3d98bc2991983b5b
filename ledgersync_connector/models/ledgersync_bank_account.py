from odoo import api, fields, models
from odoo.exceptions import AccessError, UserError

ACCOUNT_TYPES = ("checking", "savings", "credit_card", "other")
BANK_LINK_STATES = ("ok", "broken", "needs_mfa")
# What a person maps on a synced bank account; everything else is written by the sync.
MAPPED_FIELDS = frozenset({"journal_id"})


class LedgerSyncBankAccount(models.Model):
    _name = "ledgersync.bank.account"
    _description = "LedgerSync Bank Account"
    _inherit = ["mail.thread", "ledgersync.synced.mixin"]
    _ledgersync_parent_field = "client_id"
    _order = "client_id, name, id"
    _check_company_auto = True

    name = fields.Char(required=True, tracking=True)
    display_mask = fields.Char(string="Account Number", compute="_compute_display_mask")
    client_id = fields.Many2one(
        "ledgersync.client",
        required=True,
        readonly=True,
        index=True,
        ondelete="cascade",
        check_company=True,
    )
    connection_id = fields.Many2one(
        related="client_id.connection_id", store=True, index=True, readonly=True
    )
    company_id = fields.Many2one(
        related="client_id.company_id", store=True, index=True, readonly=True
    )
    institution = fields.Char(readonly=True)
    mask = fields.Char(string="Last Digits", readonly=True)
    account_type = fields.Selection(
        [
            ("checking", "Checking"),
            ("savings", "Savings"),
            ("credit_card", "Credit Card"),
            ("other", "Other"),
        ],
        string="Type",
        readonly=True,
    )
    currency_code = fields.Char(readonly=True)
    currency_id = fields.Many2one("res.currency", readonly=True)
    current_balance = fields.Monetary(currency_field="currency_id", readonly=True)
    connection_status = fields.Selection(
        [("ok", "OK"), ("broken", "Broken"), ("needs_mfa", "Needs MFA")],
        string="Bank Connection",
        readonly=True,
        help="State of LedgerSync's own link to the bank.",
    )
    last_refreshed_at = fields.Datetime(string="Refreshed by the Bank", readonly=True)
    journal_id = fields.Many2one(
        "account.journal",
        string="Bank Journal",
        domain="[('type', '=', 'bank'), ('company_id', '=', company_id)]",
        check_company=True,
        help="Odoo bank journal whose statements receive this account's reviewed transactions.",
    )
    transaction_ids = fields.One2many("ledgersync.transaction", "bank_account_id")
    range_load_status = fields.Char(
        string="Loading", compute="_compute_range_load_status", help="A Load Transactions going on."
    )
    transaction_count = fields.Integer(compute="_compute_transaction_count")

    # Sync bookkeeping (see sync/engine.py).
    history_loaded_until = fields.Date(
        readonly=True, copy=False, help="Initial history is loaded up to this day (included)."
    )
    initial_sync_done = fields.Boolean(readonly=True, copy=False)
    sync_cursor = fields.Datetime(
        readonly=True,
        copy=False,
        help="Changes made in LedgerSync after this instant (minus a safety overlap) are "
        "fetched at the next sync.",
    )
    last_synced_at = fields.Datetime(readonly=True, copy=False)
    last_sync_error = fields.Char(readonly=True, copy=False)
    # The run is the firm's (its connection's company), the account its client's books
    # company: no company check between them.
    last_sync_run_id = fields.Many2one("ledgersync.sync.run", readonly=True, copy=False)
    sync_lease_until = fields.Datetime(readonly=True, copy=False)
    sync_worker_pid = fields.Integer(
        readonly=True, copy=False, help="PostgreSQL backend of the worker holding the lease."
    )
    sync_failure_streak = fields.Integer(
        readonly=True, copy=False, help="Syncs in a row in which this account failed."
    )
    # The administrators' open To Do about this account (on its connection: see
    # ledgersync.admin.alert.mixin).
    failure_activity_id = fields.Many2one(
        "mail.activity", readonly=True, copy=False, ondelete="set null", groups="base.group_system"
    )

    _ledgersync_id_unique = models.Constraint(
        "UNIQUE (client_id, ledgersync_id)",
        "A LedgerSync bank account is stored once per client.",
    )

    def write(self, vals):
        # Only the sync (superuser rights: the cron, or sudo) writes LedgerSync's data, the
        # lease and the cursor; views' readonly flags do not stop RPC. The rights to write
        # (accounting managers) exist for mapping the journal.
        if not self.env.su:
            forbidden = set(vals) - MAPPED_FIELDS
            if forbidden:
                raise AccessError(
                    self.env._(
                        "Only the bank journal of a LedgerSync bank account can be changed; "
                        "%(fields)s come from LedgerSync.",
                        fields=", ".join(sorted(forbidden)),
                    )
                )
        return super().write(vals)

    def _compute_range_load_status(self):
        # The runs are the firm's (its connection's company): read with the sync's rights.
        runs = self.env["ledgersync.range.load"]._running(self)
        by_account = {run.range_bank_account_id.id: run for run in runs}
        for account in self:
            run = by_account.get(account.id)
            if not run:
                account.range_load_status = False
                continue
            account.range_load_status = self.env._(
                "Loading the transactions of %(start)s to %(end)s from LedgerSync: %(progress)s%% "
                "done.",
                start=fields.Date.to_string(run.range_start),
                end=fields.Date.to_string(run.range_end),
                progress=round(run.progress),
            )

    @api.depends("mask", "institution")
    def _compute_display_mask(self):
        for account in self:
            account.display_mask = f"•••• {account.mask}" if account.mask else False

    def _compute_transaction_count(self):
        counts = dict(
            self.env["ledgersync.transaction"]._read_group(
                [("bank_account_id", "in", self.ids)], ["bank_account_id"], ["__count"]
            )
        )
        for account in self:
            account.transaction_count = counts.get(account, 0)

    @api.depends("name", "mask", "institution")
    def _compute_display_name(self):
        for account in self:
            parts = [account.name or ""]
            if account.mask:
                parts.append(f"••{account.mask}")
            account.display_name = " ".join(parts)

    @api.model
    def _values_from_api(self, record, client, currency_ids):
        currency_code = (record.currency or "").upper()
        return {
            "name": record.name,
            "institution": record.institution or False,
            "mask": record.mask or False,
            "account_type": record.type if record.type in ACCOUNT_TYPES else "other",
            "currency_code": currency_code or False,
            "currency_id": currency_ids.get(currency_code, False),
            "current_balance": float(record.current_balance or 0),
            "connection_status": (
                record.connection_status if record.connection_status in BANK_LINK_STATES else False
            ),
            "last_refreshed_at": self._datetime_from_api(record.last_refreshed_at),
        }

    def action_create_journal(self):
        """Create the Odoo bank journal of this account in its client's books company, in
        the account's currency (activated if it is inactive) and named with its masked
        number; accounting managers of that company (who may create journals)."""
        self.ensure_one()
        _ = self.env._
        if self.journal_id:
            raise UserError(
                _(
                    "“%(account)s” already has the bank journal %(journal)s.",
                    account=self.display_name,
                    journal=self.journal_id.display_name,
                )
            )
        company = self.company_id
        if not company.chart_template:
            raise UserError(
                _(
                    "%(company)s has no chart of accounts yet, so it cannot have a bank "
                    "journal: set up its accounting first (Accounting → Configuration → "
                    "Settings, in that company).",
                    company=company.name,
                )
            )
        currency = self.currency_id
        if not currency:
            raise UserError(
                _(
                    "LedgerSync reports the currency %(code)s for “%(account)s”, which Odoo "
                    "does not know: no journal can be created in it.",
                    code=self.currency_code or "?",
                    account=self.display_name,
                )
            )
        # Accounting managers, who may create journals, may also activate currencies.
        activated = not currency.active
        if activated:
            currency.active = True
        journal = (
            self.env["account.journal"]
            .with_company(company)
            .create(
                {
                    "name": self.display_name,
                    "type": "bank",
                    "company_id": company.id,
                    "currency_id": currency.id if currency != company.currency_id else False,
                }
            )
        )
        self.journal_id = journal
        note = _("Bank journal %(journal)s created.", journal=journal.display_name)
        if activated:
            note = _(
                "%(note)s The currency %(currency)s was not active in Odoo: it is now.",
                note=note,
                currency=currency.name,
            )
        self.message_post(body=note)
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "type": "warning" if activated else "success",
                "message": note,
                "sticky": activated,
                "next": {"type": "ir.actions.client", "tag": "soft_reload"},
            },
        }

    def action_open_transactions(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "ledgersync_connector.ledgersync_transaction_action"
        )
        action["domain"] = [("bank_account_id", "=", self.id)]
        action["context"] = {"default_bank_account_id": self.id}
        return action
