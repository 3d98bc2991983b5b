"""Typed errors of the LedgerSync API client.

Every error carries a stable snake_case ``code`` (the UI picks its words from it), the
HTTP ``status`` when there was one, and ``retry_after`` (seconds) when LedgerSync asked
us to wait. Messages never contain the password or the token. A default message is the
reason that ``failures.FAILURES`` gives for the error's code, in English.
"""

from ..failures import FAILURES, english


def _reason(code):
    return english(FAILURES[code].reason)


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
    default_message = _reason(code)


class SubscriptionInactive(AuthenticationError):
    code = "subscription_inactive"
    default_message = _reason(code)


class AccountSuspended(AuthenticationError):
    code = "account_suspended"
    default_message = _reason(code)


class AccountLocked(AuthenticationError):
    code = "account_locked"
    default_message = _reason(code)


class TokenRejected(AuthenticationError):
    code = "token_rejected"
    default_message = _reason(code)


# -- transient: trying again later may work -------------------------------------------


class TransientError(LedgerSyncError):
    code = "transient_error"


class Unreachable(TransientError):
    """No answer: refused, DNS failure (code ``unreachable``) or too slow (code ``timeout``)."""

    code = "unreachable"
    default_message = _reason(code)

    @classmethod
    def timeout(cls, message=None):
        """LedgerSync did not answer in time (code ``timeout``)."""
        return cls(message or _reason("timeout"), code="timeout")


class RateLimited(TransientError):
    code = "rate_limited"
    default_message = _reason(code)


class ServerError(TransientError):
    code = "server_error"
    default_message = _reason(code)


# -- the rest --------------------------------------------------------------------------


class ProtocolError(LedgerSyncError):
    """The answer is not what the contract says: not JSON, truncated, wrong shape."""

    code = "protocol_error"
    default_message = _reason(code)


class RequestRejected(LedgerSyncError):
    """A 4xx other than authentication: code ``bad_request``, ``not_found`` or ``forbidden``."""

    code = "bad_request"
    default_message = _reason(code)


class OutOfTime(LedgerSyncError):
    """The caller's time ran out between two pages of a listing (see ``time_left``)."""

    code = "out_of_time"
    default_message = _reason(code)


class ConfigurationError(LedgerSyncError):
    code = "invalid_base_url"
    default_message = "The LedgerSync API base URL is not valid."
