"""The calls of the scheduled action that syncs the connected companies.

Each call works within the time Odoo gives its job and within a share of Odoo's time limit
of a cron call (sync/budget.py), then reports its units of work and whether work is left;
with work left it wakes a cron worker for the rest (``ledgersync.sync.workers._hand_back``).
"""

import time
from datetime import timedelta

from odoo import api, fields, models, tools

from .. import const
from ..dates import interval_hours
from ..sync.budget import call_budget, cron_time_limit


class LedgerSyncSyncRun(models.Model):
    _inherit = "ledgersync.sync.run"

    @api.model
    def _sync_due(self, connection):
        """A run is going on, was asked for, or the last one is older than half the
        scheduled interval (so that the cron's repeated calls within one job run do not
        start a second run for a connection that was just synced)."""
        connection.ensure_one()
        if connection.sync_requested or not connection.last_sync_at or self._running_of(connection):
            return True
        cron = self.env.ref(
            "ledgersync_connector.ir_cron_ledgersync_sync", raise_if_not_found=False
        )
        hours = interval_hours(cron.interval_type, cron.interval_number) if cron else 1
        return connection.last_sync_at <= fields.Datetime.now() - timedelta(hours=hours) / 2

    @api.model
    def _cron_sync(self):
        """One call of the scheduled action: work while both Odoo's time for the job (what
        ``_commit_progress`` returns) and this call's slice (sync/budget.py) last, then
        report the units of work done (each commit: a page, a bank account ...) and
        whether work is left (then wake a cron worker: ``_hand_back``).

        A worker that starts while another lists the clients and bank accounts (the first
        phase, which one worker does alone) waits for it within its slice, then takes bank
        accounts; if the first phase outlasts the wait, it reports work left, so that Odoo
        calls it again as soon as possible instead of at the next interval."""
        cron = self.env["ir.cron"]
        workers = self.env["ledgersync.sync.workers"]
        if cron._commit_progress() <= const.CRON_MIN_SECONDS_LEFT:
            # An earlier call of this job used Odoo's time: nothing done ends Odoo's loop.
            workers._hand_back(0)
            return
        slice_seconds, overrun = call_budget(cron_time_limit(tools.config))
        slice_end = time.monotonic() + slice_seconds
        workers._wait_for_structure(
            cron._commit_progress, min(slice_seconds, cron._commit_progress())
        )
        commits = []

        def commit():
            commits.append(True)
            return min(cron._commit_progress(), slice_end - time.monotonic())

        # The ranges that people asked to load come first: they wait for them.
        if not self.env["ledgersync.range.load"]._cron_loads(commit):
            workers._hand_back(len(commits))
            return
        connections = self.env["ledgersync.connection"].search(
            [("state", "=", "connected"), ("login_blocked", "=", False)]
        )
        connections = connections.filtered(lambda c: c._can_sync() and self._sync_due(c))
        for connection in connections:
            if connection.sync_requested:
                trigger = "manual"
            else:
                trigger = "scheduled" if connection.sync_run_ids else "initial"
            run, out_of_time = self._sync_connection(
                connection, trigger=trigger, commit=commit, page_loop_overrun=overrun
            )
            if out_of_time:
                workers._hand_back(len(commits), max(run.accounts_total - run.accounts_done, 1))
                return
        if workers._held_structure_runs():
            workers._hand_back(0)  # only waited: the first phase is still held elsewhere
            return
        cron._commit_progress(len(commits), remaining=0)
