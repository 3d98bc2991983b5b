"""The fault matrix, end to end: a real Odoo registry syncs from the LedgerSync sandbox
over HTTP on localhost, through the API client's whole transport (retries, deadlines, size
cap), while the sandbox misbehaves in each of the ways LedgerSync, a proxy or the network
can (ledgersync_sandbox/faults.py).

Every case checks the same three things:
- the rows in Odoo are LedgerSync's (the sandbox's store): none lost, none duplicated,
  none changed, none that LedgerSync does not have (``row_difference``);
- the run's state, the connection's status and the reason, with their exact values;
- no secret (the passwords, every token the sandbox issued) in any spelling in the log
  records emitted during the test, nor in the error texts of the run, the connection and
  the bank accounts (``assert_no_secret``).
"""

import base64
import logging
import re
import time
from datetime import timedelta
from unittest.mock import patch
from urllib.parse import quote, quote_plus

from odoo import fields
from odoo.tests import tagged

from .. import const
from ..api import LedgerSyncApiClient
from ..sync.engine import SyncEngine
from .common import DEMO_EMAIL, PASSWORD, SyncCase, ledgersync_sandbox

LOGIN_STATES = ledgersync_sandbox.auth.LOGIN_STATES

# The bank account the account-level faults hit (client 2's first account); the others
# (ba_d_0001_01, ba_d_0001_02 in EUR, ba_d_0002_02) stay healthy.
BROKEN = "ba_d_0002_01"
HEALTHY = "ba_d_0001_01"
NEW_PASSWORD = "N3w-Passw0rd/changed in LedgerSync"
NO_DIFFERENCE = {"lost": [], "duplicated": [], "unexpected": [], "different": []}


class SimulatedCrash(BaseException):
    """Stands for a killed worker: like SIGKILL, it escapes the sync's handling of
    unexpected errors (``except Exception``), so nothing is cleaned up."""


class CapturedLogs(logging.Handler):
    """Keeps every record it is handed (once, even when attached to several loggers)."""

    def __init__(self):
        super().__init__(logging.DEBUG)
        self.records = {}
        self.formatter = logging.Formatter("%(name)s %(levelname)s %(message)s")

    def emit(self, record):
        self.records[id(record)] = record

    def text(self):
        return "\n".join(self.format(record) for record in self.records.values())


def spellings(secret):
    """The forms of ``secret`` a log or an error text must not hold, compared in lower case
    (which also covers upper case): as it is, URL-encoded, and in base64."""
    forms = {secret, quote(secret, safe=""), quote_plus(secret)}
    for text in (secret, secret.upper()):
        data = text.encode()
        forms |= {
            base64.b64encode(data).decode(),
            base64.urlsafe_b64encode(data).decode().rstrip("="),
        }
    return {form.lower() for form in forms}


def all_pages(query):
    """Every record of a sandbox store listing: ``query(cursor) -> (records, next_cursor)``."""
    records, cursor = [], None
    while True:
        page, cursor = query(cursor)
        records += page
        if cursor is None:
            return records


@tagged("post_install", "-at_install")
class TestFaultMatrix(SyncCase):
    # End to end: the sandbox on localhost, the API client's whole transport.
    sandbox_over_http = True
    # 2 clients x 2 accounts x 12 transactions, the last 40 days pending.
    sandbox_config = {
        "clients": 2,
        "accounts_per_client": 2,
        "transactions_per_account": 12,
        "pending_days": 40,
    }

    def setUp(self):
        self.capture_logs()
        self.tokens = []  # every token the sandbox issues during the test
        self.record_tokens()
        # Short deadlines and retry waits, as a LedgerSyncApiClient(...) argument would set.
        self.client_options = {
            "timeout": 1.0,
            "max_retries": 2,
            "backoff_factor": 0.01,
            "retry_after_cap": 0.05,
        }
        original_init = LedgerSyncApiClient.__init__

        def init(client, *args, **kwargs):
            original_init(client, *args, **{**kwargs, **self.client_options})

        self.patch(LedgerSyncApiClient, "__init__", init)
        super().setUp()
        self.app = self.sandbox.app

    # -- what every case asserts ------------------------------------------------------

    def capture_logs(self):
        """Every record of the ``odoo`` and root loggers during the test, from INFO up (what
        a production server logs by default), and the addon's from DEBUG up (its requests
        and their outcomes)."""
        self.logs = CapturedLogs()
        levels = {"": logging.INFO, "odoo": logging.INFO}
        levels["odoo.addons.ledgersync_connector"] = logging.DEBUG
        for name, level in levels.items():
            logger = logging.getLogger(name)
            self.addCleanup(logger.setLevel, logger.level)
            logger.setLevel(min(level, logger.getEffectiveLevel()))
        for name in ("odoo", ""):
            logger = logging.getLogger(name)
            logger.addHandler(self.logs)
            self.addCleanup(logger.removeHandler, self.logs)

    def record_tokens(self):
        auth_class = type(self.sandbox.app.auth)
        original_login = auth_class.login

        def login(auth, email, password):
            answer = original_login(auth, email, password)
            self.tokens.append(answer["access_token"])
            return answer

        self.patch(auth_class, "login", login)

    def assert_no_secret(self):
        """No spelling of a password or token in the captured logs, nor in the error texts
        that the run, the connection (with its chatter) and the bank accounts keep."""
        self.assertTrue(self.tokens, "the sandbox issued no token: nothing was checked")
        self.assertTrue(self.logs.records, "no log record was captured: nothing was checked")
        connections = self.Connection.with_context(active_test=False).search([])
        runs = self.env["ledgersync.sync.run"].search([])
        accounts = self.BankAccount.with_context(active_test=False).search([])
        texts = {
            "logs": [self.logs.text()],
            "runs": runs.mapped("error_message"),
            "connections": connections.mapped("failure_detail")
            + connections.mapped("failure_reason"),
            "chatter": connections.message_ids.mapped("body"),
            "bank accounts": accounts.mapped("last_sync_error"),
        }
        forms = set().union(*map(spellings, (PASSWORD, NEW_PASSWORD, *self.tokens)))
        leaks = [
            (where, line)
            for where, values in texts.items()
            for value in values
            if value
            for line in str(value).lower().splitlines()
            if any(form in line for form in forms)
        ]
        self.assertEqual(leaks, [], "a secret is in these lines")

    def ledgersync_rows(self):
        """{transaction id: (bank account id, date, amount, status)} of every transaction
        the sandbox's store holds for the demo firm (tombstones left out)."""
        app, rows = self.app, {}
        for client in all_pages(lambda c: app.query_clients("demo", limit=500, cursor=c)):
            for account in all_pages(
                lambda c, client=client: app.query_bank_accounts(
                    client["id"], firm="demo", limit=500, cursor=c
                )
            ):
                for record in all_pages(
                    lambda c, account=account: app.query_transactions(
                        account["id"], firm="demo", limit=500, cursor=c
                    )
                ):
                    rows[record["id"]] = (
                        account["id"],
                        record["date"],
                        record["amount"],
                        record["status"],
                    )
        return rows

    def row_difference(self):
        """How Odoo's transactions differ from LedgerSync's: ids lost (live upstream, no
        active row), duplicated (more than one row), unexpected (an active row LedgerSync
        does not have) and different (another account, date, amount or status)."""
        expected = self.ledgersync_rows()
        self.env.flush_all()
        self.env.cr.execute(
            """
            SELECT tx.ledgersync_id, account.ledgersync_id, tx.date, tx.amount,
                   tx.ledgersync_status, tx.active
              FROM ledgersync_transaction tx
              JOIN ledgersync_bank_account account ON account.id = tx.bank_account_id
             WHERE account.company_id = %s
            """,
            [self.company.id],
        )
        rows, active = {}, {}
        for ledgersync_id, account, day, amount, status, is_active in self.env.cr.fetchall():
            rows[ledgersync_id] = rows.get(ledgersync_id, 0) + 1
            if is_active:
                active[ledgersync_id] = (account, day, f"{amount:.2f}", status)
        return {
            "lost": sorted(set(expected) - set(active)),
            "duplicated": sorted(ledgersync_id for ledgersync_id, n in rows.items() if n > 1),
            "unexpected": sorted(set(active) - set(expected)),
            "different": sorted(
                ledgersync_id
                for ledgersync_id, values in active.items()
                if ledgersync_id in expected and expected[ledgersync_id] != values
            ),
        }

    def assert_rows_exact(self):
        self.assertEqual(self.row_difference(), NO_DIFFERENCE)

    def assert_status(self, state, failure_code=False, failure_reason=False):
        connection = self.connection_record
        connection.invalidate_recordset()
        self.assertEqual(
            (connection.state, connection.failure_code, connection.failure_reason),
            (state, failure_code, failure_reason),
        )

    # -- helpers ----------------------------------------------------------------------

    def account(self, ledgersync_id):
        return self.BankAccount.search([("ledgersync_id", "=", ledgersync_id)])

    def ids_of(self, ledgersync_account_id):
        return sorted(
            tx_id
            for tx_id, (account, *_values) in self.ledgersync_rows().items()
            if account == ledgersync_account_id
        )

    def fault_on(self, kind, ledgersync_account_id=BROKEN, **options):
        path = f"/v1/bank-accounts/{ledgersync_account_id}/transactions"
        return self.app.faults.add(kind, path=path, count=options.pop("count", -1), **options)

    def logins(self):
        return self.app.stats["login"]

    def reconnect(self, password=PASSWORD):
        """The administrator saves the credentials again (Save Integration)."""
        connection = self.connect(password=password)
        self.assertEqual(connection, self.connection_record)
        self.assert_status("connected")

    def assert_done(self, run, created=None):
        """A run that completed, with exactly LedgerSync's rows."""
        self.assertEqual((run.state, run.error_code), ("done", False), run.error_message)
        if created is not None:
            self.assertEqual(run.created_count, created)
        self.assert_status("connected")
        self.assert_rows_exact()
        return run

    def assert_recovers(self, created=None):
        """Once the faults are gone, the next run completes."""
        self.app.faults.clear()
        return self.assert_done(self.sync(), created)

    def assert_lost_then_recovered(self, added):
        """Only ``added`` (a transaction the fault kept out) is missing; once the faults
        are gone, the next run brings it."""
        self.assertEqual(self.row_difference(), dict(NO_DIFFERENCE, lost=[added["id"]]))
        self.assert_recovers(created=1)

    def assert_timed_out(self, run):
        """The run ended partial on a timeout; the connection stays green."""
        self.assertEqual((run.state, run.error_code), ("partial", "timeout"))
        self.assertEqual(
            run.error_message, f"timeout: LedgerSync at {self.host} did not answer in time."
        )
        self.assert_status("connected")

    def assert_account_failed(self, run, error, position=None):
        """BROKEN failed alone with ``error`` (a text, or a pattern); the run is partial; no
        lease is left; BROKEN's position (cursor, history loaded, initial sync done) is
        ``position`` when given."""
        broken = self.account(BROKEN)
        self.assertEqual((run.state, run.error_code), ("partial", "accounts_failed"))
        self.assertEqual((run.accounts_done, run.accounts_failed), (4, 1))
        if isinstance(error, re.Pattern):
            self.assertRegex(broken.last_sync_error, error)
            error = broken.last_sync_error
        self.assertEqual(broken.last_sync_error, error)
        self.assertEqual(
            run.error_message,
            f"1 bank accounts could not be synced:\n{broken.client_id.name} / "
            f"{broken.display_name}: {error}",
        )
        if position is not None:
            self.assertEqual(
                (broken.sync_cursor, broken.history_loaded_until, broken.initial_sync_done),
                position,
            )
        self.assertFalse(self.BankAccount.search([("sync_lease_until", "!=", False)]))
        self.assert_status("connected")

    def one_account_fails(self, kind, error, *, initial=False, **options):
        """A fault of ``kind`` on BROKEN's transactions, then the faulty run: BROKEN fails
        alone with ``error`` (its last_sync_error), its position stays where it was, the
        other accounts sync. With ``initial``, on the first sync (BROKEN's history is lost);
        otherwise on an incremental sync after a new transaction reached BROKEN and another
        one a healthy account (BROKEN's is lost)."""
        if initial:
            lost = self.ids_of(BROKEN)
        else:
            self.sync("initial")
            lost = [self.app.add_transaction(BROKEN, amount="-7.25")["id"]]
            self.app.add_transaction(HEALTHY, amount="-3.50")
        self.fault_on(kind, **options)
        broken = self.account(BROKEN)
        position = (broken.sync_cursor, broken.history_loaded_until, broken.initial_sync_done)
        run = self.sync("initial" if initial else "scheduled")
        self.assert_account_failed(run, error, position)
        self.assertEqual(self.row_difference(), dict(NO_DIFFERENCE, lost=lost))
        return run

    @property
    def host(self):
        return self.sandbox.base_url.removeprefix("http://")

    @staticmethod
    def transactions_call(account):
        return f"GET /v1/bank-accounts/{account}/transactions"

    # -- 401 ----------------------------------------------------------------------------

    def test_401_token_expired_is_renewed_once_and_the_sync_completes(self):
        first_token = self.connection_record._decrypted("token_encrypted")
        self.app.expire_tokens()
        logins = self.logins()
        run = self.assert_done(self.sync("initial"), created=self.expected_total())
        self.assertEqual(self.logins(), logins + 1)
        self.assertNotEqual(self.connection_record._decrypted("token_encrypted"), first_token)
        # A renewed token refused again is a failure, not a loop: one sign-in, then red.
        self.app.faults.add("token_expired", count=-1)
        self.app.expire_tokens()
        logins = self.logins()
        run = self.sync()
        self.assertEqual(self.logins(), logins + 1)
        self.assertEqual((run.state, run.error_code), ("failed", "token_rejected"))
        reason = "LedgerSync rejected the session even after signing in again."
        self.assertEqual(
            run.error_message,
            f"token_rejected: {reason} (GET /v1/clients: HTTP 401) "
            "LedgerSync says: The access token has expired; log in again.",
        )
        self.assert_status("failed", "token_rejected", reason)
        self.app.faults.clear()
        self.reconnect()
        self.assert_recovers(created=0)
        self.assert_no_secret()

    def test_401_bad_password_is_never_retried(self):
        self.sync("initial")
        self.app.set_login(DEMO_EMAIL, password=NEW_PASSWORD)  # expires the tokens
        logins = self.logins()
        run = self.sync()
        self.assertEqual(self.logins(), logins + 1, "exactly one sign-in attempt")
        self.assertEqual((run.state, run.error_code), ("failed", "invalid_credentials"))
        reason = "LedgerSync did not accept this email and password."
        self.assertEqual(
            run.error_message,
            f"invalid_credentials: {reason} (the login: HTTP 401) "
            "LedgerSync says: Invalid email or password.",
        )
        self.assert_status("failed", "invalid_credentials", reason)
        self.assertTrue(self.connection_record.login_blocked)
        # Neither the cron (even told the connection is fine) nor Sync Now signs in again.
        self.connection_record.state = "connected"
        self.connection_record.last_sync_at = fields.Datetime.now() - timedelta(days=1)
        self.Connection._cron_sync()
        self.assertEqual(self.connection_record._sync()[0], self.env["ledgersync.sync.run"])
        self.assertEqual(self.logins(), logins + 1)
        self.app.add_transaction(HEALTHY, amount="-1.00")
        self.reconnect(NEW_PASSWORD)
        self.assertFalse(self.connection_record.login_blocked)
        self.assert_recovers(created=1)
        self.assert_no_secret()

    # -- 403 ----------------------------------------------------------------------------

    def test_403_inactive_suspended_locked(self):
        reasons = {
            "subscription_inactive": "The LedgerSync subscription of this account is not active.",
            "account_suspended": "This LedgerSync account is suspended.",
            "account_locked": "This LedgerSync account is locked after too many failed sign-ins.",
        }
        self.sync("initial")
        for state, reason in reasons.items():
            says = LOGIN_STATES[state]  # the sandbox's message, quoted
            # Refused on a data call (the token still valid), or at the sign-in.
            for where, what in (("data call", "GET /v1/clients"), ("sign-in", "the login")):
                with self.subTest(state=state, where=where):
                    self.app.set_login(DEMO_EMAIL, state=state)
                    if where == "sign-in":
                        self.app.expire_tokens()
                    logins = self.logins()
                    run = self.sync()
                    self.assertEqual(self.logins(), logins + (where == "sign-in"))
                    self.assertEqual((run.state, run.error_code), ("failed", state))
                    self.assertEqual(
                        run.error_message,
                        f"{state}: {reason} ({what}: HTTP 403) LedgerSync says: {says}",
                    )
                    self.assert_status("failed", state, reason)
                    self.assertEqual(
                        self.connection_record.login_blocked, state == "account_locked"
                    )
                    # Posted in the chatter (the state change's tracking may come after it).
                    bodies = self.connection_record.message_ids.filtered("body").mapped("body")
                    self.assertIn(f"LedgerSync connection failed: {reason}", bodies[0])
                    self.app.set_login(DEMO_EMAIL, state="active")
                    self.app.add_transaction(HEALTHY, amount="-2.00")
                    self.reconnect()
                    self.assert_recovers(created=1)
        self.assert_no_secret()

    # -- 429 and 5xx ----------------------------------------------------------------------

    def test_429_retry_after_is_honoured(self):
        self.client_options["retry_after_cap"] = const.RETRY_AFTER_CAP
        self.app.faults.add("rate_limit", endpoint="transactions", retry_after=1)
        started = time.monotonic()
        run = self.assert_done(self.sync("initial"), created=self.expected_total())
        self.assertGreaterEqual(time.monotonic() - started, 1.0, "Retry-After not honoured")
        self.assertEqual(self.app.stats["by_status"]["429"], 1)
        # Rate limited beyond the retries: the run stops, every position stays.
        accounts = self.BankAccount.search([])
        cursors = {account.id: account.sync_cursor for account in accounts}
        added = self.app.add_transaction(HEALTHY, amount="-5.00")
        self.app.faults.add("rate_limit", endpoint="transactions", count=-1, retry_after=0)
        run = self.sync()
        self.assertEqual((run.state, run.error_code), ("partial", "rate_limited"))
        self.assertEqual(
            run.error_message,
            "rate_limited: LedgerSync asked to slow down (too many requests). "
            f"({self.transactions_call(HEALTHY)}: HTTP 429) "
            "LedgerSync says: Too many requests; slow down.",
        )
        self.assert_status("connected")
        accounts.invalidate_recordset()
        self.assertEqual({account.id: account.sync_cursor for account in accounts}, cursors)
        self.assert_lost_then_recovered(added)
        self.assert_no_secret()

    def test_5xx_burst_within_the_retries(self):
        self.app.faults.add("server_error", status=503, endpoint="transactions", count=2)
        self.app.faults.add("server_error", status=502, endpoint="clients", count=2)
        run = self.assert_done(self.sync("initial"), created=self.expected_total())
        self.assertEqual(self.app.stats["faults_fired"], 4)
        self.assertEqual(run.accounts_failed, 0)
        self.assert_no_secret()

    def test_5xx_burst_longer_than_the_retries(self):
        error = (
            "server_error: LedgerSync answered with a server error. "
            f"({self.transactions_call(BROKEN)}: HTTP 503) "
            "LedgerSync says: Simulated server failure."
        )
        self.one_account_fails("server_error", error, initial=True, status=503)
        # Three attempts (two retries) per request, one request: the first window.
        self.assertEqual(self.app.stats["by_account"][BROKEN], 3)
        self.assert_recovers(created=self.sandbox_config["transactions_per_account"])
        self.assertFalse(self.account(BROKEN).last_sync_error)
        self.assertTrue(self.account(BROKEN).initial_sync_done)
        self.assert_no_secret()

    # -- time ---------------------------------------------------------------------------

    def test_timeouts_end_the_run_within_the_deadline(self):
        self.client_options["max_retries"] = 1
        self.sync("initial")
        added = self.app.add_transaction(BROKEN, amount="-9.99")
        self.fault_on("hang", delay=5)
        started = time.monotonic()
        run = self.sync()
        # Two attempts (one retry) of one second each, the client's timeout; the rest of
        # the run takes well under a second (the margin is for a loaded machine).
        elapsed = time.monotonic() - started
        self.assertGreaterEqual(elapsed, 2.0)
        self.assertLess(elapsed, 4.5)
        self.assert_timed_out(run)
        self.assert_lost_then_recovered(added)
        self.assert_no_secret()

    def test_a_slow_drip_server_is_cut_at_the_deadline(self):
        # Save Integration: one deadline for the whole verification, however the bytes drip.
        self.client_options["timeout"] = const.REQUEST_TIMEOUT
        self.app.faults.add("drip", endpoint="login", delay=0.5)
        started = time.monotonic()
        with patch.object(const, "VERIFY_DEADLINE", 2.0):
            connection = self.connect()
        self.assertLess(time.monotonic() - started, 2.0 + 2.0)  # the login drips for 100 s
        self.assertEqual(connection, self.connection_record)
        self.assert_status(
            "failed",
            "timeout",
            "LedgerSync did not answer in time. (no answer within 2.0 seconds)",
        )
        self.app.faults.clear()
        self.reconnect()
        # A data request: its own deadline (the client's timeout, 1 s here).
        self.client_options["timeout"] = 1.0
        self.sync("initial")
        added = self.app.add_transaction(BROKEN, amount="-9.99")
        self.fault_on("drip", delay=0.5)
        started = time.monotonic()
        run = self.sync()
        self.assertLess(time.monotonic() - started, 1.0 + 2.5)
        self.assert_timed_out(run)
        self.assert_lost_then_recovered(added)
        self.assert_no_secret()

    # -- answers that are not the contract's ---------------------------------------------

    def test_html_truncated_and_wrong_shapes(self):
        answer_to = f"protocol_error: LedgerSync's answer to {self.transactions_call(BROKEN)}"
        not_json = "truncated, or the base URL does not point to the LedgerSync API."

        def not_json_answer(content_type):
            return re.compile(
                rf"{re.escape(answer_to)} is not valid JSON \({re.escape(content_type)}, "
                rf"\d+ bytes\): {re.escape(not_json)}$"
            )

        cases = {
            "html": not_json_answer("text/html"),
            "truncated": not_json_answer("application/json"),
            "wrong_shape": f"{answer_to} has no 'data' list.",
            "bad_record": (
                f"protocol_error: Item 0 of the answer to {self.transactions_call(BROKEN)} "
                "has no 'id'."
            ),
            "empty": (
                "protocol_error: LedgerSync sent an empty answer to "
                f"{self.transactions_call(BROKEN)}."
            ),
        }
        self.sync("initial")
        for kind, error in cases.items():
            with self.subTest(kind=kind):
                added = self.app.add_transaction(BROKEN, amount="-7.25")
                self.fault_on(kind)
                run = self.sync()
                self.assert_account_failed(run, error)
                self.assert_lost_then_recovered(added)
        # The same on the listing of the clients stops the run: nothing can be trusted.
        clients = "protocol_error: LedgerSync's answer to GET /v1/clients"
        for kind, error in (
            ("html", f"{clients} is not valid JSON (text/html, 154 bytes): {not_json}"),
            ("wrong_shape", f"{clients} has no 'data' list."),
        ):
            with self.subTest(kind=kind, endpoint="clients"):
                self.app.faults.add(kind, endpoint="clients")
                run = self.sync()
                self.assertEqual((run.state, run.error_code), ("partial", "protocol_error"))
                self.assertEqual(run.error_message, error)
                self.assert_status("connected")
                self.assert_recovers(created=0)
        self.assert_no_secret()

    def test_a_huge_body_is_refused(self):
        # Streamed without Content-Length (the review's 300 MB login answer): cut at the cap.
        self.app.faults.add("huge", endpoint="login")
        connection = self.connect()
        self.assertEqual(connection, self.connection_record)
        self.assert_status(
            "failed",
            "protocol_error",
            "LedgerSync sent an answer this connector does not understand.",
        )
        self.app.faults.clear()
        self.reconnect()
        # Announced by its Content-Length: refused before a byte of it is read.
        error = (
            f"protocol_error: LedgerSync's answer to {self.transactions_call(BROKEN)} is too "
            "large (over 4096 KB): the base URL may not point to the LedgerSync API."
        )
        self.one_account_fails(
            "html",
            error,
            body="x" * (const.MAX_RESPONSE_BYTES + 1),
            content_type="application/json",
        )
        self.assert_recovers(created=1)
        self.assert_no_secret()

    def test_an_endless_cursor_stops_at_the_page_limit(self):
        with patch.object(const, "MAX_PAGES_PER_QUERY", 5):
            error = (
                f"protocol_error: LedgerSync's answer to {self.transactions_call(BROKEN)} went "
                "on for more than 5 pages: stopped."
            )
            self.one_account_fails("endless", error)
        self.assertEqual(self.app.stats["by_account"][BROKEN], 2 + 5)  # the first sync's 2
        self.assert_recovers(created=1)
        self.assert_no_secret()

    def test_out_of_range_numbers(self):
        error = re.compile(
            r"protocol_error: Transaction 'tx_d_0002_01_n\d+' has an amount 'amount' out of "
            r"bounds \(at most 15 digits before the decimal point and 6 after\): '1e999999999'\.$"
        )
        self.one_account_fails("patch", error, body={"amount": "1e999999999"})
        self.assert_recovers(created=1)
        # A token said to live 10**12 seconds lives a day at most.
        self.app.faults.add("patch", endpoint="login", body={"expires_in": 10**12})
        self.app.expire_tokens()
        self.app.add_transaction(HEALTHY, amount="-4.00")
        logins = self.logins()
        run = self.assert_done(self.sync(), created=1)
        self.assertEqual(self.logins(), logins + 1)
        expires_at = self.connection_record.token_expires_at
        self.assertLessEqual(
            expires_at,
            fields.Datetime.now() + timedelta(seconds=const.TOKEN_LIFETIME_MAX_SECONDS + 60),
        )
        self.assertEqual(run.accounts_failed, 0)
        self.assert_no_secret()

    # -- the sync's own faults -----------------------------------------------------------

    def test_a_crash_between_pages_then_resume(self):
        original_apply = SyncEngine._apply_page
        calls = {"n": 0}

        def crashing_apply(engine, account, records):
            calls["n"] += 1
            if calls["n"] == 5:
                raise SimulatedCrash
            return original_apply(engine, account, records)

        # Small pages, so that an account spans several of them.
        with patch.object(const, "TRANSACTION_PAGE_SIZE", 4):
            with patch.object(SyncEngine, "_apply_page", crashing_apply):
                # Not assertRaises: Odoo's rolls back to a savepoint taken before the "commits".
                try:
                    self.connection_record._sync("initial", commit=self.savepoint_commit())
                except SimulatedCrash:
                    self.crash_rollback()
                else:
                    self.fail("the simulated crash did not happen")
            run = self.connection_record.sync_run_ids
            self.assertEqual((run.state, run.phase), ("running", "transactions"))
            kept = self.Transaction.search_count([])
            self.assertGreater(kept, 0, "pages before the crash stay committed")
            self.assertLess(kept, self.expected_total())
            # A killed worker's backend disappears, which frees its lease; this test's
            # "worker" shares the test's backend, so its lease is expired by hand.
            self.BankAccount.search([]).write({"sync_lease_until": "2000-01-01 00:00:00"})
            resumed = self.sync()
        self.assertEqual(resumed, run, "the crashed run is taken over")
        self.assert_done(run)
        self.assertEqual(run.created_count, self.expected_total())
        self.assert_no_secret()

    def test_the_cron_and_a_manual_run_at_once(self):
        self.connection_record.action_sync_now()  # Sync Now: the cron is triggered
        answers = []
        original_apply = SyncEngine._apply_page

        def apply_and_press_sync_now(engine, account, records):
            # Sync Now pressed again while the cron's run is going.
            if not answers:
                answers.append(self.connection_record.action_sync_now())
            return original_apply(engine, account, records)

        with patch.object(SyncEngine, "_apply_page", apply_and_press_sync_now):
            self.Connection._cron_sync()
            self.Connection._cron_sync()  # the scheduled call right after: nothing to do
        (notice,) = answers
        self.assertEqual(notice["params"]["type"], "warning")
        self.assertEqual(notice["params"]["title"], "LedgerSync sync already running")
        run = self.connection_record.sync_run_ids
        self.assertEqual(len(run), 1, "one run")
        self.assertEqual(run.trigger, "manual")
        self.assertFalse(self.connection_record.sync_requested)
        self.assert_done(run, created=self.expected_total())
        # Each account's history was asked for once: two date windows, no more.
        by_account = self.app.stats["by_account"]
        self.assertEqual(by_account, dict.fromkeys(by_account, 2))
        self.assertEqual(len(by_account), 4)
        self.assert_no_secret()

    # -- LedgerSync's data changing ---------------------------------------------------------

    def test_pending_then_posted(self):
        self.sync("initial")
        pending = self.Transaction.search([("ledgersync_status", "=", "pending")], limit=1)
        self.assertTrue(pending, "the sandbox has pending transactions in its last days")
        pending.write({"review_state": "reviewed", "partner_id": self.env.user.partner_id.id})
        self.app.post_transaction(pending.ledgersync_id, amount="-123.45")
        run = self.assert_done(self.sync(), created=0)
        self.assertEqual(run.updated_count, 1)
        self.assertEqual((pending.ledgersync_status, pending.amount), ("posted", -123.45))
        # The accountant's review is never overwritten by the sync.
        self.assertEqual(pending.review_state, "reviewed")
        self.assertEqual(pending.partner_id, self.env.user.partner_id)
        self.assert_no_secret()

    def test_tombstones(self):
        self.sync("initial")
        pending = self.Transaction.search([("ledgersync_status", "=", "pending")], limit=1)
        self.app.delete_transaction(pending.ledgersync_id)
        run = self.assert_done(self.sync(), created=0)
        self.assertEqual(run.archived_count, 1)
        self.assertFalse(pending.active, "archived, never deleted")
        # It reappears upstream: the same row comes back.
        self.app.restore_transaction(pending.ledgersync_id)
        run = self.assert_done(self.sync(), created=0)
        self.assertEqual(run.updated_count, 1)
        self.assertTrue(pending.active)
        self.assert_no_secret()

    def test_late_back_dated_rows(self):
        self.sync("initial")
        old_date = fields.Date.today() - timedelta(days=200)
        added = self.app.add_transaction(BROKEN, date=old_date.isoformat(), amount="-99.95")
        self.assert_done(self.sync(), created=1)
        row = self.Transaction.search([("ledgersync_id", "=", added["id"])])
        self.assertEqual((row.date, row.amount), (old_date, -99.95))
        self.assert_no_secret()
