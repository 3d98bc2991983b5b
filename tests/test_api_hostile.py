"""The API client against a hostile or broken server: endless pages, absurd numbers, huge
or compressed bodies, trickling answers, echoed secrets and internal hosts.

Every test here stays bounded in time even against a client that would not stop (the
scripted servers give up after a few seconds).
"""

import base64
import gzip
import json
import time
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from urllib.parse import quote, quote_plus

import pytest
import responses
from hostile_support import scripted_server

from ledgersync_connector import const
from ledgersync_connector.api import LedgerSyncApiClient, errors, validate_base_url
from ledgersync_connector.api.records import Account, BankAccount, Transaction

BASE = "https://ledgersync.test"
EMAIL = "firm@example.com"
PASSWORD = "Sup3r-Secret-Pw!"
TOKEN = "tok-AAAA-0123456789"
LOGIN_URL = f"{BASE}/v1/auth/login"
CLIENTS_URL = f"{BASE}/v1/clients"
TRANSACTIONS_URL = f"{BASE}/v1/bank-accounts/ba-1/transactions"
KB = 1024
MB = 1024 * KB


def login_body(token=TOKEN, **extra):
    return {
        "access_token": token,
        "token_type": "Bearer",
        "expires_in": 3600,
        "account": {
            "firm_name": "Demo Accounting LLP",
            "subscription_status": "active",
            "account_status": "active",
        },
        **extra,
    }


def client_item(n, **extra):
    return {"id": f"cl-{n}", "name": f"Client {n}", "status": "active", **extra}


def txn_item(n=1, **extra):
    return {
        "id": f"tx-{n}",
        "bank_account_id": "ba-1",
        "date": "2024-03-15",
        "description": "Coffee",
        "amount": "-42.10",
        "currency": "USD",
        "status": "posted",
        "updated_at": "2024-03-16T08:30:00Z",
        **extra,
    }


def bank_account_item(**extra):
    return {"id": "ba-1", "client_id": "cl-1", "name": "Operating", **extra}


@pytest.fixture
def mocked():
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock


@pytest.fixture
def client():
    with LedgerSyncApiClient(BASE, EMAIL, PASSWORD, backoff_factor=0, retry_after_cap=1) as api:
        yield api


def signed_in(api):
    """Skip the login: a stored token, valid for an hour."""
    api.token = TOKEN
    api.token_expires_at = datetime.now(timezone.utc) + timedelta(hours=1)
    return api


def endless_pages(mocked, url, give_up_after=300):
    """Answer ``url`` with empty pages and a fresh cursor, forever (well: ``give_up_after``
    pages, so that a client that never stops fails this test instead of hanging it)."""
    calls = []

    def answer(request):
        calls.append(request.url)
        if len(calls) > give_up_after:
            raise AssertionError(f"the client asked for {len(calls)} pages and did not stop")
        return 200, {}, json.dumps({"data": [], "next_cursor": f"c{len(calls)}"})

    mocked.add_callback(responses.GET, url, callback=answer, content_type="application/json")
    return calls


# -- M2: pagination is bounded ------------------------------------------------------------


def test_endless_pages_stop_at_the_page_limit(client, mocked, monkeypatch):
    monkeypatch.setattr(const, "MAX_PAGES_PER_QUERY", 20, raising=False)
    calls = endless_pages(mocked, CLIENTS_URL)
    signed_in(client)
    with pytest.raises(errors.ProtocolError, match="more than 20 pages") as caught:
        list(client.iter_client_pages())
    assert len(calls) == 20
    assert caught.value.code == "protocol_error"


def test_endless_transaction_pages_stop_at_the_page_limit(client, mocked, monkeypatch):
    monkeypatch.setattr(const, "MAX_PAGES_PER_QUERY", 7, raising=False)
    calls = endless_pages(mocked, TRANSACTIONS_URL)
    signed_in(client)
    with pytest.raises(errors.ProtocolError, match="more than 7 pages"):
        list(client.iter_transaction_pages("ba-1", updated_since=datetime.now(timezone.utc)))
    assert len(calls) == 7


def test_the_page_limit_fits_the_largest_plausible_answer():
    # A million transactions of one bank account in one window, 500 a page.
    assert const.MAX_PAGES_PER_QUERY * const.TRANSACTION_PAGE_SIZE >= 1_000_000
    # ... and no more than a few minutes of pages, even at 20 pages a second.
    assert const.MAX_PAGES_PER_QUERY <= 5000


def test_time_left_stops_a_page_loop_between_pages(client, mocked):
    calls = endless_pages(mocked, CLIENTS_URL)
    signed_in(client)
    asked = []

    def time_left():
        asked.append(len(calls))
        return [5.0, 0.5, 0.0][len(asked) - 1]

    with pytest.raises(errors.OutOfTime) as caught:
        list(client.iter_client_pages(time_left=time_left))
    # The first page is always asked; then one check before each further page.
    assert asked == [1, 2, 3]
    assert len(calls) == 3
    assert caught.value.code == "out_of_time"


def test_time_left_applies_across_date_windows(client, mocked):
    mocked.add(responses.GET, TRANSACTIONS_URL, json={"data": [txn_item()], "next_cursor": None})
    signed_in(client)
    pages = client.iter_transaction_pages(
        "ba-1", start_date=date(2022, 1, 1), end_date=date(2024, 1, 1), time_left=lambda: 0
    )
    assert len(next(pages).items) == 1  # the first page of all is always asked
    with pytest.raises(errors.OutOfTime):
        next(pages)
    assert len(mocked.calls) == 1


def test_time_left_that_never_runs_out_changes_nothing(client, mocked):
    mocked.add(responses.GET, CLIENTS_URL, json={"data": [client_item(1)], "next_cursor": "c2"})
    mocked.add(responses.GET, CLIENTS_URL, json={"data": [client_item(2)], "next_cursor": None})
    signed_in(client)
    pages = list(client.iter_client_pages(time_left=lambda: float("inf")))
    assert [page.items[0].id for page in pages] == ["cl-1", "cl-2"]


# -- M3: numbers are bounded at parsing ---------------------------------------------------


@pytest.mark.parametrize(
    "amount",
    [
        "1e999999999",
        "-1E+999999999",
        "1e-999999999",
        "1e16",
        "1000000000000000",  # 16 integer digits
        "-1000000000000000.5",
        "0.0000001",  # 7 decimals
        "1.2345678",
        "9" * 5000,
    ],
)
def test_absurd_amounts_are_protocol_errors(amount):
    with pytest.raises(errors.ProtocolError, match="amount"):
        Transaction.from_api(txn_item(amount=amount))


def test_an_absurd_json_number_is_a_protocol_error(client, mocked):
    body = '{"data": [%s], "next_cursor": null}' % json.dumps(txn_item()).replace(
        '"-42.10"', "1e999999999"
    )
    mocked.add(responses.GET, TRANSACTIONS_URL, body=body, content_type="application/json")
    signed_in(client)
    with pytest.raises(errors.ProtocolError, match="amount"):
        list(client.iter_transaction_pages("ba-1"))


@pytest.mark.parametrize(
    "amount, expected",
    [
        ("999999999999999.999999", Decimal("999999999999999.999999")),
        ("-999999999999999", Decimal("-999999999999999")),
        ("1.5E+3", Decimal(1500)),
        ("-0.000001", Decimal("-0.000001")),
        ("12.340000000", Decimal("12.34")),  # trailing zeros are no decimals
        ("0E-20", Decimal(0)),
        ("0E+999999999", Decimal(0)),
        (7, Decimal(7)),
    ],
)
def test_amounts_within_bounds_are_kept_exactly(amount, expected):
    record = Transaction.from_api(txn_item(amount=amount))
    assert record.amount == expected
    # The sync's content hash and SQL value need no more than ordinary arithmetic.
    assert format(record.amount.normalize(), "f")


def test_absurd_balance_is_a_protocol_error():
    with pytest.raises(errors.ProtocolError, match="current_balance"):
        BankAccount.from_api(bank_account_item(current_balance="1e999999999"))
    account = BankAccount.from_api(bank_account_item(current_balance="-123456789012.34"))
    assert account.current_balance == Decimal("-123456789012.34")


@pytest.mark.parametrize("stamp", ["9999-12-31T23:59:59-05:00", "0001-01-01T00:00:00+01:00"])
def test_timestamps_out_of_range_in_utc_are_protocol_errors(stamp):
    with pytest.raises(errors.ProtocolError, match="updated_at"):
        Transaction.from_api(txn_item(updated_at=stamp))


@pytest.mark.parametrize("expires_in", [10**12, 10**400, 2**63])
def test_huge_expires_in_is_clamped(client, mocked, expires_in):
    mocked.add(responses.POST, LOGIN_URL, json=login_body(expires_in=expires_in))
    account = client.login()
    assert account.expires_in == const.TOKEN_LIFETIME_MAX_SECONDS
    limit = datetime.now(timezone.utc) + timedelta(seconds=const.TOKEN_LIFETIME_MAX_SECONDS)
    assert client.token_expires_at <= limit


def test_negative_expires_in_is_clamped_to_zero():
    account = Account.from_api(login_body(expires_in=-(10**12)))
    assert account.expires_in == 0


@pytest.mark.parametrize("header", ["9" * 5000, "Fri, 31 Dec 99999 23:59:59 GMT"])
def test_an_absurd_retry_after_is_no_crash(header):
    def handler(exchange):
        exchange.send_response_head("429 Too Many Requests", length=0, Retry_After=header)

    with scripted_server(handler) as (url, _exchanges):
        api = signed_in(LedgerSyncApiClient(url, EMAIL, PASSWORD, retry_after_cap=0.05))
        with pytest.raises(errors.RateLimited):
            list(api.iter_client_pages())
        api.close()
    assert api.stats["retries"] == const.MAX_RETRIES


# -- M4: the size of an answer is capped --------------------------------------------------

LOGIN_PREFIX = (
    b'{"access_token": "tok", "expires_in": 3600, "account": {"firm_name": "F", '
    b'"subscription_status": "active", "account_status": "active"}, "pad": "'
)
PAGE_PREFIX = b'{"data": [], "next_cursor": null, "pad": "'


def send_padded_json(exchange, prefix, total):
    """A valid JSON answer of ``total`` bytes: ``prefix``, filler, then ``"}``."""
    if exchange.send(prefix):
        exchange.flood(total - 2)
        exchange.send(b'"}')


def test_a_large_content_length_is_refused_without_reading_the_body(monkeypatch):
    monkeypatch.setattr(const, "MAX_RESPONSE_BYTES", 64 * KB, raising=False)
    total = 64 * MB

    def handler(exchange):
        if exchange.send_response_head(length=total):
            send_padded_json(exchange, LOGIN_PREFIX, total)

    with scripted_server(handler) as (url, exchanges):
        api = LedgerSyncApiClient(url, EMAIL, PASSWORD)
        started = time.monotonic()
        with pytest.raises(errors.ProtocolError, match="too large") as caught:
            api.login()
        assert time.monotonic() - started < 2
        api.close()
        time.sleep(0.2)
        assert exchanges[0].sent < total / 2  # the client hung up; it did not read it all
    assert "64 KB" in str(caught.value) or "65536" in str(caught.value)


def test_a_large_body_without_content_length_is_cut_at_the_cap(monkeypatch):
    monkeypatch.setattr(const, "MAX_RESPONSE_BYTES", 64 * KB, raising=False)
    total = 64 * MB

    def handler(exchange):
        if exchange.send_response_head(Connection="close"):
            send_padded_json(exchange, PAGE_PREFIX, total)

    with scripted_server(handler) as (url, exchanges):
        api = signed_in(LedgerSyncApiClient(url, EMAIL, PASSWORD, max_retries=0))
        with pytest.raises(errors.ProtocolError, match="too large"):
            list(api.iter_client_pages())
        api.close()
        time.sleep(0.2)
        assert exchanges[0].sent < total / 2


def gzip_answer(payload):
    def handler(exchange):
        if exchange.send_response_head(length=len(payload), Content_Encoding="gzip"):
            exchange.send(payload)

    return handler


def test_a_compressed_answer_is_capped_once_decompressed(monkeypatch):
    monkeypatch.setattr(const, "MAX_RESPONSE_BYTES", 64 * KB, raising=False)
    bomb = gzip.compress(PAGE_PREFIX + b"a" * (64 * MB) + b'"}', compresslevel=9)
    assert len(bomb) < 128 * KB
    with scripted_server(gzip_answer(bomb)) as (url, _exchanges):
        api = signed_in(LedgerSyncApiClient(url, EMAIL, PASSWORD, max_retries=0))
        with pytest.raises(errors.ProtocolError, match="too large"):
            list(api.iter_client_pages())
        api.close()


def test_a_compressed_page_is_read():
    page = json.dumps({"data": [client_item(n) for n in range(100)], "next_cursor": None})
    with scripted_server(gzip_answer(gzip.compress(page.encode()))) as (url, _exchanges):
        api = signed_in(LedgerSyncApiClient(url, EMAIL, PASSWORD, max_retries=0))
        (answer,) = list(api.iter_client_pages())
        api.close()
    assert len(answer.items) == 100


def test_a_retried_answer_is_not_read_to_its_end(monkeypatch):
    """urllib3 drains (reads) the body of an answer it retries, however large; the client
    hangs up on it instead."""
    total = 64 * MB
    page = json.dumps({"data": [client_item(1)], "next_cursor": None}).encode()

    def handler(exchange):
        if exchange.index == 0:
            if exchange.send_response_head("503 Service Unavailable", length=total):
                send_padded_json(exchange, b'{"error": {"code": "busy", "message": "', total)
        else:
            exchange.send_response_head(length=len(page))
            exchange.send(page)

    with scripted_server(handler) as (url, exchanges):
        api = signed_in(LedgerSyncApiClient(url, EMAIL, PASSWORD, backoff_factor=0))
        (answer,) = list(api.iter_client_pages())
        api.close()
        time.sleep(0.2)
        assert answer.items[0].id == "cl-1"
        assert api.stats["retries"] == 1
        assert exchanges[0].sent < total / 2


def test_the_cap_fits_a_full_page_of_transactions():
    big = {"data": [txn_item(n, description="x" * 200) for n in range(500)], "next_cursor": None}
    assert 10 * len(json.dumps(big)) < const.MAX_RESPONSE_BYTES <= 16 * MB


# -- M5: one deadline for the whole exchange ----------------------------------------------

STATUS_AND_HEAD = (
    b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 900\r\n\r\n"
)


def trickle_head(exchange):
    exchange.trickle(STATUS_AND_HEAD + b" " * 900, every=0.2, give_up_after=5)


def trickle_body(exchange):
    if exchange.send(STATUS_AND_HEAD):
        exchange.trickle(b" " * 900, every=0.2, give_up_after=5)


def trickle_body_then_close(exchange):
    """The head says the connection ends with the answer (``Connection: close``, as
    werkzeug says of a streamed answer): http.client then hands the socket over to the
    response, and the connection no longer holds it."""
    head = STATUS_AND_HEAD.replace(b"\r\n\r\n", b"\r\nConnection: close\r\n\r\n")
    if exchange.send(head):
        exchange.trickle(b" " * 900, every=0.2, give_up_after=5)


TRICKLES = [trickle_head, trickle_body, trickle_body_then_close]


@pytest.mark.parametrize("handler", TRICKLES)
def test_verify_ends_at_its_deadline_against_a_trickling_server(handler):
    with scripted_server(handler) as (url, _exchanges):
        api = LedgerSyncApiClient(url, EMAIL, PASSWORD)
        started = time.monotonic()
        with pytest.raises(errors.Unreachable) as caught:
            api.verify(deadline=1.5)
        elapsed = time.monotonic() - started
        api.close()
    assert caught.value.code == "timeout"
    assert elapsed < 2.5


@pytest.mark.parametrize("handler", TRICKLES)
def test_a_data_request_ends_at_its_timeout_against_a_trickling_server(handler):
    with scripted_server(handler) as (url, exchanges):
        api = signed_in(LedgerSyncApiClient(url, EMAIL, PASSWORD, timeout=1.0, max_retries=0))
        started = time.monotonic()
        with pytest.raises(errors.Unreachable) as caught:
            list(api.iter_client_pages())
        elapsed = time.monotonic() - started
        api.close()
    assert caught.value.code == "timeout"
    assert elapsed < 2.0
    assert len(exchanges) == 1


def test_each_retried_attempt_gets_its_own_deadline():
    page = json.dumps({"data": [client_item(1)], "next_cursor": None}).encode()

    def handler(exchange):
        if exchange.index == 0:
            trickle_head(exchange)
        else:
            exchange.send_response_head(length=len(page))
            exchange.send(page)

    with scripted_server(handler) as (url, exchanges):
        api = signed_in(LedgerSyncApiClient(url, EMAIL, PASSWORD, timeout=1.0, backoff_factor=0))
        started = time.monotonic()
        (answer,) = list(api.iter_client_pages())
        elapsed = time.monotonic() - started
        api.close()
    assert answer.items[0].id == "cl-1"
    assert len(exchanges) == 2
    assert 0.9 < elapsed < 2.5


# -- L5: no form of a secret in a message -------------------------------------------------

ODD_PASSWORD = "Pä$$/wörd+1 x&y"


@pytest.mark.parametrize(
    "echo",
    [
        ODD_PASSWORD.upper(),
        ODD_PASSWORD.lower(),
        ODD_PASSWORD.swapcase(),
        quote(ODD_PASSWORD, safe=""),
        quote(ODD_PASSWORD),
        quote_plus(ODD_PASSWORD),
        quote(ODD_PASSWORD, safe="").lower(),
        base64.b64encode(ODD_PASSWORD.encode()).decode(),
        base64.urlsafe_b64encode(ODD_PASSWORD.encode()).decode().rstrip("="),
        base64.b64encode(f"{EMAIL}:{ODD_PASSWORD}".encode()).decode(),  # a Basic header
        json.dumps(ODD_PASSWORD)[1:-1],
        json.dumps(ODD_PASSWORD, ensure_ascii=False)[1:-1],
        json.dumps(ODD_PASSWORD)[1:-1].replace("/", "\\/"),
        "Pä$$/wörd+1 x&amp;y",  # HTML-escaped
    ],
)
def test_no_form_of_the_password_is_quoted(mocked, echo):
    message = f"Login refused for [{echo}] here"
    mocked.add(
        responses.POST,
        LOGIN_URL,
        status=401,
        json={"error": {"code": "invalid_credentials", "message": message}},
    )
    api = LedgerSyncApiClient(BASE, EMAIL, ODD_PASSWORD)
    with pytest.raises(errors.InvalidCredentials) as caught:
        api.login()
    text = str(caught.value)
    assert echo not in text
    assert echo.lower() not in text.lower()
    assert "Login refused for [" in text and "***" in text
    if "ZmlybU" not in echo:  # inside the Basic header, the email's share of it remains
        assert "Login refused for [***] here" in text


def test_a_secret_cut_short_in_a_message_is_still_scrubbed(client, mocked):
    mocked.add(
        responses.GET,
        CLIENTS_URL,
        json={"data": [client_item(1, name=["x" * 25 + PASSWORD])], "next_cursor": None},
    )
    signed_in(client)
    with pytest.raises(errors.ProtocolError) as caught:
        list(client.iter_client_pages())
    assert PASSWORD[:5] not in str(caught.value)


def test_server_text_is_one_short_printable_line(client, mocked):
    message = "\x1b[31mred\x1b[0m \u202eevil\u202c \x00nul " + "z" * 5000
    mocked.add(
        responses.GET,
        CLIENTS_URL,
        status=400,
        json={"error": {"code": "bad_request", "message": message}},
    )
    signed_in(client)
    with pytest.raises(errors.RequestRejected) as caught:
        list(client.iter_client_pages())
    text = str(caught.value)
    assert text.isprintable()
    assert "red" in text and "evil" in text
    assert len(text) < 320


def test_an_html_error_page_is_not_quoted(client, mocked):
    page = "<html><body>internal admin console: secret-config=42</body></html>"
    mocked.add(responses.GET, CLIENTS_URL, status=404, body=page, content_type="text/html")
    signed_in(client)
    with pytest.raises(errors.RequestRejected) as caught:
        list(client.iter_client_pages())
    assert "secret-config" not in str(caught.value)


# -- L6: internal hosts -------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "https://10.0.0.1",
        "https://172.16.5.4/api",
        "https://192.168.1.10:8443",
        "https://169.254.169.254",  # cloud metadata
        "https://100.64.0.1",
        "https://0.0.0.0",
        "https://127.0.0.2",
        "https://[fe80::1]",
        "https://[fd00::1]",
        "https://[::ffff:10.0.0.1]",
        "https://[::]",
        "https://224.0.0.1",
        "https://192.0.2.7",
        "https://2130706433",  # 127.0.0.1 spelled as one number
        "https://0x7f.1",
        "https://127.1",
        "https://012.0.0.1",  # octal: 10.0.0.1
        "https://10.0.0.1.",
        "https://foo.localhost",
        "https://localhost.localdomain",
        "http://10.0.0.1:8079",
    ],
)
def test_non_public_hosts_are_refused(url):
    with pytest.raises(errors.ConfigurationError) as caught:
        validate_base_url(url)
    assert caught.value.code == "invalid_base_url"
    assert "ledgersync_allowed_hosts" in str(caught.value)


@pytest.mark.parametrize(
    "url",
    [
        "https://api.ledgersync.com",
        "https://93.184.216.34",
        "https://[2606:4700:4700::1111]/v1",
        "http://localhost:8079",
        "http://127.0.0.1:8079",
        "http://[::1]:8079",
        "https://localhost:8443",
    ],
)
def test_public_and_default_local_hosts_are_accepted(url):
    assert validate_base_url(url)


def test_the_allow_list_opens_listed_hosts_only():
    from ledgersync_connector.api.urls import parse_allowed_hosts

    allowed = parse_allowed_hosts(" sandbox.internal , 10.1.2.3,[FD00::5] ")
    assert allowed == frozenset({"sandbox.internal", "10.1.2.3", "fd00::5"})
    assert validate_base_url("https://10.1.2.3", allowed) == "https://10.1.2.3"
    assert validate_base_url("http://sandbox.internal:8079", allowed)
    assert validate_base_url("https://[fd00::5]:8443", allowed)
    for url in ("https://10.1.2.4", "http://localhost:8079", "http://api.ledgersync.com"):
        with pytest.raises(errors.ConfigurationError):
            validate_base_url(url, allowed)
    assert parse_allowed_hosts(None) == const.DEFAULT_ALLOWED_HOSTS
    assert parse_allowed_hosts("") == frozenset()


def test_the_client_takes_the_allow_list():
    with pytest.raises(errors.ConfigurationError):
        LedgerSyncApiClient("https://10.1.2.3", EMAIL, PASSWORD)
    api = LedgerSyncApiClient("https://10.1.2.3", EMAIL, PASSWORD, allowed_hosts={"10.1.2.3"})
    assert api.base_url == "https://10.1.2.3"
    with pytest.raises(errors.ConfigurationError):
        LedgerSyncApiClient("http://localhost:8079", EMAIL, PASSWORD, allowed_hosts=())
