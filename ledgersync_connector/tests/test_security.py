import psycopg2.errors

from odoo import fields
from odoo.exceptions import AccessError
from odoo.tests import tagged
from odoo.tools import mute_logger

from .common import DEMO_EMAIL, OTHER_EMAIL, LedgerSyncCase, TwoCompaniesMixin


@tagged("post_install", "-at_install")
class TestAccessAndCompanies(TwoCompaniesMixin, LedgerSyncCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.setup_two_companies("Security")

    def _connect_both(self):
        connection_a = self.connect(DEMO_EMAIL, company=self.company_a)
        connection_b = self.connect(OTHER_EMAIL, company=self.company_b)
        return connection_a, connection_b

    def test_two_companies_two_connections_no_leak(self):
        connection_a, connection_b = self._connect_both()
        self.assertNotEqual(connection_a, connection_b)
        self.assertEqual(connection_a.client_ids.company_id, self.company_a)
        self.assertEqual(connection_b.client_ids.company_id, self.company_b)
        self.assertFalse(
            set(connection_a.client_ids.mapped("ledgersync_id"))
            & set(connection_b.client_ids.mapped("ledgersync_id"))
        )
        # Each company's settings show its own connection.
        settings_a = self.env["res.config.settings"].with_company(self.company_a).create({})
        settings_b = self.env["res.config.settings"].with_company(self.company_b).create({})
        self.assertEqual(settings_a.ledgersync_connection_id, connection_a)
        self.assertEqual(settings_b.ledgersync_connection_id, connection_b)
        self.assertEqual(settings_b.ledgersync_email, OTHER_EMAIL)

    def test_accountant_reads_own_company_clients_only(self):
        connection_a, connection_b = self._connect_both()
        clients = self.env["ledgersync.client"].with_user(self.accountant_a)
        visible = clients.search([])
        self.assertEqual(visible, connection_a.client_ids.with_user(self.accountant_a))
        with self.assertRaises(AccessError):
            connection_b.client_ids.with_user(self.accountant_a).read(["name"])
        with self.assertRaises(AccessError):
            visible[0].write({"name": "changed by an accountant"})

    def test_accountant_gets_no_secret_and_no_connection(self):
        connection_a, _connection_b = self._connect_both()
        with self.assertRaises(AccessError):
            connection_a.with_user(self.accountant_a).read(["email", "state"])
        with self.assertRaises(AccessError):
            self.env["ledgersync.connection"].with_user(self.accountant_a).search([])
        with self.assertRaises(AccessError):
            self.env["res.config.settings"].with_user(self.accountant_a).create({})
        # Even a field read through sudo-less RPC paths never exposes the ciphertext.
        fields_for_accountant = (
            self.env["ledgersync.connection"].with_user(self.accountant_a).fields_get()
        )
        self.assertNotIn("password_encrypted", fields_for_accountant)
        self.assertNotIn("token_encrypted", fields_for_accountant)

    def test_secret_fields_are_read_by_no_one(self):
        for field_name in ("password_encrypted", "token_encrypted"):
            field = self.env["ledgersync.connection"]._fields[field_name]
            # Not even administrators: only the code reads them, with sudo.
            self.assertEqual(field.groups, fields.NO_ACCESS)
            self.assertFalse(field.copy)

    def test_one_active_connection_per_company(self):
        self.connect()
        with (
            mute_logger("odoo.sql_db"),
            self.assertRaises(psycopg2.errors.UniqueViolation),
            self.env.cr.savepoint(),
        ):
            self.env["ledgersync.connection"].create({"company_id": self.company_a.id})
