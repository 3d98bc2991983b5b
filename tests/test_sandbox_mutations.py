"""Sandbox tests: changing the data set (ledgersync_sandbox/mutations.py) and what the API
shows of the changes."""

import threading
from datetime import datetime

import pytest
from sandbox_support import Api, assert_error, tx_path

from ledgersync_sandbox import SandboxError


# ======================================================================================
# mutations
# ======================================================================================
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
