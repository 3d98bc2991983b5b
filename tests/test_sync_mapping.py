from datetime import date, datetime, timezone
from decimal import Decimal

import pytest

from ledgersync_connector.api.records import Transaction
from ledgersync_connector.sync.mapping import (
    CurrencyError,
    ExistingRow,
    content_hash,
    plan_page,
    resolve_currency,
    transaction_values,
)

UPDATED = datetime(2026, 11, 1, 6, 0, tzinfo=timezone.utc)


def tx(ident="tx_1", **overrides):
    fields = {
        "id": ident,
        "bank_account_id": "ba_1",
        "date": date(2026, 10, 30),
        "description": "Office Depot",
        "amount": Decimal("-42.10"),
        "currency": "USD",
        "status": "posted",
        "reference": None,
        "vendor_name": "Office Depot",
        "gl_code": "6100",
        "match_type": "rule",
        "updated_at": UPDATED,
        "deleted": False,
    }
    fields.update(overrides)
    return Transaction(**fields)


def test_values_keep_amounts_exact_and_normalise_blanks():
    values = transaction_values(tx(amount=Decimal("-0.10"), description="", currency="usd"))
    assert values["amount"] == Decimal("-0.10")
    assert isinstance(values["amount"], Decimal)
    assert values["description"] is None
    assert values["currency_code"] == "USD"


def test_unknown_match_type_counts_as_unmatched():
    assert transaction_values(tx(match_type="guess"))["match_type"] is None
    assert transaction_values(tx(match_type=None))["match_type"] is None


def test_hash_ignores_amount_notation_but_sees_every_synced_change():
    base = content_hash(transaction_values(tx(amount=Decimal("5.00"))))
    assert content_hash(transaction_values(tx(amount=Decimal("5.0")))) == base
    for change in (
        {"amount": Decimal("5.01")},
        {"date": date(2026, 10, 31)},
        {"status": "pending"},
        {"description": "Other"},
        {"reference": "1001"},
        {"vendor_name": None},
        {"gl_code": "6200"},
        {"match_type": "ai"},
        {"currency": "EUR"},
    ):
        assert content_hash(transaction_values(tx(**{"amount": Decimal("5.00"), **change}))) != base


def test_hash_ignores_updated_at_only_changes():
    # A touch without a content change must not cost a write.
    later = datetime(2026, 11, 2, tzinfo=timezone.utc)
    assert content_hash(transaction_values(tx(updated_at=later))) == content_hash(
        transaction_values(tx())
    )


def test_plan_creates_updates_skips_and_archives():
    unchanged, changed, fresh = tx("a"), tx("b", amount=Decimal("-1.00")), tx("c")
    tombstone, unknown_tombstone = tx("d", deleted=True), tx("e", deleted=True)
    existing = {
        "a": ExistingRow(1, content_hash(transaction_values(unchanged)), True),
        "b": ExistingRow(2, "old-hash", True),
        "d": ExistingRow(4, "whatever", True),
    }
    plan = plan_page([unchanged, changed, fresh, tombstone, unknown_tombstone], existing)
    assert [record.id for record, _values, _hash in plan.to_create] == ["c"]
    assert [(row_id, record.id) for row_id, record, _v, _h in plan.to_update] == [(2, "b")]
    assert plan.to_archive == [4]
    assert plan.unchanged == 1
    assert plan.ignored_tombstones == 1


def test_pending_to_posted_updates_the_same_row():
    pending = tx("p", status="pending", amount=Decimal("-10.00"))
    posted = tx("p", status="posted", amount=Decimal("-10.50"), date=date(2026, 10, 31))
    existing = {"p": ExistingRow(9, content_hash(transaction_values(pending)), True)}
    plan = plan_page([posted], existing)
    assert not plan.to_create
    assert [row_id for row_id, *_rest in plan.to_update] == [9]


def test_reappearing_row_is_restored_even_if_unchanged():
    record = tx("r")
    existing = {"r": ExistingRow(3, content_hash(transaction_values(record)), False)}
    plan = plan_page([record], existing)
    assert [row_id for row_id, *_rest in plan.to_update] == [3]


def test_tombstone_of_archived_row_is_ignored():
    plan = plan_page([tx("z", deleted=True)], {"z": ExistingRow(5, "h", False)})
    assert plan.to_archive == []
    assert plan.ignored_tombstones == 1


def test_duplicate_ids_in_one_page_count_once_last_wins():
    first, second = tx("dup", amount=Decimal("-1.00")), tx("dup", amount=Decimal("-2.00"))
    plan = plan_page([first, second], {})
    assert len(plan.to_create) == 1
    assert plan.to_create[0][1]["amount"] == Decimal("-2.00")


def test_resolve_currency():
    assert resolve_currency("USD", {"USD": 2}) == 2
    with pytest.raises(CurrencyError) as info:
        resolve_currency("XYZ", {"USD": 2})
    assert info.value.currency_code == "XYZ"
    assert info.value.code == "currency_unknown"


def test_naive_utc_converts_offsets_and_keeps_none():
    from datetime import timedelta

    from ledgersync_connector.dates import naive_utc

    paris = timezone(timedelta(hours=1))
    assert naive_utc(datetime(2026, 11, 1, 7, 0, tzinfo=paris)) == datetime(2026, 11, 1, 6, 0)
    assert naive_utc(None) is None
