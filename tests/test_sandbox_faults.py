"""Sandbox tests: fault injection (ledgersync_sandbox/faults.py)."""

import json
import threading
import time
from unittest.mock import ANY

import pytest
import requests
from sandbox_support import DEMO, TX_KEYS, Api, assert_error, config, tx_path

from ledgersync_sandbox import FAULT_KINDS, serve_in_thread
from ledgersync_sandbox.faults import parse_fault_spec


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


def test_patch_fault_merges_values_the_mutations_refuse(sandbox):
    api = Api(sandbox, email=None)
    sandbox.app.faults.add("patch", endpoint="login", body='{"expires_in": 1000000000000}')
    login = api.login(DEMO).json()
    assert login["expires_in"] == 10**12 and login["access_token"]
    api.token = login["access_token"]
    sandbox.app.faults.add(
        "patch",
        endpoint="transactions",
        body={"amount": "1e999999999"},  # a dict, as in JSON
    )
    first, second = api.ok(tx_path("ba_d_0001_01"), limit=2)["data"]
    assert first["amount"] == "1e999999999" and first["id"] == "tx_d_0001_01_0000001"
    assert second["amount"] != "1e999999999"
    assert api.ok(tx_path("ba_d_0001_01"), limit=2)["data"][0] == {**first, "amount": ANY}
    for bad in (None, "[1]", "not json"):
        with pytest.raises(ValueError, match="JSON object"):
            sandbox.app.faults.add("patch", body=bad)


def test_drip_fault_sends_the_body_one_byte_at_a_time(sandbox):
    api = Api(sandbox)
    sandbox.app.faults.add("drip", endpoint="clients", delay=0.05)
    started = time.perf_counter()
    response = api.session.get(
        f"{sandbox.base_url}/v1/clients",
        params={"limit": 1},
        headers={"Authorization": f"Bearer {api.token}"},
        stream=True,
        timeout=5,
    )
    assert time.perf_counter() - started < 0.5  # the head comes at once
    length = int(response.headers["Content-Length"])
    assert response.raw.read(3) == b'{"d'
    assert time.perf_counter() - started >= 0.1  # then a byte every 0.05 s
    response.close()
    assert length > 20  # the whole body would take over a second
    sandbox.app.faults.add("drip", endpoint="clients", delay=0.001)
    assert api.ok("/v1/clients", limit=1)["data"][0]["id"] == "cl_d_0001"


def test_drip_is_released_when_the_server_stops():
    server = serve_in_thread(config())
    api = Api(server)
    server.app.faults.add("drip", endpoint="clients", delay=60)
    response = api.session.get(
        f"{server.base_url}/v1/clients",
        headers={"Authorization": f"Bearer {api.token}"},
        stream=True,
        timeout=5,
    )
    started = time.perf_counter()
    server.stop()
    assert time.perf_counter() - started < 3
    try:
        received = len(response.content)
    except requests.exceptions.RequestException:  # urllib3 2 enforces Content-Length
        received = 1
    assert received < int(response.headers["Content-Length"])  # the answer stays cut


def test_huge_fault_streams_without_content_length(sandbox):
    api = Api(sandbox)
    sandbox.app.faults.add("huge", endpoint="transactions", size=300_000)
    response = api.get(tx_path("ba_d_0001_01"))
    assert response.status_code == 200 and "Content-Length" not in response.headers
    assert len(response.content) == 300_000 and response.content.startswith(b'{"data": ["x')
    sandbox.app.faults.add("huge", endpoint="clients")
    with api.session.get(
        f"{sandbox.base_url}/v1/clients",
        headers={"Authorization": f"Bearer {api.token}"},
        stream=True,
        timeout=5,
    ) as streamed:
        assert len(streamed.raw.read(100_000)) == 100_000  # 8 MiB by default: not read to the end
    for bad in (0, -5, "big", True):
        with pytest.raises(ValueError, match="size"):
            sandbox.app.faults.add("huge", size=bad)


def test_endless_fault_never_ends_a_listing(sandbox):
    api = Api(sandbox)
    sandbox.app.faults.add("endless", endpoint="transactions", count=-1)
    cursors = set()
    for _page in range(5):
        page = api.ok(tx_path("ba_d_0001_01"), cursor="anything")
        assert page["data"] == [] and page["next_cursor"] not in cursors
        cursors.add(page["next_cursor"])
    assert api.ok("/v1/clients")["data"]  # other endpoints answer as usual


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
