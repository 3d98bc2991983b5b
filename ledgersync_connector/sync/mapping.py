"""Pure mapping from API records to column values, and the per-page diff.

No Odoo import: the engine (sync/engine.py) turns a page into a ``PagePlan`` here, then
applies it with a handful of SQL statements.
"""

import hashlib
from dataclasses import dataclass, field
from datetime import timezone

# Columns of ledgersync_transaction that LedgerSync owns; the content hash covers them
# all, so an unchanged transaction costs no write.
SYNCED_COLUMNS = (
    "date",
    "description",
    "reference",
    "amount",
    "currency_code",
    "ledgersync_status",
    "vendor_name",
    "gl_code",
    "match_type",
)
MATCH_TYPES = frozenset({"rule", "ai", "semantic"})


class CurrencyError(Exception):
    """A currency code that Odoo does not know, or that is not active."""

    def __init__(self, code):
        super().__init__(code)
        self.code = code


def naive_utc(moment):
    """An aware API timestamp as the naive UTC datetime Odoo stores (None stays None)."""
    return moment.astimezone(timezone.utc).replace(tzinfo=None) if moment else None


def transaction_values(record):
    """The LedgerSync-owned values of an api ``Transaction``, as column values."""
    return {
        "date": record.date,
        "description": record.description or None,
        "reference": record.reference or None,
        "amount": record.amount,
        "currency_code": (record.currency or "").upper(),
        "ledgersync_status": record.status,
        "vendor_name": record.vendor_name or None,
        "gl_code": record.gl_code or None,
        "match_type": record.match_type if record.match_type in MATCH_TYPES else None,
    }


def content_hash(values):
    """A stable digest of the synced values (amount normalised, so "5.0" == "5.00")."""
    parts = []
    for column in SYNCED_COLUMNS:
        value = values[column]
        if column == "amount":
            value = format(value.normalize(), "f") if value is not None else ""
        parts.append("" if value is None else str(value))
    return hashlib.sha1("\x1f".join(parts).encode("utf-8"), usedforsecurity=False).hexdigest()


@dataclass
class ExistingRow:
    id: int
    content_hash: str | None
    active: bool


@dataclass
class PagePlan:
    """What one page changes: rows to create, to update, to archive, and the rest."""

    to_create: list = field(default_factory=list)  # (record, values, hash)
    to_update: list = field(default_factory=list)  # (row id, record, values, hash)
    to_archive: list = field(default_factory=list)  # row ids
    unchanged: int = 0
    ignored_tombstones: int = 0


def plan_page(records, existing):
    """Diff a page of api ``Transaction`` records against ``existing`` rows.

    ``existing`` maps LedgerSync id -> ``ExistingRow`` (archived rows included). A record
    repeated within the page counts once, the last occurrence winning.
    """
    plan = PagePlan()
    latest = {}
    for record in records:
        latest[record.id] = record
    for record in latest.values():
        row = existing.get(record.id)
        if record.deleted:
            if row is not None and row.active:
                plan.to_archive.append(row.id)
            else:
                plan.ignored_tombstones += 1
            continue
        values = transaction_values(record)
        digest = content_hash(values)
        if row is None:
            plan.to_create.append((record, values, digest))
        elif row.content_hash != digest or not row.active:
            # A changed transaction, or one that reappears after a tombstone.
            plan.to_update.append((row.id, record, values, digest))
        else:
            plan.unchanged += 1
    return plan


def resolve_currency(code, currency_ids):
    """The res.currency id for an ISO code, from the map of active currencies."""
    try:
        return currency_ids[code]
    except KeyError:
        raise CurrencyError(code) from None
