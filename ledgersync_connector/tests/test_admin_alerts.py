"""The firm's administrators get a To Do activity when the sync breaks: once per problem,
marked done when the problem clears."""

from odoo import Command
from odoo.tests import new_test_user, tagged

from ..sync.engine import ACCOUNT_FAILED_RUNS_ALERT
from .common import DEMO_EMAIL, PASSWORD, SyncCase

BROKEN_ACCOUNT = "ba_d_0002_01"


@tagged("post_install", "-at_install")
class TestAdminAlerts(SyncCase):
    def setUp(self):
        super().setUp()
        self.todo = self.env.ref("mail.mail_activity_data_todo")
        self.admins = self.env.ref("base.group_system").all_user_ids.filtered(
            lambda user: self.company in user.company_ids
        )

    def alerts(self, connection=None, open_only=True):
        """The To Do activities on the connection (done ones too unless ``open_only``)."""
        Activity = self.env["mail.activity"].with_context(active_test=open_only)
        return Activity.search(
            [
                ("res_model", "=", "ledgersync.connection"),
                ("res_id", "=", (connection or self.connection_record).id),
                ("activity_type_id", "=", self.todo.id),
            ]
        )

    def break_password(self):
        self.sandbox.app.set_login(DEMO_EMAIL, password="changed-in-ledgersync")
        self.connection_record.sudo().token_encrypted = False  # force a new sign-in

    def test_red_status_gives_the_administrators_one_todo_until_it_clears(self):
        self.sync("initial")
        self.assertFalse(self.alerts())
        self.break_password()
        self.sync()
        connection = self.connection_record
        self.assertEqual(connection.state, "failed")
        alert = self.alerts()
        self.assertEqual(len(alert), 1)
        self.assertIn(alert.user_id, self.admins)
        # The same reason and hint as the Settings status.
        settings = self.env["res.config.settings"].create({})
        self.assertIn(settings.ledgersync_failure_reason, alert.note)
        self.assertIn(settings.ledgersync_failure_hint, alert.note)
        # Failing again is the same problem: no second To Do.
        connection.action_connect(DEMO_EMAIL, "still-wrong", self.sandbox.base_url)
        self.assertEqual(connection.state, "failed")
        self.assertEqual(self.alerts(), alert)
        # Reconnecting clears it: the To Do is marked done.
        self.sandbox.app.set_login(DEMO_EMAIL, password=PASSWORD)
        connection = self.connect()
        self.assertEqual(connection.state, "connected")
        self.assertFalse(self.alerts())
        self.assertFalse(alert.active, "marked done, kept in the history")
        # A new failure later is a new problem.
        self.break_password()
        self.sync()
        self.assertEqual(len(self.alerts()), 1)
        self.assertNotEqual(self.alerts(), alert)
        # Disconnecting ends it too.
        connection.action_disconnect()
        self.assertFalse(self.alerts())

    def test_the_todo_goes_to_an_administrator_of_that_company(self):
        company_b = self.env["res.company"].create({"name": "Alerted Office"})
        admin_b = new_test_user(
            self.env,
            login="ledgersync_admin_b",
            groups="base.group_system",
            company_id=company_b.id,
            company_ids=[Command.set(company_b.ids)],
        )
        new_test_user(
            self.env,
            login="ledgersync_accountant_b",
            groups="account.group_account_invoice",
            company_id=company_b.id,
            company_ids=[Command.set(company_b.ids)],
        )
        self.env.user.company_ids = [Command.link(company_b.id)]
        connection_b = self.connect(company=company_b, password="wrong-password")
        self.assertEqual(connection_b.state, "failed")
        alert = self.alerts(connection_b)
        self.assertEqual(len(alert), 1)
        self.assertEqual(alert.user_id.company_id, company_b)
        self.assertTrue(alert.user_id.has_group("base.group_system"))
        self.assertIn(alert.user_id, admin_b | self.env.user)

    def test_bank_account_failing_several_runs_in_a_row_gives_one_todo(self):
        self.sandbox.app.faults.add(
            "server_error", path=rf"/v1/bank-accounts/{BROKEN_ACCOUNT}/transactions", count=-1
        )
        broken = self.BankAccount.search([])  # empty before the first sync
        for run_number in range(1, ACCOUNT_FAILED_RUNS_ALERT + 2):
            run = self.sync("initial" if run_number == 1 else "scheduled")
            self.assertEqual(run.state, "partial")
            broken = self.BankAccount.search([("ledgersync_id", "=", BROKEN_ACCOUNT)])
            expected = 0 if run_number < ACCOUNT_FAILED_RUNS_ALERT else 1
            self.assertEqual(len(self.alerts()), expected, f"after run {run_number}")
        alert = self.alerts()
        self.assertIn(broken.display_name, alert.summary)
        self.assertIn("server_error", alert.note)
        self.assertIn(alert.user_id, self.admins)
        # The connection itself is fine: its status stays green.
        self.assertEqual(self.connection_record.state, "connected")
        # The account syncs again: the To Do is marked done.
        self.sandbox.app.faults.clear()
        self.assertEqual(self.sync().state, "done")
        self.assertFalse(self.alerts())
        self.assertFalse(alert.active)
        self.assertEqual(broken.sync_failure_streak, 0)

    def test_one_failed_run_is_no_todo(self):
        self.sandbox.app.faults.add(
            "server_error", path=rf"/v1/bank-accounts/{BROKEN_ACCOUNT}/transactions", count=-1
        )
        self.sync("initial")
        self.sandbox.app.faults.clear()
        self.sync()
        self.sandbox.app.faults.add(
            "server_error", path=rf"/v1/bank-accounts/{BROKEN_ACCOUNT}/transactions", count=-1
        )
        for _run in range(ACCOUNT_FAILED_RUNS_ALERT - 1):
            self.sync()
        self.assertFalse(self.alerts(open_only=False), "not in a row: no To Do")

    def test_an_account_that_is_no_longer_listed_ends_its_todo(self):
        self.sandbox.app.faults.add(
            "server_error", path=rf"/v1/bank-accounts/{BROKEN_ACCOUNT}/transactions", count=-1
        )
        for _run in range(ACCOUNT_FAILED_RUNS_ALERT):
            self.sync()
        alert = self.alerts()
        self.assertEqual(len(alert), 1)
        self.sandbox.app.remove_bank_account(BROKEN_ACCOUNT)
        self.sync()
        self.assertFalse(self.alerts())
        self.assertFalse(alert.active)
