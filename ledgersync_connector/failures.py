"""What each failure code means, in plain words: the one table of these texts.

Every failure has a stable snake_case code (the API client's errors, the sync's currency
error, the connection's own checks); this table gives, for each code, the reason shown to
the administrator and what they can do about it. The API client's errors take their
default message from it too (``english``), so each text is written once.

Inside Odoo the texts are lazy translations (``self.env._(text)`` or ``translate`` turns
one into the user's language; Odoo's exporter puts every ``_lt(...)`` text in the .pot).
Imported without Odoo (the API client on its own, the pure tests) they are plain English.
"""

from typing import NamedTuple

if __name__.startswith("odoo.addons."):
    from odoo.tools.translate import LazyTranslate

    _lt = LazyTranslate(__name__)
else:

    def _lt(source):
        return source


class Failure(NamedTuple):
    reason: object  # what happened (Odoo's LazyGettext, or str without Odoo)
    hint: object = None  # what the administrator can do


FAILURES = {
    "invalid_credentials": Failure(
        _lt("LedgerSync did not accept this email and password."),
        _lt(
            "Type the email and password you use to sign in to LedgerSync and press "
            "Save Integration; a password changed in LedgerSync must be typed here too. "
            "No further sign-in is attempted until you do, because LedgerSync locks an "
            "account after repeated wrong passwords."
        ),
    ),
    "subscription_inactive": Failure(
        _lt("The LedgerSync subscription of this account is not active."),
        _lt("Activate or renew the subscription in LedgerSync, then press Save Integration again."),
    ),
    "account_suspended": Failure(
        _lt("This LedgerSync account is suspended."),
        _lt(
            "Contact LedgerSync support to have the account restored, then press "
            "Save Integration again."
        ),
    ),
    "account_locked": Failure(
        _lt("This LedgerSync account is locked after too many failed sign-ins."),
        _lt(
            'Unlock it in LedgerSync ("I have been locked out of my account"), '
            "then type the password here and press Save Integration."
        ),
    ),
    "token_rejected": Failure(
        _lt("LedgerSync rejected the session even after signing in again."),
        _lt("Press Save Integration to sign in again."),
    ),
    "no_clients": Failure(
        _lt("The LedgerSync firm has no clients yet."),
        _lt(
            "Add at least one client in LedgerSync and connect its bank accounts, "
            "then press Save Integration again."
        ),
    ),
    "timeout": Failure(
        _lt("LedgerSync did not answer in time."),
        _lt(
            "LedgerSync may be busy or unreachable from this server: check the "
            "server's internet access and the API base URL, then try again in a few "
            "minutes."
        ),
    ),
    "unreachable": Failure(
        _lt("LedgerSync could not be reached."),
        _lt("Check the API base URL and that this server can reach the internet, then try again."),
    ),
    "rate_limited": Failure(
        _lt("LedgerSync asked to slow down (too many requests)."),
        _lt("Wait a minute, then press Save Integration again."),
    ),
    "server_error": Failure(
        _lt("LedgerSync answered with a server error."),
        _lt("This is usually temporary on LedgerSync's side: try again in a few minutes."),
    ),
    "protocol_error": Failure(
        _lt("LedgerSync sent an answer this connector does not understand."),
        _lt(
            "Check that the API base URL points to the LedgerSync API itself, not to "
            "a web page or a proxy."
        ),
    ),
    "invalid_base_url": Failure(
        _lt("The API base URL is not allowed on this Odoo server."),
        _lt(
            "Use LedgerSync's https address, or have the Odoo administrator list the host in "
            "the ledgersync_allowed_hosts option (see the README), then press Save "
            "Integration again."
        ),
    ),
    # A sync error of one bank account: a page loop stopped because the time ran out.
    "out_of_time": Failure(
        _lt(
            "The sync of this bank account ran out of time: what was loaded is kept, and "
            "the next sync goes on from there."
        ),
        _lt(
            "Nothing to do if the next sync completes it; if this comes back for the same "
            "bank account, check that the API base URL points to LedgerSync itself."
        ),
    ),
    # Also the words for any code this table does not know (see ``failure``).
    "bad_request": Failure(
        _lt("LedgerSync refused the request."),
        _lt("Check the API base URL and the credentials, then try again."),
    ),
    # The encryption key (crypto.SecretKeyError's codes); the detail names the key file.
    "key_error": Failure(
        _lt("The stored credentials cannot be decrypted with the configured encryption key."),
        _lt(
            "Restore the encryption key this database used (its key file, or the "
            "ledgersync_encryption_keys option: see the README), or type the password again "
            "and press Save Integration."
        ),
    ),
    "key_missing": Failure(
        _lt(
            "The encryption key file of this database is missing, and the stored "
            "credentials need it."
        ),
        _lt(
            "Restore the key file from a backup (or set the ledgersync_encryption_keys "
            "option to its key and restart Odoo). Without it, press Disconnect (in every "
            "company connected to LedgerSync) to forget the stored password and token, "
            "then type the password again and press Save Integration: a new key is made."
        ),
    ),
    "key_invalid": Failure(
        _lt("The configured encryption key is not valid."),
        _lt(
            "Fix the ledgersync_encryption_keys option (or the LEDGERSYNC_ENCRYPTION_KEYS "
            "variable): comma-separated Fernet keys, see the README. Then restart Odoo."
        ),
    ),
    "key_file_unusable": Failure(
        _lt("The encryption key file cannot be used."),
        _lt(
            "The key file must be readable by the Odoo user only (chmod 600), in a folder "
            "Odoo can write to; or set the ledgersync_encryption_keys option (see the "
            "README) and restart Odoo."
        ),
    ),
    # A sync error of one bank account; the reason says what to do. Placeholder: code.
    "currency_unknown": Failure(
        _lt(
            "Currency %(code)s is unknown to Odoo, so this bank account's transactions "
            "cannot be stored: check the currency of the account in LedgerSync, or add the "
            "currency in Odoo (Invoicing or Accounting > Configuration > Currencies), then "
            "sync again."
        ),
    ),
}


def failure(code):
    """The texts of ``code``; a code the table does not know reads as a refused request."""
    return FAILURES.get(code) or FAILURES["bad_request"]


def english(text):
    """A text of the table untranslated, as plain ``str`` (the API's error messages)."""
    # Odoo's lazy text gives back its source itself for en_US.
    return text if isinstance(text, str) else text._translate("en_US")


def translate(env, text, **params):
    """A text of the table in the language of ``env``, its placeholders filled from ``params``."""
    translated = env._(text)
    return translated % params if params else translated


def describe(env, code, detail=None):
    """Plain words for ``code`` in the language of ``env``: ``(reason, hint)``, what happened
    (followed by ``detail``) and what the administrator can do; ``(False, False)`` without."""
    if not code:
        return False, False
    entry = failure(code)
    reason = translate(env, entry.reason)
    hint = translate(env, entry.hint) if entry.hint else False
    return (f"{reason} ({detail})" if detail else reason), hint


def describe_unexpected_error(env, error):
    """A short, secret-free description of an error the sync does not expect: its type
    only (its text may hold anything); the traceback goes to the server log."""
    return env._(
        "Unexpected error (%(error)s): the sync stopped. The server log has the details; "
        "the next sync tries again.",
        error=type(error).__name__,
    )


def describe_error(env, error):
    """A short, secret-free description of a sync error for the account and the run."""
    if hasattr(error, "currency_code"):  # sync.mapping.CurrencyError
        return translate(env, failure(error.code).reason, code=error.currency_code or "(none)")
    code = getattr(error, "code", type(error).__name__)
    return f"{code}: {error}"[:500]
