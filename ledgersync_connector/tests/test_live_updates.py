"""The accountant sees what is happening: bus news while a sync runs or the status
changes, on a channel only the company's internal users get, and empty lists that say why
they are empty."""

import json
from datetime import timedelta
from types import SimpleNamespace
from unittest.mock import patch

from lxml import etree

from odoo import fields
from odoo.tests import new_test_user, tagged

from odoo.addons.bus.models.bus import channel_with_db, json_dump

from .. import const
from ..models.ledgersync_connection import LIVE_NOTIFICATION, LIVE_SUBCHANNEL
from .common import SyncCase

OWN_HELP = "<p>The action's own help</p>"


@tagged("post_install", "-at_install")
class TestLiveUpdates(SyncCase):
    def news(self):
        """The LedgerSync news for this company sent to the bus since ``clear_news``."""
        self.env.cr.flush()  # runs the bus's precommit hook: the messages become rows
        channel = json_dump(channel_with_db(self.env.cr.dbname, (self.company, LIVE_SUBCHANNEL)))
        return (
            self.env["bus.bus"]
            .sudo()
            .search([("channel", "=", channel), ("id", ">", self.last_bus_id)], order="id")
        )

    def clear_news(self):
        self.env.cr.flush()
        self.last_bus_id = self.env["bus.bus"].sudo()._bus_last_id()

    def test_a_sync_sends_news_while_it_runs_and_when_it_ends(self):
        self.clear_news()
        run = self.sync("initial")
        self.assertEqual(run.state, "done")
        news = self.news()
        # At least the first unit of work and the run's end; at most one per interval
        # in between (this sync takes far less than a few intervals).
        self.assertGreaterEqual(len(news), 2)
        self.assertLessEqual(len(news), 6)
        for entry in news:
            self.assertEqual(
                json.loads(entry.message),
                {
                    "type": LIVE_NOTIFICATION,
                    "payload": {"connection_id": self.connection_record.id},
                },
            )

    def test_news_is_throttled_between_commits(self):
        self.clear_news()
        commit = self.env["ledgersync.sync.run"]._live_commit(
            self.connection_record, lambda: float("inf")
        )
        with patch("time.monotonic", side_effect=[100.0, 100.5, 101.0, 100.0 + 2.5]):
            for _ in range(4):
                commit()
        self.assertGreater(const.LIVE_UPDATE_SECONDS, 1.0)
        self.assertEqual(len(self.news()), 2)  # the first, then the one 2.5 s later

    def test_a_status_change_is_news(self):
        self.clear_news()
        self.connection_record._record_failure("invalid_credentials")
        self.assertEqual(len(self.news()), 1)
        self.clear_news()
        self.connection_record.history_days = 30  # not news
        self.assertFalse(self.news())

    def channels_of(self, user):
        request = SimpleNamespace(session=SimpleNamespace(uid=user.id))
        with patch("odoo.addons.bus.models.ir_websocket.request", request):
            channels = self.env["ir.websocket"].with_user(user)._build_bus_channel_list([])
        return [channel for channel in channels if isinstance(channel, tuple)]

    def test_only_internal_users_of_the_company_get_the_channel(self):
        accountant = new_test_user(
            self.env, login="live_accountant", groups="account.group_account_invoice"
        )
        portal = new_test_user(self.env, login="live_portal", groups="base.group_portal")
        self.assertIn((self.company, LIVE_SUBCHANNEL), self.channels_of(accountant))
        self.assertNotIn((self.company, LIVE_SUBCHANNEL), self.channels_of(portal))


@tagged("post_install", "-at_install")
class TestEmptyStates(SyncCase):
    def help_of(self, model):
        return str(self.env[model].get_empty_list_help(OWN_HELP))

    def assertHelp(self, expected_title, models=("ledgersync.transaction",)):
        for model in models:
            with self.subTest(model=model):
                self.assertIn(expected_title, self.help_of(model))

    def test_not_connected(self):
        self.connection_record.action_disconnect()
        self.assertHelp(
            "LedgerSync is not connected",
            ("ledgersync.client", "ledgersync.bank.account", "ledgersync.transaction"),
        )

    def test_connection_failed_shows_the_reason_escaped(self):
        self.sync("initial")
        self.connection_record._record_failure("account_locked", detail="<b>locked</b>")
        help_html = self.help_of("ledgersync.transaction")
        self.assertIn("The LedgerSync connection is not working", help_html)
        self.assertIn("locked after too many failed sign-ins", help_html)
        self.assertIn("&lt;b&gt;locked&lt;/b&gt;", help_html)
        self.assertNotIn("<b>locked</b>", help_html)

    def test_first_sync_running_shows_its_progress(self):
        Run = self.env["ledgersync.sync.run"]
        run = Run.create({"connection_id": self.connection_record.id, "trigger": "initial"})
        self.assertHelp("listing the clients and their bank accounts")
        run.accounts_total = 6
        self.assertHelp("0 of 6 bank accounts done")
        self.assertHelp("The first sync is running", ("ledgersync.client",))

    def test_no_clients(self):
        app = self.sandbox.app
        for client_id in list(app.store.client_ids("demo")):
            app.mutations.remove_client(client_id)
        run = self.sync("initial")
        self.assertEqual(run.state, "done")
        self.assertHelp(
            "The firm has no clients in LedgerSync",
            ("ledgersync.client", "ledgersync.transaction"),
        )

    def test_clients_without_bank_accounts(self):
        self.sync("initial")
        self.env["ledgersync.bank.account"].sudo().search([]).action_archive()
        self.assertHelp(
            "No bank account is connected in LedgerSync",
            ("ledgersync.bank.account", "ledgersync.transaction"),
        )
        self.assertEqual(self.help_of("ledgersync.client"), OWN_HELP)

    def test_synced_data_keeps_the_lists_own_help(self):
        self.sync("initial")
        self.assertEqual(self.help_of("ledgersync.transaction"), OWN_HELP)

    def test_a_client_without_bank_accounts_says_so_on_its_form(self):
        self.sync("initial")
        client, other = self.env["ledgersync.client"].search([], limit=2)
        self.env["ledgersync.bank.account"].sudo().search(
            [("client_id", "=", client.id)]
        ).action_archive()
        self.assertEqual((client.bank_account_count, other.bank_account_count), (0, 2))
        arch = self.env["ledgersync.client"].get_view(False, "form")["arch"]
        notice = etree.fromstring(arch).xpath("//div[hasclass('o_ledgersync_no_bank_account')]")
        self.assertEqual(len(notice), 1)
        self.assertEqual(notice[0].get("invisible"), "bank_account_count or not active")
        self.assertIn("No bank account of this client is connected", "".join(notice[0].itertext()))


@tagged("post_install", "-at_install")
class TestLiveRangeLoads(SyncCase):
    def test_a_range_load_sends_news_while_it_runs_and_when_it_ends(self):
        self.sync("initial")
        account = self.env["ledgersync.bank.account"].search([], limit=1)
        self.env.cr.flush()
        last_bus_id = self.env["bus.bus"].sudo()._bus_last_id()
        today = fields.Date.today()
        run = self.env["ledgersync.range.load"]._start(
            account, today - timedelta(days=20), today - timedelta(days=1)
        )
        self.assertEqual(run.state, "done", run.error_message)
        self.env.cr.flush()
        channel = json_dump(channel_with_db(self.env.cr.dbname, (self.company, LIVE_SUBCHANNEL)))
        news = (
            self.env["bus.bus"].sudo().search([("channel", "=", channel), ("id", ">", last_bus_id)])
        )
        # Its first unit of work, and its end.
        self.assertGreaterEqual(len(news), 2)
