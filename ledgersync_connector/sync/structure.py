"""The first phase of a sync run: the clients, then each client's bank accounts.

Resumable: the run keeps the cursor of its next page of clients, whether its clients are
listed, and the last client whose bank accounts are, each written in the transaction of
the work it stands for; a call that runs out of time leaves the rest to the next one.
"""

import logging

from odoo.tools import SQL

from .. import const, failures
from ..api import errors
from .queries import accounts_to_sync

_logger = logging.getLogger(__name__)


class StructurePhase:
    """The first phase, part of SyncEngine (sync/engine.py), whose attributes it uses:
    ``account_errors`` are the errors of one client's listing after which the others go
    on."""

    def sync_structure(self, min_seconds_left=const.CRON_MIN_SECONDS_LEFT):
        """Clients, then each active client's bank accounts; archive what vanished.

        Resumable: the run keeps the cursor of its next page of clients, whether its
        clients are listed, and the last client whose bank accounts are, each written with
        the work it stands for. Returns False when time ran low before the end (the next
        call goes on from there). Each call does one unit (a page of clients, a client's
        bank accounts) at least."""
        # The sync's own rights: clients live in their books companies, which the user
        # running the sync may not have among his current companies.
        Client = self.env["ledgersync.client"].sudo()
        progressed = False
        if not self.run.clients_listed:
            if not self._list_clients(min_seconds_left):
                return False
            progressed = True
        # The sync's own rights: people may write only a bank account's journal.
        BankAccount = self.env["ledgersync.bank.account"].sudo()
        clients = Client.search(
            [
                ("connection_id", "=", self.connection.id),
                ("id", ">", self.run.last_client_listed_id),
            ],
            order="id",
        )
        for client in clients:
            if progressed and self._slice_left() <= min_seconds_left:
                return False
            progressed = True
            seen_accounts = set()
            try:
                for page in self.api.iter_bank_account_pages(
                    client.ledgersync_id,
                    limit=const.BANK_ACCOUNT_PAGE_SIZE,
                    time_left=self._page_time_left,
                ):
                    BankAccount._upsert_from_api(client, page.items, self.currency_ids)
                    seen_accounts.update(item.id for item in page.items)
            except errors.OutOfTime:
                return False  # this client's accounts are listed again by the next call
            except self.account_errors as error:
                # Keep this client's accounts as they are; the others go on.
                _logger.warning(
                    "LedgerSync: bank accounts of client %s not listed: %s",
                    client.id,
                    failures.describe_error(self.env, error),
                )
            else:
                BankAccount._archive_missing(client, seen_accounts)
            self.run.last_client_listed_id = client.id
            self._commit()
        self.connection._alert_accounts_gone()
        self.env.flush_all()
        self.cr.execute(SQL("SELECT count(*) %s", accounts_to_sync(self.connection.id)))
        self.run.write({"accounts_total": self.cr.fetchone()[0], "phase": "transactions"})
        self._commit()
        return True

    def _list_clients(self, min_seconds_left):
        """The firm's clients, a page per unit of work, from the run's cursor on; archive
        those LedgerSync no longer lists once the last page is in. False when time ran low
        first (the cursor of the next page is kept on the run)."""
        Client = self.env["ledgersync.client"].sudo()  # as in sync_structure
        run = self.run
        cursor = run.clients_cursor or None
        pages = self.api.iter_client_pages(
            limit=const.CLIENT_PAGE_SIZE, time_left=self._page_time_left, cursor=cursor
        )
        try:
            for page in pages:
                if run.clients_pages >= const.MAX_PAGES_PER_QUERY:
                    raise errors.ProtocolError(
                        "LedgerSync's list of clients went on for more than "
                        f"{const.MAX_PAGES_PER_QUERY} pages: stopped."
                    )
                listed = Client._upsert_from_api(self.connection, page.items)
                listed.write({"last_listed_run_id": run.id})
                run.write(
                    {
                        "clients_cursor": page.next_cursor or False,
                        "clients_pages": run.clients_pages + 1,
                    }
                )
                self._commit()
                if page.next_cursor and self._slice_left() <= min_seconds_left:
                    return False
        except errors.RequestRejected:
            if not cursor:
                raise
            # A cursor of an earlier call that LedgerSync no longer takes: list again.
            run.write({"clients_cursor": False, "clients_pages": 0})
            self._commit()
            return False
        listed = Client.with_context(active_test=False).search(
            [("connection_id", "=", self.connection.id), ("last_listed_run_id", "=", run.id)]
        )
        Client._archive_missing(self.connection, set(listed.mapped("ledgersync_id")))
        run.clients_listed = True
        self._commit()
        return True
