"""The accountant's review screens: views, menus, access rights and company isolation."""

from datetime import timedelta

from lxml import etree

from odoo import Command, fields
from odoo.exceptions import AccessError
from odoo.tests import HttpCase, TransactionCase, tagged
from odoo.tools.safe_eval import safe_eval

from .common import TwoCompaniesMixin

MODELS = (
    "ledgersync.transaction",
    "ledgersync.bank.account",
    "ledgersync.sync.run",
    "ledgersync.statement.export",
)


class ReviewDataMixin(TwoCompaniesMixin):
    """Two companies, each with a connection, two clients, two bank accounts, eight
    transactions (one of each match type per account) and two sync runs."""

    @classmethod
    def setup_review_data(cls):
        cls.usd = cls.env.ref("base.USD")
        cls.usd.active = True
        cls.setup_two_companies("Review Views")
        cls.today = fields.Date.context_today(cls.env["ledgersync.transaction"])

        cls.data_a = cls._make_company_data(cls.company_a, "a")
        cls.data_b = cls._make_company_data(cls.company_b, "b")

    @classmethod
    def _make_company_data(cls, company, key):
        connection = cls.env["ledgersync.connection"].create({"company_id": company.id})
        clients = cls.env["ledgersync.client"].create(
            [
                {
                    "name": f"Client {key}{index}",
                    "ledgersync_id": f"cli_{key}{index}",
                    "connection_id": connection.id,
                    "company_id": company.id,
                }
                for index in (1, 2)
            ]
        )
        accounts = cls.env["ledgersync.bank.account"].create(
            [
                {
                    "name": f"Checking {client.name}",
                    "ledgersync_id": f"acc_{client.ledgersync_id}",
                    "client_id": client.id,
                    "mask": "4321",
                    "institution": "First Bank",
                    "account_type": "checking",
                    "currency_id": cls.usd.id,
                    "connection_status": "ok",
                }
                for client in clients
            ]
        )
        # Per account: a rule match, an AI match, a semantic match and an unmatched line;
        # pending and posted; one old line outside the "last 30 days".
        rows = []
        for account in accounts:
            for index, (match_type, amount, days_ago, status) in enumerate(
                [
                    ("rule", -100.25, 1, "posted"),
                    ("ai", -20.50, 5, "posted"),
                    ("semantic", 300.00, 10, "pending"),
                    (False, -7.75, 120, "posted"),
                ]
            ):
                rows.append(
                    {
                        "bank_account_id": account.id,
                        "client_id": account.client_id.id,
                        "company_id": company.id,
                        "ledgersync_id": f"txn_{account.ledgersync_id}_{index}",
                        "date": cls.today - timedelta(days=days_ago),
                        "description": f"Line {index} of {account.name}",
                        "reference": f"REF{index}",
                        "amount": amount,
                        "currency_id": cls.usd.id,
                        "ledgersync_status": status,
                        "vendor_name": "Office Supplies Co" if match_type else False,
                        "gl_code": "6100" if match_type else False,
                        "match_type": match_type,
                    }
                )
        transactions = cls.env["ledgersync.transaction"].create(rows)
        runs = cls.env["ledgersync.sync.run"].create(
            [
                {"connection_id": connection.id, "trigger": "initial", "state": "done"},
                {"connection_id": connection.id, "trigger": "scheduled", "state": "failed"},
            ]
        )
        return {
            "connection": connection,
            "clients": clients,
            "accounts": accounts,
            "transactions": transactions,
            "runs": runs,
        }


@tagged("post_install", "-at_install")
class TestReviewViews(ReviewDataMixin, TransactionCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.setup_review_data()

    # ------------------------------------------------------------------ helpers

    def _search_view(self, model):
        view = self.env[model].get_views([(False, "search")])["views"]["search"]
        return etree.fromstring(view["arch"])

    def _filter_domain(self, model, filter_name):
        arch = self._search_view(model)
        nodes = arch.xpath(f"//filter[@name='{filter_name}']")
        self.assertEqual(len(nodes), 1, f"filter {filter_name} in the {model} search view")
        return safe_eval(nodes[0].get("domain"))

    # ------------------------------------------------------------------ views

    def test_views_render_for_admin_and_accountant(self):
        for user in (self.env.user, self.accountant_a):
            for model in MODELS:
                result = (
                    self.env[model]
                    .with_user(user)
                    .get_views([(False, "list"), (False, "form"), (False, "search")])
                )
                for view_type in ("list", "form", "search"):
                    arch = result["views"][view_type]["arch"]
                    self.assertTrue(arch.startswith(f"<{view_type}"), (user.login, model, arch))
            kanban = (
                self.env["ledgersync.transaction"]
                .with_user(user)
                .get_views([(False, "kanban")])["views"]["kanban"]["arch"]
            )
            self.assertTrue(kanban.startswith("<kanban"), (user.login, kanban))
        # Odoo's statement list, with LedgerSync's balance and difference.
        statements = self.env["account.bank.statement"].get_views([(False, "list")])
        self.assertIn("ledgersync_difference", statements["views"]["list"]["arch"])

    def test_transaction_list_shows_review_columns_and_colours(self):
        arch = etree.fromstring(
            self.env["ledgersync.transaction"].get_views([(False, "list")])["views"]["list"]["arch"]
        )
        columns = [node.get("name") for node in arch.xpath("/list/field")]
        for name in (
            "date",
            "client_id",
            "bank_account_id",
            "description",
            "reference",
            "amount",
            "ledgersync_status",
            "match_status",
            "review_state",
            "partner_id",
            "account_id",
        ):
            self.assertIn(name, columns)
        amount = arch.xpath("/list/field[@name='amount']")[0]
        self.assertEqual(amount.get("sum"), "Total")
        match = arch.xpath("/list/field[@name='match_status']")[0]
        self.assertEqual(match.get("decoration-success"), "match_status in ('rule', 'manual')")
        self.assertEqual(match.get("decoration-warning"), "match_status == 'suggested'")
        self.assertEqual(match.get("decoration-danger"), "match_status == 'unmatched'")
        # The administrator (accounting administrator) also gets the export buttons.
        self.assertEqual(
            arch.xpath("/list/header/button/@name"),
            [
                "action_mark_reviewed",
                "action_mark_to_review",
                "action_export_to_statement",
                "action_undo_export",
                "action_apply_rules",
                # Load Transactions, shown with or without a selection.
                str(self.env.ref("ledgersync_connector.ledgersync_load_transactions_action").id),
            ],
        )

    def test_transaction_list_fits_a_laptop_screen(self):
        arch = etree.fromstring(
            self.env["ledgersync.transaction"].get_views([(False, "list")])["views"]["list"]["arch"]
        )

        def column(name):
            return arch.xpath(f"/list/field[@name='{name}']")[0]

        shown = [
            node.get("name")
            for node in arch.xpath("/list/field")
            if node.get("optional") != "hide" and node.get("column_invisible") != "True"
        ]
        # The columns the review needs are there by default, the state before the vendor and
        # GL columns (it used to fall off the right edge).
        for name in (
            "date",
            "client_id",
            "bank_account_id",
            "description",
            "amount",
            "ledgersync_status",
            "match_status",
            "review_state",
        ):
            self.assertIn(name, shown)
        self.assertNotIn("reference", shown)
        # One more than the review needs: the LedgerSync hints that name no vendor or GL
        # account of the company, shown as text beside the empty fields.
        self.assertLessEqual(len(shown), 11)
        columns = [node.get("name") for node in arch.xpath("/list/field")]
        for name in ("vendor_name", "gl_code", "partner_id", "account_id", "unresolved_hints"):
            self.assertLess(columns.index("review_state"), columns.index(name))
        self.assertIn("unresolved_hints", shown)
        # The LedgerSync hints have distinct, short column labels.
        self.assertEqual(column("vendor_name").get("string"), "Suggested Vendor")
        self.assertEqual(column("gl_code").get("string"), "Suggested GL")

    def test_transaction_kanban_for_small_screens(self):
        action = self.env.ref("ledgersync_connector.ledgersync_transaction_action")
        self.assertEqual(action.view_mode, "list,kanban,form")
        # Odoo opens the action's mobile_view_mode (kanban by default) on small screens.
        self.assertEqual(action.mobile_view_mode, "kanban")
        arch = etree.fromstring(
            self.env["ledgersync.transaction"]
            .with_user(self.accountant_a)
            .get_views([(False, "kanban")])["views"]["kanban"]["arch"]
        )
        card = arch.xpath("//templates/t[@t-name='card']")[0]
        names = set(card.xpath(".//field/@name"))
        for name in (
            "date",
            "description",
            "amount",
            "bank_account_id",
            "match_status",
            "review_state",
        ):
            self.assertIn(name, names)
        self.assertIn("currency_id", arch.xpath("//field/@name"))
        match = card.xpath(".//field[@name='match_status']")[0]
        self.assertEqual(match.get("decoration-success"), "match_status in ('rule', 'manual')")
        self.assertEqual(match.get("decoration-danger"), "match_status == 'unmatched'")
        self.assertEqual(
            arch.xpath("/kanban/header/button/@name"),
            ["action_mark_reviewed", "action_mark_to_review"],
        )

    def test_bank_account_list_shows_errors_and_currency_code(self):
        arch = etree.fromstring(
            self.env["ledgersync.bank.account"].get_views([(False, "list")])["views"]["list"][
                "arch"
            ]
        )
        error = arch.xpath("/list/field[@name='last_sync_error']")[0]
        self.assertNotEqual(error.get("optional"), "hide")
        self.assertEqual(error.get("decoration-danger"), "last_sync_error")
        currency = arch.xpath("/list/field[@name='currency_code']")[0]
        self.assertEqual(currency.get("string"), "Currency")
        self.assertNotEqual(currency.get("optional"), "hide")

    def test_sync_history_list_is_compact(self):
        arch = etree.fromstring(
            self.env["ledgersync.sync.run"].get_views([(False, "list")])["views"]["list"]["arch"]
        )
        accounts = arch.xpath("/list/field[@name='accounts_done']")[0]
        self.assertEqual(accounts.get("string"), "Accounts")
        self.assertEqual(accounts.get("widget"), "progressbar")
        self.assertEqual(
            safe_eval(accounts.get("options")),
            {"current_value": "accounts_done", "max_value": "accounts_total"},
        )
        self.assertEqual(
            arch.xpath("/list/field[@name='accounts_total']/@column_invisible"), ["True"]
        )
        # No bare "of" column, no progress bar under an empty header.
        self.assertNotIn("of", arch.xpath("/list/field/@string"))
        self.assertNotIn("progress", arch.xpath("/list/field/@name"))

    def test_technical_sync_fields_need_developer_mode(self):
        technical = {
            "ledgersync.bank.account": (
                "sync_cursor",
                "history_loaded_until",
                "sync_lease_until",
                "sync_worker_pid",
                "last_sync_run_id",
            ),
            "ledgersync.sync.run": ("heartbeat_at", "pages", "worker_pid", "phase"),
        }
        visible = {
            "ledgersync.bank.account": ("last_synced_at", "last_sync_error"),
            "ledgersync.sync.run": ("started_at", "duration", "accounts_done"),
        }
        self.assertFalse(self.accountant_a.has_group("base.group_no_one"))

        def hidden_and_shown(model, user):
            # Odoo keeps groups="base.group_no_one" nodes and makes them invisible outside
            # of the developer mode.
            form = etree.fromstring(
                self.env[model]
                .with_user(user)
                .get_views([(False, "form")])["views"]["form"]["arch"]
            )
            hidden = set(form.xpath("//field[@invisible='1']/@name"))
            shown = set(form.xpath("//field[not(@invisible='1')]/@name"))
            return hidden, shown

        for model, names in technical.items():
            hidden, shown = hidden_and_shown(model, self.accountant_a)
            for name in names:
                self.assertIn(name, hidden, (model, name))
                self.assertNotIn(name, shown, (model, name))
            for name in visible[model]:
                self.assertIn(name, shown, (model, name))
        # They show in developer mode: Odoo grants base.group_no_one only to a request in
        # debug mode (res.users.has_group), which a TransactionCase has not.

    def test_match_status_badge_values(self):
        transactions = self.data_a["transactions"]
        # LedgerSync's own claim (match_type "rule", "ai" ...) makes nothing green: these
        # lines have neither a vendor nor a GL account ("What was seen" in issue 9).
        self.assertEqual(set(transactions.mapped("match_type")), {"rule", "ai", "semantic", False})
        self.assertEqual(set(transactions.mapped("match_status")), {"unmatched"})
        partner = self.env["res.partner"].create({"name": "Badge Vendor"})
        transactions[0].partner_id = partner
        self.assertEqual(transactions[0].match_status, "manual")
        transactions[1].sudo().write({"partner_id": partner.id, "partner_source": "hint"})
        self.assertEqual(transactions[1].match_status, "suggested")

    def test_search_panel_client_then_bank_account(self):
        arch = self._search_view("ledgersync.transaction")
        panel = arch.xpath("//searchpanel/field")
        self.assertEqual(
            [node.get("name") for node in panel], ["client_id", "bank_account_id", "match_status"]
        )
        self.assertEqual(panel[1].get("select"), "multi")
        # Bank accounts depend on the client chosen above them.
        Transaction = self.env["ledgersync.transaction"].with_user(self.accountant_a)
        client = self.data_a["clients"][0]
        comodel_domain = safe_eval(panel[1].get("domain"), {"client_id": client.id})
        values = Transaction.search_panel_select_multi_range(
            "bank_account_id",
            comodel_domain=comodel_domain,
            category_domain=[("client_id", "=", client.id)],
            enable_counters=True,
        )["values"]
        self.assertEqual(
            {value["id"]: value["__count"] for value in values},
            {self.data_a["accounts"].filtered(lambda a: a.client_id == client).id: 4},
        )
        clients = Transaction.search_panel_select_range("client_id", expand=True)["values"]
        self.assertEqual({value["id"] for value in clients}, set(self.data_a["clients"].ids))
        # No client chosen: no bank account to list, and no line counted to list none.
        nothing = safe_eval(panel[1].get("domain"), {"client_id": False})
        with self.assertQueryCount(1):  # the bank-account search that finds none
            values = Transaction.search_panel_select_multi_range(
                "bank_account_id", comodel_domain=nothing, enable_counters=True
            )
        self.assertEqual(values, {"values": []})

    def test_actions_and_menus(self):
        action = self.env.ref("ledgersync_connector.ledgersync_transaction_action")
        self.assertEqual(safe_eval(action.context), {"search_default_to_review": 1})
        for xmlid in ("ledgersync_bank_account_action", "ledgersync_sync_run_action"):
            self.assertTrue(self.env.ref(f"ledgersync_connector.{xmlid}"))
        root = self.env.ref("ledgersync_connector.menu_ledgersync_root")
        accounting = self.env.ref("ledgersync_connector.menu_account_ledgersync")
        review = [
            "Transactions",
            "Unmatched",
            "Load Transactions",
            "Bank Accounts",
            "Clients",
            "Rules",
            "Sync History",
        ]
        for parent, expected in ((root, [*review, "Exports"]), (accounting, review)):
            children = self.env["ir.ui.menu"].search([("parent_id", "=", parent.id)])
            names = children.filtered(lambda m: m.sequence < 100).sorted("sequence")
            self.assertEqual(names.mapped("name"), expected)
        # The accountant sees the review menus, not the configuration.
        visible = self.env["ir.ui.menu"].with_user(self.accountant_a)._visible_menu_ids()
        self.assertIn(self.env.ref("ledgersync_connector.menu_ledgersync_transactions").id, visible)
        self.assertIn(
            self.env.ref("ledgersync_connector.menu_account_ledgersync_sync_runs").id, visible
        )
        self.assertNotIn(
            self.env.ref("ledgersync_connector.menu_ledgersync_configuration").id, visible
        )

    def test_sync_history_is_read_only_in_the_ui(self):
        arch = etree.fromstring(
            self.env["ledgersync.sync.run"].get_views([(False, "list")])["views"]["list"]["arch"]
        )
        self.assertEqual((arch.get("create"), arch.get("edit"), arch.get("delete")), ("false",) * 3)

    # ------------------------------------------------------------------ access and companies

    def test_accountant_sees_own_company_only(self):
        env = self.env(user=self.accountant_a)
        self.assertEqual(
            env["ledgersync.transaction"].search([]).ids,
            self.data_a["transactions"].sorted(lambda t: (t.date, t.id), reverse=True).ids,
        )
        self.assertEqual(
            set(env["ledgersync.bank.account"].search([]).ids), set(self.data_a["accounts"].ids)
        )
        self.assertEqual(
            set(env["ledgersync.sync.run"].search([]).ids), set(self.data_a["runs"].ids)
        )
        for key in ("transactions", "accounts", "runs"):
            with self.assertRaises(AccessError):
                self.data_b[key][0].with_user(self.accountant_a).read(["company_id"])
        # Many2one values of connection (which the accountant cannot read) still display.
        self.data_a["runs"].with_user(self.accountant_a).read(["connection_id", "state"])
        with self.assertRaises(AccessError):
            self.data_a["connection"].with_user(self.accountant_a).read(["state"])

    def test_accountant_reviews_but_cannot_create_or_delete(self):
        transaction = self.data_a["transactions"][0].with_user(self.accountant_a)
        partner = self.env["res.partner"].create({"name": "Office Supplies Co"})
        account = self.env["account.account"].create(
            {
                "name": "Office Supplies",
                "code": "610099",
                "account_type": "expense",
                "company_ids": [Command.set(self.company_a.ids)],
            }
        )
        transaction.write({"partner_id": partner.id, "account_id": account.id})
        transaction.action_mark_reviewed()
        self.assertEqual(transaction.review_state, "reviewed")
        transaction.action_mark_to_review()
        self.assertEqual(transaction.review_state, "to_review")
        transaction.write({"review_state": "reviewed"})
        self.assertEqual(
            (transaction.partner_id, transaction.account_id, transaction.review_state),
            (partner, account, "reviewed"),
        )
        # LedgerSync's own data cannot be changed through RPC, only the review fields.
        for tampering in ({"amount": 999}, {"description": "tampered"}, {"active": False}):
            with self.subTest(tampering=tampering), self.assertRaises(AccessError):
                transaction.write(tampering)
        # List header buttons act on all the selected rows.
        selected = self.data_a["transactions"][1:4].with_user(self.accountant_a)
        selected.action_mark_reviewed()
        self.assertEqual(set(selected.mapped("review_state")), {"reviewed"})

        values = dict(transaction.copy_data()[0], ledgersync_id="txn_created_by_accountant")
        with self.assertRaises(AccessError):
            self.env["ledgersync.transaction"].with_user(self.accountant_a).create(values)
        with self.assertRaises(AccessError):
            transaction.unlink()
        with self.assertRaises(AccessError):
            self.data_b["transactions"][0].with_user(self.accountant_a).write(
                {"review_state": "reviewed"}
            )

    def test_bank_account_journal_is_set_by_accounting_managers(self):
        account = self.data_a["accounts"][0]
        journal = self.env["account.journal"].create(
            {
                "name": "LedgerSync Test Bank",
                "code": "LSTB",
                "type": "bank",
                "company_id": self.company_a.id,
            }
        )
        with self.assertRaises(AccessError):
            account.with_user(self.accountant_a).write({"journal_id": journal.id})
        account.with_user(self.manager_a).write({"journal_id": journal.id})
        self.assertEqual(account.journal_id, journal)
        with self.assertRaises(AccessError):
            account.with_user(self.manager_a).unlink()
        self.assertEqual(account.with_user(self.accountant_a).transaction_count, 4)

    def test_sums_by_client(self):
        Transaction = self.env["ledgersync.transaction"].with_user(self.accountant_a)
        groups = Transaction.formatted_read_group([], ["client_id"], ["amount:sum", "__count"])
        by_client = {group["client_id"][0]: group for group in groups}
        self.assertEqual(set(by_client), set(self.data_a["clients"].ids))
        for client in self.data_a["clients"]:
            self.assertAlmostEqual(by_client[client.id]["amount:sum"], -100.25 - 20.50 + 300 - 7.75)
            self.assertEqual(by_client[client.id]["__count"], 4)
        # Group by month as the "Date" group-by filter does (its facet reads "Date: Month").
        months = Transaction.formatted_read_group([], ["date:month"], ["amount:sum"])
        self.assertAlmostEqual(sum(group["amount:sum"] for group in months), 2 * 171.5)

    def test_search_filters(self):
        Transaction = self.env["ledgersync.transaction"].with_user(self.accountant_a)
        transactions_a = self.data_a["transactions"]

        def found(filter_name):
            domain = self._filter_domain("ledgersync.transaction", filter_name)
            return Transaction.with_context(active_test=False).search(domain).sudo()

        partner = self.env["res.partner"].create({"name": "Filter Vendor"})
        transactions_a[0].partner_id = partner
        transactions_a[1].sudo().write({"partner_id": partner.id, "partner_source": "hint"})
        self.assertEqual(found("unmatched"), transactions_a[2:])
        self.assertEqual(found("suggested"), transactions_a[1])
        self.assertEqual(found("matched"), transactions_a[0])
        self.assertEqual(
            found("pending"), transactions_a.filtered(lambda t: t.ledgersync_status == "pending")
        )
        self.assertEqual(
            found("posted"), transactions_a.filtered(lambda t: t.ledgersync_status == "posted")
        )
        self.assertEqual(found("to_review"), transactions_a)
        self.assertFalse(found("reviewed"))
        self.assertEqual(
            found("last_30_days"),
            transactions_a.filtered(lambda t: t.date >= self.today - timedelta(days=29)),
        )
        self.assertEqual(len(found("last_30_days")), 6)
        self.assertEqual(len(found("last_90_days")), 6)
        self.assertEqual(len(found("last_7_days")), 4)

        transactions_a[0].action_mark_reviewed()
        self.assertEqual(found("reviewed"), transactions_a[0])
        transactions_a[0].sudo().review_state = "exported"
        self.assertEqual(found("exported"), transactions_a[0])

        transactions_a[1].sudo().active = False
        self.assertEqual(found("inactive"), transactions_a[1])
        self.assertNotIn(transactions_a[1], Transaction.search([]))

        bank_domain = self._filter_domain("ledgersync.bank.account", "broken")
        self.data_a["accounts"][0].connection_status = "broken"
        self.assertEqual(
            self.env["ledgersync.bank.account"].with_user(self.accountant_a).search(bank_domain),
            self.data_a["accounts"][0],
        )
        run_domain = self._filter_domain("ledgersync.sync.run", "failed")
        self.assertEqual(
            self.env["ledgersync.sync.run"].with_user(self.accountant_a).search(run_domain),
            self.data_a["runs"].filtered(lambda r: r.state == "failed"),
        )

    def test_group_by_filters_are_valid(self):
        arch = self._search_view("ledgersync.transaction")
        Transaction = self.env["ledgersync.transaction"].with_user(self.accountant_a)
        group_bys = [
            safe_eval(node.get("context"))["group_by"] for node in arch.xpath("//filter[@context]")
        ]
        self.assertIn("date:month", group_bys)
        month = arch.xpath("//filter[@name='group_month']")[0]
        self.assertEqual(month.get("string"), "Date")
        for group_by in group_bys:
            self.assertTrue(Transaction.formatted_read_group([], [group_by], ["amount:sum"]))


@tagged("post_install", "-at_install")
class TestReviewTour(ReviewDataMixin, HttpCase):
    """The review list in a real browser, as an accountant of company A."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.setup_review_data()

    def test_accountant_reviews_one_client_in_the_browser(self):
        self.start_tour(
            "/odoo/action-ledgersync_connector.ledgersync_transaction_action",
            "ledgersync_review_tour",
            login=self.accountant_a.login,
            timeout=120,
        )
        client = self.data_a["clients"][0]
        transactions = self.data_a["transactions"]
        reviewed = transactions.filtered(lambda t: t.review_state == "reviewed")
        self.assertEqual(reviewed, transactions.filtered(lambda t: t.client_id == client))
        self.assertEqual(set(self.data_b["transactions"].mapped("review_state")), {"to_review"})
