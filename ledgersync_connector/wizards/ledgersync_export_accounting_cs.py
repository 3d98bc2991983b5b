import tempfile
from datetime import date

from dateutil.relativedelta import relativedelta

from odoo import api, fields, models
from odoo.exceptions import UserError
from odoo.tools import SQL

from ..exports.accounting_cs import ExportLine, file_name, stream

# Transactions read from the database at a time.
FETCH_LINES = 5000


def _last_month():
    first_of_this_month = date.today().replace(day=1)
    return first_of_this_month - relativedelta(months=1), first_of_this_month - relativedelta(
        days=1
    )


class LedgerSyncExportAccountingCs(models.TransientModel):
    """Export one client's bank account over a date range as the Accounting CS file."""

    _name = "ledgersync.export.accounting.cs"
    _description = "Export to Accounting CS"
    _check_company_auto = True

    # No check_company here: the wizard's company is the client's own, so Odoo's company
    # domain would offer no client until one is chosen (record rules keep the clients to
    # the user's companies; the bank account is checked against the client's company).
    client_id = fields.Many2one("ledgersync.client", required=True)
    bank_account_id = fields.Many2one(
        "ledgersync.bank.account",
        required=True,
        check_company=True,
        domain="[('client_id', '=', client_id)]",
    )
    company_id = fields.Many2one(related="client_id.company_id")
    date_from = fields.Date(required=True, default=lambda self: _last_month()[0])
    date_to = fields.Date(required=True, default=lambda self: _last_month()[1])
    reviewed_only = fields.Boolean(
        default=True,
        help="Only the lines marked reviewed (or already exported to a bank statement). "
        "Pending lines are never exported.",
    )

    @api.model
    def default_get(self, fields_list):
        values = super().default_get(fields_list)
        context = self.env.context
        if context.get("active_model") == "ledgersync.bank.account" and context.get("active_id"):
            account = self.env["ledgersync.bank.account"].browse(context["active_id"])
            values.update(client_id=account.client_id.id, bank_account_id=account.id)
        return values

    @api.onchange("client_id")
    def _onchange_client_id(self):
        if self.bank_account_id.client_id != self.client_id:
            self.bank_account_id = False

    def _domain(self):
        states = (
            ["reviewed", "exported"]
            if self.reviewed_only
            else ["to_review", "reviewed", "exported"]
        )
        return [
            ("bank_account_id", "=", self.bank_account_id.id),
            ("date", ">=", self.date_from),
            ("date", "<=", self.date_to),
            ("ledgersync_status", "=", "posted"),
            ("review_state", "in", states),
        ]

    def _check(self):
        _ = self.env._
        if self.date_from > self.date_to:
            raise UserError(_("The start date must be on or before the end date."))
        if self.bank_account_id.client_id != self.client_id:
            raise UserError(
                _(
                    "The bank account “%(account)s” is not one of %(client)s's.",
                    account=self.bank_account_id.display_name,
                    client=self.client_id.display_name,
                )
            )

    def action_export(self):
        """Write the file, keep it in the export history, download it."""
        self.ensure_one()
        self._check()
        domain = self._domain()
        Transaction = self.env["ledgersync.transaction"]
        if not Transaction.search_count(domain, limit=1):
            raise UserError(
                self.env._(
                    "Nothing to export: %(account)s has no posted transaction from %(start)s "
                    "to %(end)s%(reviewed)s. Pending transactions are never exported.",
                    account=self.bank_account_id.display_name,
                    start=fields.Date.to_string(self.date_from),
                    end=fields.Date.to_string(self.date_to),
                    reviewed=self.env._(" marked reviewed") if self.reviewed_only else "",
                )
            )
        name = file_name(
            self.client_id.name, self.bank_account_id.name, self.date_from, self.date_to
        )
        counter = {"lines": 0}
        with tempfile.TemporaryFile() as spool:
            for chunk in stream(self._counted(self._export_lines(domain), counter)):
                spool.write(chunk)
            spool.seek(0)
            content = spool.read()
        export = self.env["ledgersync.export"].create(
            {
                "name": name,
                "kind": "accounting_cs",
                "client_id": self.client_id.id,
                "bank_account_id": self.bank_account_id.id,
                "date_from": self.date_from,
                "date_to": self.date_to,
                "line_count": counter["lines"],
                "company_id": self.bank_account_id.company_id.id,
            }
        )
        # The file belongs to the export, which accountants may create but not change:
        # the server links them.
        export.sudo().attachment_id = (
            self.env["ir.attachment"]
            .sudo()
            .create(
                {
                    "name": name,
                    "raw": content,
                    "mimetype": "text/csv",
                    "res_model": export._name,
                    "res_id": export.id,
                }
            )
        )
        return export.action_download()

    @staticmethod
    def _counted(lines, counter):
        for line in lines:
            counter["lines"] += 1
            yield line

    def _export_lines(self, domain):
        """ExportLine of each transaction of ``domain`` (record rules applied), by date,
        read FETCH_LINES at a time; vendors and GL codes looked up once each."""
        Transaction = self.env["ledgersync.transaction"]
        company = self.bank_account_id.company_id
        Partner = self.env["res.partner"]
        Account = self.env["account.account"].with_company(company)
        account_number = self.bank_account_id.mask or ""
        partners, codes = {}, {}
        columns = [
            SQL.identifier(Transaction._table, name)
            for name in (
                "id",
                "date",
                "description",
                "partner_id",
                "account_id",
                "amount",
                "reference",
                "ledgersync_id",
            )
        ]
        after = []  # keyset pagination: the lines after the last one read
        while True:
            query = Transaction._search(domain + after, order="date, id", limit=FETCH_LINES)
            self.env.cr.execute(query.select(*columns))
            rows = self.env.cr.fetchall()
            if not rows:
                return
            new_partners = {row[3] for row in rows if row[3] and row[3] not in partners}
            for partner in Partner.browse(new_partners):
                partners[partner.id] = (partner.name or "", partner.ref or "")
            new_accounts = {row[4] for row in rows if row[4] and row[4] not in codes}
            for account in Account.browse(new_accounts):
                codes[account.id] = account.code or ""
            for _id, day, description, partner_id, account_id, amount, reference, ls_id in rows:
                vendor_name, vendor_code = partners.get(partner_id, ("", ""))
                yield ExportLine(
                    date=day,
                    description=description or "",
                    vendor_name=vendor_name,
                    vendor_code=vendor_code,
                    gl_code=codes.get(account_id, ""),
                    amount=amount,
                    reference=reference or "",
                    memo=ls_id,
                    account_number=account_number,
                )
            last_id, last_date = rows[-1][0], rows[-1][1]
            after = [
                "|",
                ("date", ">", last_date),
                "&",
                ("date", "=", last_date),
                ("id", ">", last_id),
            ]
