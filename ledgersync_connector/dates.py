"""Dates and times of the connector, in one place (no Odoo import).

Odoo stores datetimes as naive UTC; LedgerSync sends and receives ISO 8601 UTC. The API
client, the sync engine and the models convert between the two with these helpers only.
"""

from datetime import date, datetime, timedelta, timezone

from . import const

# ir.cron interval types, in hours (a month counts as 30 days).
INTERVAL_HOURS = {"minutes": 1 / 60, "hours": 1, "days": 24, "weeks": 168, "months": 720}


def utc_now():
    """Now, as the naive UTC datetime Odoo stores."""
    return datetime.now(timezone.utc).replace(tzinfo=None)


def naive_utc(moment):
    """An aware API timestamp as the naive UTC datetime Odoo stores (None stays None)."""
    return moment.astimezone(timezone.utc).replace(tzinfo=None) if moment else None


def iso_utc(moment):
    """ISO 8601 UTC text of a datetime, as the API expects it (a naive one is taken as UTC)."""
    if not isinstance(moment, datetime):
        raise TypeError(f"updated_since must be a datetime, got {type(moment).__name__}")
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc).isoformat().replace("+00:00", "Z")


def tomorrow_utc():
    """Tomorrow in UTC: the last day a query asks for, so that no time zone's today is missed."""
    return datetime.now(timezone.utc).date() + timedelta(days=1)


def as_date(value):
    """A date from a date or datetime (None stays None); TypeError for anything else."""
    if isinstance(value, datetime):
        return value.date()
    if value is None or isinstance(value, date):
        return value
    raise TypeError(f"expected a date, got {type(value).__name__}")


def date_windows(start_date=None, end_date=None, max_days=const.MAX_WINDOW_DAYS):
    """Split start..end (both included) into consecutive windows of at most ``max_days`` days.

    Without a start there is nothing to split: one window (None, end_date). Without an
    end, the windows run to tomorrow (UTC), so no time zone is ahead of the last one.
    """
    start_date, end_date = as_date(start_date), as_date(end_date)
    if start_date is None:
        return [(None, end_date)]
    if end_date is None:
        end_date = tomorrow_utc()
    if start_date > end_date:
        raise ValueError(f"start_date {start_date} is after end_date {end_date}")
    windows = []
    while start_date <= end_date:
        window_end = min(start_date + timedelta(days=max_days - 1), end_date)
        windows.append((start_date, window_end))
        start_date = window_end + timedelta(days=1)
    return windows


def interval_hours(interval_type, interval_number):
    """The length in hours of an ir.cron interval (``interval_type``, ``interval_number``)."""
    return interval_number * INTERVAL_HOURS.get(interval_type, 1)


def range_progress(start, end, loaded_until):
    """Percentage of the days start..end (both included) loaded up to ``loaded_until``
    (None: nothing loaded yet)."""
    days = (end - start).days + 1
    loaded = (loaded_until - start).days + 1 if loaded_until else 0
    return 100.0 * min(max(loaded, 0), days) / days
