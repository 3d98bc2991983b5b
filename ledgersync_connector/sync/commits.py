"""Units of work of a sync, and the way back to the last one after an unexpected error."""

import contextlib

import psycopg2


class UnitsOfWork:
    """The caller's commit, each followed by a savepoint: ``rollback`` returns to the state
    of the last commit, also after a database error aborted the transaction. (The cron's
    commit ends the transaction; the tests' stand-in only takes a savepoint, so a plain
    ROLLBACK would undo the test's own setup.)"""

    def __init__(self, cr, commit):
        self._cr = cr
        self._commit = commit
        self._savepoint = None

    def __call__(self):
        seconds_left = self._commit()
        self._savepoint = self._cr.savepoint()
        return seconds_left

    def rollback(self):
        """Back to the last commit, with the ORM's caches and pending writes dropped."""
        savepoint, self._savepoint = self._savepoint, None
        if savepoint is not None:
            with contextlib.suppress(psycopg2.Error):
                savepoint.rollback()
                self._savepoint = savepoint
                return
        # No savepoint, or the transaction ended without it (a failed COMMIT).
        self._cr.rollback()
