"""Shared helpers of the sandbox tests (tests/test_sandbox_*.py): a small test client of the
API, the error-shape check and the test configuration. The ``sandbox`` fixture that serves
``config()`` lives in tests/conftest.py."""

from datetime import date

import requests

from ledgersync_sandbox import SandboxConfig
from ledgersync_sandbox.admin_client import SandboxAdmin

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


class Api:
    """A tiny test client (the real client lives in ledgersync_connector.api); ``admin()``
    goes through the sandbox's own admin client."""

    def __init__(self, server, email=DEMO, password=PASSWORD):
        self.base = server.base_url
        self.session = requests.Session()
        self.sandbox_admin = SandboxAdmin(self.base, timeout=5)
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
        """A /_sandbox{path} request -> an AdminResponse (status_code, headers, json())."""
        return self.sandbox_admin.request(method, path, body, params=params)


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
