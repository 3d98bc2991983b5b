"""A wrong, lost or unusable encryption key: a clear status and clear dialogs, never a
traceback, and never a new key file while stored secrets need the old one."""

import os
import tempfile
from pathlib import Path
from unittest.mock import patch

from cryptography.fernet import Fernet

from odoo import tools
from odoo.exceptions import UserError
from odoo.tests import tagged

from ..hooks import uninstall_hook
from .common import DEMO_EMAIL, PASSWORD, LedgerSyncCase


@tagged("post_install", "-at_install")
class TestEncryptionKeys(LedgerSyncCase):
    def use_key(self, keys):
        """Configure ``keys`` (the option of the Odoo configuration file) for the test."""
        patcher = patch.dict(tools.config._runtime_options, {"ledgersync_encryption_keys": keys})
        patcher.start()
        self.addCleanup(patcher.stop)

    def use_key_file(self):
        """No key configured: the key lives in a key file, in a folder of this test."""
        self.use_key("")
        environ = patch.dict(os.environ)
        environ.start()
        self.addCleanup(environ.stop)
        os.environ.pop("LEDGERSYNC_ENCRYPTION_KEYS", None)
        folder = tempfile.TemporaryDirectory()
        self.addCleanup(folder.cleanup)
        key_file = Path(folder.name) / "data" / "ledgersync_connector" / "test.key"
        patcher = patch.object(type(self.Connection), "_key_file_path", lambda _self: key_file)
        patcher.start()
        self.addCleanup(patcher.stop)
        return key_file

    def settings(self, **values):
        return self.env["res.config.settings"].create(
            {"ledgersync_base_url": self.sandbox.base_url, **values}
        )

    def test_wrong_key_save_integration_is_a_clear_dialog(self):
        connection = self.connect()
        self.use_key(Fernet.generate_key().decode())
        # Save Integration without typing the password: the stored one cannot be opened.
        with self.assertRaisesRegex(UserError, "cannot be decrypted") as caught:
            self.settings().action_ledgersync_save_integration()
        self.assertIn("type the password again", str(caught.exception))
        # The cron says the same in the status.
        connection._sync()
        self.assertEqual(connection.state, "failed")
        self.assertEqual(connection.failure_code, "key_error")
        status = self.settings()
        self.assertIn("cannot be decrypted", status.ledgersync_failure_reason)
        self.assertIn("type the password again", status.ledgersync_failure_hint)
        # Typing the password again stores it with the current key.
        self.settings(ledgersync_password=PASSWORD).action_ledgersync_save_integration()
        self.assertEqual(connection.state, "connected")

    def test_re_encrypt_with_keys_that_open_nothing_is_a_clear_dialog(self):
        connection = self.connect()
        ciphertext = connection.sudo().password_encrypted
        self.use_key(Fernet.generate_key().decode())
        with self.assertRaisesRegex(UserError, "cannot be decrypted") as caught:
            connection.action_rotate_encryption()
        self.assertIn(connection.display_name, str(caught.exception))
        self.assertEqual(connection.sudo().password_encrypted, ciphertext)

    def test_malformed_key_is_a_clear_status_and_dialog(self):
        connection = self.connect()
        self.use_key("not-a-fernet-key")
        connection._sync()
        self.assertEqual(connection.failure_code, "key_invalid")
        self.assertIn("ledgersync_encryption_keys", connection.failure_hint)
        with self.assertRaisesRegex(UserError, "not valid"):
            connection.action_rotate_encryption()

    def test_lost_key_file_is_not_replaced_while_secrets_need_it(self):
        key_file = self.use_key_file()
        connection = self.connect()
        self.assertEqual(connection.state, "connected")
        self.assertTrue(key_file.is_file())
        key_file.unlink()
        # The cron: a clear status, and no new key.
        connection._sync()
        self.assertFalse(key_file.exists(), "no new key while secrets need the lost one")
        self.assertEqual(connection.state, "failed")
        self.assertEqual(connection.failure_code, "key_missing")
        status = self.settings()
        self.assertIn("missing", status.ledgersync_failure_reason)
        self.assertIn(str(key_file), status.ledgersync_failure_reason)
        for words in ("Restore the key file", "ledgersync_encryption_keys", "Disconnect"):
            self.assertIn(words, status.ledgersync_failure_hint)
        # Typing the password again is refused with the same explanation, in a dialog.
        with self.assertRaisesRegex(UserError, "missing") as caught:
            self.settings(ledgersync_password=PASSWORD).action_ledgersync_save_integration()
        self.assertIn("Disconnect", str(caught.exception))
        self.assertFalse(key_file.exists())
        # Disconnect forgets the secrets: then a new key file is made for the new ones.
        self.settings().action_ledgersync_disconnect()
        self.settings(
            ledgersync_email=DEMO_EMAIL, ledgersync_password=PASSWORD
        ).action_ledgersync_save_integration()
        self.assertTrue(key_file.is_file())
        self.assertEqual(connection.state, "connected")

    def test_unusable_key_file_is_a_clear_status_and_dialog(self):
        key_file = self.use_key_file()
        # The key file's folder cannot be made: a file stands where it should be.
        key_file.parent.parent.mkdir(parents=True)
        key_file.parent.write_text("not a folder")
        with self.assertRaisesRegex(UserError, "key file cannot be used"):
            self.connect()
        with self.assertRaisesRegex(UserError, "key file cannot be used"):
            self.settings(ledgersync_email=DEMO_EMAIL, ledgersync_password=PASSWORD)
        # A key file that others may read is not used: a clear status at the next sync.
        key_file.parent.unlink()
        connection = self.connect()
        key_file.chmod(0o644)
        connection._sync()
        self.assertEqual(connection.state, "failed")
        self.assertEqual(connection.failure_code, "key_file_unusable")
        self.assertIn(str(key_file), connection.failure_reason)
        self.assertIn("chmod 600", connection.failure_hint)

    def test_uninstall_removes_the_key_file_once_committed(self):
        key_file = self.use_key_file()
        self.connect()
        self.assertTrue(key_file.is_file())
        self.env.cr.postcommit.clear()  # only the hook's own callback below
        uninstall_hook(self.env)
        self.assertTrue(key_file.is_file(), "kept until the uninstall is committed")
        self.env.cr.postcommit.run()  # what the commit of the uninstall runs
        self.assertFalse(key_file.exists())
        self.assertFalse(key_file.parent.exists())
