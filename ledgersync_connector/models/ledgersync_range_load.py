from datetime import timedelta

from odoo import api, fields, models

from .. import const
from ..api import errors
from ..sync.commits import UnitsOfWork
from ..sync.engine import ACCOUNT_ERRORS, RUN_STOPPING_ERRORS, SyncEngine
from ..sync.queries import claim_account

# A range load whose bank account a sync holds is looked at again after this long.
BUSY_ACCOUNT_RETRY_SECONDS = 60


class LedgerSyncRangeLoad(models.AbstractModel):
    """Range loads: the sync runs (trigger "range") of the Load Transactions wizard, one
    bank account and a date range each, through the same engine, pages and batches as the
    sync. A range of one window loads at once; a longer one in the background, by the
    sync's scheduled action, with its progress in days. A range load holds its bank
    account's lease like a sync worker, so that one writer at a time loads an account's
    pages, and goes on beside the connection's sync (``_running_of`` leaves it out)."""

    _name = "ledgersync.range.load"
    _description = "LedgerSync Range Loads"

    @api.model
    def _running(self, accounts=None):
        domain = [("trigger", "=", "range"), ("state", "=", "running")]
        if accounts is not None:
            domain.append(("range_bank_account_id", "in", accounts.ids))
        return self.env["ledgersync.sync.run"].sudo().search(domain, order="id")

    @api.model
    def _sync_cron(self):
        return self.env.ref("ledgersync_connector.ir_cron_ledgersync_sync").sudo()

    @api.model
    def _start(self, account, start, end):
        """Load ``account``'s transactions dated ``start``..``end`` (the caller checked that
        the person may read the account): at once when the range fits in one window and
        nobody is syncing the account, otherwise in the background. Returns the run."""
        run = (
            self.env["ledgersync.sync.run"]
            .sudo()
            .create(
                {
                    "connection_id": account.connection_id.id,
                    "trigger": "range",
                    "phase": "transactions",
                    "accounts_total": 1,
                    "range_bank_account_id": account.id,
                    "range_start": start,
                    "range_end": end,
                }
            )
        )
        if (end - start).days < const.RANGE_WINDOW_DAYS:
            # In the person's request: no commit until it ends, as any form's save.
            self._load_share(run, lambda: float("inf"))
        if run.state == "running":
            self._sync_cron()._trigger()
        return run

    @api.model
    def _load_share(self, run, commit):
        """Load (what is left of) ``run``'s range; False while the account is held by
        another worker, or when time ran out (the scheduled action goes on later)."""
        connection, account = run.connection_id, run.range_bank_account_id
        # The web clients hear of the progress as they do of a sync's (live lists).
        commit = run._live_commit(connection, commit)
        if not (connection._can_sync() and account.active and account.client_id.active):
            run._finish(
                "failed",
                "not_synced",
                self.env._(
                    "LedgerSync is not connected, or no longer lists this bank account: "
                    "nothing was loaded."
                ),
            )
            return True
        self.env.flush_all()
        self.env.cr.execute(claim_account(account.id))
        if not self.env.cr.fetchone():
            return False
        account.invalidate_recordset(["sync_lease_until", "sync_worker_pid", "company_id"])
        api_client = run._api_client_or_finish()
        token_before = api_client.token if api_client is not None else None
        finished = True
        if api_client is not None:
            engine = SyncEngine(run, run._new_worker(), api_client, commit)
            try:
                engine.load_range(account, run.range_start, run.range_end)
            except errors.OutOfTime:
                finished = False
            except (*RUN_STOPPING_ERRORS, *ACCOUNT_ERRORS) as error:
                run._finish_on_error(error, commit)
            finally:
                api_client.close()
            engine.worker._add_counts(
                api_calls=api_client.stats["api_calls"],
                accounts_done=int(finished and run.state == "running"),
            )

        def wrap_up():
            account.sudo().write({"sync_lease_until": False, "sync_worker_pid": False})
            # Only a new sign-in is kept: the connection's row is the sync's too, and an
            # unneeded write there collides with the sync's workers.
            signed_in = api_client is not None and api_client.token != token_before
            if signed_in and not connection.login_blocked:
                connection._store_token(api_client)
            if finished and run.state == "running":
                run._finish("done")

        run._with_retry_on_conflict(commit, wrap_up)
        if run._running_of(connection):
            # A sync going on skipped this account while it was held: it takes it now.
            self._sync_cron()._trigger()
        return finished

    @api.model
    def _cron_loads(self, commit):
        """The scheduled action's share of the range loads, oldest first; False when its
        time ran out with ranges left. A range whose account a sync holds waits for it."""
        units = UnitsOfWork(self.env.cr, commit)
        seconds_left = units()
        for index, run in enumerate(self._running()):
            if index and seconds_left <= 0:  # one range at least per call
                return False
            try:
                self._load_share(run, units)
            except Exception as error:  # one range must not stop the others
                units.rollback()
                run._stop_on_unexpected_error(run.connection_id, run, error, units)
            seconds_left = units()
        if self._running():
            if seconds_left <= 0:
                return False
            self._sync_cron()._trigger(
                at=fields.Datetime.now() + timedelta(seconds=BUSY_ACCOUNT_RETRY_SECONDS)
            )
        return True
