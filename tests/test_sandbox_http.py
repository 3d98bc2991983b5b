"""Sandbox tests: serving (ledgersync_sandbox/http.py, admin.py, server.py, __main__.py): the
routing table, the admin endpoints and their client, request stats, the CLI."""

import inspect
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import requests
from sandbox_support import DEMO, NOW, PASSWORD, TODAY, TX_KEYS, Api, assert_error, config, tx_path

from ledgersync_sandbox import BUILTIN_LOGINS, SandboxApp, SandboxConfig, serve_in_thread
from ledgersync_sandbox.admin_client import AdminError, SandboxAdmin
from ledgersync_sandbox.mutations import Mutations
from ledgersync_sandbox.silent import closed_port_url


# ======================================================================================
# routing
# ======================================================================================
def test_login_wrong_method_and_unknown_path(sandbox):
    assert_error(
        requests.get(f"{sandbox.base_url}/v1/auth/login", timeout=5), 405, "method_not_allowed"
    )
    assert_error(requests.get(f"{sandbox.base_url}/v1/nothing", timeout=5), 404, "not_found")
    assert_error(requests.get(f"{sandbox.base_url}/", timeout=5), 404, "not_found")


@pytest.mark.parametrize(
    "method, path, allowed",
    [
        ("GET", "/v1/auth/login", "POST"),
        ("PUT", "/v1/auth/login", "POST"),
        ("POST", "/v1/clients", "GET"),
        ("HEAD", "/v1/clients", "GET"),  # HEAD is not part of the contract
        ("OPTIONS", "/v1/clients", "GET"),
        ("DELETE", "/v1/clients/cl_d_0001/bank-accounts", "GET"),
        ("POST", tx_path("ba_d_0001_01"), "GET"),
        ("GET", "/_sandbox/reset", "POST"),
        ("PUT", "/_sandbox/stats", "DELETE, GET"),
        ("HEAD", "/_sandbox/stats", "DELETE, GET"),
        ("DELETE", "/_sandbox/clock", "GET, POST"),
        ("GET", "/_sandbox/tokens/expire", "POST"),
        ("DELETE", "/_sandbox/logins/demo@ledgersync.test", "PATCH, PUT"),
        ("GET", "/_sandbox/clients/cl_d_0001", "DELETE, PATCH"),
        ("PUT", "/_sandbox/transactions/tx_d_0001_01_0000001", "DELETE, GET, PATCH"),
    ],
)
def test_wrong_method_is_405_in_the_error_shape(sandbox, method, path, allowed):
    response = requests.request(method, f"{sandbox.base_url}{path}", timeout=5)
    assert response.status_code == 405 and response.headers["Allow"] == allowed
    if method != "HEAD":  # a HEAD answer has no body
        error = assert_error(response, 405, "method_not_allowed")
        assert error["message"] == f"Use {allowed} on {path}."


@pytest.mark.parametrize(
    "path",
    [
        "/v1",
        "/v1/clients/",  # API paths are exact
        "/v1/clients/cl_d_0001",
        "/v1/clients/cl_d_0001/bank-accounts/ba_d_0001_01",
        "/v1/bank-accounts/ba_d_0001_01",
        "/v2/clients",
        "/_sandbox/nothing",
        "/_sandbox/stats/everything",
        "/_sandbox/tokens/forget",
        "/_sandboxes",
    ],
)
def test_unknown_path_is_404_in_the_error_shape(sandbox, path):
    for method in ("GET", "POST", "DELETE"):
        response = requests.request(method, f"{sandbox.base_url}{path}", timeout=5)
        error = assert_error(response, 404, "not_found")
        assert path in error["message"]


def test_routing_counts_and_admin_paths(sandbox):
    api = Api(sandbox, email=None)
    requests.post(f"{sandbox.base_url}/v1/clients", timeout=5)  # 405
    requests.get(f"{sandbox.base_url}/v1/nothing", timeout=5)  # 404
    stats = sandbox.app.stats
    assert stats["other"] == 2 and stats["total"] == 2
    assert stats["by_status"] == {"405": 1, "404": 1}
    # /_sandbox and /_sandbox/ are the index; admin paths may end with a slash
    assert api.admin("GET", "").json() == api.admin("GET", "/").json()  # frozen clock
    assert api.admin("GET", "/stats/").status_code == 200
    assert_error(api.admin("GET", "/reset/"), 405, "method_not_allowed")
    stats = sandbox.app.stats  # every admin request is counted as admin, whatever its answer
    assert stats["admin"] == 4 and stats["total"] == 2


def test_every_admin_route_is_documented():
    from ledgersync_sandbox.http import ADMIN_PREFIX, URL_MAP

    readme = (Path(__file__).resolve().parents[1] / "ledgersync_sandbox" / "README.md").read_text()
    documented = {re.sub(r"\{\w+\}", "{}", path) for path in re.findall(r"`\w+ ([^` ]+)`", readme)}
    documented |= {
        re.sub(r"\{\w+\}", "{}", path) for path in re.findall(r"`(/_sandbox/[^` ]*)`", readme)
    }
    for rule in URL_MAP.iter_rules():
        if rule.rule.startswith(ADMIN_PREFIX):
            assert re.sub(r"<\w+>", "{}", rule.rule) in documented, rule.rule


# ======================================================================================
# the admin client (ledgersync_sandbox.admin_client, used by the tests and bench/)
# ======================================================================================
def test_admin_client(sandbox):
    admin = SandboxAdmin(sandbox.base_url, timeout=5)
    assert admin.info()["config"]["clients"] == 3
    assert (
        admin.url("/stats") == admin.url("/_sandbox/stats") == f"{sandbox.base_url}/_sandbox/stats"
    )
    assert admin.url("/transactions/x", {"force": 1}).endswith("/_sandbox/transactions/x?force=1")
    fault = admin.add_fault("rate_limit", count=1, endpoint="clients")
    assert fault["kind"] == "rate_limit" and fault["active"] is True
    assert admin.call("GET", "/_sandbox/faults")["data"] == [fault]
    assert admin.clear_faults() == {"data": []}
    Api(sandbox).ok("/v1/clients")
    assert admin.stats()["clients"] == 1
    assert admin.reset_stats()["total"] == 0
    # request() hands back any answer; call() raises on an error answer
    response = admin.request("DELETE", "/faults/999")
    assert_error(response, 404, "not_found")
    with pytest.raises(AdminError) as excinfo:
        admin.call("DELETE", "/faults/999")
    assert (excinfo.value.status, excinfo.value.code) == (404, "not_found")
    assert admin.call("DELETE", "/stats") == sandbox.app.stats
    admin.call("POST", "/clock", {"advance": 60})
    assert admin.reset() == {"reset": True}
    assert admin.call("GET", "/clock")["now"] == NOW


def test_admin_client_without_a_server():
    admin = SandboxAdmin(closed_port_url(), timeout=2)
    with pytest.raises(OSError):
        admin.stats()


# ======================================================================================
# admin endpoints and request stats
# ======================================================================================
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


def test_app_methods_keep_the_signatures_and_docs_of_their_parts():
    """SandboxApp forwards its Python API to its parts (store, auth, mutations, http)."""
    signature = inspect.signature(SandboxApp.query_transactions)
    assert list(signature.parameters)[:2] == ["self", "aid"]
    assert "updated_since" in signature.parameters
    assert SandboxApp.add_transaction.__doc__ == Mutations.add_transaction.__doc__
    app = SandboxApp(config())
    assert app.delete_transaction.__self__ is app
    assert app.get_transaction("tx_d_0001_01_0000001") == app.mutations.get_transaction(
        "tx_d_0001_01_0000001"
    )
    app.token_ttl = 5
    assert app.auth.token_ttl == 5 and app.info()["config"]["token_ttl"] == 5
    assert app.summary() == app.store.summary()
