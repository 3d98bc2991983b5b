"""Sandbox tests: the data set and its queries (ledgersync_sandbox/store.py, paging.py,
data.py): listings, pagination, ids, filters, determinism and scale."""

import time
import tracemalloc
from datetime import date, datetime, timedelta, timezone

import pytest
from sandbox_support import (
    ACCOUNT_KEYS,
    CLIENT_KEYS,
    TODAY,
    TX_KEYS,
    Api,
    assert_error,
    config,
    tx_path,
)

from ledgersync_sandbox import (
    DEFAULT_LIMIT,
    MAX_LIMIT,
    SandboxApp,
    SandboxConfig,
    serve_in_thread,
)
from ledgersync_sandbox import config as sandbox_config
from ledgersync_sandbox.store import AccountRef, ClientRef, TransactionRef


# ======================================================================================
# listings, pagination, ids
# ======================================================================================
def test_clients_and_bank_accounts_shape(sandbox):
    api = Api(sandbox)
    clients = api.ok("/v1/clients")
    assert clients["next_cursor"] is None
    assert [c["id"] for c in clients["data"]] == ["cl_d_0001", "cl_d_0002", "cl_d_0003"]
    for client in clients["data"]:
        assert set(client) == CLIENT_KEYS
        assert client["status"] in ("active", "inactive")
        assert client["updated_at"].endswith("Z")
    seen = []
    for client in clients["data"]:
        accounts = api.ok(f"/v1/clients/{client['id']}/bank-accounts")
        assert accounts["next_cursor"] is None
        for account in accounts["data"]:
            assert set(account) == ACCOUNT_KEYS
            assert account["client_id"] == client["id"]
            assert account["type"] in ("checking", "savings", "credit_card", "other")
            assert account["connection_status"] in ("ok", "broken", "needs_mfa")
            assert len(account["mask"]) == 4 and account["mask"].isdigit()
            assert (
                account["current_balance"].count(".") == 1
                and len(account["current_balance"].split(".")[1]) == 2
            )
            seen.append(account)
    assert len(seen) == 6
    assert {a["currency"] for a in seen} == {"USD", "EUR"}
    assert [a["connection_status"] for a in seen].count("broken") == 1


def test_transactions_shape_and_values(sandbox):
    api = Api(sandbox)
    records, _ = api.all(tx_path("ba_d_0001_01"), limit=500)
    assert len(records) == 250
    for tx in records:
        assert set(tx) == TX_KEYS
        assert tx["bank_account_id"] == "ba_d_0001_01"
        assert tx["currency"] == "USD"
        assert tx["status"] in ("pending", "posted")
        assert tx["match_type"] in ("rule", "ai", "semantic", None)
        assert tx["deleted"] is False
        whole, cents = tx["amount"].lstrip("-").split(".")
        assert whole.isdigit() and len(cents) == 2
        day = date.fromisoformat(tx["date"])
        assert TODAY - timedelta(days=399) <= day <= TODAY
        assert tx["status"] == ("pending" if day >= TODAY - timedelta(days=2) else "posted")
        updated = datetime.fromisoformat(tx["updated_at"].replace("Z", "+00:00"))
        assert updated <= datetime(2025, 6, 15, 12, tzinfo=timezone.utc)  # never in the future
    amounts = [float(tx["amount"]) for tx in records]
    assert any(a > 0 for a in amounts) and sum(a < 0 for a in amounts) > len(amounts) / 2
    assert any(tx["reference"] for tx in records)
    assert sum(tx["vendor_name"] is not None for tx in records) > len(records) / 2
    assert {tx["match_type"] for tx in records} >= {"rule", "ai", "semantic", None}
    assert any(tx["gl_code"] for tx in records)
    dates = [tx["date"] for tx in records]
    assert dates == sorted(dates)
    eur = api.ok(tx_path("ba_d_0001_02"), limit=5)["data"]
    assert {tx["currency"] for tx in eur} == {"EUR"}


def test_client_pagination_is_complete_and_stable():
    with serve_in_thread(config(clients=23)) as server:
        api = Api(server)
        records, pages = api.all("/v1/clients", limit=5)
        ids = [c["id"] for c in records]
        assert pages == 5
        assert ids == sorted(ids) and len(set(ids)) == 23
        again, _ = api.all("/v1/clients", limit=7)
        assert again == records
        first = api.ok("/v1/clients", limit=1)
        assert first["data"][0]["id"] == "cl_d_0001" and first["next_cursor"]


def test_transaction_pagination_is_complete_and_stable():
    with serve_in_thread(
        config(clients=1, accounts_per_client=1, transactions_per_account=1234)
    ) as server:
        api = Api(server)
        first = api.ok(tx_path("ba_d_0001_01"))
        assert len(first["data"]) == 100  # default limit
        records, pages = api.all(tx_path("ba_d_0001_01"), limit=100)
        assert pages == 13
        ids = [tx["id"] for tx in records]
        assert len(ids) == len(set(ids)) == 1234
        assert ids == sorted(ids)
        assert records[:100] == first["data"]
        big, big_pages = api.all(tx_path("ba_d_0001_01"), limit=500)
        assert big == records and big_pages == 3
        # the same cursor gives the same page again
        second = api.ok(tx_path("ba_d_0001_01"), cursor=first["next_cursor"])
        assert api.ok(tx_path("ba_d_0001_01"), cursor=first["next_cursor"]) == second
        assert second["data"][0]["id"] == records[100]["id"]


@pytest.mark.parametrize("limit", ["0", "-1", "501", "abc", "1.5", "99999999999"])
def test_limit_bounds(sandbox, limit):
    api = Api(sandbox)
    for path in ("/v1/clients", "/v1/clients/cl_d_0001/bank-accounts", tx_path("ba_d_0001_01")):
        assert_error(api.get(path, limit=limit), 400, "bad_request")


def test_limit_extremes(sandbox):
    api = Api(sandbox)
    assert len(api.ok(tx_path("ba_d_0001_01"), limit=1)["data"]) == 1
    assert len(api.ok(tx_path("ba_d_0001_01"), limit=500)["data"]) == 250


def test_bad_cursors(sandbox):
    api = Api(sandbox)
    cursor = api.ok(tx_path("ba_d_0001_01"), limit=10)["next_cursor"]
    assert_error(api.get(tx_path("ba_d_0001_01"), cursor="garbage!"), 400, "bad_request")
    assert_error(api.get(tx_path("ba_d_0001_01"), cursor="W10"), 400, "bad_request")
    # a cursor of another query is refused
    assert_error(api.get(tx_path("ba_d_0001_02"), cursor=cursor), 400, "bad_request")
    assert_error(
        api.get(tx_path("ba_d_0001_01"), cursor=cursor, start_date="2025-01-01"), 400, "bad_request"
    )
    assert_error(api.get("/v1/clients", cursor=cursor), 400, "bad_request")


def test_unknown_ids_are_404(sandbox):
    api = Api(sandbox)
    for path in (
        "/v1/clients/cl_d_0004/bank-accounts",
        "/v1/clients/cl_d_0000/bank-accounts",
        "/v1/clients/nope/bank-accounts",
        "/v1/clients/cl_x_0001/bank-accounts",
        tx_path("ba_d_0001_03"),
        tx_path("ba_d_0004_01"),
        tx_path("nope"),
        tx_path("ba_o_0001_01"),  # the other firm's account
        "/v1/clients/cl_o_0001/bank-accounts",
    ):
        assert_error(api.get(path), 404, "not_found")
    assert_error(api.admin("GET", "/transactions/tx_d_0001_01_0000251"), 404, "not_found")
    assert_error(api.admin("PATCH", "/transactions/nope", {"amount": "1"}), 404, "not_found")
    assert_error(api.admin("GET", "/nothing"), 404, "not_found")


def test_firms_have_their_own_clients(sandbox):
    demo = Api(sandbox)
    other = Api(sandbox, email="other@ledgersync.test")
    empty = Api(sandbox, email="empty@ledgersync.test")
    demo_ids = [c["id"] for c in demo.ok("/v1/clients")["data"]]
    other_ids = [c["id"] for c in other.ok("/v1/clients")["data"]]
    assert other_ids == ["cl_o_0001", "cl_o_0002"]
    assert not set(demo_ids) & set(other_ids)
    assert empty.ok("/v1/clients") == {"data": [], "next_cursor": None}
    assert_error(other.get("/v1/clients/cl_d_0001/bank-accounts"), 404, "not_found")
    assert_error(other.get(tx_path("ba_d_0001_01")), 404, "not_found")
    accounts = other.ok("/v1/clients/cl_o_0001/bank-accounts")["data"]
    assert accounts and all(a["id"].startswith("ba_o_0001_") for a in accounts)
    assert other.ok(tx_path(accounts[0]["id"]), limit=3)["data"]


def test_limits_live_in_the_config_module(sandbox):
    assert (DEFAULT_LIMIT, MAX_LIMIT) == (sandbox_config.DEFAULT_LIMIT, sandbox_config.MAX_LIMIT)
    assert (DEFAULT_LIMIT, MAX_LIMIT) == (100, 500)
    assert SandboxConfig().max_window_days == sandbox_config.DEFAULT_MAX_WINDOW_DAYS == 366
    assert SandboxConfig().token_ttl == sandbox_config.DEFAULT_TOKEN_TTL
    api = Api(sandbox)
    error = assert_error(api.get("/v1/clients", limit=MAX_LIMIT + 1), 400, "bad_request")
    assert str(MAX_LIMIT) in error["message"]
    assert len(api.ok(tx_path("ba_d_0001_01"))["data"]) == DEFAULT_LIMIT


def test_lookups_return_named_records():
    store = SandboxApp(config()).store
    with store.lock:
        client = store.find_client("cl_o_0002")
        account = store.find_account("ba_d_0002_01")
        found = store.find_transaction("tx_d_0001_02_0000003")
        assert store.find_client("cl_o_0001", firm="demo") is None
        assert store.find_account("ba_d_0001_03") is None
        assert store.find_transaction("tx_d_0001_01_0000251") is None
    assert isinstance(client, ClientRef) and (client.firm, client.index) == ("other", 1)
    assert client.record["id"] == "cl_o_0002"
    assert isinstance(account, AccountRef)
    assert (account.firm, account.client_index, account.index) == ("demo", 1, 0)
    assert account.record["connection_status"] == "broken"
    assert isinstance(found, TransactionRef) and found.account["id"] == "ba_d_0001_02"
    assert found.record["id"] == "tx_d_0001_02_0000003" and found.record["currency"] == "EUR"


# ======================================================================================
# filters
# ======================================================================================
def test_date_window_is_inclusive_and_bounded(sandbox):
    api = Api(sandbox)
    path = tx_path("ba_d_0001_01")
    everything, _ = api.all(path, limit=500)
    days = sorted({tx["date"] for tx in everything})
    start, end = days[10], days[20]
    window, _ = api.all(path, start_date=start, end_date=end, limit=7)
    assert window == [tx for tx in everything if start <= tx["date"] <= end]
    assert window[0]["date"] == start and window[-1]["date"] == end
    single, _ = api.all(path, start_date=start, end_date=start)
    assert single == [tx for tx in everything if tx["date"] == start]
    only_start, _ = api.all(path, start_date=days[-5])
    assert only_start == [tx for tx in everything if tx["date"] >= days[-5]]
    only_end, _ = api.all(path, end_date=days[3])
    assert only_end == [tx for tx in everything if tx["date"] <= days[3]]
    assert api.ok(path, start_date="2030-01-01") == {"data": [], "next_cursor": None}
    # 366 days (both included) is the longest window
    assert api.get(path, start_date="2024-01-01", end_date="2024-12-31").status_code == 200
    assert api.get(path, start_date="2024-06-15", end_date="2025-06-15").status_code == 200
    error = assert_error(
        api.get(path, start_date="2024-06-14", end_date="2025-06-15"), 400, "bad_request"
    )
    assert "366" in error["message"]
    assert_error(api.get(path, start_date="2025-02-01", end_date="2025-01-01"), 400, "bad_request")
    for bad in ("2025-13-01", "2025-1-1", "yesterday", "20250101"):
        assert_error(api.get(path, start_date=bad), 400, "bad_request")
        assert_error(api.get(path, end_date=bad), 400, "bad_request")


def test_updated_since_on_generated_data(sandbox):
    api = Api(sandbox)
    path = tx_path("ba_d_0002_02")
    everything, _ = api.all(path, limit=500)
    for since in (
        "2025-06-10T06:00:00Z",
        "2025-06-10T05:59:59Z",
        "2025-03-01T00:00:00+02:00",
        "2024-01-01",
    ):
        got, _ = api.all(path, updated_since=since, limit=50)
        threshold = datetime.fromisoformat(since.replace("Z", "+00:00")) if "T" in since else None
        if threshold is None:
            threshold = datetime(2024, 1, 1, tzinfo=timezone.utc)
        expected = [
            tx
            for tx in everything
            if datetime.fromisoformat(tx["updated_at"].replace("Z", "+00:00"))
            > threshold.astimezone(timezone.utc)
        ]
        assert got == expected
    assert api.ok(path, updated_since="2025-06-15T00:00:00Z") == {"data": [], "next_cursor": None}
    assert_error(api.get(path, updated_since="last tuesday"), 400, "bad_request")
    # an offset whose "+" was not percent-encoded arrives as a space and still works
    raw = api.session.get(
        f"{sandbox.base_url}{path}?updated_since=2025-06-10T08:00:00+02:00&limit=500",
        headers={"Authorization": f"Bearer {api.token}"},
        timeout=5,
    )
    assert raw.json() == api.ok(path, updated_since="2025-06-10T06:00:00Z", limit=500)
    combined, _ = api.all(
        path, updated_since="2025-06-01T00:00:00Z", start_date="2025-06-05", end_date="2025-06-12"
    )
    assert combined == [tx for tx in everything if "2025-06-05" <= tx["date"] <= "2025-06-12"]


# ======================================================================================
# determinism and scale
# ======================================================================================
def _snapshot(app):
    clients, _ = app.query_clients("demo", limit=500)
    accounts, _ = app.query_bank_accounts(clients[1]["id"], limit=500)
    page, cursor = app.query_transactions(accounts[0]["id"], limit=200, start_date="2025-01-01")
    return clients, accounts, page, cursor


def test_same_seed_same_data_different_seed_different_data():
    one = SandboxApp(config(seed=7))
    two = SandboxApp(config(seed=7))
    assert _snapshot(one) == _snapshot(two)
    three = SandboxApp(config(seed=8))
    assert _snapshot(one)[2] != _snapshot(three)[2]
    assert _snapshot(one)[0] != _snapshot(three)[0]
    with serve_in_thread(config(seed=7)) as a, serve_in_thread(config(seed=7)) as b:
        assert Api(a).all(tx_path("ba_d_0003_02"), limit=500) == Api(b).all(
            tx_path("ba_d_0003_02"), limit=500
        )


def test_100k_configuration():
    cfg = config(clients=20, accounts_per_client=5, transactions_per_account=1000)
    with serve_in_thread(cfg) as server:
        assert server.app.summary()["demo"] == {
            "firm_name": "Demo Accounting LLP",
            "clients": 20,
            "bank_accounts": 100,
            "transactions": 100_000,
        }
        api = Api(server)
        clients, _ = api.all("/v1/clients")
        assert len(clients) == 20
        records, pages = api.all(tx_path("ba_d_0020_05"), limit=500)
        assert pages == 2 and len({tx["id"] for tx in records}) == 1000


def test_million_transaction_account_without_materialising():
    tracemalloc.start()
    try:
        started = time.perf_counter()
        app = SandboxApp(
            config(clients=20, accounts_per_client=5, transactions_per_account=1_000_000)
        )
        assert app.summary()["demo"]["transactions"] == 100_000_000
        records, cursor = [], None
        while True:  # the last day of a 1,000,000-transaction account, page by page
            page, cursor = app.query_transactions(
                "ba_d_0020_05",
                start_date=TODAY,
                end_date=TODAY,
                limit=500,
                cursor=cursor,
            )
            records.extend(page)
            if cursor is None:
                break
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert 1000 < len(records) < 5000
    assert records[-1]["id"] == "tx_d_0020_05_1000000"
    assert all(tx["date"] == TODAY for tx in records)
    assert peak < 8 * 1024 * 1024  # a few MB at most (pages of records), never millions of rows
    assert time.perf_counter() - started < 5
    with serve_in_thread(app) as server:
        api = Api(server)
        started = time.perf_counter()
        page = api.ok(
            tx_path("ba_d_0020_05"), start_date="2025-06-15", end_date="2025-06-15", limit=500
        )
        tail = api.ok(tx_path("ba_d_0020_05"), updated_since="2025-06-14T06:00:00Z", limit=500)
        assert time.perf_counter() - started < 2
        assert len(page["data"]) == 500 and page["data"][0]["id"] == records[0]["id"]
        assert tail["data"] and tail["data"][0]["date"] >= "2025-06-13"
