"""Odoo bank statements of an export: their balances from LedgerSync's (pure Python).

LedgerSync gives each bank account's ``current_balance`` today, and its posted
transactions. The balance at the end of a day is today's minus what was posted after
that day; the statement of an export starts at the balance before its first day and,
complete, ends at the balance after its last day. What the statement's lines add up to
beside that is the difference: posted transactions of those days that the export left
out (still to review, say), or data that changed in LedgerSync since.
"""

from decimal import Decimal
from typing import NamedTuple


class LedgerSyncBalances(NamedTuple):
    start: Decimal  # before the statement's first day
    end: Decimal  # after its last day
    current: Decimal  # LedgerSync's current balance today
    posted_after: Decimal  # posted after the statement's last day


def ledgersync_balances(current_balance, posted_in_range, posted_after):
    """The balances LedgerSync implies around a statement's days, from the bank
    account's ``current_balance`` and the sums of its posted transactions within the
    statement's first..last day and after its last day (all in one currency)."""
    current, posted_after = _decimal(current_balance), _decimal(posted_after)
    end = current - posted_after
    return LedgerSyncBalances(end - _decimal(posted_in_range), end, current, posted_after)


def _decimal(value):
    """``value`` (a Decimal from SQL, a float from the ORM, None) as a Decimal; a float
    through its shortest text, so 0.1 stays 0.1."""
    if isinstance(value, float):
        return Decimal(str(value))
    return Decimal(value or 0)


def in_background(line_count, at_once_limit):
    """Whether an export of ``line_count`` lines is built in the background rather than
    in the accountant's request."""
    return line_count > at_once_limit
