"""Encryption of secrets at rest (cryptography's Fernet / MultiFernet).

The keys never live in the database: they come from the Odoo configuration file, the
environment, or a key file created once in Odoo's data directory. A database dump alone
therefore reveals no LedgerSync password or token.

Several keys may be configured, comma-separated: the first one encrypts, all of them
decrypt. That is how keys are rotated (see the README).
"""

import contextlib
import os
import secrets
import stat
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken, MultiFernet


class SecretKeyError(Exception):
    """The encryption keys are missing, malformed, or do not open a stored secret."""


def parse_keys(value):
    """Return the Fernet instances for a comma or whitespace separated list of keys."""
    raw_keys = [part for part in (value or "").replace(",", " ").split() if part]
    if not raw_keys:
        raise SecretKeyError("No encryption key is configured.")
    fernets = []
    for position, raw_key in enumerate(raw_keys, start=1):
        try:
            fernets.append(Fernet(raw_key.encode("ascii")))
        except (ValueError, UnicodeEncodeError) as error:
            # Never echo the key itself: say which one is wrong.
            raise SecretKeyError(
                f"Encryption key #{position} is not a valid Fernet key "
                "(32 url-safe base64-encoded bytes, as Fernet.generate_key() prints)."
            ) from error
    return fernets


def load_or_create_key_file(path):
    """Read the key file at ``path``; create it with a new key (mode 0600) if absent."""
    path = Path(path)
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    if not path.exists():
        # Write a complete file aside, then link it into place: link() fails if another
        # worker got there first, so every reader sees one whole key, never a partial file.
        temporary = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(descriptor, "wb") as key_file:
                key_file.write(Fernet.generate_key() + b"\n")
                key_file.flush()
                os.fsync(key_file.fileno())
            with contextlib.suppress(FileExistsError):  # another worker linked first
                os.link(temporary, path)
        finally:
            temporary.unlink(missing_ok=True)
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        raise SecretKeyError(
            f"The key file {path} is readable by other users (mode {mode:o}); "
            "restrict it with 'chmod 600'."
        )
    return path.read_text(encoding="ascii").strip()


def resolve_key_material(config_value=None, env_value=None, key_file_path=None):
    """Pick the key material: configuration file first, then environment, then key file."""
    for value in (config_value, env_value):
        if value and str(value).strip():
            return str(value)
    if key_file_path is None:
        raise SecretKeyError("No encryption key is configured and no key file location is known.")
    return load_or_create_key_file(key_file_path)


class SecretBox:
    """Encrypts and decrypts short secrets (passwords, tokens) as text tokens."""

    def __init__(self, key_material):
        self._fernets = parse_keys(key_material)
        self._multi = MultiFernet(self._fernets)

    def __repr__(self):
        return f"<SecretBox keys={len(self._fernets)}>"

    def encrypt(self, plaintext):
        if not isinstance(plaintext, str) or not plaintext:
            raise ValueError("Only a non-empty text secret can be encrypted.")
        return self._multi.encrypt(plaintext.encode("utf-8")).decode("ascii")

    def decrypt(self, token):
        try:
            return self._multi.decrypt(token.encode("ascii")).decode("utf-8")
        except (InvalidToken, UnicodeError, AttributeError) as error:
            raise SecretKeyError(
                "A stored secret cannot be decrypted with the configured encryption keys."
            ) from error

    def rotate(self, token):
        """Re-encrypt ``token`` with the first (current) key."""
        try:
            return self._multi.rotate(token.encode("ascii")).decode("ascii")
        except (InvalidToken, UnicodeError, AttributeError) as error:
            raise SecretKeyError(
                "A stored secret cannot be decrypted with the configured encryption keys."
            ) from error

    def is_current(self, token):
        """True when ``token`` was encrypted with the first (current) key."""
        try:
            self._fernets[0].decrypt(token.encode("ascii"))
        except (InvalidToken, UnicodeError, AttributeError):
            return False
        return True
