"""Pure mapping from API records to column values, and the per-page diff.

No Odoo import: the engine (sync/engine.py) turns a page into a ``PagePlan`` here, then
applies it with a handful of SQL statements.

``SYNCED_COLUMNS`` is the one definition of the columns of ledgersync_transaction that
LedgerSync owns: the engine derives its INSERT and UPDATE statements and their casts from
it, ``transaction_values`` reads the compared ones from an api ``Transaction``,
``content_hash`` digests them and ``sql_row`` lays a row out for SQL.
"""

import hashlib
from dataclasses import dataclass, field
from operator import attrgetter
from typing import Any

from ..dates import naive_utc

MATCH_TYPES = frozenset({"rule", "ai", "semantic"})


def currency_code(record):
    """The ISO code of an api record's currency, upper case ("" when it has none)."""
    return (record.currency or "").upper()


@dataclass(frozen=True)
class SyncedColumn:
    """A column of ledgersync_transaction that LedgerSync owns."""

    name: str  # the SQL column
    sql_type: str  # its PostgreSQL type name: the engine casts its update values to it
    read: Any  # api Transaction -> the value written (and compared, when hashed)
    key: str = ""  # name of the value in transaction_values(); default: the column's name
    hashed: bool = True  # in the content hash: a change rewrites the row
    text: Any = str  # the value (not None) as the content hash reads it
    # The value is an ISO currency code, written as the id of that res.currency.
    currency: bool = False

    def __post_init__(self):
        if not self.key:
            object.__setattr__(self, "key", self.name)


# The content hash reads the hashed columns in this order: reordering them, or changing how
# one is read, changes every stored digest, and the next sync rewrites every row once.
SYNCED_COLUMNS = (
    SyncedColumn("date", "date", attrgetter("date")),
    SyncedColumn("description", "varchar", lambda t: t.description or None),
    SyncedColumn("reference", "varchar", lambda t: t.reference or None),
    # "5.0" and "5.00" are the same amount.
    SyncedColumn(
        "amount", "numeric", attrgetter("amount"), text=lambda v: format(v.normalize(), "f")
    ),
    SyncedColumn("currency_id", "int4", currency_code, key="currency_code", currency=True),
    SyncedColumn("ledgersync_status", "varchar", attrgetter("status")),
    SyncedColumn("vendor_name", "varchar", lambda t: t.vendor_name or None),
    SyncedColumn("gl_code", "varchar", lambda t: t.gl_code or None),
    SyncedColumn(
        "match_type", "varchar", lambda t: t.match_type if t.match_type in MATCH_TYPES else None
    ),
    # When LedgerSync last changed it: written, but a new timestamp alone is no change.
    SyncedColumn(
        "ledgersync_updated_at", "timestamp", lambda t: naive_utc(t.updated_at), hashed=False
    ),
)
HASHED_COLUMNS = tuple(column for column in SYNCED_COLUMNS if column.hashed)
# The digest of the hashed values, written beside them (computed: see content_hash).
CONTENT_HASH_COLUMN = SyncedColumn("content_hash", "varchar", read=None, hashed=False)
# What sql_row() returns, in order: the synced columns, then the content hash.
SQL_COLUMNS = (*SYNCED_COLUMNS, CONTENT_HASH_COLUMN)

# The same, unpacked once for the per-row functions below (called for every transaction).
_READERS = tuple((column.key, column.read) for column in HASHED_COLUMNS)
_HASH_TEXTS = tuple((column.key, column.text) for column in HASHED_COLUMNS)
# (key of the value in transaction_values(), or None: read from the record; its reader)
_ROW_SOURCES = tuple(
    (column.key if column.hashed else None, column.read) for column in SYNCED_COLUMNS
)
_CURRENCY_INDEXES = tuple(index for index, column in enumerate(SYNCED_COLUMNS) if column.currency)


class CurrencyError(Exception):
    """A currency code that Odoo does not know (an inactive currency is known: Odoo
    keeps every ISO currency, most of them inactive on a fresh database)."""

    code = "currency_unknown"

    def __init__(self, currency_code):
        super().__init__(currency_code)
        self.currency_code = currency_code


def transaction_values(record):
    """The values of an api ``Transaction`` that the content hash covers, by column key
    (what is compared; the other synced columns are read when a row is written)."""
    return {key: read(record) for key, read in _READERS}


def content_hash(values):
    """A stable digest of the hashed values (amount normalised, so "5.0" == "5.00")."""
    parts = []
    for key, to_text in _HASH_TEXTS:
        value = values[key]
        parts.append("" if value is None else to_text(value))
    text = "\x1f".join(parts)
    return hashlib.sha1(text.encode("utf-8"), usedforsecurity=False).hexdigest()


def sql_row(record, values, digest, currency_ids):
    """The values of ``SQL_COLUMNS`` for one transaction, in that order.

    ``values`` and ``digest`` are the record's ``transaction_values`` and ``content_hash``;
    ``currency_ids`` maps the page's currency codes to res.currency ids (``page_currencies``).
    """
    row = [values[key] if key else read(record) for key, read in _ROW_SOURCES]
    for index in _CURRENCY_INDEXES:
        row[index] = currency_ids[row[index]]
    row.append(digest)
    return tuple(row)


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
    """The res.currency id for an ISO code, from the map of Odoo's currencies (active or
    not: the engine reads them with ``active_test=False``)."""
    try:
        return currency_ids[code]
    except KeyError:
        raise CurrencyError(code) from None


def page_currencies(records, currency_ids):
    """{code: res.currency id} for the currencies of a page's live records.

    Raises CurrencyError for the first one that Odoo does not know, before anything of the
    page is written.
    """
    codes = dict.fromkeys(currency_code(record) for record in records if not record.deleted)
    return {code: resolve_currency(code, currency_ids) for code in codes}
