"""Typed errors of the LedgerSync API client.

Every error carries a stable snake_case ``code`` (the UI picks its words from it), the
HTTP ``status`` when there was one, and ``retry_after`` (seconds) when LedgerSync asked
us to wait. Messages never contain the password or the token.
"""


class LedgerSyncError(Exception):
    """Base class of every error raised by the API client."""

    code = "ledgersync_error"
    default_message = "LedgerSync request failed."

    def __init__(self, message=None, *, status=None, retry_after=None, code=None):
        self.message = message or self.default_message
        super().__init__(self.message)
        self.status = status
        self.retry_after = retry_after
        if code:
            self.code = code

    def __str__(self):
        return self.message

    def replace_message(self, message):
        """Rewrite the message in place (used to scrub secrets before the error escapes)."""
        self.message = message
        self.args = (message,)


# -- authentication: logging in again cannot help -------------------------------------


class AuthenticationError(LedgerSyncError):
    code = "authentication_failed"
    default_message = "LedgerSync refused to sign in."


class InvalidCredentials(AuthenticationError):
    code = "invalid_credentials"
    default_message = "LedgerSync did not accept the email and password."


class SubscriptionInactive(AuthenticationError):
    code = "subscription_inactive"
    default_message = "The LedgerSync subscription is not active."


class AccountSuspended(AuthenticationError):
    code = "account_suspended"
    default_message = "The LedgerSync account is suspended."


class AccountLocked(AuthenticationError):
    code = "account_locked"
    default_message = "The LedgerSync account is locked."


class TokenRejected(AuthenticationError):
    code = "token_rejected"
    default_message = "LedgerSync rejected the session even after signing in again."


# -- transient: trying again later may work -------------------------------------------


class TransientError(LedgerSyncError):
    code = "transient_error"


class Unreachable(TransientError):
    """No answer: refused, DNS failure (code ``unreachable``) or too slow (code ``timeout``)."""

    code = "unreachable"
    default_message = "LedgerSync could not be reached."


class RateLimited(TransientError):
    code = "rate_limited"
    default_message = "LedgerSync asked to slow down (too many requests)."


class ServerError(TransientError):
    code = "server_error"
    default_message = "LedgerSync answered with a server error."


# -- the rest --------------------------------------------------------------------------


class ProtocolError(LedgerSyncError):
    """The answer is not what the contract says: not JSON, truncated, wrong shape."""

    code = "protocol_error"
    default_message = "LedgerSync sent an answer this connector does not understand."


class RequestRejected(LedgerSyncError):
    """A 4xx other than authentication: code ``bad_request``, ``not_found`` or ``forbidden``."""

    code = "bad_request"
    default_message = "LedgerSync refused the request."


class ConfigurationError(LedgerSyncError):
    code = "invalid_base_url"
    default_message = "The LedgerSync API base URL is not valid."
