from odoo import api, fields, models
from odoo.exceptions import AccessError, UserError
from odoo.tools import SQL

# What an accountant may change; everything else comes from LedgerSync.
REVIEW_FIELDS = frozenset({"partner_id", "account_id", "review_state"})
# The review states a person sets; "exported" is the export's own (and its undo's).
PERSON_REVIEW_STATES = frozenset({"to_review", "reviewed"})
MATCH_TYPES = [("rule", "Rule"), ("ai", "AI"), ("semantic", "Semantic")]


class LedgerSyncTransaction(models.Model):
    """A bank transaction synced from LedgerSync, reviewed by an accountant.

    Rows are written in batches by sync/engine.py with plain SQL (no chatter, no
    tracking), not by the mixin's upsert: the review fields (partner, GL account, review
    state) belong to the accountant and the sync never overwrites them.
    """

    _name = "ledgersync.transaction"
    _description = "LedgerSync Transaction"
    _inherit = ["ledgersync.synced.mixin"]
    _ledgersync_parent_field = "bank_account_id"
    _order = "date desc, id desc"
    _check_company_auto = True
    _rec_name = "description"

    bank_account_id = fields.Many2one(
        "ledgersync.bank.account",
        required=True,
        readonly=True,
        ondelete="cascade",
        check_company=True,
    )
    client_id = fields.Many2one(
        "ledgersync.client", required=True, readonly=True, check_company=True
    )
    company_id = fields.Many2one("res.company", required=True, readonly=True)
    date = fields.Date(required=True, readonly=True)
    description = fields.Char(readonly=True)
    reference = fields.Char(readonly=True, help="Check number or bank reference.")
    amount = fields.Monetary(
        currency_field="currency_id", readonly=True, help="Negative: money out of the account."
    )
    currency_id = fields.Many2one("res.currency", required=True, readonly=True)
    ledgersync_status = fields.Selection(
        [("pending", "Pending"), ("posted", "Posted")],
        string="Bank Status",
        required=True,
        readonly=True,
    )
    vendor_name = fields.Char(string="LedgerSync Vendor", readonly=True)
    gl_code = fields.Char(string="LedgerSync GL Code", readonly=True)
    match_type = fields.Selection(MATCH_TYPES, readonly=True, help="Empty: unmatched.")
    # View support: a badge needs a value to show "Unmatched" in red (match_type is empty).
    match_status = fields.Selection(
        [*MATCH_TYPES, ("unmatched", "Unmatched")],
        string="Match",
        compute="_compute_match_status",
        help="How LedgerSync matched the transaction: green by a rule, yellow by AI or "
        "semantic matching (worth a second look), red unmatched.",
    )
    ledgersync_updated_at = fields.Datetime(string="Updated in LedgerSync", readonly=True)
    content_hash = fields.Char(readonly=True, copy=False)
    active = fields.Boolean(readonly=True)  # the mixin's, read-only here

    partner_id = fields.Many2one(
        "res.partner", string="Vendor", check_company=True, index="btree_not_null"
    )
    account_id = fields.Many2one(
        "account.account", string="GL Account", check_company=True, index="btree_not_null"
    )
    review_state = fields.Selection(
        [("to_review", "To Review"), ("reviewed", "Reviewed"), ("exported", "Exported")],
        default="to_review",
        required=True,
    )
    statement_line_id = fields.Many2one(
        "account.bank.statement.line", readonly=True, copy=False, ondelete="set null"
    )

    _ledgersync_id_unique = models.Constraint(
        "UNIQUE (bank_account_id, ledgersync_id)",
        "A LedgerSync transaction is stored once per bank account.",
    )
    _account_date_idx = models.Index("(bank_account_id, date DESC)")
    _client_date_idx = models.Index("(client_id, date DESC)")
    # The review list opens on "To Review", newest first; its "grouped by client" sums
    # and the search panel's clients read the second index alone (bench_review_list.py).
    _review_date_idx = models.Index("(review_state, date DESC, id DESC)")
    _review_client_idx = models.Index(
        "(review_state, client_id) INCLUDE (amount, active, company_id)"
    )

    @api.model
    def search_panel_select_multi_range(self, field_name, **kwargs):
        # The bank-account section lists the selected client's accounts (the view's
        # domain); with no client selected it has none, and Odoo would still count every
        # line to fill it.
        field = self._fields[field_name]
        comodel_domain = kwargs.get("comodel_domain")
        if (
            field.type == "many2one"
            and comodel_domain
            and not self.env[field.comodel_name].search_count(comodel_domain, limit=1)
        ):
            return {"values": []}
        return super().search_panel_select_multi_range(field_name, **kwargs)

    @api.depends("match_type")
    def _compute_match_status(self):
        for transaction in self:
            transaction.match_status = transaction.match_type or "unmatched"

    @api.depends("description", "date", "amount")
    def _compute_display_name(self):
        for transaction in self:
            transaction.display_name = transaction.description or transaction.ledgersync_id

    def write(self, vals):
        # LedgerSync's data is the sync's alone: the view's readonly flags are not a
        # protection against RPC, and a tampered row would never be corrected, since the
        # sync only rewrites rows whose content changed upstream.
        if not self.env.su and not self.env.user.has_group("base.group_system"):
            forbidden = set(vals) - REVIEW_FIELDS
            if forbidden:
                raise AccessError(
                    self.env._(
                        "Only the review fields of a LedgerSync transaction can be changed "
                        "(vendor, GL account, review state); %(fields)s come from LedgerSync.",
                        fields=", ".join(sorted(forbidden)),
                    )
                )
        if not self.env.su:
            self._check_review_write(vals)
        return super().write(vals)

    def _check_review_write(self, vals):
        """People move a transaction between "to review" and "reviewed" only; an exported
        one is locked until an accounting administrator undoes its export."""
        _ = self.env._
        if "review_state" in vals and vals["review_state"] not in PERSON_REVIEW_STATES:
            raise AccessError(
                _(
                    "A transaction becomes exported only through Export to Bank Statement; "
                    "set it to review or reviewed."
                )
            )
        exported = self.filtered(lambda t: t.review_state == "exported")
        if exported and set(vals) & REVIEW_FIELDS:
            raise UserError(
                _(
                    "“%(transaction)s” is exported to a bank statement and cannot be changed. "
                    "An accounting administrator can Undo Export first.",
                    transaction=exported[0].display_name,
                )
            )

    def action_mark_reviewed(self):
        self.filtered(lambda t: t.review_state == "to_review").review_state = "reviewed"
        return True

    def action_mark_to_review(self):
        self.filtered(lambda t: t.review_state == "reviewed").review_state = "to_review"
        return True

    def action_export_to_statement(self):
        """Create Odoo bank statement lines for the reviewed transactions (posted only).

        The rows are locked first, so two accountants exporting at once cannot export a
        transaction twice; the chosen GL account becomes the line's counterpart instead of
        the suspense account.
        """
        _ = self.env._
        user = self.env.user
        if not (
            user.has_group("account.group_account_basic")
            or user.has_group("account.group_account_manager")
        ):
            raise AccessError(
                _(
                    "Exporting to bank statements needs accounting rights that may create "
                    "bank statement lines (Accounting: Bookkeeper or Administrator)."
                )
            )
        self.env.cr.execute(
            SQL(
                "SELECT id FROM ledgersync_transaction WHERE id = ANY(%s) FOR NO KEY UPDATE",
                self.ids,
            )
        )
        self.invalidate_recordset(["statement_line_id", "review_state"])
        transactions = self.filtered(
            lambda t: t.active and t.review_state == "reviewed" and not t.statement_line_id
        )
        if not transactions:
            raise UserError(_("Select reviewed transactions that are not exported yet."))
        pending = transactions.filtered(lambda t: t.ledgersync_status == "pending")
        if pending:
            raise UserError(
                _(
                    "%(count)s selected transactions are still pending at the bank and may "
                    "change: export them once they are posted.",
                    count=len(pending),
                )
            )
        # Synced transactions keep their currency even while it is inactive in Odoo; a bank
        # statement cannot be in an inactive currency.
        inactive = transactions.currency_id.filtered(lambda c: not c.active)
        if inactive:
            raise UserError(
                _(
                    "Transactions in a currency that is not active in Odoo (%(currencies)s) "
                    "cannot be exported to a bank statement: an administrator activates it "
                    "first (Invoicing or Accounting > Configuration > Currencies).",
                    currencies=", ".join(inactive.mapped("name")),
                )
            )
        for bank_account in transactions.bank_account_id:
            journal = bank_account.journal_id
            if not journal:
                raise UserError(
                    _(
                        "Choose the Odoo bank journal of “%(account)s” first, or create it "
                        "(LedgerSync → Bank Accounts → Create Bank Journal).",
                        account=bank_account.display_name,
                    )
                )
            journal_currency = journal.currency_id or journal.company_id.currency_id
            wrong_currency = transactions.filtered(
                lambda t, b=bank_account, c=journal_currency: (
                    t.bank_account_id == b and t.currency_id != c
                )
            )
            if wrong_currency:
                raise UserError(
                    _(
                        "The journal %(journal)s is in %(journal_currency)s but “%(account)s” "
                        "has transactions in %(currency)s: choose a journal in that currency.",
                        journal=journal.display_name,
                        journal_currency=journal_currency.name,
                        account=bank_account.display_name,
                        currency=wrong_currency[0].currency_id.name,
                    )
                )
        # Odoo grants statement lines to bookkeepers ("Basic") only; accounting
        # administrators, checked above, export with the rights of the system.
        lines = (
            self.env["account.bank.statement.line"]
            .sudo(not user.has_group("account.group_account_basic"))
            .create([transaction._statement_line_values() for transaction in transactions])
        )
        for transaction, line in zip(transactions, lines, strict=True):
            # statement_line_id is not a review field: written with the sync's rights.
            transaction.sudo().write({"statement_line_id": line.id, "review_state": "exported"})
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "type": "success",
                "message": _(
                    "%(count)s transactions exported to bank statements.", count=len(lines)
                ),
                "next": {"type": "ir.actions.act_window_close"},
            },
        }

    def action_undo_export(self):
        """Delete the bank statement lines of exported transactions and make them reviewed
        again (accounting administrators), as long as nobody reconciled those lines."""
        _ = self.env._
        if not self.env.su and not self.env.user.has_group("account.group_account_manager"):
            raise AccessError(
                _("Only accounting administrators can undo the export of transactions.")
            )
        self.env.cr.execute(
            SQL(
                "SELECT id FROM ledgersync_transaction WHERE id = ANY(%s) FOR NO KEY UPDATE",
                self.ids,
            )
        )
        self.invalidate_recordset(["statement_line_id", "review_state"])
        transactions = self.filtered(lambda t: t.review_state == "exported")
        if not transactions:
            raise UserError(_("Select exported transactions."))
        # Statement lines belong to bookkeepers: undone with the rights of the system, as
        # the export created them.
        for transaction in transactions.sudo():
            line = transaction.statement_line_id
            if line and transaction._statement_line_reconciled(line):
                raise UserError(
                    _(
                        "The bank statement line of “%(transaction)s” is reconciled: undo "
                        "its reconciliation in Accounting first.",
                        transaction=transaction.display_name,
                    )
                )
        lines = transactions.sudo().statement_line_id
        transactions.sudo().write({"statement_line_id": False, "review_state": "reviewed"})
        lines.unlink()
        return True

    def _statement_line_reconciled(self, line):
        """Whether ``line``'s journal items were matched or changed since the export made
        them: the bank account's line and either the suspense line or this GL account."""
        items = line.move_id.line_ids
        if items.matched_debit_ids or items.matched_credit_ids:
            return True
        _liquidity, _suspense, other = line._seek_for_lines()
        return bool(other.account_id - self.account_id)

    def _statement_line_values(self):
        self.ensure_one()
        values = {
            "journal_id": self.bank_account_id.journal_id.id,
            "date": self.date,
            "payment_ref": self.description or self.reference or self.ledgersync_id,
            "amount": self.amount,
            "partner_id": self.partner_id.id,
        }
        if self.account_id:
            values["counterpart_account_id"] = self.account_id.id
        return values
