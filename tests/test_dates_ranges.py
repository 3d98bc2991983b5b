"""Pure tests of the date helpers of Load Transactions (no Odoo)."""

from datetime import date

from ledgersync_connector import const
from ledgersync_connector.dates import date_windows, range_progress


def test_range_progress_counts_days_loaded():
    start, end = date(2026, 1, 1), date(2026, 1, 10)  # 10 days
    assert range_progress(start, end, None) == 0.0
    assert range_progress(start, end, date(2026, 1, 1)) == 10.0
    assert range_progress(start, end, date(2026, 1, 5)) == 50.0
    assert range_progress(start, end, end) == 100.0
    # A position outside the range (a day before it, beyond it) stays within 0..100.
    assert range_progress(start, end, date(2025, 12, 31)) == 0.0
    assert range_progress(start, end, date(2026, 2, 1)) == 100.0
    assert range_progress(start, start, start) == 100.0


def test_a_longest_range_is_loaded_in_month_windows():
    windows = date_windows(date(2025, 1, 1), date(2025, 12, 31), const.RANGE_WINDOW_DAYS)
    assert len(windows) == 12
    assert windows[0] == (date(2025, 1, 1), date(2025, 1, 31))
    assert windows[-1][1] == date(2025, 12, 31)
    assert all((end - start).days < const.RANGE_WINDOW_DAYS for start, end in windows)
    # One window at most is loaded at once, in the request.
    assert len(date_windows(date(2025, 1, 1), date(2025, 1, 31), const.RANGE_WINDOW_DAYS)) == 1
