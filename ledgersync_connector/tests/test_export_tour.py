"""The bookkeeper's export in one browser tour (issue 8): narrow the review list to one
client's bank account, its reviewed lines of last month, export them to a bank statement
and see its balances; then export the same range to Accounting CS and download the file."""

import csv
import io
from datetime import date, timedelta
from unittest.mock import patch

from odoo import http
from odoo.tests import HttpCase, tagged

from ..exports.accounting_cs import COLUMNS, file_name
from .common import SandboxMixin, company_user

SUPPLIES = "EXPORT TOUR SUPPLIES #{}"


def last_month(today):
    """The first and last days of the month before ``today``'s (the tour's range: what
    the search's Date filter offers as a month, and the Accounting CS wizard's default)."""
    end = today.replace(day=1) - timedelta(days=1)
    return end.replace(day=1), end


@tagged("post_install", "-at_install")
class TestExportTour(SandboxMixin, HttpCase):
    # One client with a USD account (mapped to a bank journal) and a EUR one (not mapped).
    sandbox_config = {
        "clients": 1,
        "accounts_per_client": 2,
        "transactions_per_account": 30,
        "history_days": 120,
    }

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.start_sandbox()
        company = cls.env.company
        if not company.chart_template:
            cls.env["account.chart.template"].try_loading(
                "generic_coa", company=company, install_demo=False
            )
        cls.bookkeeper = company_user(
            cls.env, company, "export_tour_bookkeeper", "account.group_account_basic"
        )
        cls.bank_journal = cls.env["account.journal"].create(
            {"name": "Export Tour Bank", "type": "bank", "code": "XTB", "company_id": company.id}
        )
        cls.expense_account = cls.env["account.account"].search(
            [
                *cls.env["account.account"]._check_company_domain(company),
                ("account_type", "=", "expense"),
            ],
            limit=1,
        )
        cls.vendor = cls.env["res.partner"].create({"name": "Tour Office Supplies"})

    def setUp(self):
        super().setUp()
        self.date_from, self.date_to = last_month(date.today())
        connection = self.synced_connection()
        client = connection.client_ids
        self.assertEqual(len(client), 1)
        accounts = self.env["ledgersync.bank.account"].search([("client_id", "=", client.id)])
        self.account = accounts.filtered(lambda a: a.currency_code == "USD")
        euro_account = accounts - self.account
        self.assertEqual(len(self.account), 1)
        self.assertEqual(len(euro_account), 1)
        self.account.journal_id = self.bank_journal
        self.client = client
        # Known lines of the range; one reviewed line of the month before and one of the
        # (unmapped) euro account in the range, which the tour's narrowing must leave out.
        mutations = self.sandbox.app.mutations
        for day, number in ((1, 1), (10, 2), (20, 3)):
            mutations.add_transaction(
                self.account.ledgersync_id,
                date=self.date_from.replace(day=day).isoformat(),
                description=SUPPLIES.format(number),
                amount=f"-{day}.25",
            )
        mutations.add_transaction(
            self.account.ledgersync_id,
            date=(self.date_from - timedelta(days=5)).isoformat(),
            description="EXPORT TOUR EARLIER MONTH",
            amount="-7.00",
        )
        mutations.add_transaction(
            euro_account.ledgersync_id,
            date=self.date_from.replace(day=15).isoformat(),
            description="EXPORT TOUR EURO",
            amount="-9.00",
        )
        run, _out_of_time = connection._sync("scheduled")
        self.assertEqual(run.state, "done", run.error_message)
        # Names the tour can look for (after the sync, which brings LedgerSync's).
        client.name = "Export Tour Client"
        self.account.sudo().name = "Export Tour Checking"
        euro_account.sudo().name = "Export Tour Euro"

        Transaction = self.env["ledgersync.transaction"]
        posted_in_range = Transaction.search(
            [
                ("bank_account_id", "=", self.account.id),
                ("date", ">=", self.date_from),
                ("date", "<=", self.date_to),
                ("ledgersync_status", "=", "posted"),
            ]
        )
        self.assertGreaterEqual(len(posted_in_range), 3)
        outside = Transaction.search(
            [("description", "in", ("EXPORT TOUR EARLIER MONTH", "EXPORT TOUR EURO"))]
        )
        self.assertEqual(len(outside), 2)
        (posted_in_range | outside).write(
            {"partner_id": self.vendor.id, "account_id": self.expense_account.id}
        )
        (posted_in_range | outside).action_mark_reviewed()
        self.in_range = posted_in_range
        self.outside = outside
        self.to_review = Transaction.search([("review_state", "=", "to_review")])
        self.assertTrue(self.to_review)

    def test_a_bookkeeper_exports_a_reviewed_range_and_downloads_the_csv(self):
        # What the server answers to the browser's file requests (a headless browser
        # refuses downloads, so the tour cannot open the file itself).
        served = []
        get_response = http.Stream.get_response

        def recording_get_response(stream, *args, **kwargs):
            response = get_response(stream, *args, **kwargs)
            if http.request and http.request.httprequest.path.startswith("/web/content/"):
                served.append(
                    (
                        http.request.httprequest.path,
                        http.request.httprequest.args.get("download"),
                        response.status_code,
                        response.headers.get("Content-Disposition", ""),
                    )
                )
            return response

        with patch.object(http.Stream, "get_response", recording_get_response):
            self.start_tour(
                "/odoo", "ledgersync_export_tour", login=self.bookkeeper.login, timeout=180
            )
        self.env.invalidate_all()

        # The statement export: exactly the reviewed lines of the range, one line each,
        # in one statement of the journal whose balances are LedgerSync's.
        self.assertEqual(set(self.in_range.mapped("review_state")), {"exported"})
        self.assertEqual(set(self.outside.mapped("review_state")), {"reviewed"})
        self.assertFalse(self.outside.statement_line_id)
        self.assertEqual(set(self.to_review.mapped("review_state")), {"to_review"})
        lines = self.in_range.statement_line_id
        self.assertEqual(len(lines), len(self.in_range))
        self.assertEqual(
            self.env["account.bank.statement.line"].search_count(
                [("ledgersync_transaction_id", "in", self.in_range.ids)]
            ),
            len(self.in_range),
        )
        export = self.in_range.statement_export_id
        self.assertEqual(len(export), 1)
        self.assertEqual(export.state, "done")
        self.assertEqual(export.create_uid, self.bookkeeper)
        statement = export.statement_ids
        self.assertEqual(len(statement), 1)
        self.assertEqual(statement.journal_id, self.bank_journal)
        self.assertEqual(statement.line_ids, lines)
        self.assertEqual(lines.journal_id, self.bank_journal)
        currency = statement.currency_id
        total = sum(self.in_range.mapped("amount"))
        self.assertTrue(currency.is_zero(statement.ledgersync_difference))
        self.assertTrue(currency.is_zero(statement.balance_end - statement.ledgersync_balance_end))
        self.assertTrue(
            currency.is_zero(statement.balance_start + total - statement.ledgersync_balance_end)
        )

        # The Accounting CS export: its history record, its file, the lines of the range.
        history = self.env["ledgersync.export"].search([("create_uid", "=", self.bookkeeper.id)])
        self.assertEqual(len(history), 1)
        self.assertEqual(
            (history.client_id, history.bank_account_id, history.date_from, history.date_to),
            (self.client, self.account, self.date_from, self.date_to),
        )
        name = file_name(self.client.name, self.account.name, self.date_from, self.date_to)
        attachment = history.attachment_id
        self.assertEqual((history.name, attachment.name), (name, name))
        self.assertEqual(history.line_count, len(self.in_range))
        rows = list(csv.reader(io.StringIO(attachment.raw.decode("utf-8-sig"), newline="")))
        self.assertEqual(tuple(rows[0]), COLUMNS)
        self.assertTrue(all(len(row) == 11 for row in rows))
        expected = self.in_range.sorted(lambda t: (t.date, t.id))
        self.assertEqual([row[8] for row in rows[1:]], expected.mapped("ledgersync_id"))
        self.assertEqual(
            [row[0] for row in rows[1:]],
            [day.strftime("%m/%d/%Y") for day in expected.mapped("date")],
        )

        # The browser asked for the file twice, as a download: after Export, and from the
        # export history's Download button (the second time its cache may hold it: 304).
        url = f"/web/content/{attachment.id}"
        downloads = [entry for entry in served if entry[0] == url]
        self.assertEqual([entry[1:3] for entry in downloads[:1]], [("true", 200)], served)
        self.assertEqual(len(downloads), 2, served)
        self.assertIn(downloads[1][1:3], (("true", 200), ("true", 304)))
        self.assertTrue(downloads[0][3].startswith("attachment"), downloads[0])
        self.assertIn(name, downloads[0][3])

        # The same URL, as the bookkeeper, answers the file.
        self.authenticate(self.bookkeeper.login, self.bookkeeper.login)
        response = self.url_open(f"{url}?download=true")
        self.assertEqual(response.status_code, 200)
        self.assertIn(name, response.headers["Content-Disposition"])
        self.assertEqual(response.content, attachment.raw)
