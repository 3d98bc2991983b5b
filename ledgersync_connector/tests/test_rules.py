"""Matching rules, LedgerSync's hints, match status, Re-apply Rules and corrections that
teach (issue 9)."""

import json

from lxml import etree

from odoo import Command
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tests import Form, HttpCase, TransactionCase, tagged

from .common import SyncCase, TwoCompaniesMixin, company_user
from .test_review_views import ReviewDataMixin


class RulesDataMixin(TwoCompaniesMixin):
    """Company A with a connection, two clients with a bank account each, two vendors and
    two GL accounts; company B with a vendor and a rule of its own."""

    @classmethod
    def setup_rules_data(cls):
        cls.usd = cls.env.ref("base.USD")
        cls.usd.active = True
        cls.setup_two_companies("Rules")
        company = cls.company_a
        connection = cls.env["ledgersync.connection"].create({"company_id": company.id})
        cls.client_1, cls.client_2 = cls.env["ledgersync.client"].create(
            [
                {
                    "name": f"Rules Client {index}",
                    "ledgersync_id": f"cli_rules_{index}",
                    "connection_id": connection.id,
                    "company_id": company.id,
                }
                for index in (1, 2)
            ]
        )
        cls.bank_1, cls.bank_2 = cls.env["ledgersync.bank.account"].create(
            [
                {
                    "name": f"Checking {client.name}",
                    "ledgersync_id": f"acc_{client.ledgersync_id}",
                    "client_id": client.id,
                    "currency_id": cls.usd.id,
                }
                for client in (cls.client_1, cls.client_2)
            ]
        )
        Partner = cls.env["res.partner"]
        cls.xerox = Partner.create({"name": "Xerox Corp", "ref": "VX-1", "company_id": company.id})
        cls.cab = Partner.create({"name": "Yellow Cab"})
        cls.other_vendor = Partner.create({"name": "B Vendor", "company_id": cls.company_b.id})
        Account = cls.env["account.account"]
        cls.office = Account.create(
            {
                "name": "Rules Office",
                "code": "619001",
                "account_type": "expense",
                "company_ids": [Command.set(company.ids)],
            }
        )
        cls.travel = Account.create(
            {
                "name": "Rules Travel",
                "code": "619002",
                "account_type": "expense",
                "company_ids": [Command.set(company.ids)],
            }
        )
        cls.rule_b = (
            cls.env["ledgersync.rule"]
            .with_company(cls.company_b)
            .create(
                {
                    "pattern": "coffee",
                    "partner_id": cls.other_vendor.id,
                    "company_id": cls.company_b.id,
                }
            )
        )
        cls.sequence = 0

    @classmethod
    def tx(cls, description, amount=-10.0, bank=None, **values):
        cls.sequence += 1
        bank = bank or cls.bank_1
        return cls.env["ledgersync.transaction"].create(
            {
                "bank_account_id": bank.id,
                "client_id": bank.client_id.id,
                "company_id": bank.company_id.id,
                "ledgersync_id": f"txn_rules_{cls.sequence}",
                "date": "2026-11-02",
                "description": description,
                "amount": amount,
                "currency_id": cls.usd.id,
                "ledgersync_status": "posted",
                **values,
            }
        )

    def rule(self, pattern, **values):
        values.setdefault("partner_id", self.xerox.id)
        return self.env["ledgersync.rule"].create({"pattern": pattern, **values})


@tagged("post_install", "-at_install")
class TestRules(RulesDataMixin, TransactionCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.setup_rules_data()
        # Corrections made here teach nothing (TestCorrectionsTeach covers that).
        cls.env["ir.config_parameter"].set_param("ledgersync_connector.rule_learning", "never")

    def test_every_pattern_form(self):
        cases = [
            # (kind, pattern, description, amount, matches)
            ("contains", "xerox", "POS XEROX #12 BOSTON", -5, True),
            ("contains", "xerox", "POS XER0X", -5, False),
            ("exact", "xerox corp", "  XEROX   Corp ", -5, True),
            ("exact", "xerox corp", "XEROX CORP INC", -5, False),
            ("starts_with", "pos xer", "POS XEROX", -5, True),
            ("starts_with", "xerox", "POS XEROX", -5, False),
            ("ends_with", "boston ma", "XEROX BOSTON MA", -5, True),
            ("ends_with", "boston", "XEROX BOSTON MA", -5, False),
            ("contains", "uber*help", "UBER TRIP HELP.UBER.COM", -5, True),
            ("exact", "uber*com", "UBER TRIP HELP.UBER.COM", -5, True),
            ("exact", "uber*trip", "UBER TRIP HELP.UBER.COM", -5, False),
            ("contains", "nothing, shell oil", "SHELL OIL 42 HOUSTON", -5, True),
        ]
        for kind, pattern, description, amount, matches in cases:
            with self.subTest(kind=kind, pattern=pattern, description=description):
                rule = self.rule(pattern, match_kind=kind)
                transaction = self.tx(description, amount)
                transaction._apply_rules()
                self.assertEqual(transaction.rule_id == rule, matches)
                self.assertEqual(transaction.partner_id == self.xerox, matches)
                rule.active = False

    def test_amount_sign_and_range(self):
        out = self.rule("shop", amount_sign="out", amount_min=10, amount_max=100)
        money_in = self.rule("shop", amount_sign="in", partner_id=self.cab.id)
        small, big, refund = self.tx("SHOP", -50), self.tx("SHOP", -500), self.tx("SHOP", 20)
        (small | big | refund)._apply_rules()
        self.assertEqual(small.rule_id, out)
        self.assertFalse(big.rule_id)
        self.assertEqual(refund.rule_id, money_in)

    def test_precedence_client_then_priority_then_id(self):
        firm = self.rule("coffee", priority=99, partner_id=self.cab.id)
        low = self.rule("coffee", priority=1, client_id=self.client_1.id)
        first = self.rule("coffee", priority=5, client_id=self.client_1.id)
        second = self.rule("coffee", priority=5, client_id=self.client_1.id)
        mine = self.tx("COFFEE", bank=self.bank_1)
        other = self.tx("COFFEE", bank=self.bank_2)
        (mine | other)._apply_rules()
        self.assertEqual(mine.rule_id, first)  # client rule, priority 5, lower id
        self.assertEqual(other.rule_id, firm)  # no rule of client 2: the firm-wide one
        self.assertEqual(other.partner_id, self.cab)
        self.assertLess(first.id, second.id)
        self.assertTrue(low.exists())
        # Company B's rule never applies to company A's transactions.
        self.assertNotIn(self.rule_b, (mine | other).rule_id)

    def test_rule_constraints_say_what_is_wrong(self):
        with self.assertRaisesRegex(ValidationError, "must assign a vendor, a GL account"):
            self.rule("coffee", partner_id=False)
        with self.assertRaisesRegex(ValidationError, "smallest to its largest"):
            self.rule("coffee", amount_min=50, amount_max=10)
        with self.assertRaisesRegex(ValidationError, "without their sign"):
            self.rule("coffee", amount_min=-5)
        with self.assertRaisesRegex(ValidationError, "needs some text"):
            self.rule(" , ")
        # A vendor of another company is refused (check_company).
        with self.assertRaises(UserError):
            self.rule("coffee", partner_id=self.other_vendor.id)

    def test_hints_resolve_to_a_partner_and_an_account(self):
        by_ref = self.tx("A", vendor_name="vx-1", gl_code="619001")
        by_name = self.tx("B", vendor_name=" XEROX corp ", gl_code="619002")
        unknown = self.tx("C", vendor_name="Nobody Ltd", gl_code="ZZ404")
        claimed = self.tx("D", vendor_name="Nobody Ltd", match_type="rule")
        (by_ref | by_name | unknown | claimed)._apply_rules()
        self.assertEqual((by_ref.partner_id, by_ref.account_id), (self.xerox, self.office))
        self.assertEqual((by_name.partner_id, by_name.account_id), (self.xerox, self.travel))
        self.assertEqual(by_ref.partner_source, "hint")
        self.assertEqual(by_ref.match_status, "suggested")
        # An unresolved hint stays visible as text beside the empty fields.
        self.assertFalse(unknown.partner_id)
        self.assertEqual(unknown.match_status, "unmatched")
        self.assertEqual(unknown.unresolved_hints, "Nobody Ltd · GL ZZ404")
        # LedgerSync saying "rule" makes nothing green without a vendor or a GL account.
        self.assertEqual(claimed.match_status, "unmatched")
        # A rule confirms: matched (green), the hint's account stays a suggestion.
        rule = self.rule("a", match_kind="exact", account_id=self.travel.id)
        by_ref._apply_rules()
        self.assertEqual(by_ref.rule_id, rule)
        self.assertEqual((by_ref.partner_source, by_ref.account_source), ("rule", "rule"))
        self.assertEqual(by_ref.account_id, self.travel)
        self.assertEqual(by_ref.match_status, "rule")

    def test_marking_reviewed_confirms_the_suggestions(self):
        suggested = self.tx("SOMETHING", vendor_name="VX-1", gl_code="619001")
        suggested._apply_rules()
        self.assertEqual(suggested.match_status, "suggested")
        suggested.with_user(self.accountant_a).action_mark_reviewed()
        self.assertEqual((suggested.partner_source, suggested.account_source), ("person",) * 2)
        self.assertEqual(suggested.partner_set_uid, self.accountant_a)
        self.assertEqual(suggested.match_status, "manual")
        self.assertEqual(suggested.partner_id, self.xerox)

    def test_reapply_never_overwrites_a_persons_value(self):
        transaction = self.tx("XEROX 42", vendor_name="Yellow Cab")
        Transaction = self.env["ledgersync.transaction"].with_user(self.accountant_a)
        Transaction.browse(transaction.id).write({"partner_id": self.cab.id})
        self.assertEqual(transaction.partner_source, "person")
        self.assertEqual(transaction.partner_set_uid, self.accountant_a)
        self.assertTrue(transaction.partner_set_date)
        self.assertEqual(transaction.match_status, "manual")
        self.rule("xerox", account_id=self.office.id)  # vendor Xerox and GL office
        Transaction.browse(transaction.id).action_apply_rules()
        self.assertEqual(transaction.partner_id, self.cab)  # the person's choice
        self.assertEqual(transaction.account_id, self.office)  # the rule's
        self.assertEqual(transaction.account_source, "rule")
        self.assertEqual(transaction.match_status, "rule")
        # A reviewed transaction is left as it is.
        reviewed = self.tx("XEROX 43")
        Transaction.browse(reviewed.id).action_mark_reviewed()
        self.assertEqual(reviewed.review_set_uid, self.accountant_a)
        Transaction.browse(reviewed.id).action_apply_rules()
        self.assertFalse(reviewed.partner_id)

    def test_upgrade_sets_the_match_status_of_existing_rows_in_sql(self):
        # Rows synced before the status was stored: their vendor was set by a person.
        chosen, empty = self.tx("CHOSEN"), self.tx("EMPTY")
        chosen.partner_id = self.cab
        self.env.flush_all()
        self.env.cr.execute("ALTER TABLE ledgersync_transaction DROP COLUMN match_status")
        self.env["ledgersync.transaction"]._init_match_status_column()
        self.env.invalidate_all()
        self.assertEqual((chosen.match_status, empty.match_status), ("manual", "unmatched"))

    def test_views_show_rules_hints_and_who_set_what(self):
        Transaction = self.env["ledgersync.transaction"].with_user(self.accountant_a)
        views = Transaction.get_views([(False, "list"), (False, "form")])["views"]
        form = etree.fromstring(views["form"]["arch"])
        for name in (
            "rule_id",
            "unresolved_hints",
            "partner_source",
            "partner_set_uid",
            "partner_set_date",
            "account_set_uid",
            "account_set_date",
            "review_set_uid",
            "review_set_date",
        ):
            self.assertTrue(form.xpath(f"//field[@name='{name}']"), name)
        listed = etree.fromstring(views["list"]["arch"])
        self.assertEqual(listed.get("multi_edit"), "1")
        self.assertIn("action_apply_rules", listed.xpath("/list/header/button/@name"))
        # The rules' menu is the accounting managers'; accountants read rules elsewhere.
        menu = self.env.ref("ledgersync_connector.menu_ledgersync_rules")
        visible = self.env["ir.ui.menu"].with_user(self.accountant_a)._visible_menu_ids()
        self.assertNotIn(menu.id, visible)
        visible = self.env["ir.ui.menu"].with_user(self.manager_a)._visible_menu_ids()
        self.assertIn(menu.id, visible)
        unmatched = self.env.ref("ledgersync_connector.ledgersync_transaction_unmatched_action")
        self.assertIn("'search_default_unmatched': 1", unmatched.context)

    def test_a_client_rule_goes_to_the_company_of_the_clients_books(self):
        self.tx("ANY")
        with Form(self.env["ledgersync.rule"].with_company(self.company_b)) as form:
            self.assertEqual(form.company_id, self.company_b)
            form.pattern = "any"
            form.client_id = self.client_1
            self.assertEqual(form.company_id, self.company_a)
            form.partner_id = self.xerox

    def test_rule_count_preview_and_matched_transactions(self):
        rule = self.rule("shell", client_id=self.client_1.id)
        matching = self.tx("SHELL OIL 1") | self.tx("shell oil 2")
        self.tx("SHELL OIL elsewhere", bank=self.bank_2)
        self.tx("ESSO")
        preview = rule.action_preview_matches()
        self.assertEqual(self.env["ledgersync.transaction"].search(preview["domain"]), matching)
        self.assertEqual(rule.transaction_count, 0)  # previewing applies nothing
        matching._apply_rules()
        rule.invalidate_recordset(["transaction_count"])
        self.assertEqual(rule.transaction_count, 2)
        action = rule.action_view_transactions()
        self.assertEqual(self.env["ledgersync.transaction"].search(action["domain"]), matching)

    def test_coverage_counts_follow_client_account_and_range(self):
        self.rule("xerox")
        rows = (
            self.tx("XEROX 1")
            | self.tx("XEROX 2", vendor_name="Yellow Cab")
            | self.tx("NOBODY", vendor_name="Yellow Cab")
            | self.tx("NOBODY 2")
            | self.tx("XEROX 3", bank=self.bank_2)
        )
        rows._apply_rules()
        Transaction = self.env["ledgersync.transaction"].with_user(self.accountant_a)

        def counts(client, domain):
            values = Transaction.search_panel_select_multi_range(
                "match_status",
                search_domain=domain,
                category_domain=[("client_id", "=", client.id)] if client else [],
                enable_counters=True,
            )["values"]
            return {value["id"]: value["__count"] for value in values if value.get("__count")}

        client_1 = [("client_id", "=", self.client_1.id), ("date", ">=", "2026-11-01")]
        self.assertEqual(
            counts(self.client_1, client_1[1:]), {"rule": 2, "suggested": 1, "unmatched": 1}
        )
        bank_2 = [("bank_account_id", "=", self.bank_2.id)]
        self.assertEqual(counts(self.client_2, bank_2), {"rule": 1})
        self.assertEqual(counts(self.client_1, [("date", ">=", "2026-12-01")]), {})
        # No client picked: the values without counts (they would count every line).
        self.assertEqual(counts(None, client_1), {})
        values = Transaction.search_panel_select_multi_range(
            "match_status", search_domain=[], category_domain=[], enable_counters=True
        )["values"]
        self.assertEqual(
            [value["id"] for value in values], ["rule", "manual", "suggested", "unmatched"]
        )
        coverage = Transaction.get_match_coverage(client_1)
        self.assertEqual((coverage["matched"], coverage["total"]), (2, 4))
        self.assertEqual(coverage["ratio"], 0.5)
        self.assertIsNone(Transaction.get_match_coverage([("id", "=", 0)])["ratio"])

    def test_access_rights_of_rules(self):
        rule = self.rule("xerox")
        Rule = self.env["ledgersync.rule"]
        # Accountants read the rules of their company, never change them.
        self.assertEqual(Rule.with_user(self.accountant_a).search([]), rule)
        for attempt in (
            lambda: Rule.with_user(self.accountant_a).create(
                {"pattern": "x", "partner_id": self.xerox.id}
            ),
            lambda: rule.with_user(self.accountant_a).write({"priority": 3}),
            lambda: rule.with_user(self.accountant_a).unlink(),
        ):
            with self.assertRaises(AccessError):
                attempt()
        # Accounting managers manage them, in their company only.
        managed = Rule.with_user(self.manager_a).create(
            {"pattern": "cab", "partner_id": self.cab.id}
        )
        managed.write({"priority": 7})
        self.assertEqual(Rule.with_user(self.manager_a).search([]), rule | managed)
        with self.assertRaises(AccessError):
            self.rule_b.with_user(self.manager_a).read(["pattern"])
        managed.unlink()
        # Users without accounting rights see none.
        employee = company_user(self.env, self.company_a, "rules_employee", "base.group_user")
        with self.assertRaises(AccessError):
            Rule.with_user(employee).search([])
        # An accountant may re-apply rules, not set the rule of a transaction directly.
        transaction = self.tx("XEROX")
        as_accountant = transaction.with_user(self.accountant_a)
        as_accountant.action_apply_rules()
        self.assertEqual(transaction.rule_id, rule)
        with self.assertRaises(AccessError):
            as_accountant.write({"rule_id": False})
        with self.assertRaises(AccessError):
            as_accountant.write({"partner_source": "rule"})


@tagged("post_install", "-at_install")
class TestRulesInSync(SyncCase):
    def test_sync_applies_rules_and_hints_to_new_and_changed_transactions(self):
        staples = self.env["res.partner"].create({"name": "Staples"})
        shell_vendor = self.env["res.partner"].create({"name": "Shell Vendor"})
        rule = self.env["ledgersync.rule"].create(
            {"pattern": "shell oil", "match_kind": "starts_with", "partner_id": shell_vendor.id}
        )
        self.sync("initial")
        Transaction = self.Transaction
        by_rule = Transaction.search([("description", "=ilike", "shell oil%")])
        self.assertTrue(by_rule, "the sandbox has Shell purchases")
        self.assertEqual(set(by_rule.mapped("rule_id")), {rule})
        self.assertEqual(set(by_rule.mapped("partner_id")), {shell_vendor})
        self.assertEqual(set(by_rule.mapped("partner_source")), {"rule"})
        hinted = Transaction.search([("vendor_name", "=", "Staples")])
        self.assertTrue(hinted)
        self.assertEqual(set(hinted.mapped("partner_id")), {staples})
        self.assertEqual(set(hinted.mapped("match_status")), {"suggested"})
        self.assertEqual(
            Transaction.search_count(
                [("match_status", "=", "unmatched"), ("partner_id", "!=", False)]
            ),
            0,
        )
        # A person's vendor survives a change in LedgerSync; the rule still applies where
        # nobody chose.
        chosen, other = by_rule.filtered(lambda t: t.ledgersync_status == "posted")[:2]
        chosen.with_user(self.env.ref("base.user_admin")).partner_id = staples
        self.assertEqual(chosen.partner_source, "person")
        for transaction in chosen | other:
            self.sandbox.app.modify_transaction(transaction.ledgersync_id, reference="CHANGED")
        run = self.sync()
        self.assertEqual(run.updated_count, 2)
        (chosen | other).invalidate_recordset()
        self.assertEqual(chosen.partner_id, staples)
        self.assertEqual(chosen.partner_source, "person")
        self.assertEqual(chosen.match_status, "manual")
        self.assertEqual(other.partner_id, shell_vendor)
        self.assertEqual(other.rule_id, rule)


@tagged("post_install", "-at_install")
class TestCorrectionsTeach(RulesDataMixin, TransactionCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.setup_rules_data()

    def setUp(self):
        super().setUp()
        self.set_mode("always")
        self.env.cr.precommit.data.pop("bus.bus.values", None)

    def set_mode(self, mode):
        self.env["ir.config_parameter"].set_param("ledgersync_connector.rule_learning", mode)

    def as_accountant(self, transactions):
        return transactions.with_user(self.accountant_a)

    def notifications(self):
        """The bus messages of this transaction sent to the accountant (sent at commit)."""
        found = []
        for value in self.env.cr.precommit.data.get("bus.bus.values", []):
            message = json.loads(value["message"])
            if message["type"] == "ledgersync_rule_lessons":
                found.append((json.loads(value["channel"]), message["payload"]))
        return found

    def rules_of(self, client):
        return self.env["ledgersync.rule"].search([("client_id", "=", client.id)])

    def test_correction_creates_a_client_rule_and_undo_removes_it(self):
        corrected = self.tx("POS STAPLES #1234 BOSTON")
        follower = self.tx("pos staples #98 boston")
        other_client = self.tx("POS STAPLES #1234 BOSTON", bank=self.bank_2)
        self.as_accountant(corrected).write({"partner_id": self.xerox.id})
        rule = self.rules_of(self.client_1)
        self.assertEqual(len(rule), 1)
        self.assertEqual(
            (rule.pattern, rule.match_kind, rule.partner_id, rule.account_id),
            ("pos staples #* boston", "exact", self.xerox, self.env["account.account"]),
        )
        self.assertEqual(rule.company_id, self.company_a)
        # The next matching transaction of the client follows: green, by the rule.
        self.assertEqual((follower.partner_id, follower.rule_id), (self.xerox, rule))
        self.assertEqual(follower.match_status, "rule")
        self.assertFalse(other_client.partner_id)
        self.assertFalse(self.rules_of(self.client_2))
        # The accountant is told, on his own channel, with the lesson to undo.
        ((channel, payload),) = self.notifications()
        self.assertEqual(channel[1:], ["res.partner", self.accountant_a.partner_id.id])
        self.assertIn("New rule for Rules Client 1", payload["message"])
        self.assertFalse(payload["ask"])
        lesson = self.env["ledgersync.rule.lesson"].browse(payload["lesson_ids"])
        self.assertEqual((lesson.rule_id, lesson.user_id), (rule, self.accountant_a))
        # Undo: the rule is gone, the follower is unmatched again, the correction stays.
        self.as_accountant(self.env["ledgersync.transaction"]).action_undo_rule_lessons(lesson.ids)
        self.assertFalse(rule.exists())
        self.assertFalse(follower.partner_id)
        self.assertEqual(follower.match_status, "unmatched")
        self.assertEqual(corrected.partner_id, self.xerox)
        self.assertEqual(corrected.match_status, "manual")

    def test_a_new_correction_updates_the_rule_and_undo_restores_it(self):
        first, second, third = self.tx("GYM 1"), self.tx("GYM 2"), self.tx("GYM 3")
        self.as_accountant(first).write({"partner_id": self.xerox.id})
        rule = self.rules_of(self.client_1)
        self.env.cr.precommit.data.pop("bus.bus.values", None)
        self.as_accountant(second).write({"partner_id": self.cab.id})
        self.assertEqual(self.rules_of(self.client_1), rule)
        self.assertEqual(rule.partner_id, self.cab)
        self.assertEqual(third.partner_id, self.cab)
        self.assertEqual(first.partner_id, self.xerox)  # a person's choice stays
        ((_channel, payload),) = self.notifications()
        self.assertIn("Rule updated", payload["message"])
        self.as_accountant(self.env["ledgersync.transaction"]).action_undo_rule_lessons(
            payload["lesson_ids"]
        )
        self.assertEqual(rule.partner_id, self.xerox)
        self.assertEqual(third.partner_id, self.xerox)
        # Another person cannot undo it.
        self.as_accountant(second).write({"partner_id": self.cab.id})
        lesson = self.env["ledgersync.rule.lesson"].search([], limit=1)
        with self.assertRaisesRegex(UserError, "Only the person"):
            self.env["ledgersync.transaction"].with_user(self.manager_a).action_undo_rule_lessons(
                lesson.ids
            )

    def test_bulk_edit_teaches_once_per_distinct_description(self):
        rows = self.tx("ACME 1") | self.tx("acme 22") | self.tx("GLOBEX 7") | self.tx("Globex 8")
        self.as_accountant(rows).write({"account_id": self.office.id})
        rules = self.rules_of(self.client_1)
        self.assertEqual(sorted(rules.mapped("pattern")), ["acme *", "globex *"])
        self.assertEqual(set(rules.mapped("account_id")), {self.office})
        self.assertFalse(rules.partner_id)
        ((_channel, payload),) = self.notifications()
        self.assertEqual(len(payload["lesson_ids"]), 2)
        self.assertEqual(set(rows.mapped("account_source")), {"person"})
        self.assertEqual(set(rows.mapped("account_set_uid")), {self.accountant_a})

    def test_ask_first_then_create_and_never(self):
        self.set_mode("ask")
        corrected, follower = self.tx("RENT 2026-11"), self.tx("RENT 2026-12")
        self.as_accountant(corrected).write({"partner_id": self.xerox.id})
        self.assertFalse(self.rules_of(self.client_1))
        ((_channel, payload),) = self.notifications()
        self.assertEqual(payload["ask"]["transaction_ids"], corrected.ids)
        self.assertEqual(payload["ask"]["fields"], ["partner_id"])
        lesson_ids = self.as_accountant(
            self.env["ledgersync.transaction"].browse(payload["ask"]["transaction_ids"])
        ).action_learn_rules(payload["ask"]["fields"])
        self.assertEqual(len(lesson_ids), 1)
        self.assertEqual(self.rules_of(self.client_1).pattern, "rent *-*")
        self.assertEqual(follower.partner_id, self.xerox)
        self.set_mode("never")
        self.as_accountant(self.tx("PARKING 1")).write({"partner_id": self.cab.id})
        self.assertEqual(len(self.rules_of(self.client_1)), 1)

    def test_old_lessons_are_vacuumed(self):
        self.as_accountant(self.tx("TAXI 1")).write({"partner_id": self.cab.id})
        lesson = self.env["ledgersync.rule.lesson"].search([])
        self.assertEqual(len(lesson), 1)
        self.env["ledgersync.rule.lesson"]._gc_old_lessons()
        self.assertTrue(lesson.exists())
        self.env.cr.execute(
            "UPDATE ledgersync_rule_lesson SET create_date = now() - interval '8 days' "
            "WHERE id = %s",
            lesson.ids,
        )
        lesson.invalidate_recordset()
        self.env["ledgersync.rule.lesson"]._gc_old_lessons()
        self.assertFalse(lesson.exists())
        self.assertTrue(self.rules_of(self.client_1), "the rule itself stays")

    def test_learning_setting_in_settings(self):
        settings = self.env["res.config.settings"].create({"ledgersync_rule_learning": "ask"})
        settings.execute()
        self.assertEqual(
            self.env["ir.config_parameter"].get_param("ledgersync_connector.rule_learning"), "ask"
        )


@tagged("post_install", "-at_install")
class TestTeachTour(ReviewDataMixin, HttpCase):
    """Corrections that teach in a real browser, as an accountant of company A."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.setup_review_data()
        cls.env["ir.config_parameter"].set_param("ledgersync_connector.rule_learning", "always")
        cls.vendor = cls.env["res.partner"].create({"name": "Tour Vendor"})

    def test_a_correction_becomes_a_rule_and_is_undone_in_the_browser(self):
        self.start_tour(
            "/odoo/action-ledgersync_connector.ledgersync_transaction_action",
            "ledgersync_teach_tour",
            login=self.accountant_a.login,
            timeout=120,
        )
        client = self.data_a["clients"][0]
        lines = self.data_a["transactions"].filtered(lambda t: t.client_id == client)
        self.assertEqual(lines.filtered("partner_id").partner_id, self.vendor)
        self.assertEqual(len(lines.filtered("partner_id")), 1)
        self.assertEqual(lines.filtered("partner_id").partner_set_uid, self.accountant_a)
        self.assertFalse(self.env["ledgersync.rule"].search([("client_id", "=", client.id)]))
