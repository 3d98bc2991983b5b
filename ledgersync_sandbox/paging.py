"""Keyset pagination of the listings: ``limit``, opaque cursors bound to their query, and the
merge of generated records with the mutation overlay.

A cursor carries the id of the last record served: the next page starts after it, so a page
never repeats or skips records when data changes between pages. It also carries a
fingerprint of the query, so a cursor handed to another query is refused (400).
"""

import base64
import binascii
import hashlib
import json
import re
from bisect import bisect_right

from .config import DEFAULT_LIMIT, MAX_LIMIT
from .errors import bad_request


def parse_limit(value):
    """``limit`` (int, or text from a query string) -> an int in 1..MAX_LIMIT; default
    DEFAULT_LIMIT when absent; anything else is 400."""
    if value is None or value == "":
        return DEFAULT_LIMIT
    if isinstance(value, str):
        if not re.fullmatch(r"\+?\d{1,9}", value.strip()):
            raise bad_request(f"limit must be an integer between 1 and {MAX_LIMIT}")
        value = int(value)
    if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= MAX_LIMIT:
        raise bad_request(f"limit must be an integer between 1 and {MAX_LIMIT}")
    return value


def _fingerprint(query):
    return hashlib.sha256(repr(query).encode()).hexdigest()[:12]


def encode_cursor(last_id, query):
    """The cursor of the page after ``last_id`` for ``query`` (a tuple naming the query and
    its filters); None when there is no next page (``last_id`` None)."""
    if last_id is None:
        return None
    raw = json.dumps([1, last_id, _fingerprint(query)], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor, query):
    """The last id served before ``cursor``, None for the first page; 400 when the cursor is
    not one of ours or belongs to another query."""
    if cursor is None or cursor == "":
        return None
    try:
        text = str(cursor)
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
        version, last_id, fingerprint = json.loads(raw)
    except (ValueError, TypeError, binascii.Error) as exc:
        raise bad_request("cursor is not valid") from exc
    if version != 1 or not isinstance(last_id, str):
        raise bad_request("cursor is not valid")
    if fingerprint != _fingerprint(query):
        raise bad_request("cursor belongs to another query")
    return last_id


def keyset_page(low, high, id_of, base_record, extras, after, limit):
    """One page of generated records ``low..high-1`` (ids increasing with the index) merged
    with ``extras`` (sorted (id, record) pairs from the overlay), starting after id ``after``.

    ``base_record(i)`` returns None for records the overlay replaces or removes.
    Returns (records, id of the last record when there is a next page, else None).
    """
    if after is not None:
        a, b = low, high
        while a < b:
            mid = (a + b) // 2
            if id_of(mid) <= after:
                a = mid + 1
            else:
                b = mid
        low = a
    j = bisect_right([ident for ident, _ in extras], after) if after is not None else 0
    out = []
    i = low
    while len(out) <= limit:
        base_id = id_of(i) if i < high else None
        extra_id, extra = extras[j] if j < len(extras) else (None, None)
        if base_id is None and extra_id is None:
            break
        if extra_id is None or (base_id is not None and base_id < extra_id):
            record = base_record(i)
            i += 1
            if record is not None:
                out.append(record)
        else:
            out.append(extra)
            j += 1
    more = len(out) > limit
    out = out[:limit]
    return out, (out[-1]["id"] if more else None)
