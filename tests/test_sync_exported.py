"""sync/exported.py: how an exported transaction now differs from its statement line."""

from datetime import date
from decimal import Decimal

from ledgersync_connector.sync.exported import (
    AMOUNT,
    DATE,
    DELETED,
    PENDING,
    Difference,
    export_differences,
)

EXPORTED_ON = date(2026, 3, 1)


def differences(amount=-120.0, on=EXPORTED_ON, status="posted", active=True, places=2):
    """The differences of a transaction against a line exported at -120.00 on 2026-03-01."""
    return export_differences(-120.0, EXPORTED_ON, amount, on, status, active, places)


def test_unchanged_transaction_has_no_difference():
    assert differences() == ()
    # A Decimal from SQL, a float from the ORM, trailing digits: the same amount.
    assert differences(amount=Decimal("-120.00")) == ()
    assert differences(amount=-120.0000001) == ()


def test_amount_compared_at_the_currency_precision():
    assert differences(amount=Decimal("-125.00")) == (
        Difference(AMOUNT, Decimal("-120.00"), Decimal("-125.00")),
    )
    assert differences(amount=-120.004) == ()
    assert differences(amount=-120.005) == (
        Difference(AMOUNT, Decimal("-120.00"), Decimal("-120.01")),
    )
    # A currency without decimals.
    assert differences(amount=-120.4, places=0) == ()
    assert differences(amount=-120.5, places=0)[0].kind == AMOUNT


def test_date_status_and_deletion():
    assert differences(on=date(2026, 3, 2)) == (Difference(DATE, EXPORTED_ON, date(2026, 3, 2)),)
    assert differences(status="pending") == (Difference(PENDING),)
    assert differences(active=False) == (Difference(DELETED),)


def test_several_differences_in_order():
    found = differences(amount=-125.0, on=date(2026, 3, 2), status="pending", active=False)
    assert [difference.kind for difference in found] == [DELETED, PENDING, AMOUNT, DATE]
