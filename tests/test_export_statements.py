"""exports/statements.py: LedgerSync's balances around a statement's days."""

from decimal import Decimal

from ledgersync_connector.exports.statements import in_background, ledgersync_balances


def test_balances_come_back_from_todays_balance():
    # Today 1,000.00; posted after the last day: +50.00 and -20.00; within the days: -300.00.
    balances = ledgersync_balances(Decimal("1000.00"), Decimal("-300.00"), Decimal("30.00"))
    assert balances.end == Decimal("970.00")
    assert balances.start == Decimal("1270.00")
    assert balances.current == Decimal("1000.00")
    assert balances.posted_after == Decimal("30.00")
    # The statement's lines, all of those days, lead from start to end.
    assert balances.start + Decimal("-300.00") == balances.end


def test_a_statement_up_to_today_ends_at_the_current_balance():
    balances = ledgersync_balances(Decimal("-250.10"), Decimal("120.05"), Decimal("0"))
    assert balances.end == Decimal("-250.10")
    assert balances.start == Decimal("-370.15")


def test_missing_values_count_as_zero():
    assert ledgersync_balances(None, None, None) == (0, 0, 0, 0)
    balances = ledgersync_balances(12.5, 2.5, None)
    assert (balances.start, balances.end) == (Decimal("10.0"), Decimal("12.5"))


def test_big_exports_go_to_the_background():
    assert not in_background(200, 200)
    assert in_background(201, 200)
    assert not in_background(0, 200)


def test_floats_keep_their_written_value():
    balances = ledgersync_balances(0.3, 0.1, 0.1)
    assert (balances.start, balances.end) == (Decimal("0.1"), Decimal("0.2"))
