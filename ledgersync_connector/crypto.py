"""Encryption of secrets at rest (cryptography's Fernet / MultiFernet).

The keys never live in the database: they come from the Odoo configuration file, the
environment, or a key file created once in Odoo's data directory. A database dump alone
therefore reveals no LedgerSync password or token. A lost key file is never replaced by a
new one while the database holds secrets that need it (the caller says whether it does):
that would only hide the loss.

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
    """The encryption keys are missing, malformed, or do not open a stored secret.

    ``code`` says which (the failure codes of failures.py): ``key_error`` (the keys do not
    open a stored secret), ``key_invalid`` (no key, or a malformed one), ``key_missing``
    (the key file is gone while secrets need it), ``key_file_unusable`` (the key file
    cannot be read, created, or is readable by others). ``detail``: the key file's path
    or the position of the malformed key, never a key.
    """

    def __init__(self, message, code="key_error", detail=None):
        super().__init__(message)
        self.code = code
        self.detail = detail


def key_file_path(data_dir, dbname):
    """Where the key file of database ``dbname`` lives, under Odoo's data directory."""
    return Path(data_dir) / "ledgersync_connector" / f"{dbname}.key"


def parse_keys(value):
    """Return the Fernet instances for a comma or whitespace separated list of keys."""
    raw_keys = [part for part in (value or "").replace(",", " ").split() if part]
    if not raw_keys:
        raise SecretKeyError("No encryption key is configured.", code="key_invalid")
    fernets = []
    for position, raw_key in enumerate(raw_keys, start=1):
        try:
            fernets.append(Fernet(raw_key.encode("ascii")))
        except (ValueError, UnicodeEncodeError) as error:
            # Never echo the key itself: say which one is wrong.
            raise SecretKeyError(
                f"Encryption key #{position} is not a valid Fernet key "
                "(32 url-safe base64-encoded bytes, as Fernet.generate_key() prints).",
                code="key_invalid",
                detail=f"#{position}",
            ) from error
    return fernets


def load_or_create_key_file(path, create=True):
    """Read the key file at ``path``; if absent, create it with a new key (mode 0600), or
    with ``create=False`` raise ``SecretKeyError`` (``key_missing``)."""
    path = Path(path)
    try:
        if not path.exists():
            if not create:
                raise SecretKeyError(
                    f"The key file {path} is missing, and stored secrets need it: restore it, "
                    "or configure ledgersync_encryption_keys, or forget the stored secrets.",
                    code="key_missing",
                    detail=str(path),
                )
            _create_key_file(path)
        mode = stat.S_IMODE(path.stat().st_mode)
        if mode & 0o077:
            raise SecretKeyError(
                f"The key file {path} is readable by other users (mode {mode:o}); "
                "restrict it with 'chmod 600'.",
                code="key_file_unusable",
                detail=f"{path}: mode {mode:o}",
            )
        return path.read_text(encoding="ascii").strip()
    except (OSError, UnicodeDecodeError) as error:
        reason = getattr(error, "strerror", None) or type(error).__name__
        raise SecretKeyError(
            f"The key file {path} cannot be read or created: {reason}.",
            code="key_file_unusable",
            detail=f"{path}: {reason}",
        ) from error


def _create_key_file(path):
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
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


def remove_key_file(path):
    """Delete the key file at ``path`` (and its folder, once empty); True if it existed."""
    path = Path(path)
    try:
        path.unlink()
    except FileNotFoundError:
        return False
    with contextlib.suppress(OSError):  # other databases' key files are still there
        path.parent.rmdir()
    return True


def resolve_key_material(
    config_value=None, env_value=None, key_file_path=None, secrets_exist=False
):
    """Pick the key material: configuration file first, then environment, then key file.

    ``secrets_exist``: the database holds secrets encrypted before; a missing key file is
    then an error (``key_missing``), not a reason to make a new key.
    """
    for value in (config_value, env_value):
        if value and str(value).strip():
            return str(value)
    if key_file_path is None:
        raise SecretKeyError(
            "No encryption key is configured and no key file location is known.",
            code="key_invalid",
        )
    return load_or_create_key_file(key_file_path, create=not secrets_exist)


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
