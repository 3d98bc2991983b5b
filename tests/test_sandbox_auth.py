"""Sandbox tests: logins, login states and tokens (ledgersync_sandbox/auth.py), over real
HTTP on 127.0.0.1."""

import json
import time
from pathlib import Path

import pytest
import requests
from sandbox_support import DEMO, PASSWORD, Api, assert_error, config, tx_path

from ledgersync_sandbox import BUILTIN_LOGINS, FAULT_KINDS, serve_in_thread


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
