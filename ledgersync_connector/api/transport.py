"""The requests Session of the API client: authorization, retries, transport failures."""

import requests
from requests.adapters import HTTPAdapter
from requests.auth import AuthBase
from urllib3.exceptions import (
    ConnectTimeoutError,
    NewConnectionError,
    ReadTimeoutError,
)

from .. import const
from . import errors
from .retry import build_retry


class BearerAuth(AuthBase):
    """Sets the Authorization header; passing an auth object also keeps ~/.netrc out of it."""

    def __init__(self, token):
        self._token = token

    def __call__(self, request):
        if self._token:
            request.headers["Authorization"] = f"Bearer {self._token}"
        return request

    def __repr__(self):
        return "<BearerAuth ***>"


def build_session(*, max_retries, backoff_factor, retry_control):
    """A Session sending JSON requests, with the retry policy mounted for http(s)."""
    session = requests.Session()
    session.headers.update({"Accept": "application/json", "User-Agent": const.USER_AGENT})
    retry = build_retry(
        max_retries=max_retries,
        statuses=const.RETRY_STATUSES,
        backoff_factor=backoff_factor,
        control=retry_control,
    )
    adapter = HTTPAdapter(max_retries=retry)
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    return session


def is_timeout(exc):
    """Did a request fail because LedgerSync did not answer in time (vs. not reachable)?"""
    if isinstance(exc, requests.Timeout):
        return True
    cause = exc.args[0] if exc.args else None
    cause = getattr(cause, "reason", cause)  # urllib3's MaxRetryError wraps the last error
    if isinstance(cause, NewConnectionError):  # a ConnectTimeoutError subclass, oddly
        return False
    return isinstance(cause, (ReadTimeoutError, ConnectTimeoutError, TimeoutError))


def transport_error(exc, host):
    """The Unreachable error for a request to ``host`` that got no answer."""
    if is_timeout(exc):
        return errors.Unreachable.timeout(f"LedgerSync at {host} did not answer in time.")
    if isinstance(exc, requests.exceptions.SSLError):
        return errors.Unreachable(
            f"The secure connection to LedgerSync at {host} failed (certificate or TLS)."
        )
    return errors.Unreachable(f"LedgerSync at {host} could not be reached ({type(exc).__name__}).")
