from odoo.exceptions import AccessError, UserError
from odoo.tests import new_test_user, tagged

from ..crypto import SecretBox, SecretKeyError
from .common import (
    DEMO_EMAIL,
    OTHER_EMAIL,
    PASSWORD,
    LedgerSyncCase,
    SandboxConfig,
    serve_in_thread,
)

SECRET_FIELDS = ("password_encrypted", "token_encrypted")


@tagged("post_install", "-at_install")
class TestCredentialsStayWithTheirServer(LedgerSyncCase):
    """The stored password goes only to the server and the email it was typed for."""

    sandbox_config = {"clients": 1, "accounts_per_client": 1, "transactions_per_account": 1}

    def test_new_base_url_or_email_needs_the_password_typed_again(self):
        connection = self.connect()
        self.assertEqual(connection.state, "connected")
        Settings = self.env["res.config.settings"]
        with serve_in_thread(SandboxConfig(**self.sandbox_config)) as attacker:
            attempts = [
                ("save_integration", {"ledgersync_base_url": attacker.base_url}),
                ("execute", {"ledgersync_base_url": attacker.base_url}),
                ("save_integration", {"ledgersync_email": OTHER_EMAIL}),
                ("execute", {"ledgersync_email": OTHER_EMAIL}),
            ]
            for button, values in attempts:
                with self.subTest(button=button, values=values):
                    settings = Settings.create(values)
                    method = (
                        settings.action_ledgersync_save_integration
                        if button == "save_integration"
                        else settings.execute
                    )
                    with self.assertRaisesRegex(UserError, "password"), self.env.cr.savepoint():
                        method()
            self.assertEqual(attacker.app.stats["login"], 0)
        self.assertEqual(connection.base_url, self.sandbox.base_url)
        self.assertEqual(connection.email, DEMO_EMAIL)
        self.assertEqual(connection.state, "connected")
        # Typed again, the password goes with the new email.
        logins = self.sandbox.app.stats["login"]
        settings = Settings.create(
            {"ledgersync_email": OTHER_EMAIL, "ledgersync_password": PASSWORD}
        )
        settings.action_ledgersync_save_integration()
        self.assertEqual(self.sandbox.app.stats["login"], logins + 1)
        self.assertEqual(self.connection().email, OTHER_EMAIL)

    def test_writing_the_base_url_validates_it_and_forgets_the_secrets(self):
        connection = self.connect()
        self.assertTrue(connection.sudo().token_encrypted)
        for bad_url in (
            "http://ledgersync.attacker.example",
            "ftp://localhost",
            "https://user:secret@ledgersync.attacker.example",
            "",
        ):
            with self.subTest(url=bad_url), self.assertRaisesRegex(UserError, "https://"):
                connection.write({"base_url": bad_url})
        with self.assertRaisesRegex(UserError, "https://"):
            self.Connection.create(
                {
                    "company_id": self.company.id,
                    "base_url": "http://attacker.example",
                    "active": False,
                }
            )
        self.assertTrue(connection.has_password)
        connection.write({"base_url": "https://ledgersync.attacker.example/"})
        self.assertEqual(connection.base_url, "https://ledgersync.attacker.example")
        self.assertFalse(connection.has_password)
        self.assertFalse(connection.sudo().password_encrypted)
        self.assertFalse(connection.sudo().token_encrypted)
        self.assertFalse(connection._can_sync())
        self.assertEqual(connection.state, "disconnected")


@tagged("post_install", "-at_install")
class TestSecretsNeverReadBack(LedgerSyncCase):
    sandbox_config = {"clients": 1, "accounts_per_client": 1, "transactions_per_account": 1}

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.other_admin = new_test_user(
            cls.env, login="ledgersync_other_admin", groups="base.group_system"
        )

    def test_no_rpc_path_returns_the_ciphertext(self):
        connection = self.connect()
        self.assertTrue(connection.sudo().password_encrypted)
        self.assertTrue(connection.sudo().token_encrypted)
        for user in (self.env.ref("base.user_admin"), self.other_admin):
            record = connection.with_user(user)
            Connection = self.Connection.with_user(user)
            self.assertFalse(set(SECRET_FIELDS) & set(record.read()[0]))
            self.assertFalse(set(SECRET_FIELDS) & set(Connection.fields_get()))
            self.assertFalse(set(SECRET_FIELDS) & set(Connection.fields_get(SECRET_FIELDS)))
            for name in SECRET_FIELDS:
                calls = {
                    "read": lambda r=record, n=name: r.read([n]),
                    "search_read": lambda r=record, n=name: r.search_read([("id", "=", r.id)], [n]),
                    "web_read": lambda r=record, n=name: r.web_read({n: {}}),
                    "web_search_read": lambda r=record, n=name: r.web_search_read(
                        [("id", "=", r.id)], {n: {}}
                    ),
                    "export_data": lambda r=record, n=name: r.export_data([n]),
                    "read_group": lambda r=record, n=name: r.formatted_read_group(
                        [], [n], ["__count"]
                    ),
                    "search": lambda r=record, n=name: r.search([(n, "like", "gAAAA")]),
                }
                for path, call in calls.items():
                    with self.subTest(user=user.login, field=name, path=path):
                        with self.assertRaises(AccessError):
                            call()
            with self.subTest(user=user.login, path="settings"):
                Settings = self.env["res.config.settings"].with_user(user)
                self.assertFalse([name for name in Settings.fields_get() if "encrypted" in name])
        for name in SECRET_FIELDS:
            field = self.Connection._fields[name]
            self.assertFalse(field.copy)
            self.assertFalse(field.prefetch)
            self.assertFalse(field.exportable)

    def _settings_row_secrets(self, settings, password):
        """The columns of the settings row that hold ``password`` in any readable form."""
        self.env.flush_all()
        self.env.cr.execute("SELECT * FROM res_config_settings WHERE id = %s", [settings.id])
        row = self.env.cr.dictfetchone()
        box = SecretBox(self.encryption_key)
        found = []
        for column, value in row.items():
            if not isinstance(value, str) or not value:
                continue
            if password in value:
                found.append(column)
                continue
            try:
                if box.decrypt(value) == password:
                    found.append(column)
            except SecretKeyError:
                continue
        return found

    def test_typed_password_is_never_stored_on_the_settings_row(self):
        Settings = self.env["res.config.settings"]
        # The web client saves the settings (one request), then calls the button (another):
        # after the first, nothing of the typed password may sit in the transient row,
        # whatever the outcome of the verification.
        for password, state in (("wrong-password", "failed"), (PASSWORD, "connected")):
            with self.subTest(password=password):
                settings = Settings.create(
                    {
                        "ledgersync_email": DEMO_EMAIL,
                        "ledgersync_password": password,
                        "ledgersync_base_url": self.sandbox.base_url,
                    }
                )
                self.assertEqual(self._settings_row_secrets(settings, password), [])
                settings.action_ledgersync_save_integration()
                self.assertEqual(self.connection().state, state)
                self.assertEqual(self._settings_row_secrets(settings, password), [])
        # The general Save with a typed password: verified once, nothing left on the row.
        logins = self.sandbox.app.stats["login"]
        settings = Settings.create(
            {"ledgersync_password": PASSWORD, "ledgersync_base_url": self.sandbox.base_url}
        )
        settings.execute()
        self.assertEqual(self.sandbox.app.stats["login"], logins + 1)
        self.assertEqual(self.connection().state, "connected")
        self.assertEqual(self._settings_row_secrets(settings, PASSWORD), [])
        self.assertFalse([name for name in Settings._fields if "encrypted" in name])
