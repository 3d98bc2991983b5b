import base64

from odoo import api, fields, models
from odoo.exceptions import UserError

from .. import failures
from ..imports.firmadmin import (
    CLIENT_COLUMNS,
    CLIENT_REQUIRED,
    FILE_ERRORS,
    ROW_ERRORS,
    VENDOR_COLUMNS,
    VENDOR_REQUIRED,
    FileRejected,
    plan_clients,
    plan_vendors,
    read_table,
)


class LedgerSyncFirmadminImport(models.TransientModel):
    """Import the firm's client and vendor lists kept in Accounting CS (FIRMADMIN):
    Preview says row by row what would happen; Confirm Import applies it all at once."""

    _name = "ledgersync.firmadmin.import"
    _description = "Import from FIRMADMIN"

    company_id = fields.Many2one(
        "res.company", required=True, default=lambda self: self.env.company
    )
    clients_file = fields.Binary(string="clients.csv")
    clients_filename = fields.Char()
    vendors_file = fields.Binary(string="vendors.csv")
    vendors_filename = fields.Char()
    state = fields.Selection([("upload", "Upload"), ("preview", "Preview")], default="upload")
    line_ids = fields.One2many("ledgersync.firmadmin.import.line", "import_id")
    notes = fields.Text(readonly=True)
    summary = fields.Char(compute="_compute_summary")

    @api.depends("line_ids.action")
    def _compute_summary(self):
        for wizard in self:
            counts = dict.fromkeys(("create", "update", "match", "reject"), 0)
            for line in wizard.line_ids:
                counts[line.action] += 1
            wizard.summary = self.env._(
                "%(create)s to create, %(update)s to update, %(match)s matched, "
                "%(reject)s rejected",
                **counts,
            )

    def _read_file(self, field, label, columns, required):
        data = self[field]
        if not data:
            return None
        try:
            return read_table(base64.b64decode(data), label, columns, required)
        except FileRejected as refused:
            raise UserError(self._text(FILE_ERRORS[refused.code], refused.params)) from None

    def _plan(self):
        """(plan of the client rows, plan of the vendor rows, notes); a file refused as a
        whole raises UserError, and nothing changes."""
        _ = self.env._
        if not (self.clients_file or self.vendors_file):
            raise UserError(_("Upload clients.csv, vendors.csv or both."))
        clients = self._read_file("clients_file", "clients.csv", CLIENT_COLUMNS, CLIENT_REQUIRED)
        vendors = self._read_file("vendors_file", "vendors.csv", VENDOR_COLUMNS, VENDOR_REQUIRED)
        notes = []
        for label, table in (("clients.csv", clients), ("vendors.csv", vendors)):
            if table and table.ignored_columns:
                notes.append(
                    _(
                        "%(file)s: columns not imported: %(columns)s.",
                        file=label,
                        columns=", ".join(table.ignored_columns),
                    )
                )
        client_plan = vendor_plan = []
        company = self.company_id
        if clients:
            existing = self.env["ledgersync.client"].search_read(
                [("company_id", "=", company.id)], ["code", "name", "accounting_cs_id"]
            )
            client_plan = plan_clients(
                clients.rows,
                [(c["id"], c["code"], c["name"], c["accounting_cs_id"]) for c in existing],
            )
        if vendors:
            partners = self.env["res.partner"].search_read(
                [("company_id", "in", [company.id, False])], ["ref", "name"]
            )
            accounts = (
                self.env["account.account"]
                .with_company(company)
                .search_read([("company_ids", "in", company.id), ("active", "=", True)], ["code"])
            )
            vendor_plan = plan_vendors(
                vendors.rows,
                [(p["id"], p["ref"], p["name"]) for p in partners],
                {a["code"]: a["id"] for a in accounts},
            )
        return client_plan, vendor_plan, notes

    def _text(self, text, params):
        """A message of imports/firmadmin.py in the user's language (lazy params too)."""
        params = {
            key: value if isinstance(value, (str, int)) else self.env._(value)
            for key, value in params.items()
        }
        return failures.translate(self.env, text, **params)

    def _reason(self, error):
        if not error:
            return False
        code, params = error
        return self._text(ROW_ERRORS[code], params)

    def action_preview(self):
        self.ensure_one()
        client_plan, vendor_plan, notes = self._plan()
        lines = [
            {
                "kind": "client",
                "line": planned.line,
                "code": planned.key,
                "name": planned.name,
                "action": planned.action,
                "reason": self._reason(planned.error),
                "client_id": planned.target_id,
            }
            for planned in client_plan
        ] + [
            {
                "kind": "vendor",
                "line": planned.line,
                "code": planned.key,
                "name": planned.name,
                "action": planned.action,
                "reason": self._reason(planned.error),
                "partner_id": planned.target_id,
                "gl_account_id": (planned.values or {}).get("gl_account_id"),
            }
            for planned in vendor_plan
        ]
        self.write(
            {
                "state": "preview",
                "notes": "\n".join(notes) or False,
                "line_ids": [fields.Command.clear()]
                + [fields.Command.create(values) for values in lines],
            }
        )
        return self._reopen()

    def action_back(self):
        self.write({"state": "upload", "line_ids": [fields.Command.clear()]})
        return self._reopen()

    def action_confirm(self):
        """Apply the plan, computed again from the files (the database may have changed
        since the preview), in this one transaction."""
        self.ensure_one()
        client_plan, vendor_plan, _notes = self._plan()
        # LedgerSync's clients are the sync's; only managers reach this wizard (access
        # rights), and it writes the Accounting CS client ID alone.
        Client = self.env["ledgersync.client"].sudo()
        for planned in client_plan:
            if planned.action == "update":
                Client.browse(planned.target_id).write(planned.values)
        Partner = self.env["res.partner"].with_company(self.company_id)
        created = updated = 0
        for planned in vendor_plan:
            if planned.action == "reject":
                continue
            values = dict(planned.values or {})
            gl_account_id = values.pop("gl_account_id", None)
            if planned.action == "create":
                partner = Partner.create(dict(values, company_id=False, supplier_rank=1))
                created += 1
            else:
                partner = Partner.browse(planned.target_id)
                if planned.action == "update":
                    partner.write(values)
                    updated += 1
            if gl_account_id:
                self._seed_rule(partner, gl_account_id)
        applied = sum(p.action == "update" for p in client_plan) + created + updated
        rejected = sum(p.action == "reject" for p in client_plan + vendor_plan)
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "type": "success" if not rejected else "warning",
                "message": self.env._(
                    "FIRMADMIN import done: %(applied)s rows applied, %(rejected)s rejected.",
                    applied=applied,
                    rejected=rejected,
                ),
                "next": {"type": "ir.actions.act_window_close"},
            },
        }

    def _seed_rule(self, partner, gl_account_id):
        """The firm-wide rule of a vendor with a default GL code: descriptions that name
        the vendor get it and that GL account (its own rule updated if it has one)."""
        Rule = self.env["ledgersync.rule"]
        rule = Rule.search(
            [
                ("partner_id", "=", partner.id),
                ("client_id", "=", False),
                ("company_id", "=", self.company_id.id),
            ],
            limit=1,
        )
        if rule:
            rule.account_id = gl_account_id
            return
        Rule.create(
            {
                # A comma separates alternatives in a pattern: "Dupont, Fils" is one name.
                "pattern": partner.name.replace(",", "*"),
                "match_kind": "contains",
                "partner_id": partner.id,
                "account_id": gl_account_id,
                "company_id": self.company_id.id,
            }
        )

    def _reopen(self):
        return {
            "type": "ir.actions.act_window",
            "res_model": self._name,
            "res_id": self.id,
            "view_mode": "form",
            "target": "new",
        }
