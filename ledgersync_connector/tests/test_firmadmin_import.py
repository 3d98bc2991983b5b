"""Import from FIRMADMIN: the preview says row by row what would happen and changes
nothing; Confirm Import applies it in one go; bad files are refused whole; only
accounting managers import."""

import base64

from odoo.exceptions import AccessError, UserError
from odoo.tests import tagged

from .common import SyncCase, company_user

CLIENTS = (
    "Client Name,Client ID,Client Code,Status\r\n"
    "{first},1001,ZZZ-UNUSED,Active\r\n"
    "Nobody Here,1003,NOPE,Active\r\n"
)
VENDORS = (
    "Vendor Code,Vendor Name,Default GL Code,Notes\r\n"
    "OFF01,Office Depot Inc,{gl_code},x\r\n"
    "NEW01,New Vendor,,\r\n"
    "BAD01,Bad GL,9999999,\r\n"
    "OFF01,Office Again,,\r\n"
)


def encoded(text, encoding="utf-8"):
    return base64.b64encode(text.encode(encoding))


@tagged("post_install", "-at_install")
class TestFirmadminImport(SyncCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.manager = company_user(
            cls.env,
            cls.env.company,
            "firmadmin_manager",
            "account.group_account_manager,base.group_partner_manager",
        )
        cls.accountant = company_user(
            cls.env, cls.env.company, "firmadmin_accountant", "account.group_account_invoice"
        )

    def setUp(self):
        super().setUp()
        self.sync("initial")
        self.client = self.env["ledgersync.client"].search([], limit=1, order="name")
        self.vendor = self.env["res.partner"].create({"name": "Office Depot", "ref": "OFF01"})
        self.gl_account = self.env["account.account"].search(
            [("company_ids", "in", self.env.company.id), ("account_type", "=", "expense")],
            limit=1,
        )

    def wizard(self, clients=None, vendors=None, user=None):
        values = {}
        if clients is not None:
            values["clients_file"] = clients
        if vendors is not None:
            values["vendors_file"] = vendors
        Wizard = self.env["ledgersync.firmadmin.import"].with_user(user or self.manager)
        return Wizard.create(values)

    def good_files(self):
        return (
            encoded(CLIENTS.format(first=self.client.name.upper())),
            encoded("\ufeff" + VENDORS.format(gl_code=self.gl_account.code)),
        )

    def test_preview_then_confirm(self):
        wizard = self.wizard(*self.good_files())
        partners_before = self.env["res.partner"].search_count([])
        wizard.action_preview()
        plan = {(line.kind, line.line): line for line in wizard.line_ids}
        self.assertEqual(plan["client", 2].action, "update")  # matched by name
        self.assertEqual(plan["client", 2].client_id, self.client)
        self.assertEqual(plan["client", 3].action, "reject")
        self.assertIn("No LedgerSync client", plan["client", 3].reason)
        self.assertEqual(plan["vendor", 2].action, "update")
        self.assertEqual(plan["vendor", 2].partner_id, self.vendor)
        self.assertEqual(plan["vendor", 2].gl_account_id, self.gl_account)
        self.assertEqual(plan["vendor", 3].action, "create")
        self.assertIn("9999999", plan["vendor", 4].reason)
        self.assertIn("also on line 2", plan["vendor", 5].reason)
        self.assertIn("Notes", wizard.notes)  # the spreadsheet's extra column is ignored
        self.assertIn("1 to create, 2 to update, 0 matched, 3 rejected", wizard.summary)
        # The preview changed nothing.
        self.assertFalse(self.client.accounting_cs_id)
        self.assertEqual(self.vendor.name, "Office Depot")
        self.assertEqual(self.env["res.partner"].search_count([]), partners_before)

        result = wizard.action_confirm()
        self.assertEqual(result["params"]["type"], "warning")  # some rows were rejected
        self.assertEqual(self.client.accounting_cs_id, "1001")
        self.assertEqual(self.vendor.name, "Office Depot Inc")
        created = self.env["res.partner"].search([("ref", "=", "NEW01")])
        self.assertEqual(created.name, "New Vendor")
        self.assertFalse(self.env["res.partner"].search([("ref", "=", "BAD01")]))
        # The vendor with a default GL code seeds a firm-wide rule.
        rule = self.env["ledgersync.rule"].search([("partner_id", "=", self.vendor.id)])
        self.assertEqual(len(rule), 1)
        self.assertFalse(rule.client_id)
        self.assertEqual(rule.account_id, self.gl_account)
        self.assertEqual(rule.pattern, "Office Depot Inc")
        # Imported again: the same rule, updated, not a second one.
        self.wizard(*self.good_files()).action_confirm()
        self.assertEqual(
            self.env["ledgersync.rule"].search_count([("partner_id", "=", self.vendor.id)]), 1
        )

    def test_bad_files_are_refused_and_change_nothing(self):
        header = "Client Name,Client ID,Client Code\r\n"
        cases = {
            "is empty": encoded("\ufeff \r\n"),
            "semicolons": encoded("Client Name;Client ID;Client Code\r\nAcme;1;A\r\n"),
            "not UTF-8": encoded(header + "Soci\xe9t\xe9 G\xe9n\xe9rale,1,SG\r\n", "latin-1"),
            "has no column": encoded("Name,Code\r\nAcme,A\r\n"),
            "larger than 10 MB": base64.b64encode(b"x" * (10 * 1024 * 1024 + 1)),
        }
        for message, data in cases.items():
            with self.subTest(message=message), self.assertRaisesRegex(UserError, message):
                self.wizard(clients=data).action_preview()
        with self.assertRaisesRegex(UserError, "Upload clients.csv"):
            self.wizard().action_preview()
        self.assertFalse(self.client.accounting_cs_id)

    def test_only_accounting_managers_import(self):
        with self.assertRaises(AccessError):
            self.wizard(*self.good_files(), user=self.accountant)
