"""LedgerSync's HTTP answers: the JSON of a success, or the typed error of anything else."""

import email.utils
import math
from datetime import datetime, timezone

from . import errors
from .parsing import decode_json

# Sign-in refusals, whatever the status (401 or 403) they come with.
AUTH_ERRORS = {
    "invalid_credentials": errors.InvalidCredentials,
    "subscription_inactive": errors.SubscriptionInactive,
    "account_suspended": errors.AccountSuspended,
    "account_locked": errors.AccountLocked,
}


def json_or_error(response, what, *, login=False, server_text=None):
    """The decoded JSON of a 2xx answer; any other answer raises its typed error.

    ``server_text`` makes a message sent by LedgerSync safe to quote (see scrubbing.py).
    """
    if 200 <= response.status_code < 300:
        return decode_json(response.content, what, response.headers.get("Content-Type"))
    raise error_for(response, what, login=login, server_text=server_text)


def error_for(response, what, *, login=False, server_text=None):
    """The typed error of a non-2xx answer to ``what`` (the login when ``login``)."""
    status = response.status_code
    code, server_message = error_body(response)
    kwargs = {"status": status, "retry_after": retry_after_seconds(response)}
    if status in (401, 403) and code in AUTH_ERRORS and (login or status == 403):
        error_class = AUTH_ERRORS[code]
    elif status == 401:
        error_class = errors.InvalidCredentials if login else errors.TokenRejected
    elif status == 429:
        error_class = errors.RateLimited
    elif status >= 500:
        error_class = errors.ServerError
    elif 400 <= status < 500:
        error_class = errors.RequestRejected
        kwargs["code"] = {403: "forbidden", 404: "not_found"}.get(status, "bad_request")
    else:
        # 3xx (redirects are not followed) or an odd 1xx/2xx-less status.
        return errors.ProtocolError(
            f"LedgerSync answered {what} with HTTP {status}: check the API base URL.",
            status=status,
        )
    message = f"{error_class.default_message} ({what}: HTTP {status})"
    quoted = server_text(server_message) if server_text else None
    if quoted:
        message = f"{message} LedgerSync says: {quoted}"
    return error_class(message, **kwargs)


def error_body(response):
    """(code, message) of an error body ``{"error": {"code", "message"}}``; Nones otherwise."""
    try:
        error = response.json().get("error")
        code, message = error.get("code"), error.get("message")
    except (ValueError, AttributeError, RecursionError):  # not JSON, or not that shape
        return None, None
    return (
        code if isinstance(code, str) else None,
        message if isinstance(message, str) else None,
    )


def retry_after_seconds(response):
    """Retry-After in seconds (delta or HTTP date), None when absent or unreadable."""
    value = (response.headers.get("Retry-After") or "").strip()
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        try:
            moment = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=timezone.utc)
        seconds = (moment - datetime.now(timezone.utc)).total_seconds()
    return max(0.0, seconds) if math.isfinite(seconds) else None
