"""Turning LedgerSync's JSON into Python values, or a ProtocolError.

Every reader takes the JSON object, the key and a label naming the record (for the
message) and either returns a converted value or raises ProtocolError: KeyError,
TypeError and ValueError never escape from here.
"""

import json
import re
from datetime import date, datetime, timezone
from decimal import Decimal, InvalidOperation

from .. import const
from .errors import ProtocolError

_MISSING = object()
_DATE_RE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}\Z")


def short_repr(value, limit=40):
    """repr() of a server value, cut short so a message stays readable."""
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _reject_constant(name):
    # JSON has no NaN/Infinity; Python's json module accepts them unless told not to.
    raise ValueError(f"invalid JSON constant {name}")


def decode_json(content, what, content_type=None):
    """Parse a response body; numbers with a fraction become Decimal, never float."""
    if not content:
        raise ProtocolError(f"LedgerSync sent an empty answer to {what}.")
    try:
        return json.loads(content, parse_float=Decimal, parse_constant=_reject_constant)
    except (ValueError, RecursionError):  # JSONDecodeError and UnicodeDecodeError are ValueErrors
        kind = (content_type or "unknown type").split(";")[0].strip()
        kind = kind if len(kind) <= 60 else kind[:57] + "..."  # "...": see scrubbing.py
        raise ProtocolError(
            f"LedgerSync's answer to {what} is not valid JSON ({kind}, {len(content)} bytes): "
            "truncated, or the base URL does not point to the LedgerSync API."
        ) from None


def require_object(value, label):
    if not isinstance(value, dict):
        raise ProtocolError(f"{label} is not a JSON object (got {type(value).__name__}).")
    return value


def _get(obj, key, label, required):
    value = obj.get(key, _MISSING)
    if value is _MISSING or value is None:
        if required:
            raise ProtocolError(f"{label} has no '{key}'.")
        return None
    return value


def read_id(obj, key, label):
    """An identifier: a non-empty string (an integer is accepted and turned into one)."""
    value = _get(obj, key, label, required=True)
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    if not isinstance(value, str) or not value.strip():
        raise ProtocolError(f"{label} has an invalid '{key}': {short_repr(value)}.")
    return value


def read_str(obj, key, label, required=False):
    value = _get(obj, key, label, required)
    if value is not None and not isinstance(value, str):
        raise ProtocolError(f"{label} has a non-text '{key}': {short_repr(value)}.")
    return value


def read_choice(obj, key, label, choices):
    value = read_str(obj, key, label, required=True)
    if value not in choices:
        raise ProtocolError(f"{label} has an unknown '{key}': {short_repr(value)}.")
    return value


def read_bool(obj, key, label, default=False):
    value = _get(obj, key, label, required=False)
    if value is None:
        return default
    if not isinstance(value, bool):
        raise ProtocolError(f"{label} has a non-boolean '{key}': {short_repr(value)}.")
    return value


def read_int(obj, key, label, required=False):
    value = _get(obj, key, label, required)
    if value is not None and (isinstance(value, bool) or not isinstance(value, int)):
        raise ProtocolError(f"{label} has a non-integer '{key}': {short_repr(value)}.")
    return value


def read_decimal(obj, key, label, required=False):
    """A money amount: a decimal string ("-42.10"), an integer, or an exact JSON number,
    finite and within ``const.AMOUNT_MAX_INTEGER_DIGITS`` / ``AMOUNT_MAX_DECIMALS``."""
    value = _get(obj, key, label, required)
    if value is None:
        return None
    # bool is an int subclass and float would have lost precision already: refuse both.
    if isinstance(value, (Decimal, int, str)) and not isinstance(value, bool):
        try:
            amount = Decimal(value.strip() if isinstance(value, str) else value)
        except (InvalidOperation, ValueError):
            amount = None
        if amount is not None and amount.is_finite():
            if _within_bounds(amount):
                return amount
            raise ProtocolError(
                f"{label} has an amount '{key}' out of bounds (at most "
                f"{const.AMOUNT_MAX_INTEGER_DIGITS} digits before the decimal point and "
                f"{const.AMOUNT_MAX_DECIMALS} after): {short_repr(value)}."
            )
    raise ProtocolError(f"{label} has an invalid amount '{key}': {short_repr(value)}.")


def _within_bounds(amount):
    """Does a finite Decimal fit the digits an amount may have? Integer arithmetic on its
    digits and exponent only: no Decimal context, so "1e999999999" cannot overflow here."""
    if amount.is_zero():  # "0E+999999999" is just zero
        return True
    _sign, digits, exponent = amount.as_tuple()
    significant = len(digits)
    while digits[significant - 1] == 0:  # trailing zeros are no decimals
        significant -= 1
    decimals = -(exponent + len(digits) - significant)
    integer_digits = amount.adjusted() + 1
    return (
        integer_digits <= const.AMOUNT_MAX_INTEGER_DIGITS and decimals <= const.AMOUNT_MAX_DECIMALS
    )


def read_date(obj, key, label, required=False):
    value = _get(obj, key, label, required)
    if value is None:
        return None
    parsed = _parse_date(value) if isinstance(value, str) else None
    if parsed is None:
        raise ProtocolError(f"{label} has an invalid date '{key}': {short_repr(value)}.")
    return parsed


def _parse_date(text):
    """date from exactly YYYY-MM-DD, or None."""
    if not _DATE_RE.match(text):
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:  # e.g. 2024-02-30
        return None


def read_datetime(obj, key, label, required=False):
    """An ISO 8601 timestamp, returned timezone-aware in UTC (naive ones are taken as UTC)."""
    value = _get(obj, key, label, required)
    if value is None:
        return None
    if isinstance(value, str):
        parsed = parse_timestamp(value)
        if parsed is not None:
            return parsed
    raise ProtocolError(f"{label} has an invalid timestamp '{key}': {short_repr(value)}.")


def parse_timestamp(text):
    """datetime (aware, UTC) from an ISO 8601 string, or None."""
    text = text.strip()
    if text[-1:] in ("Z", "z"):  # fromisoformat() accepts "Z" only from Python 3.11
        text = text[:-1] + "+00:00"
    try:
        moment = datetime.fromisoformat(text)
        if moment.tzinfo is None:
            return moment.replace(tzinfo=timezone.utc)
        return moment.astimezone(timezone.utc)
    except (ValueError, OverflowError):  # OverflowError: year 9999 + an offset west of UTC
        return None


def read_page(payload, what):
    """(items, next_cursor) of a list answer ``{"data": [...], "next_cursor": ...}``."""
    require_object(payload, f"LedgerSync's answer to {what}")
    items = payload.get("data")
    if not isinstance(items, list):
        raise ProtocolError(f"LedgerSync's answer to {what} has no 'data' list.")
    cursor = payload.get("next_cursor")
    if cursor is not None and not isinstance(cursor, str):
        raise ProtocolError(
            f"LedgerSync's answer to {what} has an invalid 'next_cursor': {short_repr(cursor)}."
        )
    return items, cursor or None
