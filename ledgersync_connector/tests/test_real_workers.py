"""Several workers, and a killed worker, on real PostgreSQL connections.

A TransactionCase runs everything on one cursor, where ``FOR UPDATE SKIP LOCKED`` and a
lost database session cannot happen. These tests commit into the test database through
connections of their own (two threads; a separate Odoo process killed with SIGKILL), and
delete everything they created when they end.
"""

import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from contextlib import contextmanager
from datetime import date, timedelta
from unittest.mock import patch

import psycopg2.errors

from odoo import SUPERUSER_ID, api, release, sql_db
from odoo.orm.environments import Transaction
from odoo.tests import TransactionCase, tagged
from odoo.tools import SQL, config

from ..sync.engine import SyncEngine
from .common import DEMO_EMAIL, PASSWORD, SandboxMixin


@tagged("post_install", "-at_install")
class TestRealWorkers(SandboxMixin, TransactionCase):
    # The killed worker is another Odoo process: it reaches the sandbox over HTTP.
    sandbox_over_http = True
    # 3 clients x 2 accounts x 30 transactions, each loaded in two date windows.
    sandbox_config = {"clients": 3, "accounts_per_client": 2, "transactions_per_account": 30}

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.start_sandbox()
        cls.dbname = cls.env.cr.dbname

    def setUp(self):
        super().setUp()
        with self.real_env() as env:
            company = env.ref("base.main_company")
            self.assertFalse(
                env["ledgersync.connection"].with_context(active_test=False).search([]),
                "these tests need a test database without committed LedgerSync connections",
            )
            env.ref("base.EUR").active = True
            connection = env["ledgersync.connection"]._for_company(company)
            connection = connection.action_connect(DEMO_EMAIL, PASSWORD, self.sandbox.base_url)
            connection.history_days = 500  # the whole sandbox history: two windows each
            self.connection_id = connection.id
        self.addCleanup(self.delete_committed_data)

    # -- helpers --------------------------------------------------------------------

    @contextmanager
    def real_env(self):
        """An environment on a connection of its own, committed when the block ends.

        Its transaction is given this registry: looking it up by name would wait for the
        registries' lock, which Odoo's own test runner holds while the tests run."""
        with sql_db.db_connect(self.dbname).cursor() as cr:
            cr.transaction = Transaction(self.registry)
            yield api.Environment(cr, SUPERUSER_ID, {})

    @staticmethod
    def committing(env):
        def commit():
            env.cr.commit()
            return float("inf")

        return commit

    def delete_committed_data(self):
        """Remove every row these tests committed: the connection and what hangs from it."""
        with self.real_env() as env:
            env.cr.execute(
                """
                DELETE FROM ledgersync_transaction WHERE bank_account_id IN (
                    SELECT id FROM ledgersync_bank_account WHERE connection_id = %s)
                RETURNING id
                """,
                [self.connection_id],
            )
            self.delete_chatter(
                env, "ledgersync.transaction", [row[0] for row in env.cr.fetchall()]
            )
        tables = {
            "ledgersync.bank.account": "ledgersync_bank_account",
            "ledgersync.client": "ledgersync_client",
            "ledgersync.sync.run": "ledgersync_sync_run",
        }
        with self.real_env() as env:
            for model, table in tables.items():
                env.cr.execute(
                    SQL(
                        "DELETE FROM %s WHERE connection_id = %s RETURNING id",
                        SQL.identifier(table),
                        self.connection_id,
                    )
                )
                self.delete_chatter(env, model, [row[0] for row in env.cr.fetchall()])
            env.cr.execute("DELETE FROM ledgersync_connection WHERE id = %s", [self.connection_id])
            self.delete_chatter(env, "ledgersync.connection", [self.connection_id])
            cron = env.ref("ledgersync_connector.ir_cron_ledgersync_sync")
            env.cr.execute("DELETE FROM ir_cron_trigger WHERE cron_id = %s", [cron.id])

    @staticmethod
    def delete_chatter(env, model, ids):
        for table in ("mail_message", "mail_followers"):
            env.cr.execute(
                SQL(
                    "DELETE FROM %s WHERE model = %s AND res_id = ANY(%s)"
                    if table == "mail_message"
                    else "DELETE FROM %s WHERE res_model = %s AND res_id = ANY(%s)",
                    SQL.identifier(table),
                    model,
                    ids,
                )
            )

    def transaction_ids(self, env):
        """{bank account LedgerSync id: [transaction LedgerSync ids]} of the committed rows."""
        env.cr.execute(
            """
            SELECT account.ledgersync_id, array_agg(tx.ledgersync_id)
              FROM ledgersync_transaction tx
              JOIN ledgersync_bank_account account ON account.id = tx.bank_account_id
             WHERE account.connection_id = %s
             GROUP BY account.ledgersync_id
            """,
            [self.connection_id],
        )
        return dict(env.cr.fetchall())

    def assert_rows_exactly_ledgersyncs(self, env):
        stored = self.transaction_ids(env)
        accounts = env["ledgersync.bank.account"].search(
            [("connection_id", "=", self.connection_id)]
        )
        self.assertEqual(set(stored), set(accounts.mapped("ledgersync_id")))
        for account, ids in stored.items():
            self.assertEqual(len(ids), len(set(ids)), f"{account}: duplicated transactions")
            records, _next = self.sandbox.app.query_transactions(account, limit=500)
            self.assertEqual(set(ids), {record["id"] for record in records}, account)

    def run_of(self, env):
        return env["ledgersync.sync.run"].search([("connection_id", "=", self.connection_id)])

    # -- tests ----------------------------------------------------------------------

    def test_two_workers_never_take_the_same_account(self):
        """Two workers on two database connections share one run with SKIP LOCKED."""
        self.sandbox.app.faults.add("delay", endpoint="transactions", count=-1, delay=0.15)
        claims = []
        claim = SyncEngine._claim_next_account

        def recording_claim(engine):
            account = claim(engine)
            if account:
                claims.append((threading.current_thread().name, account.id))
            return account

        errors = []

        def worker():
            try:
                with self.real_env() as env:
                    connection = env["ledgersync.connection"].browse(self.connection_id)
                    connection._sync("initial", commit=self.committing(env))
            except Exception as error:
                errors.append(error)

        with patch.object(SyncEngine, "_claim_next_account", recording_claim):
            first = threading.Thread(target=worker, name="first")
            first.start()
            # The second worker joins once the first has listed clients and bank accounts.
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                with self.real_env() as env:
                    if self.run_of(env).phase == "transactions":
                        break
                time.sleep(0.05)
            second = threading.Thread(target=worker, name="second")
            second.start()
            first.join(60)
            second.join(60)
        self.assertFalse(errors)
        self.assertFalse(first.is_alive() or second.is_alive(), "a worker did not finish")

        accounts = [account for _thread, account in claims]
        self.assertEqual(len(accounts), len(set(accounts)), f"an account was taken twice: {claims}")
        self.assertEqual({thread for thread, _account in claims}, {"first", "second"})
        with self.real_env() as env:
            all_accounts = env["ledgersync.bank.account"].search(
                [("connection_id", "=", self.connection_id)]
            )
            self.assertEqual(set(accounts), set(all_accounts.ids))
            run = self.run_of(env)
            self.assertEqual(run.state, "done", run.error_message)
            self.assertEqual(run.accounts_done, len(all_accounts))
            self.assert_rows_exactly_ledgersyncs(env)
            # Each account's history was asked for once: two windows, no more.
            for account in all_accounts:
                self.assertEqual(self.sandbox.app.stats["by_account"][account.ledgersync_id], 2)

    def test_killed_worker_is_taken_over_and_nothing_is_lost_or_duplicated(self):
        """An Odoo process is killed (SIGKILL) mid-sync; the next worker finishes the run."""
        self.sandbox.app.faults.add("delay", endpoint="transactions", count=-1, delay=0.3)
        process = self.start_odoo_process(
            f"""
            connection = env["ledgersync.connection"].browse({self.connection_id})
            def commit():
                env.cr.commit()
                return float("inf")
            connection._sync("initial", commit=commit)
            """
        )
        try:
            leased = self.wait_for_a_lease_with_rows(process)
        finally:
            process.send_signal(signal.SIGKILL)
            process.wait(30)
        self.wait_until_session_gone(leased["pid"])

        with self.real_env() as env:
            run = self.run_of(env)
            self.assertEqual(run.state, "running")
            rows_before = sum(map(len, self.transaction_ids(env).values()))
            self.assertLess(rows_before, 180, "the worker was killed after the sync finished")
            connection = env["ledgersync.connection"].browse(self.connection_id)
            resumed, out_of_time = connection._sync("scheduled", commit=self.committing(env))
            self.assertFalse(out_of_time)
            self.assertEqual(resumed, run, "the killed worker's run was not taken over")
            self.assertEqual(run.state, "done", run.error_message)
            account = env["ledgersync.bank.account"].browse(leased["id"])
            self.assertEqual(account.last_sync_run_id, run)
            self.assertFalse(account.sync_lease_until)
            self.assertTrue(account.initial_sync_done)
            self.assert_rows_exactly_ledgersyncs(env)

    def test_a_claim_that_collides_with_another_worker_is_tried_again(self):
        """Another worker changed the first account to take since this worker's
        transaction began: under REPEATABLE READ the claim fails; it is tried again."""
        with self.real_env() as env:
            connection = env["ledgersync.connection"].browse(self.connection_id)
            run, _out_of_time = connection._sync("initial", commit=self.committing(env))
            self.assertEqual(run.state, "done", run.error_message)
        with self.real_env() as env, self.real_env() as other_env:
            connection = env["ledgersync.connection"].browse(self.connection_id)
            run = env["ledgersync.sync.run"].create(
                {"connection_id": connection.id, "trigger": "manual", "phase": "transactions"}
            )
            engine = SyncEngine(
                run, run._new_worker(), connection._api_client(), self.committing(env)
            )
            env.cr.commit()
            env.cr.execute("SELECT count(*) FROM ledgersync_bank_account")  # the snapshot
            other_env.cr.execute(
                "UPDATE ledgersync_bank_account SET write_date = now() at time zone 'UTC'"
                " WHERE id = (SELECT min(id) FROM ledgersync_bank_account"
                "              WHERE connection_id = %s)",
                [self.connection_id],
            )
            other_env.cr.commit()
            account = engine._claim_next_account()
            self.assertTrue(account)
            self.assertEqual(account.sync_worker_pid, engine.worker.worker_pid)

    def test_an_export_that_waited_for_the_rows_is_run_again_quietly(self):
        """A double click: the second request waits for the rows the first one locked. Once
        the first changed them and committed, the second's snapshot is too old: the lock
        is refused as a collision, which Odoo's retry of the request expects. Nothing is
        logged as an error."""
        with self.real_env() as env:
            connection = env["ledgersync.connection"].browse(self.connection_id)
            run, _out_of_time = connection._sync("initial", commit=self.committing(env))
            self.assertEqual(run.state, "done", run.error_message)
        with self.real_env() as first, self.real_env() as second:
            domain = [("bank_account_id.connection_id", "=", self.connection_id)]
            rows = second["ledgersync.transaction"].search(domain, limit=3, order="id")
            self.assertEqual(set(rows.mapped("review_state")), {"to_review"})
            first["ledgersync.transaction"].browse(rows.ids)._lock_rows()
            first.cr.execute(  # what the first export changes
                "UPDATE ledgersync_transaction SET review_state = 'reviewed' WHERE id = ANY(%s)",
                [rows.ids],
            )
            with self.assertNoLogs("odoo.sql_db", "ERROR"):
                commit = threading.Timer(0.3, first.cr.commit)  # while the second one waits
                commit.start()
                with self.assertRaises(psycopg2.errors.SerializationFailure):
                    rows._lock_rows()
                commit.join(5)
            second.cr.rollback()
            # Run again (as Odoo does): the lock is taken and the rows read afresh.
            rows._lock_rows()
            self.assertEqual(set(rows.mapped("review_state")), {"reviewed"})

    def test_a_first_phase_left_by_an_idle_session_is_taken_over(self):
        """The worker that held the first phase ended its call: its database session is
        idle in Odoo's pool. After IDLE_WORKER_SECONDS the next worker takes over."""
        with self.real_env() as env, self.real_env() as other_env:
            other_env.cr.execute("SELECT pg_backend_pid()")
            idle_pid = other_env.cr.fetchone()[0]
            other_env.cr.commit()  # the session is idle from now on
            run = env["ledgersync.sync.run"].create(
                {"connection_id": self.connection_id, "trigger": "manual", "worker_pid": idle_pid}
            )

            def abandoned():
                env.cr.commit()  # PostgreSQL shows sessions as they were when a transaction began
                return run._is_abandoned()

            time.sleep(0.2)
            self.assertFalse(abandoned(), "an idle session is not abandoned at once")
            with patch("odoo.addons.ledgersync_connector.const.IDLE_WORKER_SECONDS", 0.1):
                self.assertTrue(abandoned())
                # A session at work (in a transaction) is never taken over.
                other_env.cr.execute("SELECT 1")
                time.sleep(0.2)
                self.assertFalse(abandoned())

    # -- the separate Odoo process ----------------------------------------------------

    def test_a_range_load_beside_a_sync_creates_nothing_twice(self):
        """A Load Transactions of a whole year and the first sync, at once, on two database
        connections, both committing: each account is written by one at a time (the
        lease), and the rows are exactly LedgerSync's."""
        self.sandbox.app.faults.add("delay", endpoint="transactions", count=-1, delay=0.05)
        with self.real_env() as env:
            connection = env["ledgersync.connection"].browse(self.connection_id)
            # The structure first (clients, bank accounts), no transactions yet.
            connection.history_start_date = date.today() + timedelta(days=10)
            run, _out_of_time = connection._sync("initial", commit=self.committing(env))
            self.assertEqual(run.state, "done", run.error_message)
            env["ledgersync.bank.account"].search(
                [("connection_id", "=", self.connection_id)]
            ).write({"initial_sync_done": False, "sync_cursor": False})
            connection.history_start_date = False
            account = env["ledgersync.bank.account"].search(
                [("connection_id", "=", self.connection_id)], limit=1
            )
            range_run = env["ledgersync.range.load"]._start(
                account, date.today() - timedelta(days=365), date.today()
            )
            self.assertEqual(range_run.state, "running")
            range_run_id = range_run.id
        errors = []

        def sync():
            try:
                with self.real_env() as env:
                    connection = env["ledgersync.connection"].browse(self.connection_id)
                    connection._sync("scheduled", commit=self.committing(env))
            except Exception as error:
                errors.append(error)

        def load():
            try:
                deadline = time.monotonic() + 60
                while time.monotonic() < deadline:
                    with self.real_env() as env:
                        env["ledgersync.range.load"]._cron_loads(self.committing(env))
                        if env["ledgersync.sync.run"].browse(range_run_id).state != "running":
                            return
                    time.sleep(0.05)
            except Exception as error:
                errors.append(error)

        threads = [threading.Thread(target=sync), threading.Thread(target=load)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(90)
        self.assertFalse(errors)
        self.assertFalse(any(thread.is_alive() for thread in threads), "a worker did not finish")
        with self.real_env() as env:
            # The sync skipped the account while the range load held it: the range load
            # triggered the scheduled action, whose next call takes it.
            cron = env.ref("ledgersync_connector.ir_cron_ledgersync_sync")
            connection = env["ledgersync.connection"].browse(self.connection_id)
            if env["ledgersync.sync.run"]._running_of(connection):
                self.assertTrue(env["ir.cron.trigger"].search([("cron_id", "=", cron.id)]))
                connection._sync("scheduled", commit=self.committing(env))
            range_run = env["ledgersync.sync.run"].browse(range_run_id)
            self.assertEqual(range_run.state, "done", range_run.error_message)
            self.assertEqual(range_run.progress, 100.0)
            # The range load saw each transaction of its year once (new or already there).
            in_range, _next = self.sandbox.app.query_transactions(
                range_run.range_bank_account_id.ledgersync_id,
                start_date=range_run.range_start,
                end_date=range_run.range_end,
                limit=500,
            )
            seen = range_run.created_count + range_run.updated_count + range_run.unchanged_count
            self.assertEqual(seen, len(in_range))
            syncs = self.run_of(env).filtered(lambda run: run.trigger != "range")
            self.assertEqual(set(syncs.mapped("state")), {"done"})
            self.assert_rows_exactly_ledgersyncs(env)

    def start_odoo_process(self, script):
        """``odoo shell`` on the test database in a new process, running ``script``."""
        options = [
            f"--addons-path={','.join(config['addons_path'])}",
            f"--data-dir={config['data_dir']}",
            "--no-http",
            "--log-level=warn",
            "-d",
            self.dbname,
        ]
        for option in ("db_host", "db_port", "db_user", "db_password"):
            if config[option]:
                options.append(f"--{option}={config[option]}")
        odoo_root = os.path.dirname(os.path.dirname(release.__file__))
        environ = dict(
            os.environ,
            PYTHONPATH=os.pathsep.join(filter(None, [odoo_root, os.environ.get("PYTHONPATH")])),
            LEDGERSYNC_ENCRYPTION_KEYS=self.encryption_key,
        )
        process = subprocess.Popen(
            [sys.executable, "-m", "odoo", "shell", *options],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            env=environ,
            text=True,
        )
        process.stdin.write(textwrap.dedent(script))
        process.stdin.close()
        return process

    def wait_for_a_lease_with_rows(self, process, timeout=60):
        """The bank account the process holds once some of its transactions are committed."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if process.poll() is not None:
                self.fail(f"the Odoo process ended before it was killed:\n{process.stdout.read()}")
            with self.real_env() as env:
                env.cr.execute(
                    """
                    SELECT account.id, account.sync_worker_pid
                      FROM ledgersync_bank_account account
                     WHERE account.connection_id = %s AND account.sync_lease_until IS NOT NULL
                       AND EXISTS (SELECT 1 FROM ledgersync_transaction tx
                                     JOIN ledgersync_bank_account other
                                       ON other.id = tx.bank_account_id
                                    WHERE other.connection_id = %s)
                     LIMIT 1
                    """,
                    [self.connection_id, self.connection_id],
                )
                row = env.cr.fetchone()
                if row:
                    return {"id": row[0], "pid": row[1]}
            time.sleep(0.05)
        self.fail("the Odoo process never held a bank account")

    def wait_until_session_gone(self, pid, timeout=30):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.real_env() as env:
                env.cr.execute("SELECT 1 FROM pg_stat_activity WHERE pid = %s", [pid])
                if not env.cr.fetchone():
                    return
            time.sleep(0.1)
        self.fail(f"the killed worker's database session {pid} did not end")
