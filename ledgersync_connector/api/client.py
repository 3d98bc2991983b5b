"""The LedgerSync API client: the only code that speaks HTTP to LedgerSync.

The endpoint paths and shapes follow the contract in docs/ledgersync-api.md; aligning with
the live API later touches this package (and the sandbox) only. Pure Python: no Odoo.
A client holds one requests Session and is meant for one thread at a time.
"""

import logging
import time
from datetime import datetime, timedelta, timezone
from urllib.parse import quote, urlsplit

import requests
from urllib3.exceptions import HTTPError as Urllib3Error

from .. import const
from ..dates import date_windows, iso_utc
from . import errors
from .addresses import AddressPolicy
from .body import read_body
from .deadline import ExchangeWatch
from .parsing import read_page
from .records import Account, BankAccount, Client, Page, Transaction
from .responses import json_or_error
from .retry import RetryControl
from .scrubbing import Scrubber
from .transport import BearerAuth, build_session, timeout_error, transport_error
from .urls import validate_base_url

__all__ = ["LedgerSyncApiClient", "validate_base_url"]

_logger = logging.getLogger(__name__)

LOGIN_PATH = "/v1/auth/login"
CLIENTS_PATH = "/v1/clients"
BANK_ACCOUNTS_PATH = "/v1/clients/{}/bank-accounts"
TRANSACTIONS_PATH = "/v1/bank-accounts/{}/transactions"


def _check_limit(limit):
    if (
        isinstance(limit, bool)
        or not isinstance(limit, int)
        or not 1 <= limit <= const.MAX_PAGE_SIZE
    ):
        raise ValueError(f"page size must be an integer from 1 to {const.MAX_PAGE_SIZE}")
    return limit


class LedgerSyncApiClient:
    """Client of the LedgerSync REST API (see docs/ledgersync-api.md).

    Network and HTTP failures surface as ``errors.LedgerSyncError`` subclasses. ``token``
    and ``token_expires_at`` (aware UTC datetime) may be set from a stored session so a
    new client need not sign in again. ``allowed_hosts``: the hosts the base URL may name
    although they are not public (see urls.py; None: ``const.DEFAULT_ALLOWED_HOSTS``).

    Every HTTP exchange ends within ``timeout`` seconds (deadline.py) and reads at most
    ``const.MAX_RESPONSE_BYTES`` (body.py), whatever the server does, and connects to the
    API host only at public addresses unless it is allow-listed (addresses.py).
    """

    def __init__(
        self,
        base_url,
        email,
        password,
        *,
        timeout=const.REQUEST_TIMEOUT,
        max_retries=const.MAX_RETRIES,
        retry_after_cap=const.RETRY_AFTER_CAP,
        backoff_factor=const.BACKOFF_FACTOR,
        page_size=const.CLIENT_PAGE_SIZE,
        allowed_hosts=None,
    ):
        if allowed_hosts is None:
            allowed_hosts = const.DEFAULT_ALLOWED_HOSTS
        self.base_url = validate_base_url(base_url, allowed_hosts)
        self._address_policy = AddressPolicy(urlsplit(self.base_url).hostname, allowed_hosts)
        self.email = email
        self._password = password
        self._scrubber = Scrubber(password)
        # A single float: Odoo's test harness compares `timeout < 10`, a tuple breaks it.
        self.timeout = float(timeout)
        self.page_size = _check_limit(page_size)
        self._token = None
        self.token_expires_at = None
        self._counters = {"api_calls": 0, "logins": 0, "retries": 0}
        self._retry_control = RetryControl(cap=float(retry_after_cap), counters=self._counters)
        self._session = build_session(
            max_retries=max_retries,
            backoff_factor=backoff_factor,
            retry_control=self._retry_control,
        )

    # -- housekeeping ------------------------------------------------------------------

    @property
    def token(self):
        return self._token

    @token.setter
    def token(self, value):
        self._token = value or None
        self._scrubber.add(value)  # scrubbed from messages even after it is replaced

    @property
    def stats(self):
        """Counters: HTTP requests sent (retries included), login attempts, retries."""
        return dict(self._counters)

    def reset_stats(self):
        for key in self._counters:
            self._counters[key] = 0

    def close(self):
        self._session.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.close()

    def __repr__(self):
        token = "***" if self._token else None
        return f"<LedgerSyncApiClient {self.base_url} email={self.email!r} token={token}>"

    # -- public API ---------------------------------------------------------------------

    def login(self):
        """Sign in (never retried) and keep the token. Returns the Account."""
        with self._scrubber.scrubbing():
            return self._login(self.timeout)

    def verify(self, deadline=const.VERIFY_DEADLINE):
        """Sign in and fetch the first page of clients within ``deadline`` seconds.

        Returns (Account, Page of Client). One attempt per request, and one deadline on
        the monotonic clock for both: the whole call ends in about ``deadline`` seconds
        even against a server that never answers, trickles its answer or whose name does
        not resolve.
        """
        stop_at = time.monotonic() + deadline
        self._retry_control.enabled = False
        try:
            with self._scrubber.scrubbing():
                account = self._login(self._time_left(stop_at), stop_at=stop_at)
                params = {"limit": self.page_size}
                timeout = self._time_left(stop_at)
                what = f"GET {CLIENTS_PATH}"
                response = self._send(
                    "GET", CLIENTS_PATH, what, params=params, timeout=timeout, stop_at=stop_at
                )
                page = self._parse_page(self._json_or_error(response, what), what, Client.from_api)
        finally:
            self._retry_control.enabled = True
        return account, page

    # Every listing is a lazy iterator of pages. ``time_left`` (a callable returning the
    # seconds its caller has left) is asked before each page but the first: once it
    # returns 0 or less, the listing stops between two pages with ``errors.OutOfTime``.
    # A listing that repeats a cursor, or goes on past ``const.MAX_PAGES_PER_QUERY``
    # pages, ends in ``errors.ProtocolError``.

    def iter_client_pages(self, limit=None, *, time_left=None, cursor=None):
        """Pages of the firm's clients; from the page of ``cursor`` (a ``next_cursor`` of
        an earlier listing) when given."""
        params = {"limit": _check_limit(self.page_size if limit is None else limit)}
        return self._iter_pages(
            CLIENTS_PATH, params, Client.from_api, _Clock(time_left), cursor=cursor
        )

    def iter_bank_account_pages(self, client_id, limit=None, *, time_left=None):
        """Pages of one client's bank accounts."""
        path = BANK_ACCOUNTS_PATH.format(quote(str(client_id), safe=""))
        params = {"limit": _check_limit(self.page_size if limit is None else limit)}

        def parse(item, label):
            return BankAccount.from_api(item, label, client_id=client_id)

        return self._iter_pages(path, params, parse, _Clock(time_left))

    def iter_transaction_pages(
        self,
        account_id,
        *,
        start_date=None,
        end_date=None,
        updated_since=None,
        limit=const.TRANSACTION_PAGE_SIZE,
        time_left=None,
    ):
        """Pages of one bank account's transactions.

        ``start_date``..``end_date`` (inclusive) is queried in windows of at most
        ``const.MAX_WINDOW_DAYS`` days, oldest first; ``updated_since`` (datetime) asks
        only for what changed after that instant, tombstones included.
        """
        path = TRANSACTIONS_PATH.format(quote(str(account_id), safe=""))
        params = {"limit": _check_limit(limit)}
        if updated_since is not None:
            params["updated_since"] = iso_utc(updated_since)
        windows = date_windows(start_date, end_date)  # raises now, not at the first next()

        def parse(item, label):
            return Transaction.from_api(item, label, bank_account_id=account_id)

        clock = _Clock(time_left)  # one for all the windows: the first page of all is free

        def pages():
            for window_start, window_end in windows:
                query = dict(params)
                if window_start:
                    query["start_date"] = window_start.isoformat()
                if window_end:
                    query["end_date"] = window_end.isoformat()
                yield from self._iter_pages(path, query, parse, clock)

        return pages()

    # -- pages --------------------------------------------------------------------------

    def _iter_pages(self, path, params, parse_item, clock, cursor=None):
        what = f"GET {path}"
        seen = set()
        for _number in range(const.MAX_PAGES_PER_QUERY):
            clock.before_page(what)
            query = dict(params, cursor=cursor) if cursor else params
            with self._scrubber.scrubbing():
                page = self._parse_page(self._get_json(path, query, what), what, parse_item)
            yield page
            cursor = page.next_cursor
            if cursor is None:
                return
            if cursor in seen:
                # A server handing back a cursor it already gave would make us loop forever.
                raise errors.ProtocolError(f"LedgerSync repeated a page cursor for {what}.")
            seen.add(cursor)
        raise errors.ProtocolError(
            f"LedgerSync's answer to {what} went on for more than "
            f"{const.MAX_PAGES_PER_QUERY} pages: stopped."
        )

    @staticmethod
    def _parse_page(payload, what, parse_item):
        items, cursor = read_page(payload, what)
        records = tuple(
            parse_item(item, f"Item {index} of the answer to {what}")
            for index, item in enumerate(items)
        )
        return Page(items=records, next_cursor=cursor)

    # -- requests -----------------------------------------------------------------------

    def _login(self, timeout, stop_at=None):
        if not self.email or not self._password:
            raise errors.InvalidCredentials("No LedgerSync email or password is set.")
        self.token, self.token_expires_at = None, None
        self._counters["logins"] += 1
        body = {"email": self.email, "password": self._password}
        what = "the login"
        response = self._send(
            "POST", LOGIN_PATH, what, json=body, timeout=timeout, stop_at=stop_at, authorize=False
        )
        account = Account.from_api(self._json_or_error(response, what, login=True))
        self._check_standing(account)
        self.token = account.access_token
        if account.expires_in is not None:
            self.token_expires_at = datetime.now(timezone.utc) + timedelta(
                seconds=account.expires_in
            )
        return account

    @staticmethod
    def _check_standing(account):
        """A 200 login can still describe a firm that may not use the API."""
        if account.subscription_status == "inactive":
            raise errors.SubscriptionInactive()
        if account.account_status == "suspended":
            raise errors.AccountSuspended()
        if account.account_status == "locked":
            raise errors.AccountLocked()

    def _get_json(self, path, params, what):
        """GET a data endpoint, signing in first if needed and again once after a 401."""
        if not self._token_usable():
            self._login(self.timeout)
        response = self._send("GET", path, what, params=params, timeout=self.timeout)
        if response.status_code == 401:
            # The token expired or was revoked: sign in again once and repeat once. A bad
            # password ends in InvalidCredentials there, so this can never loop on login.
            self.token = None
            self._login(self.timeout)
            response = self._send("GET", path, what, params=params, timeout=self.timeout)
        return self._json_or_error(response, what)

    def _token_usable(self):
        if not self._token:
            return False
        expires_at = self.token_expires_at
        if expires_at is None:
            return True
        if expires_at.tzinfo is None:
            expires_at = expires_at.replace(tzinfo=timezone.utc)
        margin = timedelta(seconds=const.TOKEN_EXPIRY_MARGIN)
        return datetime.now(timezone.utc) < expires_at - margin

    def _send(
        self, method, path, what, *, timeout, stop_at=None, params=None, json=None, authorize=True
    ):
        """The one place a request leaves, its answer read in full (within the size cap)
        before it returns. Each attempt ends within ``timeout`` seconds, and all by
        ``stop_at`` (monotonic) when given; transport failures become Unreachable."""
        self._counters["api_calls"] += 1
        started = time.monotonic()
        host = urlsplit(self.base_url).netloc
        with ExchangeWatch(timeout, stop_at) as watch, self._address_policy.applied():
            try:
                response = self._session.request(
                    method,
                    self.base_url + path,
                    params=params,
                    json=json,
                    auth=BearerAuth(self._token if authorize else None),
                    timeout=float(timeout),
                    allow_redirects=False,  # never replay credentials to another address
                    stream=True,  # read by read_body(), within the size cap
                )
                read_body(response, what)
            except (requests.RequestException, Urllib3Error, OSError) as exc:
                elapsed = time.monotonic() - started
                _logger.debug(
                    "LedgerSync %s %s failed after %.3fs: %s",
                    method,
                    path,
                    elapsed,
                    type(exc).__name__,
                )
                if watch.expired:
                    raise timeout_error(host) from exc
                raise transport_error(exc, host) from exc
            if watch.expired:  # the deadline cut a body that had no length: it is not whole
                raise timeout_error(host)
        elapsed = time.monotonic() - started
        _logger.debug(
            "LedgerSync %s %s -> %s in %.3fs", method, path, response.status_code, elapsed
        )
        return response

    def _time_left(self, stop_at):
        """Timeout for the next request of verify(): what is left of its deadline."""
        left = stop_at - time.monotonic()
        if left <= 0:
            raise errors.Unreachable.timeout()
        return min(self.timeout, left)

    # -- answers ------------------------------------------------------------------------

    def _json_or_error(self, response, what, login=False):
        """The decoded JSON of a 2xx answer; any other answer raises its typed error."""
        return json_or_error(response, what, login=login, server_text=self._scrubber.server_text)


class _Clock:
    """The ``time_left`` of one listing: every page but the first asks it first."""

    def __init__(self, time_left):
        self._time_left = time_left
        self._first = True

    def before_page(self, what):
        if self._first or self._time_left is None:
            self._first = False
            return
        if self._time_left() <= 0:
            raise errors.OutOfTime(f"{errors.OutOfTime.default_message} ({what})")
