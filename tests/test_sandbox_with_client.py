"""The real API client (ledgersync_connector.api) against the sandbox, over HTTP on 127.0.0.1.

Checks that the two sides of the contract agree: a full pull under injected faults,
an incremental pull with tombstones, login outcomes and protocol errors.
"""

import time
from datetime import date

import pytest

from ledgersync_sandbox import SandboxConfig, serve_in_thread

api = pytest.importorskip("ledgersync_connector.api")
errors = api.errors

PASSWORD = "demo-password"
DEMO = "demo@ledgersync.test"


@pytest.fixture
def sandbox():
    cfg = SandboxConfig(
        clients=3,
        accounts_per_client=2,
        transactions_per_account=700,
        history_days=800,
        today="2025-06-15",
        now="2025-06-15T12:00:00Z",
    )
    with serve_in_thread(cfg) as server:
        yield server


def make_client(server, email=DEMO, password=PASSWORD, **options):
    options = {
        "max_retries": 3,
        "retry_after_cap": 1.0,
        "backoff_factor": 0.0,
        "timeout": 5.0,
        **options,
    }
    return api.LedgerSyncApiClient(server.base_url, email, password, **options)


def pull_everything(client):
    counts = {}
    for page in client.iter_client_pages():
        for record in page.items:
            for account_page in client.iter_bank_account_pages(record.id):
                for account in account_page.items:
                    ids = []
                    for tx_page in client.iter_transaction_pages(
                        account.id,
                        start_date=date(2023, 1, 1),
                        end_date=date(2025, 6, 16),
                    ):
                        ids.extend(tx.id for tx in tx_page.items)
                    assert len(ids) == len(set(ids))
                    counts[account.id] = len(ids)
    return counts


def test_full_pull_through_faults(sandbox):
    app = sandbox.app
    with make_client(sandbox) as client:
        account, first_page = client.verify()  # fails fast by design: faults only after it
        assert account.firm_name == "Demo Accounting LLP"
        assert [c.id for c in first_page.items] == ["cl_d_0001", "cl_d_0002", "cl_d_0003"]
        app.faults.add("rate_limit", count=2, retry_after=0, path="^/v1/(clients|bank-accounts)")
        app.faults.add("server_error", status=503, count=2, endpoint="transactions")
        app.faults.add("token_expired", count=1)
        counts = pull_everything(client)
    assert counts == {f"ba_d_000{c}_0{a}": 700 for c in (1, 2, 3) for a in (1, 2)}
    assert app.stats["faults_fired"] == 5
    assert app.stats["login"] == 2  # the token_expired fault cost exactly one re-login


def test_incremental_pull_sees_mutations_and_tombstones(sandbox):
    app = sandbox.app
    mark = app.now()
    app.clock.advance(30)
    pending = [
        tx
        for tx in app.query_transactions("ba_d_0001_01", start_date="2025-06-13", limit=500)[0]
        if tx["status"] == "pending"
    ]
    app.post_transaction(pending[0]["id"], amount="-10.00")
    app.delete_transaction(pending[1]["id"])
    added = app.add_transaction("ba_d_0001_01", date="2024-02-29", amount="77.70")
    with make_client(sandbox) as client:
        changes = [
            tx
            for page in client.iter_transaction_pages("ba_d_0001_01", updated_since=mark)
            for tx in page.items
        ]
    by_id = {tx.id: tx for tx in changes}
    assert set(by_id) == {pending[0]["id"], pending[1]["id"], added["id"]}
    assert by_id[pending[1]["id"]].deleted is True
    assert (
        by_id[pending[0]["id"]].status == "posted"
        and str(by_id[pending[0]["id"]].amount) == "-10.00"
    )
    assert by_id[added["id"]].date == date(2024, 2, 29)


@pytest.mark.parametrize(
    "email, password, error",
    [
        (DEMO, "wrong", "InvalidCredentials"),
        ("nobody@ledgersync.test", PASSWORD, "InvalidCredentials"),
        ("inactive@ledgersync.test", PASSWORD, "SubscriptionInactive"),
        ("suspended@ledgersync.test", PASSWORD, "AccountSuspended"),
        ("locked@ledgersync.test", PASSWORD, "AccountLocked"),
    ],
)
def test_login_outcomes_map_to_client_errors(sandbox, email, password, error):
    with make_client(sandbox, email, password) as client, pytest.raises(getattr(errors, error)):
        client.login()
    assert sandbox.app.stats["login"] == 1  # a refused login is never retried


def test_empty_firm_verifies_with_no_clients(sandbox):
    with make_client(sandbox, "empty@ledgersync.test") as client:
        _account, first_page = client.verify()
    assert first_page.items == () and first_page.next_cursor is None


@pytest.mark.parametrize("kind", ["html", "empty", "truncated", "wrong_shape", "bad_record"])
def test_malformed_bodies_are_protocol_errors(sandbox, kind):
    sandbox.app.faults.add(kind, endpoint="transactions")
    with make_client(sandbox) as client, pytest.raises(errors.ProtocolError):
        list(
            client.iter_transaction_pages(
                "ba_d_0001_01", start_date=date(2025, 1, 1), end_date=date(2025, 6, 15)
            )
        )


def test_verify_is_bounded_against_a_hanging_server(sandbox):
    sandbox.app.faults.add("hang", endpoint="login")
    started = time.monotonic()
    with make_client(sandbox) as client, pytest.raises(errors.TransientError):
        client.verify(deadline=1.0)
    assert time.monotonic() - started < 3
