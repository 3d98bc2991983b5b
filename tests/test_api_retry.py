"""The client's urllib3 retry policy on its own: caps, copies, methods, counters."""

import email.utils
import time

import pytest
from urllib3.exceptions import ConnectTimeoutError, MaxRetryError, ReadTimeoutError
from urllib3.response import HTTPResponse

from ledgersync_connector import const
from ledgersync_connector.api.retry import LedgerSyncRetry, RetryControl, build_retry


def make_retry(cap=2.0, max_retries=3, backoff_factor=0.5):
    control = RetryControl(cap=cap, counters={"api_calls": 0, "retries": 0})
    return build_retry(
        max_retries=max_retries,
        statuses=const.RETRY_STATUSES,
        backoff_factor=backoff_factor,
        control=control,
    )


def answer(status, **headers):
    return HTTPResponse(body=b"", headers=headers, status=status, preload_content=False)


@pytest.fixture
def sleeps(monkeypatch):
    recorded = []
    monkeypatch.setattr(time, "sleep", recorded.append)  # urllib3's retry sleeps via time.sleep
    return recorded


def test_copies_keep_the_class_and_the_shared_control():
    retry = make_retry()
    copy = retry.new(total=1)
    assert type(copy) is LedgerSyncRetry
    assert copy.control is retry.control
    after = retry.increment("GET", "/v1/clients", response=answer(503))
    assert after.control is retry.control


@pytest.mark.parametrize(
    "header, expected",
    [
        ("3600", 2.0),
        ("1", 1.0),
        (email.utils.formatdate(time.time() + 3600, usegmt=True), 2.0),
        ("soon", None),
    ],
)
def test_retry_after_is_capped_even_after_copies(header, expected):
    retry = make_retry(cap=2.0).increment(
        "GET", "/v1/clients", response=answer(429, **{"Retry-After": header})
    )
    retry = retry.new()  # what urllib3 does before every attempt
    assert retry.get_retry_after(answer(429, **{"Retry-After": header})) == expected


def test_sleeps_between_attempts_are_capped(sleeps):
    retry = make_retry(cap=2.0)
    response = answer(429, **{"Retry-After": "600"})
    for _ in range(3):
        retry = retry.increment("GET", "/v1/clients", response=response)
        retry.sleep(response)
    assert sleeps == [2.0, 2.0, 2.0]


def test_backoff_without_retry_after_is_capped(sleeps):
    retry = make_retry(cap=1.5, max_retries=10, backoff_factor=1)
    for _ in range(6):
        retry = retry.increment("GET", "/v1/clients", response=answer(503))
        retry.sleep(answer(503))
    assert sleeps  # exponential: 2, 4, 8 ... each cut to the cap
    assert max(sleeps) == 1.5


def test_get_is_retried_on_listed_statuses_only():
    retry = make_retry()
    for status in (429, 502, 503, 504):
        assert retry.is_retry("GET", status)
    for status in (400, 401, 403, 404, 500):
        assert not retry.is_retry("GET", status)


def test_post_is_never_retried():
    retry = make_retry()
    assert not retry.is_retry("POST", 503, has_retry_after=True)
    assert not retry.is_retry("POST", 429, has_retry_after=True)
    with pytest.raises(MaxRetryError):
        retry.increment("POST", "/v1/auth/login", error=ConnectTimeoutError("connect timed out"))
    with pytest.raises(ReadTimeoutError):
        retry.increment(
            "POST", "/v1/auth/login", error=ReadTimeoutError(None, "/v1/auth/login", "read")
        )
    assert retry.control.counters["retries"] == 0


def test_disabled_control_means_one_attempt():
    retry = make_retry()
    retry.control.enabled = False
    assert not retry.is_retry("GET", 503)
    with pytest.raises(MaxRetryError):
        retry.increment("GET", "/v1/clients", error=ConnectTimeoutError("connect timed out"))
    retry.control.enabled = True
    assert (
        retry.increment("GET", "/v1/clients", error=ConnectTimeoutError("x")).control
        is retry.control
    )


def test_retries_are_counted_and_bounded():
    retry = make_retry(max_retries=2)
    retry = retry.increment("GET", "/v1/clients", response=answer(503))
    retry = retry.increment("GET", "/v1/clients", response=answer(503))
    with pytest.raises(MaxRetryError):
        retry.increment("GET", "/v1/clients", response=answer(503))
    assert retry.control.counters == {"api_calls": 2, "retries": 2}
