"""The SQL pieces the engine and the run share."""

from odoo.tools import SQL

from .. import const


def identifiers(names):
    return SQL(", ").join(SQL.identifier(name) for name in names)


def execute_values(cr, statement, rows):
    """Run ``statement``, an SQL whose ``%%s`` stands for a VALUES list, on all ``rows`` in
    one query: psycopg2's execute_values quotes each row in C, far faster than one SQL
    parameter per value. ``mogrify`` fills in the statement's own parameters and turns
    its ``%%s`` into the placeholder execute_values expects."""
    cr.execute_values(cr.mogrify(statement), rows, page_size=len(rows))


def accounts_to_sync(connection_id, run_id=None):
    """``FROM ... WHERE ...`` of the bank accounts (alias ``account``) that a sync of the
    connection covers: the active ones of its active clients; with ``run_id``, only those
    that run has not synced yet. The one definition of "accounts left to sync"."""
    not_synced = (
        SQL(" AND account.last_sync_run_id IS DISTINCT FROM %s", run_id) if run_id else SQL()
    )
    return SQL(
        """
          FROM ledgersync_bank_account account
          JOIN ledgersync_client client ON client.id = account.client_id
         WHERE account.connection_id = %s AND account.active AND client.active%s
        """,
        connection_id,
        not_synced,
    )


def claim_next_account(connection_id, run_id):
    """Take the next bank account that the run has not synced and nobody holds (or whose
    holder is gone): a lease for this database session, skipping accounts locked by
    another worker's claim. Returns the account's id, or no row."""
    return SQL(
        """
        UPDATE ledgersync_bank_account
           SET sync_lease_until = (now() at time zone 'UTC') + %s * interval '1 second',
               sync_worker_pid = pg_backend_pid()
         WHERE id = (
            SELECT account.id %s
               -- a run that ended (failed) takes no more accounts
               AND EXISTS (SELECT 1 FROM ledgersync_sync_run
                            WHERE id = %s AND state = 'running')
               AND %s
             ORDER BY account.id
             LIMIT 1
               FOR UPDATE OF account SKIP LOCKED
         )
        RETURNING id
        """,
        const.ACCOUNT_LEASE_SECONDS,
        accounts_to_sync(connection_id, run_id),
        run_id,
        lease_free("account"),
    )


def lease_free(alias):
    """The bank account ``alias`` is free to take: no lease, an expired one, or the worker
    holding it is gone (process killed)."""
    account = SQL.identifier(alias)
    return SQL(
        """(%s.sync_lease_until IS NULL
            OR %s.sync_lease_until < (now() at time zone 'UTC')
            OR NOT EXISTS (SELECT 1 FROM pg_stat_activity WHERE pid = %s.sync_worker_pid))""",
        account,
        account,
        account,
    )


def lease_held(alias):
    """A live worker holds the bank account ``alias`` (it is being synced now)."""
    return SQL("NOT %s", lease_free(alias))


def claim_account(account_id):
    """Take the bank account ``account_id`` if it is free and no other worker's claim locks
    it (the Load Transactions wizard's range load); returns its id, or no row."""
    return SQL(
        """
        UPDATE ledgersync_bank_account
           SET sync_lease_until = (now() at time zone 'UTC') + %s * interval '1 second',
               sync_worker_pid = pg_backend_pid()
         WHERE id = (
            SELECT account.id FROM ledgersync_bank_account account
             WHERE account.id = %s AND %s
               FOR UPDATE OF account SKIP LOCKED
         )
        RETURNING id
        """,
        const.ACCOUNT_LEASE_SECONDS,
        account_id,
        lease_free("account"),
    )


def flag_changed_after_export(transaction_ids):
    """Set ``changed_after_export`` on the transactions ``transaction_ids`` exported to a
    bank statement line whose LedgerSync data no longer agrees with that line: another
    amount (at the currency's precision) or date, no longer posted, or archived (deleted
    in LedgerSync); clear it where they agree again, or where the line is gone. The same
    comparison as sync/exported.py's export_differences, which words the difference.

    The statement line is only read: it is in the books. Only rows whose flag changes are
    written."""
    return SQL(
        """
        UPDATE ledgersync_transaction AS t
           SET changed_after_export = compared.changed
          FROM (
            SELECT tx.id,
                   line.id IS NOT NULL AND (
                       NOT tx.active
                       OR tx.ledgersync_status IS DISTINCT FROM 'posted'
                       OR tx.date IS DISTINCT FROM move.date
                       OR ROUND(tx.amount, currency.decimal_places)
                          IS DISTINCT FROM ROUND(line.amount, currency.decimal_places)
                   ) AS changed
              FROM ledgersync_transaction tx
              JOIN res_currency currency ON currency.id = tx.currency_id
              LEFT JOIN account_bank_statement_line line ON line.id = tx.statement_line_id
              LEFT JOIN account_move move ON move.id = line.move_id
             WHERE tx.id = ANY(%s)
          ) AS compared
         WHERE t.id = compared.id
           AND COALESCE(t.changed_after_export, FALSE) != compared.changed
        """,
        list(transaction_ids),
    )
