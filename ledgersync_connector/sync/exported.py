"""Exported transactions that LedgerSync changed since: what differs from the books.

No Odoo import. Once a transaction is exported, its bank statement line is what is in the
books: the sync keeps the transaction mirroring LedgerSync and never touches the line, so
the two may part. ``export_differences`` says how; queries.flag_changed_after_export is
the same comparison in SQL (the stored flag the sync sets).
"""

from dataclasses import dataclass
from datetime import date as Date
from decimal import ROUND_HALF_UP, Decimal

# Kinds of difference, in the order they are shown: the transaction is gone or no longer
# final first, then the values that differ.
DELETED = "deleted"  # archived: deleted (or vanished) in LedgerSync
PENDING = "pending"  # no longer posted at the bank
AMOUNT = "amount"
DATE = "date"


@dataclass(frozen=True)
class Difference:
    """One difference; ``exported`` and ``current`` are the line's and the transaction's
    values (None for DELETED and PENDING)."""

    kind: str
    exported: Decimal | Date | None = None
    current: Decimal | Date | None = None


def _rounded(amount, decimal_places):
    """``amount`` (a float of the ORM or a Decimal) at ``decimal_places``, ties away from
    zero as PostgreSQL's ROUND(numeric) does."""
    step = Decimal(1).scaleb(-decimal_places)
    return Decimal(str(amount or 0)).quantize(step, rounding=ROUND_HALF_UP)


def export_differences(
    exported_amount,
    exported_date,
    amount,
    date,
    status,
    active,
    decimal_places=2,
):
    """The differences between a statement line (``exported_amount``, ``exported_date``)
    and the transaction exported to it now (``amount``, ``date``, LedgerSync ``status``,
    ``active``), as a tuple of ``Difference``; empty when they agree. Amounts are compared
    at the currency's ``decimal_places`` (floats from the ORM, Decimals from SQL)."""
    differences = []
    if not active:
        differences.append(Difference(DELETED))
    if status != "posted":
        differences.append(Difference(PENDING))
    exported_rounded = _rounded(exported_amount, decimal_places)
    current_rounded = _rounded(amount, decimal_places)
    if exported_rounded != current_rounded:
        differences.append(Difference(AMOUNT, exported_rounded, current_rounded))
    if exported_date != date:
        differences.append(Difference(DATE, exported_date, date))
    return tuple(differences)
