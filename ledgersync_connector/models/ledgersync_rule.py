from odoo import api, fields, models
from odoo.exceptions import ValidationError
from odoo.fields import Domain

from ..sync import rules

MATCH_KIND_SELECTION = [
    ("contains", "Contains"),
    ("exact", "Is Exactly"),
    ("starts_with", "Starts With"),
    ("ends_with", "Ends With"),
]
AMOUNT_SIGN_SELECTION = [("any", "Any"), ("in", "Money In"), ("out", "Money Out")]


class LedgerSyncRule(models.Model):
    """Assigns a vendor and/or a GL account to the transactions whose description matches.

    The matching itself is sync/rules.py's (pure); this model stores the rules, checks
    them, and turns them into ``rules.RuleSpec`` for the matcher.
    """

    _name = "ledgersync.rule"
    _description = "LedgerSync Matching Rule"
    _order = "priority desc, id"
    _check_company_auto = True
    _rec_name = "pattern"

    pattern = fields.Char(
        required=True,
        help="Text of the description, case-insensitive. Several alternatives are "
        "separated by commas; * stands for any text (e.g. “AMZN*MKTP, Amazon”).",
    )
    match_kind = fields.Selection(
        MATCH_KIND_SELECTION, string="Description", required=True, default="contains"
    )
    amount_sign = fields.Selection(AMOUNT_SIGN_SELECTION, required=True, default="any")
    amount_min = fields.Float(
        string="Amount From", help="Smallest amount, without its sign (0: no minimum)."
    )
    amount_max = fields.Float(
        string="Amount To", help="Largest amount, without its sign (0: no maximum)."
    )
    partner_id = fields.Many2one(
        "res.partner", string="Vendor", check_company=True, ondelete="cascade"
    )
    account_id = fields.Many2one(
        "account.account", string="GL Account", check_company=True, ondelete="cascade"
    )
    priority = fields.Integer(
        default=10, help="Among the rules of one scope, the highest priority wins."
    )
    active = fields.Boolean(default=True)
    client_id = fields.Many2one(
        "ledgersync.client",
        index="btree_not_null",
        ondelete="cascade",
        help="Empty: a firm-wide rule, for every client whose books are in this company. "
        "A client's own rules win over firm-wide ones.",
    )
    scope = fields.Selection(
        [("client", "Client"), ("firm", "Firm-wide")], compute="_compute_scope", store=True
    )
    company_id = fields.Many2one(
        "res.company",
        required=True,
        index=True,
        default=lambda self: self.env.company,
        help="The company whose books the rule applies to: its vendors and GL accounts.",
    )
    transaction_count = fields.Integer(
        string="Matched Transactions", compute="_compute_transaction_count"
    )

    @api.onchange("client_id")
    def _onchange_client_id(self):
        """A client rule lives in the company that keeps the client's books: the company
        of its transactions (the client's own until it has some)."""
        if self.client_id:
            books = self.env["ledgersync.transaction"].search(
                [("client_id", "=", self.client_id.id)], limit=1
            )
            self.company_id = books.company_id or self.client_id.company_id

    @api.depends("client_id")
    def _compute_scope(self):
        for rule in self:
            rule.scope = "client" if rule.client_id else "firm"

    def _compute_transaction_count(self):
        counts = dict(
            self.env["ledgersync.transaction"]._read_group(
                [("rule_id", "in", self.ids)], ["rule_id"], ["__count"]
            )
        )
        for rule in self:
            rule.transaction_count = counts.get(rule, 0)

    @api.depends("pattern", "match_kind")
    def _compute_display_name(self):
        kinds = dict(self._fields["match_kind"]._description_selection(self.env))
        for rule in self:
            rule.display_name = f"{kinds.get(rule.match_kind, '')} “{rule.pattern or ''}”"

    @api.constrains(
        "pattern",
        "match_kind",
        "amount_sign",
        "amount_min",
        "amount_max",
        "partner_id",
        "account_id",
    )
    def _check_rule(self):
        _ = self.env._
        messages = {
            "empty": _("The pattern needs some text (alternatives are separated by commas)."),
            "negative_bound": _("Amounts of a rule are given without their sign (0 or more)."),
            "range": _("The amount range of a rule goes from its smallest to its largest amount."),
        }
        for rule in self:
            if not rule.partner_id and not rule.account_id:
                raise ValidationError(
                    _(
                        "The rule “%(rule)s” must assign a vendor, a GL account or both.",
                        rule=rule.pattern,
                    )
                )
            try:
                rules.check_rule(rule._rule_spec())
            except rules.PatternError as error:
                raise ValidationError(
                    _(
                        "The rule “%(rule)s” is not valid: %(reason)s",
                        rule=rule.pattern,
                        reason=messages.get(error.code, error.code),
                    )
                ) from None

    def _rule_spec(self):
        self.ensure_one()
        return rules.RuleSpec(
            id=self.id or 0,
            pattern=self.pattern,
            kind=self.match_kind,
            priority=self.priority,
            client_id=self.client_id.id or None,
            company_id=self.company_id.id or None,
            amount_sign=self.amount_sign,
            amount_min=self.amount_min or None,
            amount_max=self.amount_max or None,
            partner_id=self.partner_id.id or None,
            account_id=self.account_id.id or None,
        )

    @api.model
    def _matcher(self, companies):
        """The active rules of ``companies``, compiled once: a rules.Matcher."""
        found = (
            self.sudo()
            .with_context(active_test=True)
            .search_fetch(
                [("company_id", "in", companies.ids)],
                [
                    "pattern",
                    "match_kind",
                    "priority",
                    "client_id",
                    "company_id",
                    "amount_sign",
                    "amount_min",
                    "amount_max",
                    "partner_id",
                    "account_id",
                ],
            )
        )
        return rules.compile_rules(rule._rule_spec() for rule in found)

    def _scope_domain(self):
        """The transactions a rule may apply to."""
        self.ensure_one()
        if self.client_id:
            return [("client_id", "=", self.client_id.id)]
        return [("company_id", "=", self.company_id.id)]

    def _would_match(self):
        """The not-exported transactions in this rule's scope that it matches."""
        self.ensure_one()
        Transaction = self.env["ledgersync.transaction"]
        domain = Domain([*self._scope_domain(), ("review_state", "!=", "exported")])
        words = rules.search_words(self.pattern)
        if words:
            # A cheap pre-filter: the matcher decides.
            domain &= Domain.OR([("description", "ilike", word)] for word in words)
        matcher = rules.compile_rules([self._rule_spec()])
        candidates = Transaction.search_fetch(
            domain, ["description", "amount", "client_id", "company_id"]
        )
        return candidates.filtered(
            lambda t: matcher.match(t.description, t.amount, t.client_id.id, t.company_id.id)
        )

    def action_preview_matches(self):
        """Test this rule: the transactions it would match now (not exported ones)."""
        self.ensure_one()
        matched = self._would_match()
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Would Match: %(rule)s", rule=self.display_name),
            "res_model": "ledgersync.transaction",
            "view_mode": "list,form",
            "domain": [("id", "in", matched.ids)],
            "context": {"create": False},
        }

    def action_view_transactions(self):
        """The transactions this rule matched."""
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Matched by %(rule)s", rule=self.display_name),
            "res_model": "ledgersync.transaction",
            "view_mode": "list,form",
            "domain": [("rule_id", "=", self.id)],
            "context": {"create": False},
        }
