"""The SQL pieces the engine and the run share."""

from odoo.tools import SQL


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
