from odoo import api, fields, models
from odoo.exceptions import AccessError, UserError
from odoo.tools import SQL

from ..sync.queries import lease_held

# What a person maps on a synced client (the firm administrator: moving a client's books
# between companies is his); everything else is written by the sync.
MAPPED_FIELDS = frozenset({"company_id", "partner_id"})


class LedgerSyncClient(models.Model):
    _name = "ledgersync.client"
    _description = "LedgerSync Client"
    _inherit = ["mail.thread", "ledgersync.synced.mixin"]
    _ledgersync_parent_field = "connection_id"
    _order = "name, id"
    _check_company_auto = True

    name = fields.Char(required=True, tracking=True)
    code = fields.Char()
    bank_account_count = fields.Integer(
        string="Bank Accounts", compute="_compute_bank_account_count"
    )
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
    # The company that keeps this client's books: its bank accounts and transactions live
    # there (record rules by company), while the connection and its runs stay in the firm's.
    company_id = fields.Many2one(
        "res.company",
        string="Books Company",
        required=True,
        index=True,
        ondelete="cascade",
        tracking=True,
        help="The Odoo company that keeps this client's books: its bank accounts, "
        "transactions and journals live there, and that company's accountants review them.",
    )
    partner_id = fields.Many2one(
        "res.partner",
        string="Client Contact",
        check_company=True,
        tracking=True,
        help="For a firm that keeps a single company: the contact that stands for this client.",
    )
    # The last sync run whose list of clients had this one: a run lists the clients over
    # several calls, and archives at the end those it did not see.
    last_listed_run_id = fields.Many2one("ledgersync.sync.run", readonly=True, ondelete="set null")

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
            company_id=connection._new_client_company().id,
        )

    @api.model
    def _upsert_from_api(self, parent, records, *args):
        # New clients go to the firm's default books company, which the person or worker
        # syncing may not have among his current companies: the sync's own rights.
        rows = super(LedgerSyncClient, self.sudo())._upsert_from_api(parent, records, *args)
        return rows.with_env(self.env)

    def write(self, vals):
        if (
            not self.env.su
            and set(vals) & MAPPED_FIELDS
            and not self.env.user.has_group("base.group_system")
        ):
            raise AccessError(
                self.env._(
                    "Only the firm administrator (Settings rights) maps LedgerSync "
                    "clients to Odoo companies and contacts."
                )
            )
        if "company_id" not in vals:
            return super().write(vals)
        company = self.env["res.company"].browse(vals["company_id"])
        if not company:
            raise UserError(self.env._("A client's books are kept in a company: choose one."))
        moving = self.filtered(lambda client: client.company_id != company)
        for client in moving:
            self._check_books_company(client.connection_id, company, client)
            client._check_can_move()
        if "partner_id" not in vals:
            # A contact of the former company cannot follow the client.
            for client in moving.filtered("partner_id"):
                if not client.partner_id.filtered_domain(
                    client.partner_id._check_company_domain(company)
                ):
                    client.partner_id = False
        for client in moving:
            client._prepare_move(company)
        result = super().write(vals)
        moving._move_transactions()
        return result

    @api.model
    def _check_books_company(self, connection, company, client=None):
        """Refuse ``company`` as the books company of ``connection``'s clients (of
        ``client``) unless it is the firm's own company, or another company the person
        choosing may use that is not another firm's (holding a LedgerSync connection)."""
        _ = self.env._
        if company == connection.company_id:
            return
        subject = (
            _("the books of “%(client)s”", client=client.display_name)
            if client
            else _("the books of new clients")
        )
        if not self.env.su and company not in self.env.user.company_ids:
            raise UserError(
                _(
                    "You cannot keep %(subject)s in %(company)s: you do not have access to "
                    "that company.",
                    subject=subject,
                    company=company.name,
                )
            )
        other_firm = connection.sudo().search(
            [("company_id", "=", company.id), ("id", "!=", connection.id)], limit=1
        )
        if other_firm:
            raise UserError(
                _(
                    "You cannot keep %(subject)s in %(company)s: that company has a LedgerSync "
                    "connection of its own (%(firm)s), so it is another firm's.",
                    subject=subject,
                    company=company.name,
                    firm=other_firm.name,
                )
            )

    def _check_can_move(self):
        """Refuse to move a client whose rows cannot follow: exported transactions stay
        with their bank statements, and a worker syncing its accounts writes them now."""
        self.ensure_one()
        Transaction = self.env["ledgersync.transaction"].sudo().with_context(active_test=False)
        exported = Transaction.search_count(
            [
                ("client_id", "=", self.id),
                "|",
                ("review_state", "=", "exported"),
                ("statement_line_id", "!=", False),
            ]
        )
        if exported:
            raise UserError(
                self.env._(
                    "“%(client)s” has %(count)s transactions exported to bank statements of "
                    "%(company)s: they stay with those statements, so its books cannot move. "
                    "An accounting administrator uses Undo Export on them first.",
                    client=self.display_name,
                    count=exported,
                    company=self.company_id.name,
                )
            )
        self.env.flush_all()
        self.env.cr.execute(
            SQL(
                """
                SELECT 1 FROM ledgersync_bank_account account
                 WHERE account.client_id = %s AND %s
                 LIMIT 1
                """,
                self.id,
                lease_held("account"),
            )
        )
        if self.env.cr.fetchone():
            raise UserError(
                self.env._(
                    "The transactions of “%(client)s” are being synced right now: move its "
                    "books when that sync ends (see Sync History).",
                    client=self.display_name,
                )
            )

    def _prepare_move(self, company):
        """What cannot follow the client to ``company``: its bank accounts' journals, and
        the vendors and GL accounts of its transactions that belong to the former company
        only (those transactions are to review again)."""
        self.ensure_one()
        accounts = self.env["ledgersync.bank.account"].sudo().with_context(active_test=False)
        accounts.search([("client_id", "=", self.id), ("journal_id", "!=", False)]).write(
            {"journal_id": False}
        )
        Transaction = self.env["ledgersync.transaction"].sudo().with_context(active_test=False)
        for field_name in ("partner_id", "account_id"):
            comodel = Transaction[field_name]
            stranded = Transaction.search(
                [
                    ("client_id", "=", self.id),
                    (field_name, "!=", False),
                    "!",
                    (field_name, "any", comodel._check_company_domain(company)),
                ]
            )
            stranded.write({field_name: False, "review_state": "to_review"})

    def _move_transactions(self):
        """The transactions follow their client's company (one UPDATE: they may be many),
        and so do its exports; the bank accounts follow by their stored related company."""
        self.env.flush_all()
        self.env.cr.execute(
            SQL(
                """
                UPDATE ledgersync_transaction t
                   SET company_id = client.company_id
                  FROM ledgersync_client client
                 WHERE client.id = t.client_id AND client.id = ANY(%s)
                   AND t.company_id != client.company_id
                """,
                self.ids,
            )
        )
        self.env["ledgersync.transaction"].invalidate_model(["company_id"])
        # The history of its exports (files) follows the client too.
        exports = self.env["ledgersync.export"].sudo().search([("client_id", "in", self.ids)])
        for client in self:
            exports.filtered(lambda e, c=client: e.client_id == c).company_id = client.company_id

    def _compute_bank_account_count(self):
        counts = dict(
            self.env["ledgersync.bank.account"]._read_group(
                [("client_id", "in", self.ids)], ["client_id"], ["__count"]
            )
        )
        for client in self:
            client.bank_account_count = counts.get(client, 0)
