"""The client over real sockets on 127.0.0.1: deadlines, real retries and sleeps, no login retry."""

import json
import socket
import threading
import time
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from ledgersync_connector.api import LedgerSyncApiClient, errors
from ledgersync_sandbox.silent import silent_server

MARGIN = 0.6  # seconds of slack for a loaded test machine

LOGIN_OK = {
    "access_token": "live-token",
    "token_type": "Bearer",
    "expires_in": 3600,
    "account": {"firm_name": "Live", "subscription_status": "active", "account_status": "active"},
}


@contextmanager
def http_server(routes):
    """A threaded HTTP server; ``routes`` maps (method, path) to a handler(request) callable."""
    release = threading.Event()

    class Handler(BaseHTTPRequestHandler):
        def _route(self):
            length = int(self.headers.get("Content-Length") or 0)
            if length:
                self.rfile.read(length)
            path = self.path.split("?")[0]
            status, headers, body = routes[(self.command, path)](release)
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            payload = json.dumps(body).encode()
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        do_GET = do_POST = _route

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
    )
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        release.set()
        server.shutdown()
        server.server_close()


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_verify_meets_its_deadline_against_a_server_that_never_answers():
    with silent_server() as (base_url, accepted):
        client = LedgerSyncApiClient(base_url, "a@b.test", "pw")
        started = time.monotonic()
        with pytest.raises(errors.Unreachable) as caught:
            client.verify(deadline=1.5)
        elapsed = time.monotonic() - started
        client.close()
    assert caught.value.code == "timeout"
    assert 1.4 <= elapsed < 1.5 + MARGIN
    assert len(accepted) == 1  # the login was sent once, never again


def test_verify_deadline_covers_login_and_first_page():
    def slow_login(release):
        time.sleep(0.8)
        return 200, {}, LOGIN_OK

    def hanging_clients(release):
        release.wait(10)
        return 200, {}, {"data": [], "next_cursor": None}

    routes = {("POST", "/v1/auth/login"): slow_login, ("GET", "/v1/clients"): hanging_clients}
    with http_server(routes) as base_url:
        client = LedgerSyncApiClient(base_url, "a@b.test", "pw")
        started = time.monotonic()
        with pytest.raises(errors.Unreachable) as caught:
            client.verify(deadline=1.5)
        elapsed = time.monotonic() - started
        client.close()
    assert caught.value.code == "timeout"
    assert elapsed < 1.5 + MARGIN
    assert client.stats == {"api_calls": 2, "logins": 1, "retries": 0}


def test_retry_after_is_slept_but_capped():
    answers = iter([(429, {"Retry-After": "3600"}, {"error": {"code": "rate_limited"}})])

    def clients(release):
        return next(answers, (200, {}, {"data": [], "next_cursor": None}))

    routes = {
        ("POST", "/v1/auth/login"): lambda release: (200, {}, LOGIN_OK),
        ("GET", "/v1/clients"): clients,
    }
    with http_server(routes) as base_url:
        client = LedgerSyncApiClient(base_url, "a@b.test", "pw", retry_after_cap=0.3)
        started = time.monotonic()
        pages = list(client.iter_client_pages())
        elapsed = time.monotonic() - started
        client.close()
    assert pages[0].items == ()
    assert 0.3 <= elapsed < 0.3 + MARGIN
    assert client.stats == {"api_calls": 3, "logins": 1, "retries": 1}


def test_connection_refused_login_is_one_attempt():
    client = LedgerSyncApiClient(f"http://127.0.0.1:{free_port()}", "a@b.test", "pw")
    with pytest.raises(errors.Unreachable) as caught:
        client.login()
    assert caught.value.code == "unreachable"
    assert client.stats == {"api_calls": 1, "logins": 1, "retries": 0}


def test_connection_refused_data_call_is_retried():
    client = LedgerSyncApiClient(
        f"http://127.0.0.1:{free_port()}", "a@b.test", "pw", max_retries=2, backoff_factor=0
    )
    client.token = "stored-token"
    with pytest.raises(errors.Unreachable) as caught:
        list(client.iter_client_pages())
    assert caught.value.code == "unreachable"
    assert client.stats == {"api_calls": 3, "logins": 0, "retries": 2}


def test_hang_up_after_login_request_is_not_retried_but_get_is():
    with silent_server(answer=True) as (base_url, accepted):
        client = LedgerSyncApiClient(base_url, "a@b.test", "pw", max_retries=2, backoff_factor=0)
        with pytest.raises(errors.Unreachable):
            client.login()
        time.sleep(0.1)
        assert len(accepted) == 1
        client.token = "stored-token"
        with pytest.raises(errors.Unreachable):
            list(client.iter_client_pages())
        time.sleep(0.1)
        assert len(accepted) == 1 + 3
        client.close()
