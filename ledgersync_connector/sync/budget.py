"""The time one call of the scheduled action may use, from Odoo's time limit (pure)."""

from .. import const


def cron_time_limit(options):
    """Seconds after which Odoo kills a cron call, from its options (``odoo.tools.config``):
    ``limit_time_real_cron``, or ``limit_time_real`` when that one is unset (-1, the
    default); None when there is no limit (0)."""
    limit = options.get("limit_time_real_cron")
    if limit is None or limit < 0:
        limit = options.get("limit_time_real")
    return limit if limit and limit > 0 else None


def call_budget(limit):
    """``(slice, overrun)`` in seconds for one call of the scheduled action under Odoo's
    time ``limit`` (None: no limit). The call stops taking new work at the end of its
    slice; a page loop already started may go on for ``overrun`` more seconds. Both are
    shares of the limit, so that the call, and the other jobs that Odoo's cron worker runs
    in the same pass (all under one watchdog with ``--workers``), end well within it."""
    if not limit:
        return const.CRON_SLICE_SECONDS, const.CRON_PAGE_LOOP_OVERRUN_SECONDS
    return (
        min(const.CRON_SLICE_SECONDS, limit * const.CRON_SLICE_SHARE_OF_LIMIT),
        min(const.CRON_PAGE_LOOP_OVERRUN_SECONDS, limit * const.CRON_OVERRUN_SHARE_OF_LIMIT),
    )
