from datetime import timedelta

from odoo import api, fields, models
from odoo.exceptions import UserError

from ..sync import rules

# Settings: whether a person's correction of a vendor or GL account becomes a client rule.
LEARNING_PARAM = "ledgersync_connector.rule_learning"
LEARNING_MODES = [
    ("always", "Always"),
    ("ask", "Ask"),
    ("never", "Never"),
]
DEFAULT_LEARNING = "always"
# Undo is offered by a notification: a lesson older than this is no longer needed.
LESSON_KEEP_DAYS = 7
# Review fields a rule can set: {transaction field: (rule field, transaction source field)}.
TAUGHT_FIELDS = {
    "partner_id": ("partner_id", "partner_source"),
    "account_id": ("account_id", "account_source"),
}


class LedgerSyncRuleLesson(models.Model):
    """A rule created or changed by a person's correction, kept so that it can be undone.

    "Corrections that teach": a person sets the vendor or GL account of transactions;
    each distinct description (per client) becomes an exact-match client rule (digits
    become ``*``: store numbers and dates change from month to month), or updates the one
    already there, and the other transactions to review that the rule matches follow it.
    The person is told, with Undo. Written with the system's rights: the rule belongs to
    the firm, the lesson to the person who taught it.
    """

    _name = "ledgersync.rule.lesson"
    _description = "LedgerSync Rule Learned from a Correction"
    _order = "id desc"

    rule_id = fields.Many2one("ledgersync.rule", required=True, ondelete="cascade")
    user_id = fields.Many2one("res.users", required=True, ondelete="cascade")
    rule_created = fields.Boolean(help="The correction created the rule (else: changed it).")
    previous_partner_id = fields.Many2one("res.partner", ondelete="set null")
    previous_account_id = fields.Many2one("account.account", ondelete="set null")
    applied_transaction_ids = fields.Json(
        help="The other transactions the new rule was applied to (re-applied on Undo)."
    )
    undone = fields.Boolean()

    @api.model
    def _learning_mode(self):
        mode = self.env["ir.config_parameter"].sudo().get_param(LEARNING_PARAM, DEFAULT_LEARNING)
        return mode if mode in dict(LEARNING_MODES) else DEFAULT_LEARNING

    @api.model
    def _after_correction(self, transactions, names):
        """Called after a person set ``names`` (review fields) on ``transactions``: learn,
        offer to, or do nothing, as the firm's setting says; tell the person."""
        taught = [name for name in names if name in TAUGHT_FIELDS]
        transactions = transactions.filtered(
            lambda t: t.description and t.review_state != "exported"
        )
        if not taught or not transactions:
            return self.browse()
        mode = self._learning_mode()
        if mode == "never":
            return self.browse()
        if mode == "ask":
            self._notify(
                self.env._(
                    "Make a rule of this correction, for the next transactions of %(count)s "
                    "description(s)?",
                    count=len(self._groups(transactions)),
                ),
                ask={"transaction_ids": transactions.ids, "fields": taught},
            )
            return self.browse()
        return self._learn(transactions, taught)

    @api.model
    def _groups(self, transactions):
        """{(client, company, pattern): transactions} of the corrected transactions."""
        groups = {}
        for transaction in transactions:
            pattern = rules.pattern_from_description(transaction.description)
            if pattern:
                key = (transaction.client_id, transaction.company_id, pattern)
                groups.setdefault(key, transactions.browse())
                groups[key] |= transaction
        return groups

    @api.model
    def _learn(self, transactions, names):
        """One client rule per distinct description: created, or updated with the values
        the person set. Returns the lessons, and tells the person."""
        Rule = self.env["ledgersync.rule"].sudo()
        lessons = self.sudo().browse()
        for (client, company, pattern), group in self._groups(transactions).items():
            example = group[0]
            values = {
                TAUGHT_FIELDS[name][0]: example[name].id
                for name in names
                if example[name] and example[TAUGHT_FIELDS[name][1]] == rules.SOURCE_PERSON
            }
            if not values:
                continue
            rule = Rule.search(
                [
                    ("client_id", "=", client.id),
                    ("company_id", "=", company.id),
                    ("match_kind", "=", "exact"),
                    ("pattern", "=", pattern),
                ],
                limit=1,
            )
            lesson_values = {"user_id": self.env.uid, "rule_created": not rule}
            if rule:
                if all(rule[field].id == value for field, value in values.items()):
                    continue
                lesson_values.update(
                    previous_partner_id=rule.partner_id.id,
                    previous_account_id=rule.account_id.id,
                )
                rule.write(values)
            else:
                rule = Rule.create(
                    {
                        "pattern": pattern,
                        "match_kind": "exact",
                        "client_id": client.id,
                        "company_id": company.id,
                        **values,
                    }
                )
            followers = (rule._would_match() - group).filtered(
                lambda t: t.review_state == "to_review"
            )
            followers._apply_rules()
            lessons |= self.sudo().create(
                dict(lesson_values, rule_id=rule.id, applied_transaction_ids=followers.ids)
            )
        if lessons:
            self._notify(lessons._message(), lesson_ids=lessons.ids)
        return lessons

    def _message(self):
        _ = self.env._
        parts = []
        for lesson in self:
            verb = _("New rule") if lesson.rule_created else _("Rule updated")
            followers = len(lesson.applied_transaction_ids or [])
            parts.append(
                _(
                    "%(verb)s for %(client)s: %(rule)s → %(what)s (%(count)s other "
                    "transactions matched).",
                    verb=verb,
                    client=lesson.rule_id.client_id.display_name,
                    rule=lesson.rule_id.display_name,
                    what=" / ".join(
                        lesson.rule_id.partner_id.mapped("display_name")
                        + lesson.rule_id.account_id.mapped("display_name")
                    ),
                    count=followers,
                )
            )
        return "\n".join(parts)

    def _notify(self, message, lesson_ids=None, ask=None):
        """A notification to the person, with Undo (or, when asked, Create Rule)."""
        self.env.user._bus_send(
            "ledgersync_rule_lessons",
            {"message": message, "lesson_ids": lesson_ids or [], "ask": ask or False},
        )

    def _undo(self):
        """Revert the rule changes of these lessons (the person's own, not yet undone) and
        re-apply rules to the transactions that followed them."""
        lessons = self.sudo().filtered(lambda lesson: not lesson.undone)
        if lessons.filtered(lambda lesson: lesson.user_id != self.env.user):
            raise UserError(self.env._("Only the person who made a correction can undo it."))
        Transaction = self.env["ledgersync.transaction"].sudo()
        for lesson in lessons:
            followers = Transaction.browse(lesson.applied_transaction_ids or []).exists()
            rule = lesson.rule_id
            lesson.undone = True
            if lesson.rule_created:
                followers |= Transaction.search([("rule_id", "=", rule.id)])
                rule.unlink()  # the lesson goes with it
            else:
                rule.write(
                    {
                        "partner_id": lesson.previous_partner_id.id,
                        "account_id": lesson.previous_account_id.id,
                    }
                )
            followers._apply_rules()
        return True

    @api.autovacuum
    def _gc_old_lessons(self):
        limit = fields.Datetime.now() - timedelta(days=LESSON_KEEP_DAYS)
        self.sudo().search([("create_date", "<", limit)]).unlink()
