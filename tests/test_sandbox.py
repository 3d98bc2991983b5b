"""Tests of the LedgerSync sandbox server (ledgersync_sandbox), over real HTTP on 127.0.0.1."""

import json
import os
import subprocess
import sys
import threading
import time
import tracemalloc
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import pytest
import requests

from ledgersync_sandbox import (
    BUILTIN_LOGINS,
    FAULT_KINDS,
    SandboxApp,
    SandboxConfig,
    SandboxError,
    serve_in_thread,
)
from ledgersync_sandbox.faults import parse_fault_spec

TODAY = date(2025, 6, 15)
NOW = "2025-06-15T12:00:00Z"
PASSWORD = "demo-password"
DEMO = "demo@ledgersync.test"
TX_KEYS = {
    "id",
    "bank_account_id",
    "date",
    "description",
    "amount",
    "currency",
    "status",
    "reference",
    "vendor_name",
    "gl_code",
    "match_type",
    "updated_at",
    "deleted",
}
ACCOUNT_KEYS = {
    "id",
    "client_id",
    "name",
    "institution",
    "mask",
    "type",
    "currency",
    "current_balance",
    "connection_status",
    "last_refreshed_at",
}
CLIENT_KEYS = {"id", "name", "code", "status", "updated_at"}


def config(**overrides):
    values = {
        "today": TODAY,
        "now": NOW,
        "clients": 3,
        "accounts_per_client": 2,
        "transactions_per_account": 250,
    }
    values.update(overrides)
    return SandboxConfig(**values)


@pytest.fixture
def sandbox():
    with serve_in_thread(config()) as server:
        yield server


class Api:
    """A tiny test client (the real client lives in ledgersync_connector.api)."""

    def __init__(self, server, email=DEMO, password=PASSWORD):
        self.base = server.base_url
        self.session = requests.Session()
        self.token = None
        if email:
            response = self.login(email, password)
            assert response.status_code == 200, response.text
            self.token = response.json()["access_token"]

    def login(self, email, password=PASSWORD):
        return self.session.post(
            f"{self.base}/v1/auth/login", json={"email": email, "password": password}, timeout=5
        )

    def get(self, path, token=None, timeout=5, **params):
        headers = (
            {"Authorization": f"Bearer {token or self.token}"} if (token or self.token) else {}
        )
        return self.session.get(
            f"{self.base}{path}", params=params, headers=headers, timeout=timeout
        )

    def ok(self, path, **params):
        response = self.get(path, **params)
        assert response.status_code == 200, response.text
        return response.json()

    def all(self, path, **params):
        """Every record across pages, and the number of pages."""
        records, pages, cursor = [], 0, None
        while True:
            page = self.ok(path, **params, **({"cursor": cursor} if cursor else {}))
            assert set(page) == {"data", "next_cursor"}
            records.extend(page["data"])
            pages += 1
            cursor = page["next_cursor"]
            if cursor is None:
                return records, pages
            assert pages < 10_000

    def admin(self, method, path, body=None, **params):
        return self.session.request(
            method, f"{self.base}/_sandbox{path}", json=body, params=params, timeout=5
        )


def assert_error(response, status, code=None):
    """Every error is {"error": {"code": str, "message": str}} with the expected status."""
    assert response.status_code == status, (response.status_code, response.text)
    assert response.headers["Content-Type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"error"}
    assert set(body["error"]) == {"code", "message"}
    assert isinstance(body["error"]["code"], str) and body["error"]["code"]
    assert isinstance(body["error"]["message"], str) and body["error"]["message"]
    if code is not None:
        assert body["error"]["code"] == code
    return body["error"]


def tx_path(account_id):
    return f"/v1/bank-accounts/{account_id}/transactions"


# ======================================================================================
# logins and tokens
# ======================================================================================
@pytest.mark.parametrize(
    "email, password, status, code",
    [
        ("demo@ledgersync.test", PASSWORD, 200, None),
        ("DEMO@LedgerSync.test ", PASSWORD, 200, None),
        ("other@ledgersync.test", PASSWORD, 200, None),
        ("empty@ledgersync.test", PASSWORD, 200, None),
        ("demo@ledgersync.test", "wrong-password", 401, "invalid_credentials"),
        ("nobody@ledgersync.test", PASSWORD, 401, "invalid_credentials"),
        ("inactive@ledgersync.test", PASSWORD, 403, "subscription_inactive"),
        ("inactive@ledgersync.test", "wrong-password", 401, "invalid_credentials"),
        ("suspended@ledgersync.test", PASSWORD, 403, "account_suspended"),
        ("suspended@ledgersync.test", "wrong-password", 401, "invalid_credentials"),
        ("locked@ledgersync.test", PASSWORD, 403, "account_locked"),
        ("locked@ledgersync.test", "wrong-password", 403, "account_locked"),
    ],
)
def test_login_outcomes(sandbox, email, password, status, code):
    response = Api(sandbox, email=None).login(email, password)
    if status != 200:
        error = assert_error(response, status, code)
        assert password not in error["message"]
        return
    assert response.status_code == 200
    body = response.json()
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 3600
    assert isinstance(body["access_token"], str) and len(body["access_token"]) > 20
    firm = {
        "demo": "Demo Accounting LLP",
        "other": "Other Partners CPA",
        "empty": "Empty Ledger Bookkeeping",
    }
    assert body["account"] == {
        "firm_name": firm[email.strip().lower().split("@")[0]],
        "subscription_status": "active",
        "account_status": "active",
    }


def test_builtin_logins_are_documented():
    readme = (Path(__file__).resolve().parents[1] / "ledgersync_sandbox" / "README.md").read_text()
    for email in BUILTIN_LOGINS:
        assert email in readme
    for kind in FAULT_KINDS:
        assert f"`{kind}`" in readme


@pytest.mark.parametrize(
    "body",
    [
        None,
        "not json",
        json.dumps([1, 2]),
        json.dumps({"email": DEMO}),
        json.dumps({"email": 1, "password": "x"}),
    ],
)
def test_login_bad_body(sandbox, body):
    response = requests.post(f"{sandbox.base_url}/v1/auth/login", data=body, timeout=5)
    assert_error(response, 400, "bad_request")


def test_login_wrong_method_and_unknown_path(sandbox):
    assert_error(
        requests.get(f"{sandbox.base_url}/v1/auth/login", timeout=5), 405, "method_not_allowed"
    )
    assert_error(requests.get(f"{sandbox.base_url}/v1/nothing", timeout=5), 404, "not_found")
    assert_error(requests.get(f"{sandbox.base_url}/", timeout=5), 404, "not_found")


def test_lockout_after_repeated_wrong_passwords():
    with serve_in_thread(config(lockout_after=3)) as server:
        api = Api(server, email=None)
        for _ in range(2):
            assert_error(api.login(DEMO, "bad"), 401, "invalid_credentials")
        assert api.login(DEMO).status_code == 200  # a success resets the counter
        for _ in range(3):
            assert_error(api.login(DEMO, "bad"), 401, "invalid_credentials")
        assert_error(api.login(DEMO), 403, "account_locked")
        server.app.set_login(DEMO, state="active")
        assert api.login(DEMO).status_code == 200


def test_data_calls_need_a_valid_token(sandbox):
    api = Api(sandbox)
    no_token = requests.get(f"{sandbox.base_url}/v1/clients", timeout=5)
    assert_error(no_token, 401, "invalid_token")
    basic = requests.get(
        f"{sandbox.base_url}/v1/clients", headers={"Authorization": "Basic abc"}, timeout=5
    )
    assert_error(basic, 401, "invalid_token")
    assert_error(api.get("/v1/clients", token="made-up"), 401, "invalid_token")
    assert_error(api.get(tx_path("ba_d_0001_01"), token="made-up"), 401, "invalid_token")
    assert api.get("/v1/clients").status_code == 200


def test_token_expires_after_ttl_on_the_sandbox_clock():
    with serve_in_thread(config(token_ttl=60)) as server:
        api = Api(server)
        assert api.get("/v1/clients").status_code == 200
        server.app.clock.advance(59)
        assert api.get("/v1/clients").status_code == 200
        server.app.clock.advance(1)
        assert_error(api.get("/v1/clients"), 401, "token_expired")
        assert_error(api.get(tx_path("ba_d_0001_01")), 401, "token_expired")
        fresh = api.login(DEMO).json()
        assert fresh["expires_in"] == 60
        assert api.get("/v1/clients", token=fresh["access_token"]).status_code == 200


def test_token_ttl_changes_at_run_time_and_real_clock_expiry():
    with serve_in_thread(config(now=None)) as server:  # real time
        api = Api(server, email=None)
        response = api.admin("POST", "/config", {"token_ttl": 1})
        assert response.status_code == 200 and response.json()["token_ttl"] == 1
        login = api.login(DEMO).json()
        assert login["expires_in"] == 1
        assert api.get("/v1/clients", token=login["access_token"]).status_code == 200
        time.sleep(1.05)
        assert_error(api.get("/v1/clients", token=login["access_token"]), 401, "token_expired")
        assert_error(api.admin("POST", "/config", {"token_ttl": 0}), 400, "bad_request")
        assert_error(api.admin("POST", "/config", {"seed": 1}), 400, "bad_request")


def test_expire_and_revoke_tokens(sandbox):
    api = Api(sandbox)
    assert api.admin("POST", "/tokens/expire").json() == {"expired": 1}
    assert_error(api.get("/v1/clients"), 401, "token_expired")
    api = Api(sandbox)
    assert sandbox.app.revoke_tokens(DEMO) >= 1
    assert_error(api.get("/v1/clients"), 401, "invalid_token")
    api = Api(sandbox)
    assert api.admin("POST", "/tokens/revoke", {"email": DEMO}).json()["revoked"] >= 1
    assert_error(api.get("/v1/clients"), 401, "invalid_token")


def test_password_change_and_suspension_reach_existing_tokens(sandbox):
    api = Api(sandbox)
    response = api.admin("PATCH", f"/logins/{DEMO}", {"password": "new-password"})
    assert response.status_code == 200 and response.json()["state"] == "active"
    assert_error(api.get("/v1/clients"), 401, "token_expired")  # the client then logs in again ...
    assert_error(api.login(DEMO), 401, "invalid_credentials")  # ... and learns the password changed
    api = Api(sandbox, password="new-password")
    sandbox.app.set_login(DEMO, state="account_suspended")
    assert_error(api.get("/v1/clients"), 403, "account_suspended")
    assert_error(api.login(DEMO, "new-password"), 403, "account_suspended")
    assert_error(
        api.admin("POST", "/logins", {"email": DEMO, "state": "bogus"}), 400, "bad_request"
    )


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


def test_mutations_show_up_in_updated_since_and_date_queries(sandbox):
    app = sandbox.app
    api = Api(sandbox)
    path = tx_path("ba_d_0001_01")
    before, _ = api.all(path, limit=500)
    pending = [tx for tx in before if tx["status"] == "pending"]
    posted = [tx for tx in before if tx["status"] == "posted"]
    assert len(pending) >= 2
    mark = app.now()
    app.clock.advance(60)

    # a pending transaction posts with a new amount and date, keeping its id
    posted_now = app.post_transaction(pending[0]["id"], amount="-99.10", date="2025-06-14")
    assert posted_now["status"] == "posted" and posted_now["amount"] == "-99.10"
    # a pending one vanishes upstream
    tombstone = app.delete_transaction(pending[1]["id"])
    assert tombstone["deleted"] is True
    # a late, back-dated transaction arrives
    app.clock.advance(1)
    added = app.add_transaction(
        "ba_d_0001_01", date="2025-01-10", amount=12.5, description="LATE DEPOSIT"
    )
    assert added["amount"] == "12.50" and added["currency"] == "USD"
    # an old posted one is corrected
    corrected = app.modify_transaction(
        posted[0]["id"], vendor_name="Staples", gl_code="6000", match_type="rule"
    )

    changes, _ = api.all(path, updated_since=mark.isoformat())
    by_id = {tx["id"]: tx for tx in changes}
    assert set(by_id) == {pending[0]["id"], pending[1]["id"], added["id"], corrected["id"]}
    assert [tx["id"] for tx in changes] == sorted(by_id)
    assert by_id[pending[1]["id"]]["deleted"] is True
    assert (
        by_id[pending[0]["id"]]["deleted"] is False
        and by_id[pending[0]["id"]]["amount"] == "-99.10"
    )
    assert by_id[added["id"]]["updated_at"] > by_id[pending[0]["id"]]["updated_at"]
    for tx in changes:
        assert datetime.fromisoformat(tx["updated_at"].replace("Z", "+00:00")) > mark

    after, _ = api.all(path, limit=500)
    after_ids = [tx["id"] for tx in after]
    assert pending[1]["id"] not in after_ids  # tombstones leave date queries
    assert (
        added["id"] in after_ids and after_ids[-1] == added["id"]
    )  # added ids sort after generated ones
    assert len(after) == len(before)
    january, _ = api.all(path, start_date="2025-01-10", end_date="2025-01-10")
    assert added["id"] in [tx["id"] for tx in january]
    moved, _ = api.all(path, start_date="2025-06-14", end_date="2025-06-14")
    assert pending[0]["id"] in [tx["id"] for tx in moved]
    # the tombstone stays out of date windows even with updated_since absent, and in them with it
    windowed, _ = api.all(
        path,
        start_date=pending[1]["date"],
        end_date=pending[1]["date"],
        updated_since=mark.isoformat(),
    )
    assert [tx["id"] for tx in windowed if tx["deleted"]] == [pending[1]["id"]]

    with pytest.raises(SandboxError) as excinfo:
        app.delete_transaction(posted[1]["id"])
    assert excinfo.value.status == 409
    assert app.delete_transaction(posted[1]["id"], force=True)["deleted"] is True
    with pytest.raises(SandboxError):
        app.delete_transaction(pending[1]["id"])  # already gone
    with pytest.raises(SandboxError):
        app.modify_transaction(posted[2]["id"], amount="lots")
    with pytest.raises(SandboxError):
        app.modify_transaction(posted[2]["id"], id="other")


def test_client_and_bank_account_mutations(sandbox):
    app = sandbox.app
    api = Api(sandbox)
    mark = app.now()
    app.clock.advance(5)
    new_client = app.add_client("demo", name="Zephyr Zoo LLC", bank_accounts=1)
    assert new_client["id"] == "cl_d_0004" and new_client["name"] == "Zephyr Zoo LLC"
    ids = [c["id"] for c in api.ok("/v1/clients")["data"]]
    assert ids == ["cl_d_0001", "cl_d_0002", "cl_d_0003", "cl_d_0004"]
    listed = api.ok("/v1/clients")["data"][-1]
    assert listed["updated_at"] > mark.isoformat().replace("+00:00", "Z")
    accounts = api.ok("/v1/clients/cl_d_0004/bank-accounts")["data"]
    assert [a["id"] for a in accounts] == ["ba_d_0004_01"]
    assert len(api.all(tx_path("ba_d_0004_01"), limit=500)[0]) == 250

    renamed = app.modify_client("cl_d_0002", name="Renamed Inc.", status="inactive")
    assert renamed["status"] == "inactive"
    assert api.ok("/v1/clients")["data"][1]["name"] == "Renamed Inc."

    small = app.add_bank_account("cl_d_0001", name="New Savings", type="savings", transactions=5)
    assert small["id"] == "ba_d_0001_03"
    assert [a["id"] for a in api.ok("/v1/clients/cl_d_0001/bank-accounts")["data"]][
        -1
    ] == "ba_d_0001_03"
    assert len(api.ok(tx_path("ba_d_0001_03"))["data"]) == 5
    app.modify_bank_account("ba_d_0001_01", connection_status="needs_mfa")
    assert (
        api.ok("/v1/clients/cl_d_0001/bank-accounts")["data"][0]["connection_status"] == "needs_mfa"
    )

    app.remove_bank_account("ba_d_0001_02")
    assert [a["id"] for a in api.ok("/v1/clients/cl_d_0001/bank-accounts")["data"]] == [
        "ba_d_0001_01",
        "ba_d_0001_03",
    ]
    assert_error(api.get(tx_path("ba_d_0001_02")), 404, "not_found")
    app.remove_client("cl_d_0003")
    assert [c["id"] for c in api.ok("/v1/clients")["data"]] == [
        "cl_d_0001",
        "cl_d_0002",
        "cl_d_0004",
    ]
    assert_error(api.get("/v1/clients/cl_d_0003/bank-accounts"), 404, "not_found")
    assert_error(api.get(tx_path("ba_d_0003_01")), 404, "not_found")
    with pytest.raises(SandboxError):
        app.remove_client("cl_d_0003")
    assert app.add_client("empty")["id"] == "cl_e_0001"
    empty = Api(sandbox, email="empty@ledgersync.test")
    assert [c["id"] for c in empty.ok("/v1/clients")["data"]] == ["cl_e_0001"]
    assert app.summary()["demo"]["clients"] == 3


def test_pagination_survives_mutations_between_pages(sandbox):
    app = sandbox.app
    api = Api(sandbox)
    path = tx_path("ba_d_0002_01")
    first = api.ok(path, limit=100)
    added = app.add_transaction("ba_d_0002_01", date="2024-07-01")
    records = list(first["data"])
    cursor = first["next_cursor"]
    while cursor:
        page = api.ok(path, limit=100, cursor=cursor)
        records.extend(page["data"])
        cursor = page["next_cursor"]
    ids = [tx["id"] for tx in records]
    assert len(ids) == len(set(ids)) == 251 and ids[-1] == added["id"]


def test_admin_endpoints(sandbox):
    api = Api(sandbox)
    info = api.admin("GET", "").json()
    assert info["config"]["clients"] == 3 and info["summary"]["demo"]["transactions"] == 3 * 2 * 250
    pending = [
        tx for tx in api.all(tx_path("ba_d_0001_01"), limit=500)[0] if tx["status"] == "pending"
    ]

    response = api.admin(
        "POST",
        "/transactions",
        {
            "bank_account_id": "ba_d_0001_01",
            "date": "2025-05-01",
            "amount": "-42.10",
            "description": "LATE FEE",
        },
    )
    assert response.status_code == 201
    added = response.json()
    assert set(added) == TX_KEYS and added["amount"] == "-42.10"
    assert api.admin("GET", f"/transactions/{added['id']}").json() == added
    patched = api.admin(
        "PATCH", f"/transactions/{pending[0]['id']}", {"status": "posted", "amount": "-1.00"}
    )
    assert patched.status_code == 200 and patched.json()["status"] == "posted"
    assert_error(api.admin("DELETE", f"/transactions/{added['id']}"), 409, "conflict")
    assert api.admin("DELETE", f"/transactions/{added['id']}", force=1).json()["deleted"] is True
    assert api.admin("DELETE", f"/transactions/{pending[1]['id']}").json()["deleted"] is True
    custom = {"bank_account_id": "ba_d_0001_02", "id": "tx_custom_1", "amount": "3"}
    assert api.admin("POST", "/transactions", custom).json()["id"] == "tx_custom_1"
    assert_error(api.admin("POST", "/transactions", custom), 409, "conflict")
    taken = dict(custom, id="tx_d_0001_01_0000001")
    assert_error(api.admin("POST", "/transactions", taken), 409, "conflict")
    # ordered by id like every other record: "tx_c..." < "tx_d..."
    assert api.ok(tx_path("ba_d_0001_02"), limit=500)["data"][0]["id"] == "tx_custom_1"
    assert_error(api.admin("POST", "/transactions", {"date": "2025-01-01"}), 400, "bad_request")
    assert_error(api.admin("POST", "/transactions", {"bank_account_id": "nope"}), 404, "not_found")
    assert_error(
        api.admin("POST", "/transactions", {"bank_account_id": "ba_d_0001_01", "status": "x"}),
        400,
        "bad_request",
    )
    assert_error(
        api.admin("POST", "/transactions", {"bank_account_id": "ba_d_0001_01", "colour": "red"}),
        400,
        "bad_request",
    )
    assert_error(
        api.session.post(f"{sandbox.base_url}/_sandbox/transactions", data="{oops", timeout=5),
        400,
        "bad_request",
    )

    client = api.admin("POST", "/clients", {"name": "Admin Added LLC", "bank_accounts": 0})
    assert client.status_code == 201 and client.json()["id"] == "cl_d_0004"
    assert api.admin("PATCH", "/clients/cl_d_0004", {"code": "AA1"}).json()["code"] == "AA1"
    account = api.admin(
        "POST", "/bank-accounts", {"client_id": "cl_d_0004", "transactions": 3, "currency": "CAD"}
    )
    assert account.status_code == 201 and account.json()["currency"] == "CAD"
    assert (
        api.admin("PATCH", "/bank-accounts/ba_d_0004_01", {"name": "Renamed"}).json()["name"]
        == "Renamed"
    )
    assert {tx["currency"] for tx in api.ok(tx_path("ba_d_0004_01"))["data"]} == {"CAD"}
    assert api.admin("DELETE", "/bank-accounts/ba_d_0004_01").json()["removed"] is True
    assert api.admin("DELETE", "/clients/cl_d_0004").json()["removed"] is True
    assert_error(api.admin("DELETE", "/clients/cl_d_0004"), 404, "not_found")

    clock = api.admin("POST", "/clock", {"advance": 3600}).json()
    assert clock["now"] == "2025-06-15T13:00:00Z" and clock["frozen"] is True
    assert (
        api.admin("POST", "/clock", {"now": "2025-06-16T00:00:00Z"}).json()["now"]
        == "2025-06-16T00:00:00Z"
    )
    logins = api.admin("GET", "/logins").json()["data"]
    assert {entry["email"] for entry in logins} == set(BUILTIN_LOGINS)

    assert api.admin("POST", "/reset").json() == {"reset": True}
    assert api.admin("GET", "/clock").json()["now"] == "2025-06-15T12:00:00Z"
    assert [c["id"] for c in Api(sandbox).ok("/v1/clients")["data"]] == [
        "cl_d_0001",
        "cl_d_0002",
        "cl_d_0003",
    ]
    assert api.admin("GET", f"/transactions/{pending[1]['id']}").json()["deleted"] is False
    assert_error(api.admin("GET", f"/transactions/{added['id']}"), 404, "not_found")


def test_admin_can_be_disabled():
    with serve_in_thread(config(admin=False)) as server:
        assert_error(requests.get(f"{server.base_url}/_sandbox/stats", timeout=5), 404, "not_found")


def test_request_stats(sandbox):
    api = Api(sandbox)
    api.ok("/v1/clients")
    api.ok("/v1/clients/cl_d_0001/bank-accounts")
    api.all(tx_path("ba_d_0001_01"), limit=100)
    api.ok(tx_path("ba_d_0001_02"), limit=10)
    api.get("/v1/nowhere")
    stats = api.admin("GET", "/stats").json()
    assert stats["login"] == 1 and stats["clients"] == 1 and stats["bank_accounts"] == 1
    assert stats["transactions"] == 4 and stats["other"] == 1 and stats["total"] == 8
    assert stats["by_account"] == {"ba_d_0001_01": 3, "ba_d_0001_02": 1}
    assert stats["by_path"][tx_path("ba_d_0001_01")] == 3
    assert stats["by_status"] == {"200": 7, "404": 1}
    assert sandbox.app.stats["transactions"] == 4
    assert api.admin("DELETE", "/stats").json()["total"] == 0
    assert sandbox.app.stats["total"] == 0


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


# ======================================================================================
# faults
# ======================================================================================
def test_rate_limit_fault(sandbox):
    api = Api(sandbox)
    sandbox.app.faults.add("rate_limit", count=2, retry_after=3)
    for _ in range(2):
        response = api.get("/v1/clients")
        assert_error(response, 429, "rate_limited")
        assert response.headers["Retry-After"] == "3"
    assert api.get("/v1/clients").status_code == 200
    assert sandbox.app.stats["faults_fired"] == 2
    assert sandbox.app.stats["by_status"]["429"] == 2


def test_rate_limit_applies_to_login_too(sandbox):
    api = Api(sandbox, email=None)
    response = api.admin("POST", "/faults", {"kind": "rate_limit", "endpoint": "login"})
    assert response.status_code == 201 and response.json()["data"][0]["kind"] == "rate_limit"
    limited = api.login(DEMO)
    assert_error(limited, 429, "rate_limited")
    assert limited.headers["Retry-After"] == "1"
    assert api.login(DEMO).status_code == 200


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_server_error_burst(sandbox, status):
    api = Api(sandbox)
    sandbox.app.faults.add("server_error", status=status, count=3, path=r"/transactions$")
    for _ in range(3):
        assert_error(api.get(tx_path("ba_d_0001_01")), status)
    assert api.get("/v1/clients").status_code == 200  # other paths are not affected
    assert api.get(tx_path("ba_d_0001_01")).status_code == 200


def test_server_error_with_custom_body(sandbox):
    api = Api(sandbox)
    sandbox.app.faults.add(
        "server_error", status=502, body="upstream went away", endpoint="clients"
    )
    response = api.get("/v1/clients")
    assert response.status_code == 502 and response.text == "upstream went away"


def test_one_broken_account_among_healthy_ones(sandbox):
    api = Api(sandbox)
    api.admin(
        "POST",
        "/faults",
        {
            "kind": "server_error",
            "status": 503,
            "count": -1,
            "path": "/bank-accounts/ba_d_0002_01/",
        },
    )
    for _ in range(5):
        assert_error(api.get(tx_path("ba_d_0002_01")), 503, "service_unavailable")
    for account in ("ba_d_0001_01", "ba_d_0001_02", "ba_d_0002_02", "ba_d_0003_01"):
        assert api.get(tx_path(account)).status_code == 200
    faults = api.admin("GET", "/faults").json()["data"]
    assert faults[0]["fired"] == 5 and faults[0]["active"] is True
    assert api.admin("DELETE", f"/faults/{faults[0]['id']}").json() == {"removed": faults[0]["id"]}
    assert api.get(tx_path("ba_d_0002_01")).status_code == 200
    assert_error(api.admin("DELETE", "/faults/999"), 404, "not_found")


def test_fault_skip_fails_a_later_page(sandbox):
    api = Api(sandbox)
    sandbox.app.faults.add("server_error", endpoint="transactions", skip=2, count=1)
    path = tx_path("ba_d_0001_01")
    first = api.ok(path, limit=100)
    second = api.ok(path, limit=100, cursor=first["next_cursor"])
    assert_error(api.get(path, limit=100, cursor=second["next_cursor"]), 500, "server_error")
    assert api.ok(path, limit=100, cursor=second["next_cursor"])["next_cursor"] is None


def test_delay_fault(sandbox):
    api = Api(sandbox)
    sandbox.app.faults.add("delay", delay=0.4, endpoint="clients")
    started = time.perf_counter()
    assert api.get("/v1/clients").status_code == 200
    assert time.perf_counter() - started >= 0.4
    started = time.perf_counter()
    assert api.get("/v1/clients").status_code == 200
    assert time.perf_counter() - started < 0.3
    sandbox.app.faults.add("delay", delay=5, endpoint="clients")
    with pytest.raises(requests.exceptions.ReadTimeout):
        api.get("/v1/clients", timeout=0.3)


def test_hang_does_not_block_other_requests_nor_shutdown():
    server = serve_in_thread(config())
    api = Api(server)
    server.app.faults.add("hang", count=-1, endpoint="transactions")
    outcome = {}

    def hang():
        try:
            requests.get(
                f"{server.base_url}{tx_path('ba_d_0001_01')}",
                timeout=30,
                headers={"Authorization": f"Bearer {api.token}"},
            )
            outcome["result"] = "answered"
        except requests.RequestException as exc:
            outcome["result"] = type(exc).__name__

    hung = threading.Thread(target=hang)
    hung.start()
    with pytest.raises(requests.exceptions.ReadTimeout):
        api.get(tx_path("ba_d_0001_02"), timeout=0.3)
    started = time.perf_counter()
    for _ in range(5):
        assert api.get("/v1/clients").status_code == 200
    assert time.perf_counter() - started < 1
    started = time.perf_counter()
    server.stop()  # a keep-alive session and two hanging requests are still open
    assert time.perf_counter() - started < 3
    hung.join(5)
    assert not hung.is_alive() and outcome["result"]
    with pytest.raises(requests.exceptions.ConnectionError):
        requests.get(f"{server.base_url}/v1/clients", timeout=2)


@pytest.mark.parametrize("kind", ["html", "empty", "truncated", "wrong_shape", "bad_record"])
def test_malformed_response_faults(sandbox, kind):
    api = Api(sandbox)
    sandbox.app.faults.add(kind, endpoint="transactions")
    response = api.get(tx_path("ba_d_0001_01"), limit=3)
    assert response.status_code == 200
    if kind == "html":
        assert response.headers["Content-Type"].startswith("text/html")
        assert response.text.lstrip().startswith("<!DOCTYPE html>")
    elif kind == "empty":
        assert response.content == b""
    elif kind == "truncated":
        assert int(response.headers["Content-Length"]) == len(response.content) > 0
        with pytest.raises(ValueError):
            json.loads(response.content)
    elif kind == "wrong_shape":
        body = response.json()
        assert "data" not in body and set(body["result"]) == {"data", "next_cursor"}
    else:
        first, second = response.json()["data"][:2]
        assert (
            first["amount"] == "12,34 EUR" and first["date"] == "yesterday" and first["id"] is None
        )
        assert set(second) == TX_KEYS and second["id"]
    assert (
        api.get(tx_path("ba_d_0001_01"), limit=3).json()["data"][0]["id"] == "tx_d_0001_01_0000001"
    )


def test_html_fault_with_status_on_login(sandbox):
    api = Api(sandbox, email=None)
    sandbox.app.faults.add("html", status=502, endpoint="login")
    response = api.login(DEMO)
    assert response.status_code == 502 and "Bad Gateway" in response.text
    sandbox.app.faults.add("bad_record", endpoint="login")
    assert api.login(DEMO).json()["access_token"] is None
    sandbox.app.faults.add("truncated", endpoint="login")
    with pytest.raises(ValueError):
        api.login(DEMO).json()


def test_token_expired_fault_forces_relogin(sandbox):
    api = Api(sandbox)
    sandbox.app.faults.add("token_expired")  # next data call only; login is never affected
    assert_error(api.get("/v1/clients/cl_d_0001/bank-accounts"), 401, "token_expired")
    assert api.get("/v1/clients").status_code == 200
    sandbox.app.faults.add("token_expired", count=-1)
    relogin = api.login(DEMO)
    assert relogin.status_code == 200
    assert_error(api.get("/v1/clients", token=relogin.json()["access_token"]), 401, "token_expired")
    sandbox.app.faults.clear()
    assert api.get("/v1/clients").status_code == 200


def test_faults_via_admin_endpoint_and_validation(sandbox):
    api = Api(sandbox)
    response = api.admin(
        "POST",
        "/faults",
        {
            "faults": [
                {"kind": "rate_limit", "count": 1, "endpoint": "clients"},
                {"kind": "server_error", "count": 1, "endpoint": "clients", "method": "get"},
            ]
        },
    )
    assert response.status_code == 201 and len(response.json()["data"]) == 2
    assert_error(api.get("/v1/clients"), 429, "rate_limited")
    assert_error(api.get("/v1/clients"), 500, "server_error")
    assert api.get("/v1/clients").status_code == 200
    listed = api.admin("GET", "/faults").json()
    assert set(listed["kinds"]) == set(FAULT_KINDS)
    assert [f["active"] for f in listed["data"]] == [False, False]
    for bad in (
        {"kind": "meteor"},
        {"count": 1},
        {"kind": "rate_limit", "count": -2},
        {"kind": "server_error", "status": 404},
        {"kind": "delay", "path": "("},
        {"kind": "delay", "endpoint": "everything"},
        {"kind": "delay", "colour": 1},
        [],
    ):
        assert_error(api.admin("POST", "/faults", bad), 400, "bad_request")
    api.admin("POST", "/faults", {"kind": "rate_limit", "count": -1})
    assert_error(api.get("/v1/clients"), 429)
    assert api.admin("DELETE", "/faults").json() == {"data": []}
    assert api.get("/v1/clients").status_code == 200
    assert api.admin("GET", "/stats").status_code == 200  # admin endpoints are never faulted


def test_fault_spec_parsing():
    assert parse_fault_spec("rate_limit") == ("rate_limit", {})
    assert parse_fault_spec("rate_limit:count=3,retry_after=2.5") == (
        "rate_limit",
        {"count": 3, "retry_after": 2.5},
    )
    assert parse_fault_spec(r"server_error:status=503,count=-1,path=/ba_d_\d{1,3}/x") == (
        "server_error",
        {"status": 503, "count": -1, "path": r"/ba_d_\d{1,3}/x"},
    )
    with pytest.raises(ValueError):
        parse_fault_spec("delay:colour=red")
    with pytest.raises(ValueError):
        parse_fault_spec("delay:oops")


# ======================================================================================
# serving
# ======================================================================================
def test_serve_in_thread_variants():
    with serve_in_thread(clients=1, today=TODAY, now=NOW) as server:
        assert server.base_url == f"http://127.0.0.1:{server.port}"
        assert server.port > 0 and server.app.config.clients == 1
        assert len(Api(server).ok("/v1/clients")["data"]) == 1
    with pytest.raises(TypeError):
        serve_in_thread(config(), clients=2)
    with pytest.raises(ValueError):
        SandboxConfig(clients=-1)
    with pytest.raises(ValueError):
        SandboxConfig(transactions_per_account=10**8)


def test_concurrent_mutations_are_safe(sandbox):
    app = sandbox.app
    errors = []

    def work():
        try:
            for _ in range(50):
                app.add_transaction("ba_d_0001_01", amount="-1")
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    records, _ = Api(sandbox).all(tx_path("ba_d_0001_01"), limit=500)
    assert len(records) == 450 and len({tx["id"] for tx in records}) == 450


def test_cli_serves_the_contract():
    root = Path(__file__).resolve().parents[1]
    env = dict(os.environ, PYTHONPATH=str(root) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "ledgersync_sandbox",
            "--port",
            "0",
            "--clients",
            "2",
            "--accounts-per-client",
            "1",
            "--transactions-per-account",
            "10",
            "--today",
            "2025-06-15",
            "--token-ttl",
            "120",
            "--fault",
            "rate_limit:count=1,endpoint=clients",
        ],
        cwd=root,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        line = process.stdout.readline()
        assert "http://127.0.0.1:" in line, line + process.stderr.read()
        base = line.split()[3]
        login = requests.post(
            f"{base}/v1/auth/login", json={"email": DEMO, "password": PASSWORD}, timeout=5
        )
        assert login.json()["expires_in"] == 120
        headers = {"Authorization": f"Bearer {login.json()['access_token']}"}
        assert_error(
            requests.get(f"{base}/v1/clients", headers=headers, timeout=5), 429, "rate_limited"
        )
        clients = requests.get(f"{base}/v1/clients", headers=headers, timeout=5).json()["data"]
        assert [c["id"] for c in clients] == ["cl_d_0001", "cl_d_0002"]
        txs = requests.get(
            f"{base}/v1/bank-accounts/ba_d_0002_01/transactions", headers=headers, timeout=5
        ).json()
        assert len(txs["data"]) == 10 and txs["data"][-1]["date"] <= "2025-06-15"
    finally:
        process.terminate()
        process.wait(5)
        process.stdout.close()
        process.stderr.close()


def test_cli_rejects_bad_values():
    root = Path(__file__).resolve().parents[1]
    env = dict(os.environ, PYTHONPATH=str(root))
    result = subprocess.run(
        [sys.executable, "-m", "ledgersync_sandbox", "--port", "0", "--fault", "meteor"],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=20,
    )
    assert result.returncode == 2 and "unknown fault kind" in result.stderr
