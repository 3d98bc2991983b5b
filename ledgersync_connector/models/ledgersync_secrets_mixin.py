import os
from contextlib import contextmanager

from odoo import api, models, tools
from odoo.exceptions import UserError

from .. import failures
from ..crypto import SecretBox, SecretKeyError, key_file_path, resolve_key_material


class LedgerSyncSecretsMixin(models.AbstractModel):
    """The encryption of a connection's stored secrets (``password_encrypted`` and
    ``token_encrypted``): the key (crypto.py), decryption, key errors as dialogs, and key
    rotation."""

    _name = "ledgersync.secrets.mixin"
    _description = "LedgerSync Encrypted Secrets"

    @api.model
    def _key_file_path(self):
        return key_file_path(tools.config["data_dir"], self.env.cr.dbname)

    @api.model
    def _secret_box(self):
        # A lost key file is not replaced while secrets need it (crypto.py): are there any?
        secrets = ["|", ("password_encrypted", "!=", False), ("token_encrypted", "!=", False)]
        stored = self.sudo().with_context(active_test=False).search_count(secrets, limit=1)
        material = resolve_key_material(
            tools.config.get("ledgersync_encryption_keys"),
            os.environ.get("LEDGERSYNC_ENCRYPTION_KEYS"),
            self._key_file_path(),
            secrets_exist=bool(stored),
        )
        return SecretBox(material)

    @contextmanager
    def _key_errors_as_user_errors(self):
        """A key problem (crypto.SecretKeyError) as a dialog saying what to do."""
        try:
            yield
        except SecretKeyError as error:
            raise UserError(
                "\n".join(failures.describe(self.env, error.code, error.detail))
            ) from error

    @api.model
    def _secret_box_or_raise(self):
        with self._key_errors_as_user_errors():
            return self._secret_box()

    def _decrypted(self, field_name):
        self.ensure_one()
        ciphertext = self.sudo()[field_name]
        return self._secret_box().decrypt(ciphertext) if ciphertext else False

    def action_rotate_encryption(self):
        """Re-encrypt every stored secret with the first configured key (key rotation)."""
        box = self._secret_box_or_raise()
        connections = self.sudo().with_context(active_test=False).search([])
        unreadable = self.browse()
        for connection in connections:
            values = {}
            for field_name in ("password_encrypted", "token_encrypted"):
                ciphertext = connection[field_name]
                if ciphertext and not box.is_current(ciphertext):
                    try:
                        values[field_name] = box.rotate(ciphertext)
                    except SecretKeyError:
                        unreadable |= connection
            if values:
                connection.write(values)
        if unreadable:  # nothing is re-encrypted: the dialog rolls the writes back
            names = ", ".join(unreadable.mapped("display_name"))
            raise UserError("\n".join(failures.describe(self.env, "key_error", names)))
        return True
