"""Collisions between workers that the code expects and retries, kept out of the log.

Odoo logs every failed query at ERROR ("bad query") before raising it. A serialization
failure that the caller catches and retries is no error. ``odoo.tools.mute_logger`` would
hide it by swapping the ``odoo.sql_db`` logger's handlers for the whole process, which is
not thread-safe: two cron threads muting and unmuting at once let one thread's expected
collision through as an ERROR, or leave the log muted for every thread. This filter drops
only concurrency failures, and only in a thread inside ``expected_conflicts()``.
"""

import logging
import threading
from contextlib import contextmanager

from odoo.service.model import PG_CONCURRENCY_EXCEPTIONS_TO_RETRY

_SQL_LOGGER = logging.getLogger("odoo.sql_db")
_expecting = threading.local()


class _ExpectedConflictsFilter(logging.Filter):
    def filter(self, record):
        if not getattr(_expecting, "depth", 0):
            return True
        args = record.args if isinstance(record.args, tuple) else ()
        return not any(isinstance(arg, PG_CONCURRENCY_EXCEPTIONS_TO_RETRY) for arg in args)


_FILTER = _ExpectedConflictsFilter()


@contextmanager
def expected_conflicts():
    """Within the block, in this thread only, a query failing on a collision with another
    transaction is not logged (it still raises). Every other failure is logged."""
    _SQL_LOGGER.addFilter(_FILTER)  # once: addFilter ignores a filter already there
    _expecting.depth = getattr(_expecting, "depth", 0) + 1
    try:
        yield
    finally:
        _expecting.depth -= 1
