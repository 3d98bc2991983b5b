"""The time one call of the scheduled action may use (ledgersync_connector/sync/budget.py)."""

import pytest

from ledgersync_connector import const
from ledgersync_connector.sync.budget import call_budget, cron_time_limit


@pytest.mark.parametrize(
    ("options", "limit"),
    [
        ({"limit_time_real_cron": 20, "limit_time_real": 120}, 20),
        # -1 (the default): the limit of requests applies to cron calls too.
        ({"limit_time_real_cron": -1, "limit_time_real": 120}, 120),
        ({"limit_time_real_cron": None, "limit_time_real": 90}, 90),
        # 0: no limit.
        ({"limit_time_real_cron": 0, "limit_time_real": 120}, None),
        ({"limit_time_real_cron": -1, "limit_time_real": 0}, None),
        ({}, None),
    ],
)
def test_cron_time_limit(options, limit):
    assert cron_time_limit(options) == limit


def test_without_a_limit_the_call_keeps_its_slice_and_overrun():
    assert call_budget(None) == (
        const.CRON_SLICE_SECONDS,
        const.CRON_PAGE_LOOP_OVERRUN_SECONDS,
    )


@pytest.mark.parametrize("limit", [10, 20, 30, 60, 120, 600])
def test_a_call_ends_well_within_the_limit(limit):
    slice_seconds, overrun = call_budget(limit)
    assert 0 < slice_seconds <= const.CRON_SLICE_SECONDS
    assert 0 < overrun <= const.CRON_PAGE_LOOP_OVERRUN_SECONDS
    # The slice and the overrun of a page loop leave at least a third of the limit for
    # the last request, the commit, and Odoo's other jobs of the same pass.
    assert slice_seconds + overrun <= limit * 2 / 3


def test_a_short_limit_shrinks_the_call():
    assert call_budget(20) == (8.0, 4.0)
