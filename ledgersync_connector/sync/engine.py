"""The sync engine: a connection's clients, bank accounts and transactions.

Rules:
- every page is one batch: one query finds the existing rows, one INSERT creates the new
  ones, one UPDATE rewrites the changed ones, one UPDATE archives tombstones, and one
  UPDATE flags the exported ones that no longer agree with their bank statement line;
- the caller's ``commit`` runs after every page; a bank account's position (history loaded
  up to a day, incremental cursor) is written in the same transaction as the page that
  completes it, so a crash at any moment resumes without gaps or duplicates;
- work is split per bank account, each taken under a lease (``FOR UPDATE SKIP LOCKED``),
  so several workers can share one run.
"""

import logging
import time
from datetime import timedelta

from odoo.service.model import (
    MAX_TRIES_ON_CONCURRENCY_FAILURE,
    PG_CONCURRENCY_EXCEPTIONS_TO_RETRY,
)
from odoo.tools import SQL

from .. import const, failures
from ..api import errors
from ..dates import date_windows, tomorrow_utc, utc_now
from . import mapping, rules
from .conflicts import expected_conflicts
from .matching import Assigner
from .queries import (
    claim_next_account,
    execute_values,
    flag_changed_after_export,
    identifiers,
)
from .structure import StructurePhase

_logger = logging.getLogger(__name__)

# Errors after which no other bank account can do better in this run.
RUN_STOPPING_ERRORS = (errors.AuthenticationError, errors.RateLimited, errors.Unreachable)
# A bank account that fails in this many syncs in a row gets the administrators' To Do.
ACCOUNT_FAILED_RUNS_ALERT = 3
# Errors that concern one bank account; the others go on. OutOfTime: its page loop was
# stopped because the worker's time ran out (the account is reported, the next run resumes).
ACCOUNT_ERRORS = (
    errors.ServerError,
    errors.ProtocolError,
    errors.RequestRejected,
    errors.OutOfTime,
    mapping.CurrencyError,
)

# What rules and LedgerSync's hints set on a new or changed transaction to review (in the
# order of _assigned_row), with their PostgreSQL types.
ASSIGNED_COLUMNS = (
    ("partner_id", "int4"),
    ("partner_source", "varchar"),
    ("account_id", "int4"),
    ("account_source", "varchar"),
    ("rule_id", "int4"),
    ("match_status", "varchar"),
)

# The columns an INSERT of a new transaction writes: its place, the synced columns and
# their hash (mapping.SQL_COLUMNS, in the order of mapping.sql_row), what rules and hints
# set, then what the ORM would set.
INSERT_COLUMNS = (
    "bank_account_id",
    "client_id",
    "company_id",
    "ledgersync_id",
    *(column.name for column in mapping.SQL_COLUMNS),
    *(name for name, _type in ASSIGNED_COLUMNS),
    "active",
    "review_state",
    "create_uid",
    "create_date",
    "write_uid",
    "write_date",
)


class AccountPaused(Exception):
    """The worker's slice ended between two date windows of a bank account's history: the
    account is left, its position kept, for the next call."""


class RunStopped(Exception):
    """Ends the run early; ``error`` says why."""

    def __init__(self, error):
        super().__init__(getattr(error, "code", str(error)))
        self.error = error


class SyncEngine(StructurePhase):
    """Runs (a share of) one sync run of one connection.

    ``commit()`` is called after each unit of work and returns the seconds left in the
    worker's time budget: the cron passes ``ir.cron._commit_progress``; tests pass a
    function that only releases a savepoint.
    """

    account_errors = ACCOUNT_ERRORS

    def __init__(self, run, worker, api_client, commit, page_loop_overrun=None):
        self.run = run
        self.worker = worker  # this worker's counters (ledgersync.sync.worker)
        self.connection = run.connection_id
        self.env = run.env
        self.cr = run.env.cr
        self.api = api_client
        self.commit = commit
        self.currency_ids = self._currency_ids()
        # Rules compiled, vendors and GL accounts read once per company for this run.
        self.assigner = Assigner(self.env)
        self._consecutive_server_errors = 0
        self.seconds_left = float("inf")
        self._seconds_left_at = time.monotonic()
        self.page_loop_overrun = (
            const.CRON_PAGE_LOOP_OVERRUN_SECONDS if page_loop_overrun is None else page_loop_overrun
        )

    # ------------------------------------------------------------------ transactions

    def sync_transactions(self, min_seconds_left=const.CRON_MIN_SECONDS_LEFT):
        """Take bank accounts one at a time until none is left or time runs low.

        Returns True when this worker found no account left to take.
        """
        synced = 0
        while True:
            # At least one account per call, so that every call makes progress.
            if synced and self._slice_left() <= min_seconds_left:
                self._commit()  # the last account's release
                return False
            account = self._claim_next_account()
            if account is None:
                return True
            if not self._sync_one_account(account):
                self._commit()  # the paused account's release
                return False
            synced += 1

    def _commit(self):
        self.seconds_left = self.commit()
        self._seconds_left_at = time.monotonic()
        return self.seconds_left

    def _slice_left(self):
        """The seconds left in the worker's slice: those left at the last commit, minus
        the time since."""
        return self.seconds_left - (time.monotonic() - self._seconds_left_at)

    def _page_time_left(self):
        """The ``time_left`` of the API's page loops: the slice left plus the overrun a
        page loop is allowed (a page loop started is finished past the end of the slice,
        but not up to Odoo's time limit)."""
        return self._slice_left() + self.page_loop_overrun

    def _claim_next_account(self):
        self.env.flush_all()
        claim = claim_next_account(self.connection.id, self.run.id)
        for attempt in range(1, MAX_TRIES_ON_CONCURRENCY_FAILURE + 1):
            try:
                # Under REPEATABLE READ the claim fails when another worker changed the
                # account it finds since this transaction began. A commit (which keeps
                # the previous account's release) gives a transaction that sees it.
                with expected_conflicts(), self.cr.savepoint(flush=False):
                    self.cr.execute(claim)
                    row = self.cr.fetchone()
                break
            except PG_CONCURRENCY_EXCEPTIONS_TO_RETRY:
                if attempt == MAX_TRIES_ON_CONCURRENCY_FAILURE:
                    raise
                self._commit()
        account = self.env["ledgersync.bank.account"].sudo()
        # company_id: a client's books may have moved to another company since the last look.
        account.invalidate_model(["sync_lease_until", "sync_worker_pid", "company_id"])
        # One commit for the previous account's release and this lease, which other
        # workers must see at once to skip this account.
        self._commit()
        return account.browse(row[0]) if row else None

    def _sync_one_account(self, account):
        """Sync one claimed account; its release is committed with the next claim. False
        when time ran low between two windows of its history: the account is left for the
        next call, neither done nor failed."""
        history_done = False
        self.assigner.prime(account.company_id.id)  # not in a page: its queries are once
        try:
            if account.initial_sync_done:
                self._load_changes(account)
            else:
                history_done = self._load_history(account)
        except AccountPaused:
            account.write({"sync_lease_until": False, "sync_worker_pid": False})
            return False
        except RUN_STOPPING_ERRORS as error:
            # Not this account's failure: the whole run stops.
            self._release(account, error=error, account_failed=False)
            raise RunStopped(error) from error
        except ACCOUNT_ERRORS as error:
            self._release(account, error=error)
            self.worker._add_counts(accounts_done=1, accounts_failed=1)
            if isinstance(error, errors.ServerError):
                self._consecutive_server_errors += 1
                if self._consecutive_server_errors >= const.MAX_CONSECUTIVE_SERVER_ERRORS:
                    raise RunStopped(error) from error
            return True
        self._consecutive_server_errors = 0
        self._release(account, history_done=history_done)
        self.worker._add_counts(accounts_done=1)
        return True

    def _release(self, account, error=None, history_done=False, account_failed=True):
        error_text = None if error is None else failures.describe_error(self.env, error)
        if error_text:
            _logger.warning("LedgerSync: bank account %s not synced: %s", account.id, error_text)
        release_account(
            account,
            self.run,
            error_text=error_text,
            history_done=history_done,
            account_failed=account_failed,
        )

    def _load_history(self, account):
        """Initial load: the history in date windows, oldest first, resumable per window.

        Returns True once the whole history is loaded.
        """
        # Changes made from the start of the load on are fetched by the first incremental
        # sync. The cursor is written with the first completed window: a window cut short
        # by a crash is fetched again in full, after a later start.
        load_started = account.sync_cursor or utc_now()
        start = (
            account.history_loaded_until + timedelta(days=1)
            if account.history_loaded_until
            else self.connection._history_start_date()
        )
        # One day ahead: no time zone's "today" is left out.
        end = tomorrow_utc()
        if start <= end:

            def pause():  # years of history take several calls: a window a unit of work
                if self._slice_left() <= const.CRON_MIN_SECONDS_LEFT:
                    raise AccountPaused()

            self._load_windows(
                account,
                date_windows(start, end),
                before_next=pause,
                loaded=lambda day: account.write(
                    {"history_loaded_until": day, "sync_cursor": load_started}
                ),
            )
        if not account.sync_cursor:  # no window to load (a start date in the future)
            account.sync_cursor = load_started
        return True

    def _load_changes(self, account):
        """Incremental: everything changed since the cursor, minus a safety overlap."""
        started = utc_now()
        since = account.sync_cursor - timedelta(seconds=const.UPDATED_SINCE_OVERLAP_SECONDS)
        for page in self.api.iter_transaction_pages(
            account.ledgersync_id,
            updated_since=since,
            limit=const.TRANSACTION_PAGE_SIZE,
            time_left=self._page_time_left,
        ):
            self._apply_page(account, page.items)
            if page.next_cursor is None:
                # Only a complete answer moves the cursor: its order is by id, not by time.
                account.sync_cursor = started
            self._commit()

    def load_range(self, account, start, end):
        """On demand (the Load Transactions wizard): ``account``'s transactions dated
        ``start``..``end``, in windows of at most RANGE_WINDOW_DAYS days, through the same
        pages and batches as the sync. The account's positions (history, cursor) stay as
        they are: the next incremental sync catches what changes in the range all the same.

        Resumable: the run keeps the last day loaded (``range_loaded_until``), written with
        the page that completes its window. At least one window per call; raises
        OutOfTime when the time left ends the call before the last one.
        """
        if self.run.range_loaded_until:
            start = self.run.range_loaded_until + timedelta(days=1)
        if start > end:
            return

        def stop():  # a window is the unit of work here, as a bank account is in a sync
            if self.seconds_left <= 0:
                raise errors.OutOfTime()

        def loaded(day):
            self.run.range_loaded_until = day

        self._load_windows(
            account,
            date_windows(start, end, const.RANGE_WINDOW_DAYS),
            before_next=stop,
            loaded=loaded,
        )

    def _load_windows(self, account, windows, before_next, loaded):
        """``account``'s transactions of each (start, end) of ``windows``, page by page,
        each page committed; ``loaded(end)`` is written with the page that completes a
        window, and ``before_next()`` may end the call (raising) before the next one."""
        for index, (window_start, window_end) in enumerate(windows):
            if index:
                before_next()
            for page in self.api.iter_transaction_pages(
                account.ledgersync_id,
                start_date=window_start,
                end_date=window_end,
                limit=const.TRANSACTION_PAGE_SIZE,
                time_left=self._page_time_left,
            ):
                self._apply_page(account, page.items)
                if page.next_cursor is None:
                    loaded(window_end)
                self._commit()

    # ------------------------------------------------------------------ one page

    def _apply_page(self, account, records):
        """Write one page in at most four statements, and a fifth when the page has
        transactions exported to a bank statement; returns the plan."""
        currency_ids = mapping.page_currencies(records, self.currency_ids)
        self.env.flush_all()
        existing = {}
        # row id -> (client id, company id, review state, rules.Assignment)
        assignments = {}
        # Rows exported to a bank statement (or flagged as changed since): compared with
        # their statement line once the page is written.
        exported_ids = []
        if records:
            self.cr.execute(
                SQL(
                    """
                    SELECT ledgersync_id, id, content_hash, active,
                           statement_line_id IS NOT NULL OR changed_after_export IS TRUE,
                           client_id, company_id, review_state,
                           partner_id, partner_source, account_id, account_source, rule_id
                      FROM ledgersync_transaction
                     WHERE bank_account_id = %s AND ledgersync_id = ANY(%s)
                    """,
                    account.id,
                    [record.id for record in records],
                )
            )
            for ledgersync_id, row_id, digest, active, exported, *assigned in self.cr.fetchall():
                existing[ledgersync_id] = mapping.ExistingRow(row_id, digest, active)
                if exported:
                    exported_ids.append(row_id)
                # client id, company id, review state, then the rules.Assignment
                assignments[row_id] = (*assigned[:3], rules.Assignment(*assigned[3:]))
        plan = mapping.plan_page(records, existing)
        uid = self.env.uid
        if plan.to_create:
            self._insert(account, plan.to_create, currency_ids)
        if plan.to_update:
            self._update(plan.to_update, currency_ids, assignments)
        if plan.to_archive:
            self.cr.execute(
                SQL(
                    """
                    UPDATE ledgersync_transaction
                       SET active = FALSE, write_uid = %s, write_date = (now() at time zone 'UTC')
                     WHERE id = ANY(%s)
                    """,
                    uid,
                    plan.to_archive,
                )
            )
        if exported_ids:
            # Their LedgerSync data keeps mirroring LedgerSync; the statement line is in the
            # books and stays as it is: a difference is flagged, for a person to decide.
            self.cr.execute(flag_changed_after_export(exported_ids))
        self.env["ledgersync.transaction"].invalidate_model()
        self.worker._add_counts(
            created_count=len(plan.to_create),
            updated_count=len(plan.to_update),
            unchanged_count=plan.unchanged,
            archived_count=len(plan.to_archive),
            pages=1,
        )
        return plan

    def _insert(self, account, to_create, currency_ids):
        """One INSERT of a page's new transactions."""
        now, uid = utc_now(), self.env.uid
        head = (account.id, account.client_id.id, account.company_id.id)
        tail = (True, "to_review", uid, now, uid, now)
        rows = [
            (
                *head,
                record.id,
                *mapping.sql_row(record, values, digest, currency_ids),
                *self._assigned_row(record, *head[1:]),
                *tail,
            )
            for record, values, digest in to_create
        ]
        # DO NOTHING: a worker that lost its lease must not fail the one that took over.
        statement = SQL(
            """
            INSERT INTO ledgersync_transaction (%s) VALUES %%s
            ON CONFLICT (bank_account_id, ledgersync_id) DO NOTHING
            """,
            identifiers(INSERT_COLUMNS),
        )
        execute_values(self.cr, statement, rows)

    def _assigned_row(self, record, client_id, company_id, review_state="to_review", current=None):
        """The ASSIGNED_COLUMNS of a new or changed transaction of that client and company
        (whose rules, vendors and GL accounts apply): what the rules and hints give one to
        review (keeping what a person set), or its values as they are."""
        if review_state != "to_review":
            decided = current
            status = rules.match_status(
                decided.partner_id,
                decided.partner_source,
                decided.account_id,
                decided.account_source,
            )
        else:
            decided, status = self.assigner.assign(
                (
                    record.description,
                    record.amount,
                    client_id,
                    company_id,
                    record.vendor_name,
                    record.gl_code,
                ),
                current,
            )
        return (
            decided.partner_id,
            decided.partner_source,
            decided.account_id,
            decided.account_source,
            decided.rule_id,
            status,
        )

    def _update(self, to_update, currency_ids, current):
        """One UPDATE of a page's changed (or reappearing) transactions."""
        rows = [
            (
                row_id,
                *mapping.sql_row(record, values, digest, currency_ids),
                *self._assigned_row(record, *current[row_id]),
            )
            for row_id, record, values, digest in to_update
        ]
        columns = [
            *((column.name, column.sql_type) for column in mapping.SQL_COLUMNS),
            *ASSIGNED_COLUMNS,
        ]
        # The VALUES list has no column types: each value is cast to its column's.
        assignments = SQL(", ").join(
            SQL("%s = v.%s::%s", SQL.identifier(name), SQL.identifier(name), SQL.identifier(kind))
            for name, kind in columns
        )
        statement = SQL(
            """
            UPDATE ledgersync_transaction AS t
               SET %s, active = TRUE,
                   write_uid = %s, write_date = (now() at time zone 'UTC')
              FROM (VALUES %%s) AS v (id, %s)
             WHERE t.id = v.id
            """,
            assignments,
            self.env.uid,
            identifiers(name for name, _kind in columns),
        )
        execute_values(self.cr, statement, rows)

    def _currency_ids(self):
        """{ISO code: res.currency id} of every currency Odoo knows, inactive ones too: a
        fresh database has most currencies (CAD, EUR ...) inactive, and transactions are
        shown in their own currency all the same. (Exporting them to a bank statement needs
        the currency active: ledgersync.transaction says so there.)"""
        currencies = (
            self.env["res.currency"].with_context(active_test=False).search_fetch([], ["name"])
        )
        return {currency.name: currency.id for currency in currencies}


def release_account(account, run, error_text=None, history_done=False, account_failed=True):
    """Free ``account``, synced by ``run``, or not: ``error_text`` says why.

    A failure of the account itself (``account_failed``; not one that stops the whole
    run, such as LedgerSync being unreachable) extends its streak of failed syncs; at
    ACCOUNT_FAILED_RUNS_ALERT in a row the administrators get a To Do, marked done when
    the account syncs again.
    """
    values = {
        "sync_lease_until": False,
        "sync_worker_pid": False,
        "last_sync_run_id": run.id,
    }
    if history_done:
        values["initial_sync_done"] = True
    if error_text is None:
        values.update(last_sync_error=False, last_synced_at=utc_now(), sync_failure_streak=0)
    else:
        values["last_sync_error"] = error_text
        if account_failed:
            values["sync_failure_streak"] = account.sync_failure_streak + 1
    account.write(values)
    connection = account.connection_id
    if error_text is None:
        connection._alert_account_recovered(account)
    elif account_failed and account.sync_failure_streak >= ACCOUNT_FAILED_RUNS_ALERT:
        connection._alert_account_failure(account)
