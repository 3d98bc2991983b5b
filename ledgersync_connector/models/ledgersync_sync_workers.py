"""Parallel sync workers: several scheduled actions that share one sync run.

Odoo never runs one scheduled action twice at once, so one ``ir.cron`` syncs the bank
accounts one after the other. Each extra worker is one more ``ir.cron`` with the same code
(``model._cron_sync()``); Odoo distributes the ready crons over its cron threads and over
every server that shares the database. The workers join the running run and claim bank
accounts with ``FOR UPDATE SKIP LOCKED`` (sync/engine.py), so they never take the same one.

Worker 1 is the addon's ``ir_cron_ledgersync_sync``. Workers 2..N are created here, each
with the xml id ``ledgersync_connector.ir_cron_ledgersync_sync_worker_<k>`` (noupdate):
uninstalling the addon deletes them with its other data, and a module update keeps them
(records of noupdate xml ids are never removed by ``ir.model.data._process_end``). The
number of workers is not stored anywhere else: it is 1 + the number of extra worker crons.
"""

import time

from odoo import api, models
from odoo.exceptions import UserError
from odoo.tools import SQL

MODULE = "ledgersync_connector"
MAIN_CRON = "ir_cron_ledgersync_sync"
WORKER_PREFIX = "ir_cron_ledgersync_sync_worker_"
MAX_WORKERS = 16
# How often a worker that waits for another one's first phase looks again.
STRUCTURE_POLL_SECONDS = 0.5


class LedgersyncSyncWorkers(models.AbstractModel):
    _name = "ledgersync.sync.workers"
    _description = "LedgerSync Parallel Sync Workers"

    @api.model
    def _main_cron(self):
        return self.env.ref(f"{MODULE}.{MAIN_CRON}", raise_if_not_found=False)

    @api.model
    def _extra_crons(self):
        """{worker number (2..): ir.cron} of the extra workers, archived ones included."""
        data = (
            self.env["ir.model.data"]
            .sudo()
            .search(
                [
                    ("module", "=", MODULE),
                    ("model", "=", "ir.cron"),
                    ("name", "=like", f"{WORKER_PREFIX}%"),
                ]
            )
        )
        crons = self.env["ir.cron"].sudo().with_context(active_test=False)
        extras = {}
        for row in data:
            number = row.name.removeprefix(WORKER_PREFIX)
            cron = crons.browse(row.res_id).exists()
            if number.isdigit() and cron:
                extras[int(number)] = cron
        return dict(sorted(extras.items()))

    @api.model
    def _worker_crons(self):
        """The scheduled actions of the active workers, worker 1 first."""
        main = self._main_cron()
        crons = main.sudo() if main else self.env["ir.cron"].sudo()
        for cron in self._extra_crons().values():
            if cron.active:
                crons |= cron
        return crons

    @api.model
    def _worker_count(self):
        return 1 + sum(1 for cron in self._extra_crons().values() if cron.active)

    @api.model
    def _set_worker_count(self, count):
        """Create or delete the extra worker crons so that ``count`` workers exist."""
        if not 1 <= count <= MAX_WORKERS:
            raise UserError(
                self.env._(
                    "The number of parallel sync workers must be between 1 and %(max)s.",
                    max=MAX_WORKERS,
                )
            )
        main = self._main_cron()
        extras = self._extra_crons()
        if not main:
            if count > 1:
                raise UserError(
                    self.env._(
                        "The LedgerSync scheduled action is missing: update the "
                        "LedgerSync Connector module to restore it."
                    )
                )
            main = self.env["ir.cron"]
        for number, cron in extras.items():
            if number > count:
                cron.unlink()  # its xml id goes with it
        for number in range(2, count + 1):
            values = self._worker_values(main, number)
            cron = extras.get(number)
            if cron:
                changed = {
                    name: value
                    for name, value in values.items()
                    if name in ("name", "interval_number", "interval_type", "active")
                    and cron[name] != value
                }
                if changed:
                    cron.write(changed)
                continue
            cron = self.env["ir.cron"].sudo().create(values)
            self.env["ir.model.data"].sudo().create(
                {
                    "module": MODULE,
                    "name": f"{WORKER_PREFIX}{number}",
                    "model": "ir.cron",
                    "res_id": cron.id,
                    "noupdate": True,
                }
            )
        return True

    @api.model
    def _worker_values(self, main, number):
        return {
            "name": self.env._(
                "LedgerSync: synchronize connected companies (worker %(number)s)",
                number=number,
            ),
            "model_id": main.model_id.id,
            "state": "code",
            "code": main.code,
            "user_id": main.user_id.id,
            "interval_number": main.interval_number,
            "interval_type": main.interval_type,
            "priority": main.priority,
            "active": main.active,
        }

    @api.model
    def _set_interval(self, interval_number, interval_type):
        """The same schedule for every worker."""
        values = {"interval_number": interval_number, "interval_type": interval_type}
        main = self._main_cron()
        crons = (main.sudo() if main else self.env["ir.cron"]) | self.env["ir.cron"].union(
            *self._extra_crons().values()
        )
        for cron in crons:
            if (cron.interval_number, cron.interval_type) != (interval_number, interval_type):
                cron.write(values)

    @api.model
    def _trigger_all(self):
        """Ask every worker to run now: they start together and share the run."""
        for cron in self._worker_crons():
            cron._trigger()

    # ------------------------------------------------------------------ in a worker

    @api.model
    def _hand_back(self, processed, remaining=1):
        """End a call of the scheduled action with work left: report it to Odoo, and
        trigger the workers. Odoo's own rescheduling of a job with work left wakes no cron
        worker; the trigger's NOTIFY does, at once (with ``--workers``, an idle cron worker
        otherwise sleeps a minute, and one whose time limit is shorter than that sleep is
        killed in it, again and again)."""
        self._trigger_all()
        self.env["ir.cron"]._commit_progress(processed, remaining=remaining)

    @api.model
    def _held_structure_runs(self):
        """Running runs whose first phase (clients and bank accounts) another live worker
        holds: a worker arriving now would find nothing to take yet."""
        self.env.cr.execute(SQL("SELECT pg_backend_pid()"))
        pid = self.env.cr.fetchone()[0]
        runs = self.env["ledgersync.sync.run"].search(
            [("state", "=", "running"), ("phase", "=", "structure"), ("worker_pid", "!=", pid)]
        )
        return runs.filtered(lambda run: not run._is_abandoned())

    @api.model
    def _wait_for_structure(self, commit, seconds):
        """Wait (up to ``seconds``) while another worker lists clients and bank accounts;
        ``commit`` ends the transaction so that each look sees the latest state. Returns
        whether the first phase is still held elsewhere."""
        deadline = time.monotonic() + seconds
        while self._held_structure_runs():
            if time.monotonic() >= deadline:
                return True
            commit()
            time.sleep(STRUCTURE_POLL_SECONDS)
            self.env.invalidate_all()
        return False
