from odoo.tests import HttpCase, tagged

from .common import DEMO_FIRM, SandboxMixin


@tagged("post_install", "-at_install")
class TestSettingsTour(SandboxMixin, HttpCase):
    # The browser, Odoo's HTTP server and the sandbox, each over real HTTP.
    sandbox_over_http = True
    """Settings → LedgerSync Integration → Save Integration → green check, in a real browser."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.start_sandbox()

    def test_save_integration_shows_green_check(self):
        connection = self.env["ledgersync.connection"]._for_company(self.env.company)
        connection.base_url = self.sandbox.base_url
        self.start_tour("/odoo/settings", "ledgersync_settings_tour", login="admin", timeout=120)
        connection.invalidate_recordset()
        self.assertEqual(connection.state, "connected")
        self.assertEqual(connection.firm_name, DEMO_FIRM)
        self.assertTrue(connection.client_ids)
