"""LedgerSync API client against mocked HTTP (responses): statuses, shapes, retries, secrets."""

import itertools
import logging
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

import pytest
import requests
import responses
from responses import matchers

from ledgersync_connector import const
from ledgersync_connector.api import LedgerSyncApiClient, errors, validate_base_url
from ledgersync_connector.api.records import Account, BankAccount, Client, Page, Transaction
from ledgersync_connector.dates import date_windows

BASE = "https://ledgersync.test"
EMAIL = "firm@example.com"
PASSWORD = "Sup3r-Secret-Pw!"
TOKEN = "tok-AAAA-0123456789"
TOKEN2 = "tok-BBBB-9876543210"
LOGIN_URL = f"{BASE}/v1/auth/login"
CLIENTS_URL = f"{BASE}/v1/clients"


# -- helpers ---------------------------------------------------------------------------


def login_body(token=TOKEN, **account):
    return {
        "access_token": token,
        "token_type": "Bearer",
        "expires_in": 3600,
        "account": {
            "firm_name": "Demo Accounting LLP",
            "subscription_status": "active",
            "account_status": "active",
            **account,
        },
    }


def error_body(code, message="nope"):
    return {"error": {"code": code, "message": message}}


def client_item(n, **extra):
    return {
        "id": f"cl-{n}",
        "name": f"Client {n}",
        "code": f"C{n}",
        "status": "active",
        "updated_at": "2024-05-01T10:00:00Z",
        **extra,
    }


def txn_item(n=1, **extra):
    return {
        "id": f"tx-{n}",
        "bank_account_id": "ba-1",
        "date": "2024-03-15",
        "description": "Coffee",
        "amount": "-42.10",
        "currency": "USD",
        "status": "posted",
        "reference": "1001",
        "vendor_name": None,
        "gl_code": None,
        "match_type": None,
        "updated_at": "2024-03-16T08:30:00+02:00",
        "deleted": False,
        **extra,
    }


def add_login(token=TOKEN, status=200, body=None, **kwargs):
    responses.add(
        responses.POST, LOGIN_URL, json=body or login_body(token), status=status, **kwargs
    )


def calls_to(url):
    return [call for call in responses.calls if call.request.url.split("?")[0] == url]


def page_params(**params):
    return [matchers.query_param_matcher(params)]


@pytest.fixture
def client():
    with LedgerSyncApiClient(BASE, EMAIL, PASSWORD, backoff_factor=0, retry_after_cap=5) as api:
        yield api


@pytest.fixture(autouse=True)
def mocked():
    responses.start()
    yield
    responses.stop()
    responses.reset()


# -- login -----------------------------------------------------------------------------


def test_login_returns_account_and_keeps_token(client):
    add_login()
    account = client.login()
    assert account == Account("Demo Accounting LLP", "active", "active", TOKEN, 3600)
    assert client.token == TOKEN
    assert client.token_expires_at.tzinfo is not None
    assert (
        timedelta(minutes=59)
        < client.token_expires_at - datetime.now(timezone.utc)
        <= timedelta(hours=1)
    )
    request = responses.calls[0].request
    assert request.headers["Content-Type"] == "application/json"
    assert b'"password": "Sup3r-Secret-Pw!"' in request.body
    assert "Authorization" not in request.headers
    assert client.stats == {"api_calls": 1, "logins": 1, "retries": 0}


def test_login_invalid_credentials_is_never_retried(client):
    add_login(status=401, body=error_body("invalid_credentials", "Wrong email or password"))
    with pytest.raises(errors.InvalidCredentials) as caught:
        client.login()
    assert caught.value.code == "invalid_credentials"
    assert caught.value.status == 401
    assert "Wrong email or password" in str(caught.value)
    assert len(responses.calls) == 1
    assert client.token is None


@pytest.mark.parametrize(
    "code, error_class",
    [
        ("subscription_inactive", errors.SubscriptionInactive),
        ("account_suspended", errors.AccountSuspended),
        ("account_locked", errors.AccountLocked),
    ],
)
def test_login_403_codes(client, code, error_class):
    add_login(status=403, body=error_body(code))
    with pytest.raises(error_class) as caught:
        client.login()
    assert caught.value.code == code
    assert isinstance(caught.value, errors.AuthenticationError)
    assert len(responses.calls) == 1


def test_login_403_unknown_code_is_forbidden(client):
    add_login(status=403, body=error_body("ip_not_allowed"))
    with pytest.raises(errors.RequestRejected) as caught:
        client.login()
    assert caught.value.code == "forbidden"


@pytest.mark.parametrize(
    "account, error_class",
    [
        ({"subscription_status": "inactive"}, errors.SubscriptionInactive),
        ({"account_status": "suspended"}, errors.AccountSuspended),
    ],
)
def test_login_200_with_bad_standing_raises(client, account, error_class):
    add_login(body=login_body(**account))
    with pytest.raises(error_class):
        client.login()
    assert client.token is None


@pytest.mark.parametrize("status", [429, 500, 502, 503, 504])
def test_login_is_not_retried_on_any_status(client, status):
    add_login(status=status, body=error_body("busy"), headers={"Retry-After": "1"})
    with pytest.raises(errors.TransientError):
        client.login()
    assert len(responses.calls) == 1
    assert client.stats["retries"] == 0


def test_login_connection_error_is_not_retried(client):
    responses.add(responses.POST, LOGIN_URL, body=requests.ConnectionError("refused"))
    with pytest.raises(errors.Unreachable) as caught:
        client.login()
    assert caught.value.code == "unreachable"
    assert len(responses.calls) == 1


def test_login_timeout_maps_to_timeout_code(client):
    responses.add(responses.POST, LOGIN_URL, body=requests.ReadTimeout("slow"))
    with pytest.raises(errors.Unreachable) as caught:
        client.login()
    assert caught.value.code == "timeout"


def test_login_without_password_sends_nothing():
    api = LedgerSyncApiClient(BASE, EMAIL, "")
    with pytest.raises(errors.InvalidCredentials):
        api.login()
    assert len(responses.calls) == 0


@pytest.mark.parametrize(
    "body",
    [
        {"token_type": "Bearer", "account": {"firm_name": "X"}},  # no access_token
        {"access_token": TOKEN, "account": ["not", "an", "object"]},
        {"access_token": TOKEN},  # no account
        {"access_token": "", "account": {}},
        {**login_body(), "expires_in": "soon"},
        ["a", "list"],
    ],
)
def test_login_wrong_shape_is_protocol_error(client, body):
    add_login(body=body)
    with pytest.raises(errors.ProtocolError):
        client.login()
    assert client.token is None


def test_login_html_answer_is_protocol_error(client):
    responses.add(
        responses.POST,
        LOGIN_URL,
        body="<html><body>Bad gateway</body></html>",
        content_type="text/html",
    )
    with pytest.raises(errors.ProtocolError) as caught:
        client.login()
    assert "text/html" in str(caught.value)
    assert caught.value.code == "protocol_error"


def test_redirect_is_not_followed(client):
    responses.add(responses.POST, LOGIN_URL, status=302, headers={"Location": "https://evil.test/"})
    with pytest.raises(errors.ProtocolError) as caught:
        client.login()
    assert caught.value.status == 302
    assert len(responses.calls) == 1


# -- lists and pagination --------------------------------------------------------------


def test_client_pages_follow_the_cursor(client):
    add_login()
    responses.add(
        responses.GET,
        CLIENTS_URL,
        match=page_params(limit="2"),
        json={"data": [client_item(1), client_item(2)], "next_cursor": "c2"},
    )
    responses.add(
        responses.GET,
        CLIENTS_URL,
        match=page_params(limit="2", cursor="c2"),
        json={"data": [client_item(3), client_item(4)], "next_cursor": "c3"},
    )
    responses.add(
        responses.GET,
        CLIENTS_URL,
        match=page_params(limit="2", cursor="c3"),
        json={"data": [client_item(5, code=None, updated_at=None)], "next_cursor": None},
    )
    pages = list(client.iter_client_pages(limit=2))
    assert [len(page.items) for page in pages] == [2, 2, 1]
    assert [page.next_cursor for page in pages] == ["c2", "c3", None]
    first = pages[0].items[0]
    assert first == Client(
        "cl-1", "Client 1", "C1", "active", datetime(2024, 5, 1, 10, tzinfo=timezone.utc)
    )
    assert pages[2].items[0].code is None and pages[2].items[0].updated_at is None
    data_calls = calls_to(CLIENTS_URL)
    assert all(call.request.headers["Authorization"] == f"Bearer {TOKEN}" for call in data_calls)
    assert client.stats == {"api_calls": 4, "logins": 1, "retries": 0}


def test_pages_are_streamed_lazily(client):
    add_login()
    responses.add(responses.GET, CLIENTS_URL, json={"data": [client_item(1)], "next_cursor": "c2"})
    pages = client.iter_client_pages()
    assert len(responses.calls) == 0
    next(pages)
    assert len(responses.calls) == 2  # login + first page; the second page is not asked yet


def test_bank_account_pages(client):
    add_login()
    url = f"{BASE}/v1/clients/cl%2F1/bank-accounts"
    item = {
        "id": "ba-1",
        "name": "Operating",
        "institution": "First Bank",
        "mask": "1234",
        "type": "checking",
        "currency": "USD",
        "current_balance": "1050.25",
        "connection_status": "ok",
        "last_refreshed_at": "2024-05-01T10:00:00.123456Z",
        "unknown_key": "ignored",
    }
    responses.add(responses.GET, url, json={"data": [item], "next_cursor": None})
    (page,) = list(client.iter_bank_account_pages("cl/1"))
    (account,) = page.items
    assert isinstance(account, BankAccount)
    assert account.client_id == "cl/1"  # filled in from the request
    assert account.current_balance == Decimal("1050.25")
    assert account.last_refreshed_at == datetime(2024, 5, 1, 10, 0, 0, 123456, tzinfo=timezone.utc)
    assert calls_to(url)[0].request.params == {"limit": "100"}


def test_transactions_are_parsed(client):
    add_login()
    url = f"{BASE}/v1/bank-accounts/ba-1/transactions"
    tombstone = txn_item(2, deleted=True, status="pending", amount=12, reference=None)
    responses.add(responses.GET, url, json={"data": [txn_item(1), tombstone], "next_cursor": None})
    (page,) = list(client.iter_transaction_pages("ba-1"))
    posted, deleted = page.items
    assert posted == Transaction(
        id="tx-1",
        bank_account_id="ba-1",
        date=date(2024, 3, 15),
        description="Coffee",
        amount=Decimal("-42.10"),
        currency="USD",
        status="posted",
        reference="1001",
        vendor_name=None,
        gl_code=None,
        match_type=None,
        updated_at=datetime(2024, 3, 16, 6, 30, tzinfo=timezone.utc),
        deleted=False,
    )
    assert posted.updated_at.utcoffset() == timedelta(0)
    assert deleted.deleted is True and deleted.amount == Decimal(12)
    assert calls_to(url)[0].request.params == {"limit": "500"}


def test_transaction_query_parameters(client):
    add_login()
    url = f"{BASE}/v1/bank-accounts/ba-1/transactions"
    since = datetime(2024, 6, 1, 14, 0, tzinfo=timezone(timedelta(hours=2)))
    responses.add(
        responses.GET,
        url,
        match=page_params(
            limit="50",
            start_date="2024-01-01",
            end_date="2024-01-31",
            updated_since="2024-06-01T12:00:00Z",
        ),
        json={"data": [], "next_cursor": None},
    )
    pages = list(
        client.iter_transaction_pages(
            "ba-1",
            start_date=date(2024, 1, 1),
            end_date=date(2024, 1, 31),
            updated_since=since,
            limit=50,
        )
    )
    assert pages == [Page(items=(), next_cursor=None)]


def test_transactions_split_into_windows_of_366_days(client):
    add_login()
    url = f"{BASE}/v1/bank-accounts/ba-1/transactions"
    windows = [
        ("2022-01-01", "2023-01-01"),
        ("2023-01-02", "2024-01-02"),
        ("2024-01-03", "2024-03-01"),
    ]
    for start, end in windows:
        responses.add(
            responses.GET,
            url,
            match=page_params(limit="500", start_date=start, end_date=end),
            json={"data": [txn_item(start)], "next_cursor": None},
        )
    pages = list(
        client.iter_transaction_pages(
            "ba-1", start_date=date(2022, 1, 1), end_date=date(2024, 3, 1)
        )
    )
    assert [page.items[0].id for page in pages] == [f"tx-{start}" for start, _ in windows]
    sent = [(c.request.params["start_date"], c.request.params["end_date"]) for c in calls_to(url)]
    assert sent == windows


def test_date_windows_boundaries():
    one_year = date_windows(date(2024, 1, 1), date(2024, 12, 31))  # leap year: 366 days
    assert one_year == [(date(2024, 1, 1), date(2024, 12, 31))]
    assert date_windows(date(2024, 1, 1), date(2025, 1, 1)) == [
        (date(2024, 1, 1), date(2024, 12, 31)),
        (date(2025, 1, 1), date(2025, 1, 1)),
    ]
    assert date_windows(date(2024, 1, 1), date(2024, 1, 1)) == [
        (date(2024, 1, 1), date(2024, 1, 1))
    ]
    assert date_windows(None, date(2024, 1, 1)) == [(None, date(2024, 1, 1))]
    assert date_windows(None, None) == [(None, None)]
    spans = date_windows(date(2015, 3, 1), date(2024, 2, 29))
    for (_, end), (next_start, _) in itertools.pairwise(spans):
        assert next_start == end + timedelta(days=1)  # no gap, no overlap
    assert all((end - start).days + 1 <= const.MAX_WINDOW_DAYS for start, end in spans)
    assert date_windows(date(2024, 1, 1), None)[-1][1] >= datetime.now(timezone.utc).date()
    with pytest.raises(ValueError):
        date_windows(date(2024, 2, 1), date(2024, 1, 1))


def test_invalid_arguments_fail_before_any_request(client):
    with pytest.raises(ValueError):
        client.iter_client_pages(limit=501)
    with pytest.raises(ValueError):
        client.iter_transaction_pages("ba-1", limit=0)
    with pytest.raises(TypeError):
        client.iter_transaction_pages("ba-1", start_date="2024-01-01")
    with pytest.raises(TypeError):
        client.iter_transaction_pages("ba-1", updated_since="yesterday")
    assert len(responses.calls) == 0


def test_repeated_cursor_stops_with_protocol_error(client):
    add_login()
    responses.add(
        responses.GET, CLIENTS_URL, json={"data": [client_item(1)], "next_cursor": "same"}
    )
    responses.add(
        responses.GET, CLIENTS_URL, json={"data": [client_item(2)], "next_cursor": "same"}
    )
    pages = client.iter_client_pages()
    next(pages)
    next(pages)
    with pytest.raises(errors.ProtocolError, match="repeated a page cursor"):
        next(pages)


def test_every_request_gets_one_float_timeout():
    api = LedgerSyncApiClient(BASE, EMAIL, PASSWORD, timeout=7)
    add_login()
    responses.add(responses.GET, CLIENTS_URL, json={"data": [], "next_cursor": None})
    list(api.iter_client_pages())
    api.verify(deadline=3)
    timeouts = [call.request.req_kwargs["timeout"] for call in responses.calls]
    assert len(timeouts) == 4
    assert all(type(timeout) is float for timeout in timeouts)
    assert timeouts[:2] == [7.0, 7.0]
    assert all(0 < timeout <= 3 for timeout in timeouts[2:])  # verify: what is left of 3 s


# -- retries ---------------------------------------------------------------------------


def test_429_with_retry_after_is_retried_then_succeeds(client):
    add_login()
    responses.add(
        responses.GET,
        CLIENTS_URL,
        status=429,
        headers={"Retry-After": "2"},
        json=error_body("rate"),
    )
    responses.add(responses.GET, CLIENTS_URL, json={"data": [client_item(1)], "next_cursor": None})
    (page,) = list(client.iter_client_pages())
    assert page.items[0].id == "cl-1"
    assert len(calls_to(CLIENTS_URL)) == 2
    assert client.stats == {"api_calls": 3, "logins": 1, "retries": 1}


def test_429_exhausted_raises_rate_limited_with_retry_after(client):
    add_login()
    responses.add(
        responses.GET,
        CLIENTS_URL,
        status=429,
        headers={"Retry-After": "120"},
        json=error_body("slow down"),
    )
    with pytest.raises(errors.RateLimited) as caught:
        list(client.iter_client_pages())
    assert caught.value.code == "rate_limited"
    assert caught.value.status == 429
    assert caught.value.retry_after == 120.0  # LedgerSync's own figure, not our sleep cap
    assert len(calls_to(CLIENTS_URL)) == 1 + const.MAX_RETRIES
    assert client.stats["retries"] == const.MAX_RETRIES
    assert client.stats["api_calls"] == 1 + 1 + const.MAX_RETRIES


def test_retry_after_http_date_is_understood(client):
    add_login()
    when = datetime.now(timezone.utc) + timedelta(seconds=90)
    header = when.strftime("%a, %d %b %Y %H:%M:%S GMT")
    responses.add(responses.GET, CLIENTS_URL, status=429, headers={"Retry-After": header})
    with pytest.raises(errors.RateLimited) as caught:
        list(client.iter_client_pages())
    assert 80 < caught.value.retry_after <= 90


@pytest.mark.parametrize("status", [502, 503, 504])
def test_gateway_errors_are_retried(client, status):
    add_login()
    responses.add(
        responses.GET,
        CLIENTS_URL,
        status=status,
        body="<html>busy</html>",
        content_type="text/html",
    )
    responses.add(responses.GET, CLIENTS_URL, status=status, json=error_body("busy"))
    responses.add(responses.GET, CLIENTS_URL, json={"data": [client_item(1)], "next_cursor": None})
    (page,) = list(client.iter_client_pages())
    assert len(page.items) == 1
    assert len(calls_to(CLIENTS_URL)) == 3


@pytest.mark.parametrize("status", [502, 503, 504])
def test_gateway_errors_exhausted_raise_server_error(client, status):
    add_login()
    responses.add(
        responses.GET,
        CLIENTS_URL,
        status=status,
        body="<html>busy</html>",
        content_type="text/html",
    )
    with pytest.raises(errors.ServerError) as caught:
        list(client.iter_client_pages())
    assert caught.value.status == status
    assert len(calls_to(CLIENTS_URL)) == 1 + const.MAX_RETRIES


def test_500_is_a_server_error_without_retry(client):
    add_login()
    responses.add(responses.GET, CLIENTS_URL, status=500, json=error_body("internal", "Oops"))
    with pytest.raises(errors.ServerError) as caught:
        list(client.iter_client_pages())
    assert caught.value.code == "server_error"
    assert caught.value.status == 500
    assert len(calls_to(CLIENTS_URL)) == 1


def test_verify_makes_one_attempt_per_request(client):
    add_login()
    responses.add(responses.GET, CLIENTS_URL, status=503, headers={"Retry-After": "1"})
    with pytest.raises(errors.ServerError):
        client.verify(deadline=5)
    assert len(responses.calls) == 2
    # ... and the client retries again afterwards.
    responses.reset()
    responses.add(responses.GET, CLIENTS_URL, status=503)
    responses.add(responses.GET, CLIENTS_URL, json={"data": [], "next_cursor": None})
    (page,) = client.iter_client_pages()
    assert page.items == ()
    assert [call.response.status_code for call in responses.calls] == [503, 200]


def test_verify_returns_account_and_first_page(client):
    add_login()
    responses.add(
        responses.GET,
        CLIENTS_URL,
        match=page_params(limit="100"),
        json={"data": [client_item(1)], "next_cursor": "c2"},
    )
    account, page = client.verify()
    assert account.firm_name == "Demo Accounting LLP"
    assert page.items[0].id == "cl-1" and page.next_cursor == "c2"
    assert len(responses.calls) == 2


def test_verify_invalid_credentials(client):
    add_login(status=401, body=error_body("invalid_credentials"))
    with pytest.raises(errors.InvalidCredentials):
        client.verify()
    assert len(responses.calls) == 1


# -- other statuses ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "status, body, error_class, code",
    [
        (400, error_body("bad_request", "window too long"), errors.RequestRejected, "bad_request"),
        (404, error_body("not_found"), errors.RequestRejected, "not_found"),
        (403, error_body("not_your_client"), errors.RequestRejected, "forbidden"),
        (409, None, errors.RequestRejected, "bad_request"),
        (
            403,
            error_body("subscription_inactive"),
            errors.SubscriptionInactive,
            "subscription_inactive",
        ),
        (403, error_body("account_locked"), errors.AccountLocked, "account_locked"),
    ],
)
def test_data_call_errors(client, status, body, error_class, code):
    add_login()
    responses.add(responses.GET, CLIENTS_URL, status=status, json=body)
    with pytest.raises(error_class) as caught:
        list(client.iter_client_pages())
    assert caught.value.code == code
    assert caught.value.status == status
    assert len(calls_to(CLIENTS_URL)) == 1


def test_connection_error_on_data_call(client):
    add_login()
    responses.add(
        responses.GET, CLIENTS_URL, body=requests.ConnectionError("Name or service not known")
    )
    with pytest.raises(errors.Unreachable) as caught:
        list(client.iter_client_pages())
    assert caught.value.code == "unreachable"
    assert "ledgersync.test" in str(caught.value)


# -- malformed answers -------------------------------------------------------------------


@pytest.mark.parametrize(
    "body, content_type",
    [
        ("<!DOCTYPE html><html><body>Sign in to the proxy</body></html>", "text/html"),
        ('{"data": [{"id": "cl-1", "name": "Cli', "application/json"),  # truncated
        ("", "application/json"),
        ('{"data": [], "next_cursor": NaN}', "application/json"),
        (b"\xff\xfe\x00garbage", "application/json"),
    ],
)
def test_unreadable_bodies_are_protocol_errors(client, body, content_type):
    add_login()
    responses.add(responses.GET, CLIENTS_URL, body=body, content_type=content_type)
    with pytest.raises(errors.ProtocolError):
        list(client.iter_client_pages())


@pytest.mark.parametrize(
    "payload, fragment",
    [
        ([client_item(1)], "not a JSON object"),
        ({"items": []}, "no 'data' list"),
        ({"data": {"id": "x"}}, "no 'data' list"),
        ({"data": ["cl-1"]}, "Item 0"),
        ({"data": [{"name": "no id", "status": "active"}]}, "has no 'id'"),
        ({"data": [client_item(1, id="")]}, "invalid 'id'"),
        ({"data": [client_item(1, name=None)]}, "has no 'name'"),
        ({"data": [client_item(1, name=42)]}, "non-text 'name'"),
        ({"data": [client_item(1, updated_at="yesterday")]}, "invalid timestamp"),
        ({"data": [client_item(1)], "next_cursor": 7}, "next_cursor"),
    ],
)
def test_wrong_shapes_are_protocol_errors(client, payload, fragment):
    add_login()
    responses.add(responses.GET, CLIENTS_URL, json=payload)
    with pytest.raises(errors.ProtocolError, match=fragment):
        list(client.iter_client_pages())


@pytest.mark.parametrize(
    "extra",
    [
        {"amount": "12,50"},
        {"amount": "abc"},
        {"amount": True},
        {"amount": "NaN"},
        {"amount": "Infinity"},
        {"amount": None},
        {"amount": {"value": "1"}},
        {"date": "15/03/2024"},
        {"date": "2024-02-30"},
        {"date": 20240315},
        {"updated_at": None},
        {"status": "cleared"},
        {"deleted": "no"},
        {"currency": None},
        {"id": None},
    ],
)
def test_bad_transaction_fields_are_protocol_errors(client, extra):
    add_login()
    url = f"{BASE}/v1/bank-accounts/ba-1/transactions"
    responses.add(responses.GET, url, json={"data": [txn_item(1, **extra)], "next_cursor": None})
    with pytest.raises(errors.ProtocolError):
        list(client.iter_transaction_pages("ba-1"))


@pytest.mark.parametrize(
    "raw, expected",
    [
        ('"-42.10"', Decimal("-42.10")),
        ("-42.10", Decimal("-42.10")),
        ("7", Decimal(7)),
        ('" 0.1 "', Decimal("0.1")),
    ],
)
def test_amounts_are_exact_decimals(client, raw, expected):
    add_login()
    url = f"{BASE}/v1/bank-accounts/ba-1/transactions"
    item = (
        '{"id": "t", "bank_account_id": "ba-1", "date": "2024-01-01", "amount": %s, '
        '"currency": "USD", "status": "posted", "updated_at": "2024-01-01T00:00:00"}' % raw
    )
    responses.add(responses.GET, url, body='{"data": [%s]}' % item, content_type="application/json")
    (page,) = list(client.iter_transaction_pages("ba-1"))
    assert page.items[0].amount == expected
    assert isinstance(page.items[0].amount, Decimal)
    assert page.items[0].updated_at == datetime(
        2024, 1, 1, tzinfo=timezone.utc
    )  # naive taken as UTC


# -- tokens ----------------------------------------------------------------------------


def test_token_expired_logs_in_once_and_repeats_once(client):
    add_login(TOKEN)
    add_login(TOKEN2)
    responses.add(responses.GET, CLIENTS_URL, status=401, json=error_body("token_expired"))
    responses.add(responses.GET, CLIENTS_URL, json={"data": [client_item(1)], "next_cursor": None})
    (page,) = list(client.iter_client_pages())
    assert page.items[0].id == "cl-1"
    assert [call.request.method for call in responses.calls] == ["POST", "GET", "POST", "GET"]
    data_calls = calls_to(CLIENTS_URL)
    assert data_calls[0].request.headers["Authorization"] == f"Bearer {TOKEN}"
    assert data_calls[1].request.headers["Authorization"] == f"Bearer {TOKEN2}"
    assert client.token == TOKEN2
    assert client.stats["logins"] == 2


def test_second_401_is_token_rejected(client):
    add_login()
    responses.add(responses.GET, CLIENTS_URL, status=401, json=error_body("token_expired"))
    with pytest.raises(errors.TokenRejected) as caught:
        list(client.iter_client_pages())
    assert caught.value.code == "token_rejected"
    assert [call.request.method for call in responses.calls] == ["POST", "GET", "POST", "GET"]


def test_relogin_with_changed_password_stops_at_invalid_credentials(client):
    client.token = TOKEN
    responses.add(responses.GET, CLIENTS_URL, status=401, json=error_body("token_expired"))
    add_login(status=401, body=error_body("invalid_credentials"))
    with pytest.raises(errors.InvalidCredentials):
        list(client.iter_client_pages())
    assert [call.request.method for call in responses.calls] == ["GET", "POST"]


def test_stored_token_is_reused_without_login(client):
    client.token = TOKEN
    client.token_expires_at = datetime.now(timezone.utc) + timedelta(hours=1)
    responses.add(responses.GET, CLIENTS_URL, json={"data": [], "next_cursor": None})
    list(client.iter_client_pages())
    assert [call.request.method for call in responses.calls] == ["GET"]
    assert client.stats["logins"] == 0


def test_token_about_to_expire_is_replaced_first(client):
    client.token = TOKEN
    client.token_expires_at = datetime.now(timezone.utc) + timedelta(seconds=10)
    add_login(TOKEN2)
    responses.add(responses.GET, CLIENTS_URL, json={"data": [], "next_cursor": None})
    list(client.iter_client_pages())
    assert [call.request.method for call in responses.calls] == ["POST", "GET"]
    assert calls_to(CLIENTS_URL)[0].request.headers["Authorization"] == f"Bearer {TOKEN2}"


# -- secrets -----------------------------------------------------------------------------


def test_secrets_never_leak_into_errors_repr_or_logs(client, caplog):
    caplog.set_level(logging.DEBUG)
    echo = f"bad password {PASSWORD} for token {TOKEN} " + "x" * 500
    client.token = TOKEN
    responses.add(responses.GET, CLIENTS_URL, status=401, json=error_body("token_expired", echo))
    add_login(status=401, body=error_body("invalid_credentials", echo))
    with pytest.raises(errors.InvalidCredentials) as caught:
        list(client.iter_client_pages())
    error = caught.value
    texts = [str(error), repr(error), error.message, repr(client), str(client), *error.args]
    texts += [record.getMessage() for record in caplog.records]
    for text in texts:
        assert PASSWORD not in text
        assert TOKEN not in text
    assert "***" in str(error)
    assert len(str(error)) < 320  # the server's 500+ characters were cut
    assert any("GET /v1/clients -> 401" in record.getMessage() for record in caplog.records)


def test_secret_echoed_in_a_bad_field_is_scrubbed(client):
    add_login()
    responses.add(responses.GET, CLIENTS_URL, json={"data": [client_item(1, name=[TOKEN])]})
    with pytest.raises(errors.ProtocolError) as caught:
        list(client.iter_client_pages())
    assert TOKEN[:10] not in str(caught.value)


def test_account_repr_hides_the_token(client):
    add_login()
    account = client.login()
    assert TOKEN not in repr(account)
    assert TOKEN not in repr(client)
    assert PASSWORD not in repr(client)


def test_error_attributes_are_stable():
    error = errors.Unreachable("x", code="timeout")
    assert (error.code, error.status, error.retry_after) == ("timeout", None, None)
    assert errors.Unreachable().code == "unreachable"
    assert str(errors.ServerError()) == errors.ServerError.default_message
    assert issubclass(errors.RateLimited, errors.TransientError)
    assert issubclass(errors.TokenRejected, errors.AuthenticationError)


# -- base URL ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url, expected",
    [
        ("https://api.ledgersync.com", "https://api.ledgersync.com"),
        ("  https://api.ledgersync.com/  ", "https://api.ledgersync.com"),
        ("HTTPS://sandbox.ledgersync.com/api//", "https://sandbox.ledgersync.com/api"),
        ("http://localhost:8079/", "http://localhost:8079"),
        ("http://127.0.0.1:8079", "http://127.0.0.1:8079"),
        ("http://[::1]:8079/", "http://[::1]:8079"),
    ],
)
def test_validate_base_url_accepts(url, expected):
    assert validate_base_url(url) == expected


@pytest.mark.parametrize(
    "url",
    [
        None,
        "",
        "   ",
        "api.ledgersync.com",
        "ftp://api.ledgersync.com",
        "javascript:alert(1)",
        "http://api.ledgersync.com",
        "http://192.168.1.10:8079",
        "https://",
        "https:///v1",
        "https://user:secret@api.ledgersync.com",
        "https://api.ledgersync.com/?x=1",
        "https://api.ledgersync.com:abc",
        "https://api.ledgersync.com:0",
        "https://api.ledger sync.com",
    ],
)
def test_validate_base_url_rejects(url):
    with pytest.raises(errors.ConfigurationError) as caught:
        validate_base_url(url)
    assert caught.value.code == "invalid_base_url"


def test_client_refuses_a_bad_base_url():
    with pytest.raises(errors.ConfigurationError):
        LedgerSyncApiClient("http://api.ledgersync.com", EMAIL, PASSWORD)
