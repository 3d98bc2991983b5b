import time
from unittest.mock import patch

from cryptography.fernet import Fernet

from odoo import tools
from odoo.exceptions import UserError
from odoo.tests import tagged

from ..crypto import SecretBox
from .common import (
    DEMO_EMAIL,
    DEMO_FIRM,
    OTHER_EMAIL,
    PASSWORD,
    LedgerSyncCase,
    closed_port_url,
    silent_server,
)


@tagged("post_install", "-at_install")
class TestSaveIntegration(LedgerSyncCase):
    # End to end: the client's whole transport (timeouts, silent servers, faults).
    sandbox_over_http = True

    def test_demo_credentials_connect_store_clients_and_trigger_sync(self):
        cron = self.env.ref("ledgersync_connector.ir_cron_ledgersync_sync")
        triggers_before = self.env["ir.cron.trigger"].search_count([("cron_id", "=", cron.id)])
        connection = self.connect()
        self.assertEqual(connection.state, "connected")
        self.assertEqual(connection.firm_name, DEMO_FIRM)
        self.assertTrue(connection.last_verified_at)
        self.assertFalse(connection.failure_code)
        self.assertEqual(connection.email, DEMO_EMAIL)
        self.assertEqual(len(connection.client_ids), self.sandbox_config["clients"])
        self.assertTrue(all(connection.client_ids.mapped("ledgersync_id")))
        self.assertEqual(connection.client_ids.company_id, self.company)
        self.assertEqual(
            self.env["ir.cron.trigger"].search_count([("cron_id", "=", cron.id)]),
            triggers_before + 1,
        )
        self.assertIn(DEMO_FIRM, connection.message_ids[0].body)

    def test_each_failure_reason_in_plain_words(self):
        cases = [
            (DEMO_EMAIL, "wrong-password", "invalid_credentials", "did not accept"),
            ("inactive@ledgersync.test", PASSWORD, "subscription_inactive", "subscription"),
            ("suspended@ledgersync.test", PASSWORD, "account_suspended", "suspended"),
            ("locked@ledgersync.test", PASSWORD, "account_locked", "locked"),
            ("empty@ledgersync.test", PASSWORD, "no_clients", "no clients"),
        ]
        for email, password, code, words in cases:
            with self.subTest(code=code):
                connection = self.connect(email, password)
                self.assertEqual(connection.state, "failed")
                self.assertEqual(connection.failure_code, code)
                self.assertIn(words, connection.failure_reason)
                self.assertTrue(connection.failure_hint)
                self.assertFalse(connection.client_ids)
                self.assertIn("failed", connection.message_ids[0].body)

    def test_unreachable_and_hanging_servers_fail_within_bounds(self):
        connection = self.connect(base_url=closed_port_url())
        self.assertEqual(connection.failure_code, "unreachable")
        with silent_server() as (url, _accepted):
            started = time.monotonic()
            connection = self.connect(base_url=url)
            elapsed = time.monotonic() - started
        self.assertEqual(connection.failure_code, "timeout")
        # Odoo's test harness raises any request timeout under 10 s to 10 s, so the
        # production bound (VERIFY_DEADLINE) shows here as 10 s plus a margin.
        self.assertLess(elapsed, 12.0)

    def test_server_errors_and_garbage_are_clear_failures(self):
        for kind, endpoint, code in (
            ("server_error", "login", "server_error"),
            ("html", "login", "protocol_error"),
            ("truncated", "clients", "protocol_error"),
            ("wrong_shape", "clients", "protocol_error"),
            ("rate_limit", "clients", "rate_limited"),
        ):
            with self.subTest(kind=kind, endpoint=endpoint):
                self.sandbox.app.reset()
                self.sandbox.app.faults.add(kind, endpoint=endpoint, count=-1)
                connection = self.connect()
                self.assertEqual(connection.state, "failed")
                self.assertEqual(connection.failure_code, code)
                self.assertFalse(connection.client_ids)

    def test_bad_input_is_refused_and_nothing_saved(self):
        connection = self.connection()
        for email, password, base_url, words in (
            ("", PASSWORD, self.sandbox.base_url, "email address"),
            ("not-an-email", PASSWORD, self.sandbox.base_url, "not a valid email"),
            (DEMO_EMAIL, "", self.sandbox.base_url, "password"),
            (DEMO_EMAIL, PASSWORD, "http://ledgersync.example.com", "https://"),
            (DEMO_EMAIL, PASSWORD, "ftp://localhost", "https://"),
        ):
            with self.subTest(email=email, base_url=base_url):
                with self.assertRaisesRegex(UserError, words):
                    connection.action_connect(email, password, base_url)
                self.assertFalse(connection.email)
                self.assertFalse(connection.has_password)
                self.assertEqual(connection.state, "not_configured")
        self.assertEqual(self.sandbox.app.stats["login"], 0)

    def test_no_login_after_bad_credentials_until_new_ones_are_saved(self):
        connection = self.connect(password="wrong-password")
        self.assertTrue(connection.login_blocked)
        logins = self.sandbox.app.stats["login"]
        # Even forced back to "connected", the cron must not sign in with refused credentials.
        connection.state = "connected"
        self.Connection._cron_sync()
        self.assertEqual(self.sandbox.app.stats["login"], logins)
        connection = self.connect()
        self.assertEqual(connection.state, "connected")
        self.assertFalse(connection.login_blocked)

    def test_disconnect_forgets_secrets_and_keeps_records(self):
        connection = self.connect()
        clients = connection.client_ids
        connection.action_disconnect()
        self.assertEqual(connection.state, "disconnected")
        self.assertFalse(connection.has_password)
        self.assertFalse(connection.sudo().token_encrypted)
        self.assertTrue(clients.exists())
        self.assertTrue(all(clients.mapped("active")))
        logins = self.sandbox.app.stats["login"]
        self.Connection._cron_sync()
        self.assertEqual(self.sandbox.app.stats["login"], logins)
        # Reconnecting to the same firm reuses the connection and its clients.
        reconnected = self.connect()
        self.assertEqual(reconnected, connection)
        self.assertEqual(reconnected.state, "connected")
        self.assertEqual(reconnected.client_ids, clients)

    def test_reconnect_to_another_firm_archives_the_previous_one(self):
        first = self.connect()
        first_clients = first.client_ids
        second = self.connect(OTHER_EMAIL)
        self.assertNotEqual(second, first)
        self.assertFalse(first.active)
        self.assertFalse(any(first_clients.mapped("active")))
        self.assertFalse(first.sudo().password_encrypted)
        self.assertEqual(second.state, "connected")
        self.assertNotEqual(second.firm_name, first.firm_name)
        self.assertTrue(second.client_ids)
        self.assertFalse(
            set(second.client_ids.mapped("ledgersync_id"))
            & set(first_clients.mapped("ledgersync_id"))
        )
        self.assertEqual(self.connection(), second)

    def test_cron_sync_refreshes_and_archives_clients(self):
        connection = self.connect()
        gone = connection.client_ids[0]
        self.sandbox.app.remove_client(gone.ledgersync_id)
        self.Connection._cron_sync()
        self.assertFalse(gone.active)
        self.assertEqual(len(connection.client_ids), self.sandbox_config["clients"] - 1)
        self.assertTrue(connection.last_sync_at)

    def test_cron_turns_status_red_when_password_changes_upstream(self):
        connection = self.connect()
        self.sandbox.app.set_login(DEMO_EMAIL, password="changed-in-ledgersync")
        connection.sudo().token_encrypted = False  # force a new sign-in
        self.Connection._cron_sync()
        self.assertEqual(connection.state, "failed")
        self.assertEqual(connection.failure_code, "invalid_credentials")
        self.assertTrue(connection.login_blocked)

    def test_cron_reuses_the_stored_token(self):
        self.connect()
        logins = self.sandbox.app.stats["login"]
        self.Connection._cron_sync()
        self.assertEqual(self.sandbox.app.stats["login"], logins)


@tagged("post_install", "-at_install")
class TestSecretsAtRest(LedgerSyncCase):
    def _text_columns(self):
        self.env.cr.execute(
            """
            SELECT c.table_name, c.column_name
              FROM information_schema.columns c
              JOIN information_schema.tables t
                ON t.table_name = c.table_name AND t.table_schema = c.table_schema
             WHERE c.table_schema = 'public' AND t.table_type = 'BASE TABLE'
               AND c.data_type IN ('character varying', 'text', 'jsonb', 'json', 'bytea')
            """
        )
        return self.env.cr.fetchall()

    def _tables_containing(self, secret):
        hits = []
        for table, column in self._text_columns():
            self.env.cr.execute(
                f'SELECT 1 FROM "{table}" WHERE "{column}"::text LIKE %s LIMIT 1',
                [f"%{secret}%"],
            )
            if self.env.cr.fetchone():
                hits.append(f"{table}.{column}")
        return hits

    def test_password_and_token_are_in_no_column_of_any_table(self):
        settings = self.env["res.config.settings"].create(
            {
                "ledgersync_email": DEMO_EMAIL,
                "ledgersync_password": PASSWORD,
                "ledgersync_base_url": self.sandbox.base_url,
            }
        )
        settings.action_ledgersync_save_integration()
        connection = self.connection()
        self.assertEqual(connection.state, "connected")
        token = connection._decrypted("token_encrypted")
        self.assertTrue(token)
        self.env.flush_all()
        self.assertEqual(self._tables_containing(PASSWORD), [])
        self.assertEqual(self._tables_containing(token), [])
        # ... while the ciphertext is there and opens with the configured key only.
        self.assertEqual(connection._decrypted("password_encrypted"), PASSWORD)

    def test_settings_never_send_the_password_back(self):
        self.connect()
        settings = self.env["res.config.settings"].create({})
        self.assertFalse(settings.ledgersync_password)
        self.assertTrue(settings.ledgersync_password_set)
        self.assertEqual(settings.ledgersync_email, DEMO_EMAIL)
        values = settings.web_read({"ledgersync_password": {}, "ledgersync_password_set": {}})[0]
        self.assertFalse(values["ledgersync_password"])
        self.assertTrue(values["ledgersync_password_set"])

    def test_settings_save_integration_without_typing_reuses_stored_password(self):
        self.connect()
        settings = self.env["res.config.settings"].create(
            {"ledgersync_base_url": self.sandbox.base_url}
        )
        settings.action_ledgersync_save_integration()
        self.assertEqual(self.connection().state, "connected")

    def test_settings_general_save_verifies_new_credentials(self):
        connection = self.connect()
        # Nothing typed: the general Save leaves the connection alone.
        self.env["res.config.settings"].create({}).execute()
        self.assertEqual(connection.state, "connected")
        logins = self.sandbox.app.stats["login"]
        # New credentials typed, then the general Save: verified, never silently dropped.
        settings = self.env["res.config.settings"].create(
            {"ledgersync_email": "someone@else.test", "ledgersync_password": "other"}
        )
        settings.execute()
        self.assertEqual(self.sandbox.app.stats["login"], logins + 1)
        self.assertEqual(connection.email, "someone@else.test")
        self.assertEqual(connection.state, "failed")
        self.assertEqual(connection.failure_code, "invalid_credentials")
        # The typed password is not kept on the settings row (not even encrypted).
        self.assertNotIn("ledgersync_password_encrypted", settings._fields)

    def test_settings_sync_options_are_saved_and_checked(self):
        connection = self.connect()
        cron = self.env.ref("ledgersync_connector.ir_cron_ledgersync_sync")
        settings = self.env["res.config.settings"].create(
            {
                "ledgersync_history_days": 30,
                "ledgersync_history_start_date": "2026-01-01",
                "ledgersync_sync_interval_hours": 6,
            }
        )
        settings.execute()
        self.assertEqual(connection.history_days, 30)
        self.assertEqual(str(connection.history_start_date), "2026-01-01")
        self.assertEqual(str(connection._history_start_date()), "2026-01-01")
        self.assertEqual((cron.interval_type, cron.interval_number), ("hours", 6))
        fresh = self.env["res.config.settings"].create({})
        self.assertEqual(fresh.ledgersync_sync_interval_hours, 6)
        self.assertEqual(fresh.ledgersync_history_days, 30)
        for bad in ({"ledgersync_history_days": -1}, {"ledgersync_sync_interval_hours": 0}):
            with self.subTest(bad=bad), self.assertRaisesRegex(UserError, "at least 1 hour"):
                self.env["res.config.settings"].create(bad).execute()

    def test_key_rotation_re_encrypts_with_the_new_key(self):
        connection = self.connect()
        new_key = Fernet.generate_key().decode()
        with patch.dict(
            tools.config._runtime_options,
            {"ledgersync_encryption_keys": f"{new_key},{self.encryption_key}"},
        ):
            self.Connection.action_rotate_encryption()
        ciphertext = connection.sudo().password_encrypted
        self.assertEqual(SecretBox(new_key).decrypt(ciphertext), PASSWORD)

    def test_wrong_key_is_a_clear_status_not_plaintext(self):
        connection = self.connect()
        with patch.dict(
            tools.config._runtime_options,
            {"ledgersync_encryption_keys": Fernet.generate_key().decode()},
        ):
            connection._sync()
        self.assertEqual(connection.failure_code, "key_error")
        with patch.dict(tools.config._runtime_options, {"ledgersync_encryption_keys": "not-a-key"}):
            with self.assertRaisesRegex(UserError, "encryption"):
                self.connection().action_connect(DEMO_EMAIL, PASSWORD, self.sandbox.base_url)
