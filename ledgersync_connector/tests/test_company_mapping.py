from odoo import Command
from odoo.exceptions import AccessError, UserError
from odoo.tests import tagged

from odoo.addons.bus.models.bus import channel_with_db, json_dump

from ..models.ledgersync_connection import LIVE_SUBCHANNEL
from .common import OTHER_EMAIL, PASSWORD, SyncCase, company_user


class ThreeCompaniesMixin:
    """The firm's company (the connection's) and two client companies A and B, allowed to
    the test's user; the firm administrator may use all three, the accountants and the
    accounting manager one client company each."""

    @classmethod
    def setup_three_companies(cls, prefix):
        cls.firm = cls.env.company
        cls.company_a = cls.env["res.company"].create({"name": f"{prefix} Client A Books"})
        cls.company_b = cls.env["res.company"].create({"name": f"{prefix} Client B Books"})
        companies = cls.firm | cls.company_a | cls.company_b
        cls.env.user.company_ids = [Command.link(company.id) for company in companies]
        login = prefix.lower().replace(" ", "_")
        cls.firm_admin = company_user(cls.env, cls.firm, f"{login}_firm_admin", "base.group_system")
        cls.firm_admin.company_ids = [Command.set(companies.ids)]
        cls.accountant_a = company_user(
            cls.env, cls.company_a, f"{login}_accountant_a", "account.group_account_invoice"
        )
        cls.accountant_b = company_user(
            cls.env, cls.company_b, f"{login}_accountant_b", "account.group_account_invoice"
        )
        cls.manager_b = company_user(
            cls.env, cls.company_b, f"{login}_manager_b", "account.group_account_manager"
        )


@tagged("post_install", "-at_install")
class TestCompanyMapping(ThreeCompaniesMixin, SyncCase):
    """Each client's books live in the Odoo company that keeps them."""

    sandbox_config = {"clients": 3, "accounts_per_client": 2, "transactions_per_account": 10}

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.setup_three_companies("Mapping")

    def setUp(self):
        super().setUp()
        self.sync("initial")
        self.client_a, self.client_b, self.client_firm = self.connection_record.client_ids

    def map(self, client, company, user=None):
        client.with_user(user or self.firm_admin).write({"company_id": company.id})

    def rows_of(self, client):
        accounts = self.BankAccount.with_context(active_test=False).search(
            [("client_id", "=", client.id)]
        )
        return accounts, self.Transaction.search([("client_id", "=", client.id)])

    def test_mapping_moves_the_clients_rows_and_record_rules_follow(self):
        self.map(self.client_a, self.company_a)
        self.map(self.client_b, self.company_b)
        for client, company in (
            (self.client_a, self.company_a),
            (self.client_b, self.company_b),
            (self.client_firm, self.firm),
        ):
            accounts, transactions = self.rows_of(client)
            self.assertEqual(len(accounts), 2)
            self.assertEqual(len(transactions), 20)
            self.assertEqual(client.company_id, company)
            self.assertEqual(accounts.company_id, company)
            self.assertEqual(transactions.company_id, company)
        # The accountant of B sees B's client, accounts and transactions only.
        as_b = self.env(user=self.accountant_b)
        self.assertEqual(as_b["ledgersync.client"].search([]).ids, self.client_b.ids)
        b_accounts, b_transactions = self.rows_of(self.client_b)
        self.assertEqual(as_b["ledgersync.bank.account"].search([]).ids, b_accounts.ids)
        self.assertEqual(
            sorted(as_b["ledgersync.transaction"].search([]).ids), sorted(b_transactions.ids)
        )
        for record in (self.client_a, self.client_firm, *self.rows_of(self.client_a)):
            with self.subTest(record=record._name), self.assertRaises(AccessError):
                record.with_user(self.accountant_b).read(["company_id"])
        # The accountant of A, the same for A; nobody but the firm's sees the connection
        # and its runs.
        as_a = self.env(user=self.accountant_a)
        self.assertEqual(as_a["ledgersync.client"].search([]).ids, self.client_a.ids)
        self.assertEqual(as_a["ledgersync.transaction"].search_count([]), 20)
        for user in (self.accountant_a, self.accountant_b):
            with self.subTest(user=user.login):
                self.assertFalse(self.env(user=user)["ledgersync.sync.run"].search([]))
        # The firm administrator keeps the connection, and sees every client in its company.
        admin = self.connection_record.with_user(self.firm_admin)
        self.assertEqual(admin.client_ids, self.connection_record.client_ids)
        self.assertEqual(admin.company_id, self.firm)
        # The accountant of B reviews B's transactions.
        b_transactions[0].with_user(self.accountant_b).action_mark_reviewed()
        self.assertEqual(b_transactions[0].review_state, "reviewed")

    def test_the_sync_writes_a_mapped_clients_rows_in_its_company(self):
        self.map(self.client_b, self.company_b)
        account = self.rows_of(self.client_b)[0][0]
        new = self.sandbox.app.add_transaction(account.ledgersync_id, amount="-12.50")
        run = self.sync()
        self.assertEqual(run.state, "done", run.error_message)
        self.assertEqual(run.company_id, self.firm)  # the run stays the firm's
        row = self.Transaction.search([("ledgersync_id", "=", new["id"])])
        self.assertEqual(row.company_id, self.company_b)
        self.assertEqual(row.with_user(self.accountant_b).amount, -12.5)
        self.assertEqual(len(self.rows_of(self.client_b)[1]), 21)

    def test_new_clients_go_to_the_firms_default_company(self):
        self.connection_record.with_user(self.firm_admin).client_company_id = self.company_a
        added = self.sandbox.app.add_client(name="New In LedgerSync", bank_accounts=1)
        run = self.sync()
        self.assertEqual(run.state, "done", run.error_message)
        new_client = self.Client.search([("ledgersync_id", "=", added["id"])])
        self.assertEqual(new_client.company_id, self.company_a)
        accounts, transactions = self.rows_of(new_client)
        self.assertEqual(len(accounts), 1)
        self.assertEqual(len(transactions), 10)
        self.assertEqual(accounts.company_id | transactions.company_id, self.company_a)
        # The clients mapped before keep their company.
        self.assertEqual(self.client_b.company_id, self.firm)
        self.assertIn(new_client, self.env(user=self.accountant_a)["ledgersync.client"].search([]))

    def test_default_company_is_validated(self):
        connection = self.connection_record.with_user(self.firm_admin)
        other_firm = self.env["ledgersync.connection"].create({"company_id": self.company_b.id})
        with self.assertRaisesRegex(UserError, "connection of its own"):
            connection.client_company_id = self.company_b
        with self.assertRaisesRegex(UserError, "connection of its own"):
            self.map(self.client_a, self.company_b)
        other_firm.unlink()
        stranger = self.env["res.company"].create({"name": "Mapping Stranger"})
        with self.assertRaisesRegex(UserError, "do not have access"):
            connection.client_company_id = stranger
        with self.assertRaisesRegex(UserError, "do not have access"):
            self.map(self.client_a, stranger)
        with self.assertRaisesRegex(UserError, "choose one"):
            self.client_a.with_user(self.firm_admin).company_id = False
        self.assertEqual(self.client_a.company_id, self.firm)

    def test_only_the_firm_administrator_maps_clients(self):
        self.map(self.client_b, self.company_b)
        partner = self.env["res.partner"].create({"name": "Client B", "company_id": False})
        for user in (self.accountant_b, self.manager_b):
            for values in ({"company_id": self.company_a.id}, {"partner_id": partner.id}):
                with self.subTest(user=user.login, values=values), self.assertRaises(AccessError):
                    self.client_b.with_user(user).write(values)
        self.client_b.with_user(self.firm_admin).partner_id = partner
        self.assertEqual(self.client_b.partner_id, partner)
        # The bank accounts' guard is unchanged: LedgerSync's data is the sync's.
        account = self.rows_of(self.client_b)[0][0]
        with self.assertRaisesRegex(AccessError, "journal"):
            account.with_user(self.manager_b).write({"client_id": self.client_a.id})

    def test_moving_leaves_behind_what_cannot_follow(self):
        accounts, transactions = self.rows_of(self.client_a)
        journal = self.env["account.journal"].create(
            {"name": "Mapping Bank", "code": "MAPB", "type": "bank", "company_id": self.firm.id}
        )
        accounts[0].journal_id = journal
        firm_vendor = self.env["res.partner"].create(
            {"name": "Firm-only vendor", "company_id": self.firm.id}
        )
        shared_vendor = self.env["res.partner"].create({"name": "Shared vendor"})
        firm_account = self.env["account.account"].search(
            [("company_ids", "=", self.firm.id), ("account_type", "=", "expense")], limit=1
        )
        reviewed = {"review_state": "reviewed"}
        transactions[0].write(
            {"partner_id": firm_vendor.id, "account_id": firm_account.id, **reviewed}
        )
        transactions[1].write({"partner_id": shared_vendor.id, "review_state": "reviewed"})
        self.client_a.partner_id = firm_vendor
        export = self.env["ledgersync.export"].create(
            {
                "name": "a.csv",
                "kind": "accounting_cs",
                "client_id": self.client_a.id,
                "bank_account_id": accounts[0].id,
                "date_from": "2026-01-01",
                "date_to": "2026-01-31",
                "company_id": self.firm.id,
            }
        )
        self.map(self.client_a, self.company_a)
        self.assertFalse(accounts[0].journal_id)
        self.assertFalse(self.client_a.partner_id)
        self.assertFalse(transactions[0].partner_id or transactions[0].account_id)
        self.assertEqual(transactions[0].review_state, "to_review")
        self.assertEqual(transactions[1].partner_id, shared_vendor)
        self.assertEqual(transactions[1].review_state, "reviewed")
        self.assertEqual(transactions.company_id, self.company_a)
        self.assertEqual(export.company_id, self.company_a)
        self.assertIn(export, self.env(user=self.accountant_a)["ledgersync.export"].search([]))

    def test_moving_is_refused_with_exported_lines_or_during_a_sync(self):
        accounts, transactions = self.rows_of(self.client_a)
        transactions[0].sudo().review_state = "exported"
        with self.assertRaisesRegex(UserError, "Undo"):
            self.map(self.client_a, self.company_a)
        transactions[0].sudo().review_state = "reviewed"
        # A worker holding one of its accounts (this session: alive) is writing its rows.
        self.env.cr.execute(
            """UPDATE ledgersync_bank_account
                  SET sync_lease_until = (now() at time zone 'UTC') + interval '5 minutes',
                      sync_worker_pid = pg_backend_pid()
                WHERE id = %s""",
            [accounts[1].id],
        )
        with self.assertRaisesRegex(UserError, "being synced"):
            self.map(self.client_a, self.company_a)
        self.assertEqual(self.rows_of(self.client_a)[1].company_id, self.firm)

    def test_the_firm_keeps_all_its_clients(self):
        self.map(self.client_a, self.company_a)
        self.map(self.client_b, self.company_b)
        # The firm administrator, working in the firm's company only.
        connection = self.connection_record.with_user(self.firm_admin).with_context(
            allowed_company_ids=self.firm.ids
        )
        self.assertEqual(connection.client_count, 3)
        # Credentials of another LedgerSync firm archive every client of the first one.
        switched = connection.action_connect(OTHER_EMAIL, PASSWORD, self.sandbox.base_url)
        self.assertNotEqual(switched, self.connection_record)
        self.assertFalse((self.client_a | self.client_b | self.client_firm).filtered("active"))

    def test_the_default_is_set_in_settings(self):
        settings = self.env["res.config.settings"].with_user(self.firm_admin).create({})
        self.assertFalse(settings.ledgersync_client_company_id)
        settings.ledgersync_client_company_id = self.company_b
        settings.execute()
        self.assertEqual(self.connection_record.client_company_id, self.company_b)
        settings = self.env["res.config.settings"].with_user(self.firm_admin).create({})
        self.assertEqual(settings.ledgersync_client_company_id, self.company_b)
        self.env["ledgersync.connection"].create({"company_id": self.company_a.id})
        settings.ledgersync_client_company_id = self.company_a
        with self.assertRaisesRegex(UserError, "connection of its own"):
            settings.execute()

    def test_the_books_companies_hear_the_news_and_see_why_lists_are_empty(self):
        self.map(self.client_b, self.company_b)
        self.env.cr.flush()
        last = self.env["bus.bus"].sudo()._bus_last_id()
        self.connection_record._notify_live()
        self.env.cr.flush()  # the bus's precommit hook writes the messages
        channels = set(self.env["bus.bus"].sudo().search([("id", ">", last)]).mapped("channel"))
        for company in (self.firm, self.company_b):
            channel = json_dump(channel_with_db(self.env.cr.dbname, (company, LIVE_SUBCHANNEL)))
            self.assertIn(channel, channels)
        channel_a = json_dump(
            channel_with_db(self.env.cr.dbname, (self.company_a, LIVE_SUBCHANNEL))
        )
        self.assertNotIn(channel_a, channels)  # it keeps no client's books
        # A client of B without a bank account in LedgerSync: B's accountant is told so,
        # not that LedgerSync is not connected (B has no connection of its own).
        self.connection_record.client_company_id = self.company_b
        self.sandbox.app.add_client(name="No Accounts Yet", bank_accounts=0)
        self.map(self.client_b, self.firm)
        self.assertEqual(self.sync().state, "done")
        help_b = self.env["ledgersync.bank.account"].with_user(self.accountant_b)
        self.assertIn("No bank account is connected", str(help_b.get_empty_list_help("")))
