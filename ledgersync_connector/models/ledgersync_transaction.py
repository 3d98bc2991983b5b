from odoo import api, fields, models
from odoo.exceptions import AccessError, UserError
from odoo.tools import SQL, format_date, formatLang
from odoo.tools.sql import column_exists, create_column

from ..sync import exported, rules
from ..sync.conflicts import expected_conflicts
from ..sync.matching import Assigner

# What an accountant may change; everything else comes from LedgerSync.
REVIEW_FIELDS = frozenset({"partner_id", "account_id", "review_state"})
# The review states a person sets; "exported" is the export's own (and its undo's).
PERSON_REVIEW_STATES = frozenset({"to_review", "reviewed"})
MATCH_TYPES = [("rule", "Rule"), ("ai", "AI"), ("semantic", "Semantic")]
MATCH_STATUSES = [
    ("rule", "Matched by Rule"),
    ("manual", "Set by Hand"),
    ("suggested", "Suggested"),
    ("unmatched", "Unmatched"),
]
VALUE_SOURCES = [
    (rules.SOURCE_HINT, "LedgerSync Suggestion"),
    (rules.SOURCE_RULE, "Rule"),
    (rules.SOURCE_PERSON, "Person"),
]
# Who set a review field, and when: {review field: (user field, date field)}.
SET_BY_FIELDS = {
    "partner_id": ("partner_set_uid", "partner_set_date"),
    "account_id": ("account_set_uid", "account_set_date"),
    "review_state": ("review_set_uid", "review_set_date"),
}
# The source of a vendor or GL account: {review field: source field}.
SOURCE_FIELDS = {"partner_id": "partner_source", "account_id": "account_source"}


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
    match_type = fields.Selection(
        MATCH_TYPES,
        string="LedgerSync Match",
        readonly=True,
        help="How LedgerSync itself matched the transaction (empty: it did not).",
    )
    match_status = fields.Selection(
        MATCH_STATUSES,
        string="Match",
        compute="_compute_match_status",
        store=True,
        help="Green: the vendor and GL account were set by a rule or by a person. Yellow: "
        "suggested by LedgerSync's hints, to confirm. Red: neither is set.",
    )
    unresolved_hints = fields.Char(
        string="LedgerSync Hint",
        compute="_compute_unresolved_hints",
        help="LedgerSync's vendor and GL code where the vendor or the GL account is empty: "
        "no vendor or account of the company has that reference, name or code.",
    )
    rule_id = fields.Many2one(
        "ledgersync.rule",
        readonly=True,
        ondelete="set null",
        index="btree_not_null",
        help="The rule that matched the transaction.",
    )
    partner_source = fields.Selection(VALUE_SOURCES, string="Vendor Set By", readonly=True)
    account_source = fields.Selection(VALUE_SOURCES, string="GL Account Set By", readonly=True)
    partner_set_uid = fields.Many2one("res.users", string="Vendor Set By User", readonly=True)
    partner_set_date = fields.Datetime(string="Vendor Set On", readonly=True)
    account_set_uid = fields.Many2one("res.users", string="GL Account Set By User", readonly=True)
    account_set_date = fields.Datetime(string="GL Account Set On", readonly=True)
    review_set_uid = fields.Many2one("res.users", string="Review State Set By", readonly=True)
    review_set_date = fields.Datetime(string="Review State Set On", readonly=True)
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
    statement_export_id = fields.Many2one(
        "ledgersync.statement.export",
        string="Export",
        readonly=True,
        copy=False,
        index="btree_not_null",
        ondelete="set null",
        help="The export to bank statements that took (or is taking) the transaction.",
    )
    # Set by the sync (sync/queries.py flag_changed_after_export), which keeps mirroring
    # LedgerSync but never touches the statement line: the books stay as exported until a
    # person decides, and this says that they no longer agree.
    changed_after_export = fields.Boolean(
        readonly=True,
        copy=False,
        help="LedgerSync changed this transaction (amount, date, status) or deleted it after "
        "it was exported to a bank statement: the statement line no longer matches it.",
    )
    export_difference = fields.Char(
        string="Change After Export",
        compute="_compute_export_difference",
        help="How the transaction in LedgerSync now differs from its bank statement line.",
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
    # The "Changed After Export" filter: a few rows among millions, newest first.
    _changed_after_export_idx = models.Index("(date DESC, id DESC) WHERE changed_after_export")

    @api.model
    def search_panel_select_multi_range(self, field_name, **kwargs):
        # The bank-account section lists the selected client's accounts (the view's
        # domain); with no client selected it has none, and Odoo would still count every
        # line to fill it.
        if field_name == "match_status" and not kwargs.get("category_domain"):
            # The match counters are the coverage of the client picked in the panel (its
            # bank accounts, the date range ...); for all clients at once they would count
            # every line to review on opening the list: every value, without a query.
            kwargs.update(enable_counters=False, expand=True)
        field = self._fields[field_name]
        comodel_domain = kwargs.get("comodel_domain")
        if (
            field.type == "many2one"
            and comodel_domain
            and not self.env[field.comodel_name].search_count(comodel_domain, limit=1)
        ):
            return {"values": []}
        return super().search_panel_select_multi_range(field_name, **kwargs)

    def _auto_init(self):
        self._init_match_status_column()
        return super()._auto_init()

    def _init_match_status_column(self):
        """The match status of the transactions synced before it was stored, in one
        UPDATE rather than recomputed row by row (millions of rows): their vendor and GL
        account were all set by people (no source), so "manual" when set, as
        rules.match_status says."""
        cr = self.env.cr
        if not column_exists(cr, self._table, "id") or column_exists(
            cr, self._table, "match_status"
        ):
            return
        create_column(cr, self._table, "match_status", "varchar")
        cr.execute(
            SQL(
                """
                UPDATE %s SET match_status = CASE
                    WHEN partner_id IS NULL AND account_id IS NULL THEN 'unmatched'
                    ELSE 'manual' END
                """,
                SQL.identifier(self._table),
            )
        )

    @api.depends("partner_id", "partner_source", "account_id", "account_source")
    def _compute_match_status(self):
        for transaction in self:
            transaction.match_status = rules.match_status(
                transaction.partner_id.id,
                transaction.partner_source,
                transaction.account_id.id,
                transaction.account_source,
            )

    @api.depends("vendor_name", "gl_code", "partner_id", "account_id")
    def _compute_unresolved_hints(self):
        for transaction in self:
            hints = []
            if transaction.vendor_name and not transaction.partner_id:
                hints.append(transaction.vendor_name)
            if transaction.gl_code and not transaction.account_id:
                hints.append(self.env._("GL %(code)s", code=transaction.gl_code))
            transaction.unresolved_hints = " · ".join(hints)

    @api.depends(
        "amount",
        "date",
        "ledgersync_status",
        "active",
        "currency_id",
        "statement_line_id.amount",
        "statement_line_id.date",
    )
    def _compute_export_difference(self):
        for transaction in self:
            line = transaction.sudo().statement_line_id  # the bookkeepers' model: only read
            differences = (
                exported.export_differences(
                    line.amount,
                    line.date,
                    transaction.amount,
                    transaction.date,
                    transaction.ledgersync_status,
                    transaction.active,
                    transaction.currency_id.decimal_places,
                )
                if line
                else ()
            )
            transaction.export_difference = (
                " · ".join(transaction._describe_difference(d) for d in differences) or False
            )

    def _describe_difference(self, difference):
        """An exported.Difference in the user's language, e.g. "Amount: 120.00 → 125.00"."""
        _ = self.env._
        if difference.kind == exported.DELETED:
            return _("Deleted in LedgerSync")
        if difference.kind == exported.PENDING:
            return _("Pending again at the bank")
        if difference.kind == exported.AMOUNT:
            digits = self.currency_id.decimal_places
            return _(
                "Amount: %(exported)s → %(current)s",
                exported=formatLang(self.env, float(difference.exported), digits=digits),
                current=formatLang(self.env, float(difference.current), digits=digits),
            )
        return _(
            "Date: %(exported)s → %(current)s",
            exported=format_date(self.env, difference.exported),
            current=format_date(self.env, difference.current),
        )

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
        person = not self.env.su  # the sync, the rules and the export write as the system
        if person:
            self._check_review_write(vals)
            vals = self._with_person_marks(vals)
        result = super().write(vals)
        if person and vals.get("review_state") == "reviewed":
            self._confirm_suggestions()
        if person and not self.env.context.get("ledgersync_no_learning"):
            # Corrections that teach: the vendor or GL account a person set (several
            # rows at once with multi-edit) becomes a client rule, or is offered as one.
            chosen = [name for name in SOURCE_FIELDS if vals.get(name)]
            if chosen:
                self.env["ledgersync.rule.lesson"]._after_correction(self, chosen)
        return result

    def _confirm_suggestions(self):
        """A person who marks transactions reviewed confirms the vendor and GL account
        that LedgerSync's hints suggested: they become that person's."""
        now = fields.Datetime.now()
        for name, source_field in SOURCE_FIELDS.items():
            suggested = self.filtered(lambda t, f=source_field: t[f] == rules.SOURCE_HINT)
            if suggested:
                user_field, date_field = SET_BY_FIELDS[name]
                suggested.sudo().write(
                    {source_field: rules.SOURCE_PERSON, user_field: self.env.uid, date_field: now}
                )

    def _with_person_marks(self, vals):
        """``vals`` of a person's write, with who set which review field and when; a
        vendor or GL account a person chose is theirs (rules and syncs keep it), one they
        cleared may be filled by rules again."""
        marked = dict(vals)
        now = fields.Datetime.now()
        for name, (user_field, date_field) in SET_BY_FIELDS.items():
            if name in vals:
                marked.update({user_field: self.env.uid, date_field: now})
                if name in SOURCE_FIELDS:
                    marked[SOURCE_FIELDS[name]] = rules.SOURCE_PERSON if vals[name] else False
        return marked

    def _assignment(self):
        self.ensure_one()
        return rules.Assignment(
            self.partner_id.id or None,
            self.partner_source or None,
            self.account_id.id or None,
            self.account_source or None,
            self.rule_id.id or None,
        )

    def _apply_rules(self, assigner=None):
        """Apply the rules and LedgerSync's hints to the transactions still to review,
        keeping what a person set; one write per distinct outcome. Returns how many
        transactions changed."""
        assigner = assigner or Assigner(self.env)
        transactions = self.filtered(lambda t: t.review_state == "to_review")
        changes = {}
        for transaction in transactions:
            current = transaction._assignment()
            decided, _status = assigner.assign(
                (
                    transaction.description,
                    transaction.amount,
                    transaction.client_id.id,
                    transaction.company_id.id,
                    transaction.vendor_name,
                    transaction.gl_code,
                ),
                current,
            )
            if decided != current:
                changes.setdefault(decided, []).append(transaction.id)
        for decided, ids in changes.items():
            # The rules' own write (not a person's): the sync's rights.
            self.browse(ids).sudo().write(
                {
                    "partner_id": decided.partner_id or False,
                    "partner_source": decided.partner_source or False,
                    "account_id": decided.account_id or False,
                    "account_source": decided.account_source or False,
                    "rule_id": decided.rule_id or False,
                }
            )
        return sum(len(ids) for ids in changes.values())

    @api.model
    def get_match_coverage(self, domain):
        """The match coverage of the transactions of ``domain`` (a client, a bank
        account, a date range ...): {status: count} of every status, "matched" (by a
        rule or by hand), "total" and "ratio" (matched / total, None when empty)."""
        counts = dict.fromkeys(dict(MATCH_STATUSES), 0)
        counts.update(self._read_group(domain, ["match_status"], ["__count"]))
        matched = counts["rule"] + counts["manual"]
        total = sum(counts.values())
        return dict(counts, matched=matched, total=total, ratio=matched / total if total else None)

    def action_learn_rules(self, field_names):
        """Make client rules of the vendor or GL account a person set on these
        transactions ("Create Rule" of the notification, when the firm asks first).
        Returns the ids of the lessons, for Undo."""
        self.check_access("write")
        names = [name for name in field_names if name in SOURCE_FIELDS]
        return self.env["ledgersync.rule.lesson"]._learn(self, names).ids

    @api.model
    def action_undo_rule_lessons(self, lesson_ids):
        """Undo of the notification: revert the rules a correction created or changed."""
        self.env["ledgersync.rule.lesson"].browse(lesson_ids)._undo()
        return True

    def action_apply_rules(self):
        """Re-apply rules: the selected transactions still to review get the vendor and GL
        account of their best rule (or LedgerSync's suggestion), except what a person set."""
        self.check_access("write")
        changed = self._apply_rules()
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "type": "success",
                "message": self.env._(
                    "Rules applied: %(changed)s of %(count)s transactions changed.",
                    changed=changed,
                    count=len(self),
                ),
                "next": {"type": "ir.actions.client", "tag": "soft_reload"},
            },
        }

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
        exported = self.filtered(lambda t: t.review_state == "exported" or t.statement_export_id)
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
        """Export the reviewed transactions (posted only) to Odoo bank statements, one per
        journal: at once when they are few, otherwise in the background
        (ledgersync.statement.export). The rows are locked first, so two requests (a
        double click, a re-sent request, two accountants) cannot claim a transaction twice;
        a request that finds its selection already exported shows that export."""
        _ = self.env._
        self._check_may_export()
        self._lock_rows()
        transactions = self.filtered(
            lambda t: t.active and t.review_state == "reviewed" and not t.statement_export_id
        )
        if not transactions:
            earlier = self.statement_export_id.sorted("id")[-1:]
            if earlier:
                return earlier._open_action(_("These transactions are already exported."))
            raise UserError(_("Select reviewed transactions that are not exported yet."))
        transactions._check_exportable()
        export = self.env["ledgersync.statement.export"]._start(transactions)
        if export.state in ("in_progress", "undoing"):
            message = _(
                "Exporting %(count)s transactions to bank statements in the background: the "
                "export shows its progress.",
                count=export.line_total,
            )
        else:
            message = _(
                "%(count)s transactions exported to %(statements)s bank statements.",
                count=export.line_done,
                statements=len(export.statement_ids),
            )
        return export._open_action(message)

    def _lock_rows(self):
        """Lock these rows until the transaction ends, waiting for whoever holds them (a
        double click, a second accountant, an export's chunk), then read their export
        state afresh.

        When the holder changed them and committed, this transaction's snapshot is too
        old: PostgreSQL refuses the lock (a serialization failure) and Odoo runs the
        request again, which then sees the rows as they are now."""
        with expected_conflicts():
            self.env.cr.execute(
                SQL(
                    "SELECT id FROM ledgersync_transaction WHERE id = ANY(%s) FOR NO KEY UPDATE",
                    self.ids,
                )
            )
        self.invalidate_recordset(["statement_line_id", "statement_export_id", "review_state"])

    def _check_may_export(self):
        user = self.env.user
        if not (
            user.has_group("account.group_account_basic")
            or user.has_group("account.group_account_manager")
        ):
            raise AccessError(
                self.env._(
                    "Exporting to bank statements needs accounting rights that may create "
                    "bank statement lines (Accounting: Bookkeeper or Administrator)."
                )
            )

    def _check_exportable(self):
        """A clear error for what a bank statement cannot take: pending transactions,
        a bank account without journal, a currency that is inactive or not the journal's,
        transactions of several companies."""
        _ = self.env._
        if len(self.company_id) > 1:
            raise UserError(_("Export the transactions of one company at a time."))
        pending = self.filtered(lambda t: t.ledgersync_status == "pending")
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
        inactive = self.currency_id.filtered(lambda c: not c.active)
        if inactive:
            raise UserError(
                _(
                    "Transactions in a currency that is not active in Odoo (%(currencies)s) "
                    "cannot be exported to a bank statement: an administrator activates it "
                    "first (Invoicing or Accounting > Configuration > Currencies).",
                    currencies=", ".join(inactive.mapped("name")),
                )
            )
        for bank_account in self.bank_account_id:
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
            wrong_currency = self.filtered(
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

    def _create_statement_lines(self):
        """The statement lines of these transactions, in one batched create (the export's
        environment: ledgersync.statement.export._worker_env)."""
        return self.env["account.bank.statement.line"].create(
            [transaction._statement_line_values() for transaction in self]
        )

    def action_undo_export(self):
        """Delete the bank statement lines of exported transactions and make them reviewed
        again (accounting administrators), as long as nobody reconciled those lines."""
        self._check_may_undo_export()
        self._lock_rows()
        transactions = self.filtered(lambda t: t.review_state == "exported")
        if not transactions:
            raise UserError(self.env._("Select exported transactions."))
        transactions._check_lines_not_reconciled()
        transactions._remove_statement_lines()
        return True

    def _check_may_undo_export(self):
        if not self.env.su and not self.env.user.has_group("account.group_account_manager"):
            raise AccessError(
                self.env._("Only accounting administrators can undo the export of transactions.")
            )

    def _check_lines_not_reconciled(self):
        for transaction in self.sudo():
            line = transaction.statement_line_id
            if line and transaction._statement_line_reconciled(line):
                raise UserError(
                    self.env._(
                        "The bank statement line of “%(transaction)s” is reconciled: undo "
                        "its reconciliation in Accounting first.",
                        transaction=transaction.display_name,
                    )
                )

    def _remove_statement_lines(self):
        """Statement lines belong to bookkeepers: removed with the rights of the system,
        as the export created them; their transactions are reviewed again
        (account.bank.statement.line.unlink). Odoo keeps the lines of a complete
        statement: they leave their statement first (the export's undo drops it)."""
        lines = self.sudo().statement_line_id
        lines.filtered("statement_id").write({"statement_id": False})
        lines.unlink()

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
            "ledgersync_transaction_id": self.id,
        }
        if self.account_id:
            values["counterpart_account_id"] = self.account_id.id
        return values
