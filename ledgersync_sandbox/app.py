"""The sandbox WSGI application: the LedgerSync API contract, an in-memory mutation overlay,
fault injection, request accounting and the local-testing admin endpoints under /_sandbox/."""

import base64
import binascii
import copy
import hashlib
import json
import logging
import math
import re
import secrets
import threading
from bisect import bisect_right
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation

from werkzeug.wrappers import Request, Response

from .config import Clock, SandboxConfig, format_datetime, parse_date, parse_datetime
from .data import (
    FIRM_BY_LETTER,
    FIRMS,
    DataGenerator,
    account_id,
    client_id,
    start_of_day,
    transaction_id,
)
from .faults import FAULT_KINDS, FaultSet

_logger = logging.getLogger(__name__)

DEFAULT_LIMIT = 100
MAX_LIMIT = 500
REMOVED = None  # overlay marker for removed clients / bank accounts

LOGIN_STATES = {
    "active": None,
    "subscription_inactive": "The LedgerSync subscription of this firm is inactive.",
    "account_suspended": "This LedgerSync account is suspended.",
    "account_locked": "This LedgerSync account is locked after too many failed sign-ins.",
}
# email -> (firm, state)
BUILTIN_LOGINS = {
    "demo@ledgersync.test": ("demo", "active"),
    "other@ledgersync.test": ("other", "active"),
    "empty@ledgersync.test": ("empty", "active"),
    "inactive@ledgersync.test": ("demo", "subscription_inactive"),
    "suspended@ledgersync.test": ("demo", "account_suspended"),
    "locked@ledgersync.test": ("demo", "account_locked"),
}
TX_KEYS = (
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
)

_CLIENT_RE = re.compile(r"cl_([a-z])_(\d{4})")
_ACCOUNT_RE = re.compile(r"ba_([a-z])_(\d{4})_(\d{2})")
_TX_RE = re.compile(r"tx_([a-z])_(\d{4})_(\d{2})_(\d{7})")

HTML_PAGE = (
    "<!DOCTYPE html>\n<html><head><title>502 Bad Gateway</title></head>\n"
    "<body><center><h1>502 Bad Gateway</h1></center><hr><center>nginx</center></body></html>\n"
)


class SandboxError(Exception):
    """An API error: HTTP ``status`` and ``{"error": {"code", "message"}}``. The Python mutation
    API raises it too (``status`` 404 for unknown ids, 400 for bad values, 409 for conflicts)."""

    def __init__(self, status, code, message, headers=None):
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.headers = headers or {}


def _bad(message):
    return SandboxError(400, "bad_request", message)


def _not_found(what):
    return SandboxError(404, "not_found", f"{what} not found")


def _jsonable(value):
    if isinstance(value, datetime):
        return format_datetime(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    return value


def json_response(payload, status=200, headers=None):
    body = json.dumps(_jsonable(payload), separators=(",", ":"), ensure_ascii=False)
    return Response(
        body, status=status, headers=headers, content_type="application/json; charset=utf-8"
    )


def error_response(status, code, message, headers=None):
    return json_response({"error": {"code": code, "message": message}}, status, headers)


def _money_value(value, name="amount"):
    try:
        amount = Decimal(str(value).strip())
    except (InvalidOperation, ValueError) as exc:
        raise _bad(f"{name} must be a decimal number, got {value!r}") from exc
    if not amount.is_finite():
        raise _bad(f"{name} must be a finite number")
    return str(amount.quantize(Decimal("0.01")))


def _answer_rate_limit(fault):
    # delay-seconds is an integer in HTTP (RFC 9110): round fractions up
    retry = str(math.ceil(float(fault.retry_after)))
    return error_response(
        fault.status, "rate_limited", "Too many requests; slow down.", {"Retry-After": retry}
    )


def _answer_server_error(fault):
    if fault.body is not None:
        return Response(
            fault.body, status=fault.status, content_type=fault.content_type or "text/plain"
        )
    code = "service_unavailable" if fault.status == 503 else "server_error"
    return error_response(fault.status, code, "Simulated server failure.")


def _answer_token_expired(fault):
    return error_response(401, "token_expired", "The access token has expired; log in again.")


def _answer_html(fault):
    return Response(
        fault.body if fault.body is not None else HTML_PAGE,
        status=fault.status,
        content_type=fault.content_type or "text/html; charset=utf-8",
    )


def _answer_empty(fault):
    return Response(b"", status=fault.status, content_type=fault.content_type or "application/json")


def _rewrite_truncated(body):
    return Response(body[: max(1, len(body) // 2)], status=200, content_type="application/json")


def _rewrite_wrong_shape(body):
    return json_response({"result": json.loads(body)})


def _rewrite_bad_record(body):
    payload = json.loads(body)
    items = payload.get("data") if isinstance(payload, dict) else None
    if isinstance(items, list) and items:
        broken = items[0]
        for key, value in BROKEN_VALUES:
            if key in broken:
                broken[key] = value
    elif isinstance(payload, dict):  # the login answer
        payload["access_token"] = None
        payload["expires_in"] = "soon"
    return json_response(payload)


BROKEN_VALUES = (
    ("amount", "12,34 EUR"),
    ("date", "yesterday"),
    ("current_balance", [1]),
    ("id", None),
    ("updated_at", "not a time"),
)
# faults answered without running the request / rewriting the real answer
_FAULT_ANSWERS = {
    "rate_limit": _answer_rate_limit,
    "server_error": _answer_server_error,
    "token_expired": _answer_token_expired,
    "html": _answer_html,
    "empty": _answer_empty,
}
_FAULT_REWRITES = {
    "truncated": _rewrite_truncated,
    "wrong_shape": _rewrite_wrong_shape,
    "bad_record": _rewrite_bad_record,
}


def _v_date(key, value):
    try:
        value = parse_date(value)
    except ValueError as exc:
        raise _bad(f"{key} must be a YYYY-MM-DD date") from exc
    if value is None:
        raise _bad(f"{key} cannot be null")
    return value


def _v_timestamp(key, value):
    try:
        return parse_datetime(value)
    except (TypeError, ValueError) as exc:
        raise _bad(f"{key} must be an ISO 8601 timestamp") from exc


def _v_money(key, value):
    return _money_value(value, key)


def _v_optional_money(key, value):
    return None if value is None else _money_value(value, key)


def _v_choice(*choices):
    def check(key, value):
        if value not in choices:
            raise _bad(f"{key} must be one of {', '.join(map(str, choices))}")
        return value

    return check


def _v_pattern(pattern, what):
    def check(key, value):
        if not (isinstance(value, str) and re.fullmatch(pattern, value)):
            raise _bad(f"{key} must be {what}")
        return value

    return check


def _v_text(key, value):
    if not isinstance(value, str) or not value.strip():
        raise _bad(f"{key} must be a non-empty string")
    return value


def _v_optional_text(key, value):
    if value is not None and not isinstance(value, str):
        raise _bad(f"{key} must be a string or null")
    return value


TX_VALIDATORS = {
    "date": _v_date,
    "amount": _v_money,
    "description": _v_text,
    "status": _v_choice("pending", "posted"),
    "reference": _v_optional_text,
    "vendor_name": _v_optional_text,
    "gl_code": _v_optional_text,
    "match_type": _v_choice("rule", "ai", "semantic", None),
}
CLIENT_VALIDATORS = {
    "name": _v_text,
    "code": _v_optional_text,
    "status": _v_choice("active", "inactive"),
}
ACCOUNT_VALIDATORS = {
    "name": _v_text,
    "institution": _v_optional_text,
    "mask": _v_pattern(r"[0-9]{4}", "4 digits"),
    "type": _v_choice("checking", "savings", "credit_card", "other"),
    "currency": _v_pattern(r"[A-Z]{3}", "an ISO 4217 code"),
    "current_balance": _v_optional_money,
    "connection_status": _v_choice("ok", "broken", "needs_mfa"),
    "last_refreshed_at": _v_timestamp,
}


class SandboxApp:
    """A LedgerSync API server as a WSGI callable.

    Data comes from ``DataGenerator`` on the fly; mutations live in a small overlay guarded
    by one lock. ``clock`` drives token expiry and the ``updated_at`` of mutations.
    """

    def __init__(self, config=None, *, clock=None):
        self.config = config if config is not None else SandboxConfig()
        self.clock = clock if clock is not None else Clock(self.config.now)
        now = self.clock.now()
        self.today = self.config.today if self.config.today is not None else now.date()
        as_of = start_of_day(self.today)
        if as_of > now:  # `today` in the future of the clock: keep timestamps in the past
            as_of = now.replace(microsecond=0)
        self.as_of = as_of
        self.gen = DataGenerator(self.config, self.today, as_of)
        self.faults = FaultSet()
        self._lock = threading.RLock()
        self._release = threading.Event()
        self._routes = [
            ("POST", re.compile(r"/v1/auth/login"), "login", self._h_login),
            ("GET", re.compile(r"/v1/clients"), "clients", self._h_clients),
            (
                "GET",
                re.compile(r"/v1/clients/([^/]+)/bank-accounts"),
                "bank_accounts",
                self._h_bank_accounts,
            ),
            (
                "GET",
                re.compile(r"/v1/bank-accounts/([^/]+)/transactions"),
                "transactions",
                self._h_transactions,
            ),
        ]
        self._init_state()

    # ======================================================================================
    # state
    # ======================================================================================
    def _init_state(self):
        with self._lock:
            self.token_ttl = self.config.token_ttl
            self._logins = {
                email: {"password": self.config.password, "firm": firm, "state": state}
                for email, (firm, state) in BUILTIN_LOGINS.items()
            }
            self._failures = {}
            self._tokens = {}
            self._n_clients = {
                "demo": self.config.clients,
                "other": self.config.other_clients,
                "empty": 0,
            }
            self._n_accounts = {}  # client id -> number of accounts when not the default
            self._n_tx = {}  # bank account id -> generated transactions when not the default
            # firm -> {client id: record | REMOVED}
            self._client_over = {firm: {} for firm in FIRMS}
            self._account_over = {}  # client id -> {account id: record | REMOVED}
            self._tx_over = {}  # account id -> {transaction id: record}
            self._tx_home = {}  # id of an added transaction -> its account id
            self._tx_seq = {}  # account id -> last added sequence number
            self._stats = self._fresh_stats()

    @staticmethod
    def _fresh_stats():
        return {
            "login": 0,
            "clients": 0,
            "bank_accounts": 0,
            "transactions": 0,
            "other": 0,
            "admin": 0,
            "total": 0,
            "by_path": {},
            "by_status": {},
            "by_account": {},
            "faults_fired": 0,
        }

    def reset(self):
        """Back to the freshly started state: data overlay, logins, tokens, faults, stats, clock."""
        self.faults.clear()
        self.clock.reset()
        self._init_state()

    @property
    def stats(self):
        """Snapshot of the request counters: per endpoint kind (login, clients, bank_accounts,
        transactions, other, admin), total API requests, by_path, by_status, by_account
        (transactions calls per bank account id), faults_fired."""
        with self._lock:
            return copy.deepcopy(self._stats)

    def reset_stats(self):
        with self._lock:
            self._stats = self._fresh_stats()

    def now(self):
        return self.clock.now()

    def release_hangs(self):
        """Wake every request held by a ``hang`` (answers 503) or ``delay`` fault (answers)."""
        self._release.set()

    def arm_hangs(self):
        self._release.clear()

    def summary(self):
        """Counts of the current data set (computed, nothing is materialised)."""
        with self._lock:
            out = {}
            for firm in FIRMS:
                clients = accounts = transactions = 0
                for cid in self._client_ids(firm):
                    clients += 1
                    for aid in self._account_ids(cid):
                        accounts += 1
                        transactions += self._n_tx.get(aid, self.config.transactions_per_account)
                        transactions += sum(
                            1
                            for tx_id, rec in self._tx_over.get(aid, {}).items()
                            if tx_id in self._tx_home and not rec["deleted"]
                        )
                        transactions -= sum(
                            1
                            for tx_id, rec in self._tx_over.get(aid, {}).items()
                            if tx_id not in self._tx_home and rec["deleted"]
                        )
                out[firm] = {
                    "firm_name": FIRMS[firm][1],
                    "clients": clients,
                    "bank_accounts": accounts,
                    "transactions": transactions,
                }
            return out

    # ======================================================================================
    # record lookup (overlay over generated data); call with the lock held
    # ======================================================================================
    def _client_ids(self, firm):
        letter = FIRMS[firm][0]
        over = self._client_over[firm]
        for index in range(self._n_clients[firm]):
            cid = client_id(letter, index)
            if over.get(cid, True) is not REMOVED:
                yield cid

    def _account_ids(self, cid):
        over = self._account_over.get(cid, {})
        for index in range(self._accounts_of(cid)):
            aid = account_id(cid, index)
            if over.get(aid, True) is not REMOVED:
                yield aid

    def _accounts_of(self, cid):
        return self._n_accounts.get(cid, self.config.accounts_per_client)

    def _client(self, cid, firm=None):
        """(firm, index, record) of a live client, or None."""
        match = _CLIENT_RE.fullmatch(cid or "")
        if not match or match.group(1) not in FIRM_BY_LETTER:
            return None
        client_firm = FIRM_BY_LETTER[match.group(1)]
        index = int(match.group(2)) - 1
        if firm is not None and client_firm != firm:
            return None
        if not 0 <= index < self._n_clients[client_firm]:
            return None
        over = self._client_over[client_firm]
        if cid in over:
            record = over[cid]
            return None if record is REMOVED else (client_firm, index, record)
        return client_firm, index, self.gen.client(client_firm, index)

    def _account(self, aid, firm=None):
        """(firm, client index, index, record) of a live bank account of a live client, or None."""
        match = _ACCOUNT_RE.fullmatch(aid or "")
        if not match:
            return None
        cid = f"cl_{match.group(1)}_{match.group(2)}"
        client = self._client(cid, firm)
        if client is None:
            return None
        index = int(match.group(3)) - 1
        if not 0 <= index < self._accounts_of(cid):
            return None
        over = self._account_over.get(cid, {})
        if aid in over:
            record = over[aid]
            return None if record is REMOVED else (client[0], client[1], index, record)
        return client[0], client[1], index, self.gen.bank_account(client[0], client[1], index)

    def _tx_count(self, aid):
        return self._n_tx.get(aid, self.config.transactions_per_account)

    def _transaction(self, tx_id):
        """(account record, transaction record) of an existing transaction (tombstones included)."""
        aid = self._tx_home.get(tx_id)
        index = None
        if aid is None:
            match = _TX_RE.fullmatch(tx_id or "")
            if not match:
                return None
            aid = f"ba_{match.group(1)}_{match.group(2)}_{match.group(3)}"
            index = int(match.group(4)) - 1
        account = self._account(aid)
        if account is None:
            return None
        over = self._tx_over.get(aid, {})
        if tx_id in over:
            return account[3], over[tx_id]
        if index is None or not 0 <= index < self._tx_count(aid):
            return None
        return account[3], self.gen.transaction(account[3], index, self._tx_count(aid))

    # ======================================================================================
    # queries (used by the HTTP handlers; handy in tests too)
    # ======================================================================================
    @staticmethod
    def _paginate(low, high, id_of, base_record, extras, after, limit):
        """Keyset page over generated records ``low..high-1`` (ids increasing with the index)
        merged with ``extras`` (sorted (id, record) pairs). ``base_record`` returns None for
        records the overlay replaces or removes. Returns (records, last id or None)."""
        if after is not None:
            a, b = low, high
            while a < b:
                mid = (a + b) // 2
                if id_of(mid) <= after:
                    a = mid + 1
                else:
                    b = mid
            low = a
        j = bisect_right([ident for ident, _ in extras], after) if after is not None else 0
        out = []
        i = low
        while len(out) <= limit:
            base_id = id_of(i) if i < high else None
            extra_id = extras[j][0] if j < len(extras) else None
            if base_id is None and extra_id is None:
                break
            if extra_id is None or (base_id is not None and base_id < extra_id):
                record = base_record(i)
                i += 1
                if record is not None:
                    out.append(record)
            else:
                out.append(extras[j][1])
                j += 1
        more = len(out) > limit
        out = out[:limit]
        return out, (out[-1]["id"] if more else None)

    def query_clients(self, firm, *, limit=DEFAULT_LIMIT, cursor=None):
        """One page of a firm's clients -> (records, next_cursor)."""
        limit = self._limit(limit)
        fingerprint = ("clients", firm)
        after = self._decode_cursor(cursor, fingerprint)
        letter = FIRMS[firm][0]
        with self._lock:
            over = self._client_over[firm]
            extras = sorted((cid, rec) for cid, rec in over.items() if rec is not REMOVED)
            records, last = self._paginate(
                0,
                self._n_clients[firm],
                lambda i: client_id(letter, i),
                lambda i: None if client_id(letter, i) in over else self.gen.client(firm, i),
                extras,
                after,
                limit,
            )
            records = [dict(r) for r in records]
        return records, self._encode_cursor(last, fingerprint)

    def query_bank_accounts(self, cid, *, firm=None, limit=DEFAULT_LIMIT, cursor=None):
        """One page of a client's bank accounts -> (records, next_cursor)."""
        limit = self._limit(limit)
        fingerprint = ("bank_accounts", cid)
        after = self._decode_cursor(cursor, fingerprint)
        with self._lock:
            client = self._client(cid, firm)
            if client is None:
                raise _not_found(f"client {cid!r}")
            client_firm, client_index, _ = client
            over = self._account_over.get(cid, {})
            extras = sorted((aid, rec) for aid, rec in over.items() if rec is not REMOVED)
            records, last = self._paginate(
                0,
                self._accounts_of(cid),
                lambda i: account_id(cid, i),
                lambda i: (
                    None
                    if account_id(cid, i) in over
                    else self.gen.bank_account(client_firm, client_index, i)
                ),
                extras,
                after,
                limit,
            )
            records = [dict(r) for r in records]
        return records, self._encode_cursor(last, fingerprint)

    def query_transactions(
        self,
        aid,
        *,
        firm=None,
        start_date=None,
        end_date=None,
        updated_since=None,
        limit=DEFAULT_LIMIT,
        cursor=None,
    ):
        """One page of a bank account's transactions -> (records, next_cursor).

        Dates are inclusive; without ``updated_since`` deleted transactions are left out,
        with it they come as tombstones (``deleted: true``)."""
        limit = self._limit(limit)
        try:
            start = parse_date(start_date)
        except ValueError as exc:
            raise _bad("start_date must be a YYYY-MM-DD date") from exc
        try:
            end = parse_date(end_date)
        except ValueError as exc:
            raise _bad("end_date must be a YYYY-MM-DD date") from exc
        if isinstance(updated_since, str):
            # a "+hh:mm" offset sent unencoded in a query string arrives as " hh:mm"
            updated_since = re.sub(
                r"(T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?) (\d{2}:?\d{2})$",
                r"\1+\2",
                updated_since.strip(),
            )
        try:
            since = parse_datetime(updated_since)
        except (ValueError, TypeError) as exc:
            raise _bad("updated_since must be an ISO 8601 timestamp") from exc
        if start and end:
            if end < start:
                raise _bad("end_date is before start_date")
            span = (end - start).days + 1
            if span > self.config.max_window_days:
                raise _bad(
                    f"start_date..end_date spans {span} days; "
                    f"at most {self.config.max_window_days} per call"
                )
        fingerprint = (
            "transactions",
            aid,
            start and start.isoformat(),
            end and end.isoformat(),
            since and format_datetime(since),
        )
        after = self._decode_cursor(cursor, fingerprint)
        gen = self.gen
        with self._lock:
            account = self._account(aid, firm)
            if account is None:
                raise _not_found(f"bank account {aid!r}")
            account_record = account[3]
            count = self._tx_count(aid)
            low, high = 0, count
            if start is not None:
                low = max(low, gen.first_index_on_or_after(aid, count, start))
            if end is not None:
                high = min(high, gen.first_index_on_or_after(aid, count, end + timedelta(days=1)))
            if since is not None:
                low = max(low, gen.first_index_updated_after(aid, count, since))
            over = self._tx_over.get(aid, {})

            def wanted(rec):
                if rec["deleted"] and since is None:
                    return False
                if (start and rec["date"] < start) or (end and rec["date"] > end):
                    return False
                return since is None or rec["updated_at"] > since

            extras = sorted((tx_id, rec) for tx_id, rec in over.items() if wanted(rec))
            records, last = self._paginate(
                low,
                max(low, high),
                lambda i: transaction_id(aid, i),
                lambda i: (
                    None
                    if transaction_id(aid, i) in over
                    else gen.transaction(account_record, i, count)
                ),
                extras,
                after,
                limit,
            )
            records = [dict(r) for r in records]
        return records, self._encode_cursor(last, fingerprint)

    @staticmethod
    def _limit(value):
        if value is None or value == "":
            return DEFAULT_LIMIT
        if isinstance(value, str):
            if not re.fullmatch(r"\+?\d{1,9}", value.strip()):
                raise _bad(f"limit must be an integer between 1 and {MAX_LIMIT}")
            value = int(value)
        if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= MAX_LIMIT:
            raise _bad(f"limit must be an integer between 1 and {MAX_LIMIT}")
        return value

    @staticmethod
    def _fingerprint(parts):
        return hashlib.sha256(repr(parts).encode()).hexdigest()[:12]

    def _encode_cursor(self, last_id, parts):
        if last_id is None:
            return None
        raw = json.dumps([1, last_id, self._fingerprint(parts)], separators=(",", ":")).encode()
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")

    def _decode_cursor(self, cursor, parts):
        if cursor is None or cursor == "":
            return None
        try:
            text = str(cursor)
            raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
            version, last_id, fingerprint = json.loads(raw)
        except (ValueError, TypeError, binascii.Error) as exc:
            raise _bad("cursor is not valid") from exc
        if version != 1 or not isinstance(last_id, str):
            raise _bad("cursor is not valid")
        if fingerprint != self._fingerprint(parts):
            raise _bad("cursor belongs to another query")
        return last_id

    # ======================================================================================
    # logins and tokens
    # ======================================================================================
    def login(self, email, password):
        """Check credentials -> the login response body; raises SandboxError (401/403)."""
        if not isinstance(email, str) or not isinstance(password, str) or not email.strip():
            raise _bad("email and password are required strings")
        key = email.strip().lower()
        with self._lock:
            login = self._logins.get(key)
            if login is None:
                raise SandboxError(401, "invalid_credentials", "Invalid email or password.")
            if login["state"] == "account_locked":
                raise SandboxError(403, "account_locked", LOGIN_STATES["account_locked"])
            if not secrets.compare_digest(password.encode(), login["password"].encode()):
                failures = self._failures.get(key, 0) + 1
                self._failures[key] = failures
                if self.config.lockout_after and failures >= self.config.lockout_after:
                    login["state"] = "account_locked"
                raise SandboxError(401, "invalid_credentials", "Invalid email or password.")
            self._failures.pop(key, None)
            if login["state"] != "active":
                raise SandboxError(403, login["state"], LOGIN_STATES[login["state"]])
            token = "lsbx_" + secrets.token_urlsafe(24)
            ttl = int(self.token_ttl)
            self._tokens[token] = {
                "email": key,
                "firm": login["firm"],
                "expires_at": self.clock.now() + timedelta(seconds=ttl),
            }
            return {
                "access_token": token,
                "token_type": "Bearer",
                "expires_in": ttl,
                "account": {
                    "firm_name": FIRMS[login["firm"]][1],
                    "subscription_status": "active",
                    "account_status": "active",
                },
            }

    def authenticate(self, authorization):
        """``Authorization`` header value -> the token's firm; raises SandboxError 401/403."""
        scheme, _, token = (authorization or "").strip().partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            raise SandboxError(
                401, "invalid_token", "A bearer token is required (Authorization: Bearer <token>)."
            )
        with self._lock:
            info = self._tokens.get(token)
            if info is None:
                raise SandboxError(401, "invalid_token", "The access token is not valid.")
            if self.clock.now() >= info["expires_at"]:
                raise SandboxError(
                    401, "token_expired", "The access token has expired; log in again."
                )
            login = self._logins.get(info["email"])
            if login is None:
                raise SandboxError(401, "invalid_token", "The access token is not valid.")
            if login["state"] != "active":
                raise SandboxError(403, login["state"], LOGIN_STATES[login["state"]])
            return info["firm"]

    def expire_tokens(self, email=None):
        """Expire every issued token (or one login's): data calls then answer 401 token_expired."""
        with self._lock:
            past = self.clock.now() - timedelta(seconds=1)
            count = 0
            for info in self._tokens.values():
                if email is None or info["email"] == email.strip().lower():
                    info["expires_at"] = min(info["expires_at"], past)
                    count += 1
            return count

    def revoke_tokens(self, email=None):
        """Forget issued tokens (or one login's): data calls then answer 401 invalid_token."""
        with self._lock:
            doomed = [
                t
                for t, info in self._tokens.items()
                if email is None or info["email"] == email.strip().lower()
            ]
            for token in doomed:
                del self._tokens[token]
            return len(doomed)

    def set_login(self, email, *, password=None, state=None, firm=None, expire_tokens=True):
        """Create or change a login. ``state``: active | subscription_inactive | account_suspended |
        account_locked. A password change expires that login's tokens (unless told not to), so
        the client's re-login then meets 401 invalid_credentials."""
        if state is not None and state not in LOGIN_STATES:
            raise _bad(f"state must be one of {', '.join(LOGIN_STATES)}")
        if firm is not None and firm not in FIRMS:
            raise _bad(f"firm must be one of {', '.join(FIRMS)}")
        if password is not None and not isinstance(password, str):
            raise _bad("password must be a string")
        key = email.strip().lower()
        with self._lock:
            login = self._logins.get(key)
            if login is None:
                login = self._logins[key] = {
                    "password": self.config.password,
                    "firm": "demo",
                    "state": "active",
                }
            if password is not None and password != login["password"]:
                login["password"] = password
                if expire_tokens:
                    self.expire_tokens(key)
            if state is not None:
                login["state"] = state
                if state == "active":
                    self._failures.pop(key, None)
            if firm is not None:
                login["firm"] = firm
            return self._login_info(key)

    def _login_info(self, key):
        login = self._logins[key]
        return {
            "email": key,
            "firm": login["firm"],
            "firm_name": FIRMS[login["firm"]][1],
            "state": login["state"],
        }

    def logins(self):
        with self._lock:
            return [self._login_info(key) for key in sorted(self._logins)]

    # ======================================================================================
    # mutations (Python API; the /_sandbox/ endpoints call these)
    # ======================================================================================
    @staticmethod
    def _normalize(fields, validators):
        out = {}
        for key, value in fields.items():
            if key not in validators:
                allowed = ", ".join(validators)
                raise _bad(f"unknown or read-only field {key!r}; allowed: {allowed}")
            out[key] = validators[key](key, value)
        return out

    def add_transaction(self, bank_account_id, *, tx_id=None, **fields):
        """Add a transaction (any date, e.g. back-dated) with ``updated_at`` = now.
        Fields: date (default today), amount (default "-10.00"), description, status
        (default posted), reference, vendor_name, gl_code, match_type. ``tx_id`` defaults to
        ``tx_<account>_nNNNNNN`` (sorts after the generated ids). Returns the record."""
        values = {
            "date": self.today,
            "amount": "-10.00",
            "description": "SANDBOX ADDED TRANSACTION",
            "status": "posted",
            "reference": None,
            "vendor_name": None,
            "gl_code": None,
            "match_type": None,
        }
        values.update(self._normalize(fields, TX_VALIDATORS))
        with self._lock:
            account = self._account(bank_account_id)
            if account is None:
                raise _not_found(f"bank account {bank_account_id!r}")
            if tx_id is None:
                seq = self._tx_seq.get(bank_account_id, 0) + 1
                self._tx_seq[bank_account_id] = seq
                tx_id = f"tx_{bank_account_id[3:]}_n{seq:06d}"
            elif not isinstance(tx_id, str) or not tx_id or self._transaction(tx_id) is not None:
                raise SandboxError(409, "conflict", f"transaction id {tx_id!r} is taken or invalid")
            record = dict(
                values,
                id=tx_id,
                bank_account_id=bank_account_id,
                currency=account[3]["currency"],
                updated_at=self.clock.now(),
                deleted=False,
            )
            record = {key: record[key] for key in TX_KEYS}
            self._tx_over.setdefault(bank_account_id, {})[tx_id] = record
            self._tx_home[tx_id] = bank_account_id
            return _jsonable(record)

    def get_transaction(self, tx_id):
        """The current record of a transaction (tombstones too), or None."""
        with self._lock:
            found = self._transaction(tx_id)
            return None if found is None else _jsonable(found[1])

    def modify_transaction(self, tx_id, **fields):
        """Change a transaction (e.g. status="posted", amount=..., date=...); updated_at = now."""
        values = self._normalize(fields, TX_VALIDATORS)
        with self._lock:
            found = self._transaction(tx_id)
            if found is None or found[1]["deleted"]:
                raise _not_found(f"transaction {tx_id!r}")
            record = dict(found[1], **values, updated_at=self.clock.now())
            self._tx_over.setdefault(record["bank_account_id"], {})[tx_id] = record
            return _jsonable(record)

    def post_transaction(self, tx_id, *, amount=None, date=None):
        """A pending transaction posts: status posted, optionally a new amount and date."""
        fields = {"status": "posted"}
        if amount is not None:
            fields["amount"] = amount
        if date is not None:
            fields["date"] = date
        return self.modify_transaction(tx_id, **fields)

    def delete_transaction(self, tx_id, *, force=False):
        """A pending transaction vanishes upstream: it leaves date queries and shows up in
        ``updated_since`` queries as a tombstone. Posted ones need ``force=True``."""
        with self._lock:
            found = self._transaction(tx_id)
            if found is None or found[1]["deleted"]:
                raise _not_found(f"transaction {tx_id!r}")
            if found[1]["status"] != "pending" and not force:
                raise SandboxError(
                    409, "conflict", "only pending transactions vanish upstream (use force)"
                )
            record = dict(found[1], deleted=True, updated_at=self.clock.now())
            self._tx_over.setdefault(record["bank_account_id"], {})[tx_id] = record
            return _jsonable(record)

    def restore_transaction(self, tx_id):
        """A vanished transaction comes back upstream (aggregators do that): it returns to
        date queries and shows up in ``updated_since`` queries, not deleted."""
        with self._lock:
            found = self._transaction(tx_id)
            if found is None or not found[1]["deleted"]:
                raise _not_found(f"deleted transaction {tx_id!r}")
            record = dict(found[1], deleted=False, updated_at=self.clock.now())
            self._tx_over.setdefault(record["bank_account_id"], {})[tx_id] = record
            return _jsonable(record)

    def add_client(self, firm="demo", *, bank_accounts=None, **fields):
        """Add a client to a firm (with ``bank_accounts`` generated accounts, default the
        configured number, each with generated history). Fields: name, code, status."""
        if firm not in FIRMS:
            raise _bad(f"firm must be one of {', '.join(FIRMS)}")
        values = self._normalize(fields, CLIENT_VALIDATORS)
        if bank_accounts is not None and (
            not isinstance(bank_accounts, int) or not 0 <= bank_accounts <= 99
        ):
            raise _bad("bank_accounts must be an integer in [0, 99]")
        with self._lock:
            index = self._n_clients[firm]
            if index >= 9999:
                raise SandboxError(409, "conflict", "too many clients")
            self._n_clients[firm] = index + 1
            record = dict(self.gen.client(firm, index), **values, updated_at=self.clock.now())
            self._client_over[firm][record["id"]] = record
            if bank_accounts is not None:
                self._n_accounts[record["id"]] = bank_accounts
            return _jsonable(record)

    def modify_client(self, cid, **fields):
        values = self._normalize(fields, CLIENT_VALIDATORS)
        with self._lock:
            client = self._client(cid)
            if client is None:
                raise _not_found(f"client {cid!r}")
            record = dict(client[2], **values, updated_at=self.clock.now())
            self._client_over[client[0]][cid] = record
            return _jsonable(record)

    def remove_client(self, cid):
        """The client vanishes from listings; its accounts and transactions answer 404."""
        with self._lock:
            client = self._client(cid)
            if client is None:
                raise _not_found(f"client {cid!r}")
            self._client_over[client[0]][cid] = REMOVED
            return {"id": cid, "removed": True}

    def restore_client(self, cid):
        """A removed client is listed again, with its accounts and transactions."""
        with self._lock:
            for overlay in self._client_over.values():
                if cid in overlay and overlay[cid] is REMOVED:
                    del overlay[cid]
                    return {"id": cid, "removed": False}
            raise _not_found(f"removed client {cid!r}")

    def add_bank_account(self, cid, *, transactions=None, **fields):
        """Add a bank account to a client with ``transactions`` generated transactions (default
        the configured number). Fields: name, institution, mask, type, currency,
        current_balance, connection_status, last_refreshed_at."""
        values = self._normalize(fields, ACCOUNT_VALIDATORS)
        if transactions is not None and (
            not isinstance(transactions, int) or not 0 <= transactions <= 9_999_999
        ):
            raise _bad("transactions must be an integer in [0, 9999999]")
        with self._lock:
            client = self._client(cid)
            if client is None:
                raise _not_found(f"client {cid!r}")
            index = self._accounts_of(cid)
            if index >= 99:
                raise SandboxError(409, "conflict", "too many bank accounts")
            self._n_accounts[cid] = index + 1
            record = dict(self.gen.bank_account(client[0], client[1], index), **values)
            self._account_over.setdefault(cid, {})[record["id"]] = record
            if transactions is not None:
                self._n_tx[record["id"]] = transactions
            return _jsonable(record)

    def modify_bank_account(self, aid, **fields):
        values = self._normalize(fields, ACCOUNT_VALIDATORS)
        with self._lock:
            account = self._account(aid)
            if account is None:
                raise _not_found(f"bank account {aid!r}")
            record = dict(account[3], **values)
            self._account_over.setdefault(record["client_id"], {})[aid] = record
            return _jsonable(record)

    def remove_bank_account(self, aid):
        """The account vanishes from its client's listing; its transactions answer 404."""
        with self._lock:
            account = self._account(aid)
            if account is None:
                raise _not_found(f"bank account {aid!r}")
            self._account_over.setdefault(account[3]["client_id"], {})[aid] = REMOVED
            return {"id": aid, "removed": True}

    # ======================================================================================
    # WSGI
    # ======================================================================================
    def __call__(self, environ, start_response):
        request = Request(environ)
        try:
            response = self.dispatch(request)
        except Exception:  # never leak a werkzeug HTML 500
            _logger.exception("sandbox: unexpected error on %s %s", request.method, request.path)
            response = error_response(500, "server_error", "Unexpected sandbox error.")
        return response(environ, start_response)

    def _count(self, kind, path, status, account=None):
        with self._lock:
            stats = self._stats
            stats[kind] = stats.get(kind, 0) + 1
            if kind == "admin":
                return
            stats["total"] += 1
            stats["by_path"][path] = stats["by_path"].get(path, 0) + 1
            key = str(status)
            stats["by_status"][key] = stats["by_status"].get(key, 0) + 1
            if account is not None:
                stats["by_account"][account] = stats["by_account"].get(account, 0) + 1

    def dispatch(self, request):
        path = request.path
        if path == "/_sandbox" or path.startswith("/_sandbox/"):
            if not self.config.admin:
                return error_response(404, "not_found", "No such endpoint.")
            self._count("admin", path, None)
            return self._admin(request)
        kind, handler, args = "other", None, ()
        allowed = []
        for method, regex, route_kind, route_handler in self._routes:
            match = regex.fullmatch(path)
            if match:
                allowed.append(method)
                if method == request.method:
                    kind, handler, args = route_kind, route_handler, match.groups()
        account = args[0] if kind == "transactions" else None
        fault = self.faults.match(request.method, path, kind) if handler else None
        if fault is not None:
            with self._lock:
                self._stats["faults_fired"] += 1
            response = self._apply_fault(fault, request, handler, args)
        elif handler is None:
            if allowed:
                response = error_response(
                    405,
                    "method_not_allowed",
                    f"Use {', '.join(allowed)} on {path}.",
                    {"Allow": ", ".join(allowed)},
                )
            else:
                response = error_response(404, "not_found", f"No such endpoint: {path}")
        else:
            response = self._run(handler, request, args)
        self._count(kind, path, response.status_code, account)
        return response

    def _run(self, handler, request, args):
        try:
            return handler(request, *args)
        except SandboxError as exc:
            return error_response(exc.status, exc.code, exc.message, exc.headers)

    def _apply_fault(self, fault, request, handler, args):
        kind = fault.kind
        if kind in ("hang", "delay"):
            self._release.wait(fault.delay)  # set when the server stops
            if kind == "hang":
                return error_response(
                    503, "service_unavailable", "The sandbox stopped while the request hung."
                )
            return self._run(handler, request, args)
        if kind in _FAULT_ANSWERS:
            return _FAULT_ANSWERS[kind](fault)
        response = self._run(handler, request, args)
        if response.status_code != 200:
            return response
        return _FAULT_REWRITES[kind](response.get_data())

    # -- API handlers -----------------------------------------------------------------------
    def _h_login(self, request):
        try:
            body = json.loads(request.get_data(as_text=True) or "null")
        except ValueError as exc:
            raise _bad('the body must be JSON: {"email": ..., "password": ...}') from exc
        if not isinstance(body, dict):
            raise _bad("the body must be a JSON object with email and password")
        return json_response(self.login(body.get("email"), body.get("password")))

    def _page(self, records, next_cursor):
        return json_response({"data": records, "next_cursor": next_cursor})

    def _h_clients(self, request):
        firm = self.authenticate(request.headers.get("Authorization"))
        args = request.args
        return self._page(
            *self.query_clients(firm, limit=args.get("limit"), cursor=args.get("cursor"))
        )

    def _h_bank_accounts(self, request, cid):
        firm = self.authenticate(request.headers.get("Authorization"))
        args = request.args
        return self._page(
            *self.query_bank_accounts(
                cid, firm=firm, limit=args.get("limit"), cursor=args.get("cursor")
            )
        )

    def _h_transactions(self, request, aid):
        firm = self.authenticate(request.headers.get("Authorization"))
        args = request.args
        return self._page(
            *self.query_transactions(
                aid,
                firm=firm,
                start_date=args.get("start_date") or None,
                end_date=args.get("end_date") or None,
                updated_since=args.get("updated_since") or None,
                limit=args.get("limit"),
                cursor=args.get("cursor"),
            )
        )

    # ======================================================================================
    # /_sandbox/ admin endpoints (local testing only: no authentication)
    # ======================================================================================
    def _admin(self, request):
        try:
            return self._admin_route(request)
        except SandboxError as exc:
            return error_response(exc.status, exc.code, exc.message, exc.headers)
        except (TypeError, ValueError) as exc:
            return error_response(400, "bad_request", str(exc))

    @staticmethod
    def _body(request):
        text = request.get_data(as_text=True)
        if not text.strip():
            return {}
        try:
            body = json.loads(text)
        except ValueError as exc:
            raise _bad("the body must be JSON") from exc
        return body

    def _object(self, request):
        body = self._body(request)
        if not isinstance(body, dict):
            raise _bad("the body must be a JSON object")
        return body

    def _admin_route(self, request):
        parts = [p for p in request.path.split("/") if p][1:]  # drop "_sandbox"
        head = parts[0] if parts else ""
        handler = {
            "": self._admin_index,
            "reset": self._admin_reset,
            "stats": self._admin_stats,
            "faults": self._admin_faults,
            "clock": self._admin_clock,
            "tokens": self._admin_tokens,
            "config": self._admin_config,
            "logins": self._admin_logins,
            "clients": self._admin_clients,
            "bank-accounts": self._admin_bank_accounts,
            "transactions": self._admin_transactions,
        }.get(head)
        response = handler(request, request.method, parts[1:]) if handler else None
        if response is None:
            message = f"No such admin endpoint: {request.method} {request.path}"
            return error_response(404, "not_found", message)
        return response

    def _admin_index(self, request, method, rest):
        if method == "GET" and not rest:
            return json_response(self.info())
        return None

    def _admin_reset(self, request, method, rest):
        if method == "POST" and not rest:
            self.reset()
            return json_response({"reset": True})
        return None

    def _admin_stats(self, request, method, rest):
        if method == "GET" and not rest:
            return json_response(self.stats)
        if (method == "DELETE" and not rest) or (method == "POST" and rest == ["reset"]):
            self.reset_stats()
            return json_response(self.stats)
        return None

    def _admin_clock(self, request, method, rest):
        if rest or method not in ("GET", "POST"):
            return None
        if method == "POST":
            body = self._object(request)
            if body.get("now") is not None:
                self.clock.set(body["now"])
            if body.get("advance") is not None:
                self.clock.advance(float(body["advance"]))
            if body.get("real"):
                self.clock.unfreeze()
        return json_response(
            {"now": self.clock.now(), "frozen": self.clock.frozen, "today": self.today}
        )

    def _admin_tokens(self, request, method, rest):
        if method != "POST" or rest not in (["expire"], ["revoke"]):
            return None
        email = self._object(request).get("email")
        count = self.expire_tokens(email) if rest[0] == "expire" else self.revoke_tokens(email)
        return json_response({rest[0] + "d": count})

    def _admin_config(self, request, method, rest):
        if rest or method not in ("GET", "POST"):
            return None
        if method == "POST":
            body = self._object(request)
            unknown = set(body) - {"token_ttl"}
            if unknown:
                raise _bad(f"only token_ttl can change at run time, not {sorted(unknown)}")
            if "token_ttl" in body:
                ttl = body["token_ttl"]
                if not isinstance(ttl, int) or isinstance(ttl, bool) or ttl < 1:
                    raise _bad("token_ttl must be a positive integer")
                self.token_ttl = ttl
        return json_response(self.info()["config"])

    def _admin_logins(self, request, method, rest):
        if not rest and method == "GET":
            return json_response({"data": self.logins()})
        if (not rest and method == "POST") or (len(rest) == 1 and method in ("PATCH", "PUT")):
            body = self._object(request)
            email = rest[0] if rest else body.pop("email", None)
            if not isinstance(email, str) or "@" not in email:
                raise _bad("email is required")
            unknown = set(body) - {"password", "state", "firm", "expire_tokens"}
            if unknown:
                raise _bad(f"unknown fields {sorted(unknown)}")
            return json_response(self.set_login(email, **body))
        return None

    def _admin_clients(self, request, method, rest):
        return self._admin_entity(request, method, rest, "client")

    def _admin_bank_accounts(self, request, method, rest):
        return self._admin_entity(request, method, rest, "bank_account")

    def _admin_transactions(self, request, method, rest):
        return self._admin_entity(request, method, rest, "transaction")

    def _admin_faults(self, request, method, rest):
        if not rest:
            if method == "GET":
                return json_response({"data": self.faults.list(), "kinds": FAULT_KINDS})
            if method == "DELETE":
                self.faults.clear()
                return json_response({"data": []})
            if method == "POST":
                body = self._body(request)
                if isinstance(body, dict) and "faults" in body:
                    body = body["faults"]
                specs = body if isinstance(body, list) else [body]
                if not specs or not all(isinstance(s, dict) and "kind" in s for s in specs):
                    raise _bad(
                        "post a fault object with a kind (or a list of them); kinds: "
                        + ", ".join(FAULT_KINDS)
                    )
                if any(s.get("replace") for s in specs) or request.args.get("replace"):
                    self.faults.clear()
                added = []
                for spec in specs:
                    spec = {k: v for k, v in spec.items() if k != "replace"}
                    added.append(self.faults.add(spec.pop("kind"), **spec).to_dict())
                return json_response({"data": added}, 201)
        if len(rest) == 1 and method == "DELETE":
            if not rest[0].isdigit() or not self.faults.remove(int(rest[0])):
                raise _not_found(f"fault {rest[0]}")
            return json_response({"removed": int(rest[0])})
        return None

    def _admin_entity(self, request, method, rest, entity):
        if not rest and method == "POST":
            body = self._object(request)
            if entity == "client":
                return json_response(self.add_client(body.pop("firm", "demo"), **body), 201)
            parent_key = "client_id" if entity == "bank_account" else "bank_account_id"
            parent = body.pop(parent_key, None)
            if not isinstance(parent, str):
                raise _bad(f"{parent_key} is required")
            if entity == "bank_account":
                return json_response(self.add_bank_account(parent, **body), 201)
            if "id" in body:
                body["tx_id"] = body.pop("id")
            return json_response(self.add_transaction(parent, **body), 201)
        if len(rest) == 1:
            ident = rest[0]
            if method == "GET" and entity == "transaction":
                record = self.get_transaction(ident)
                if record is None:
                    raise _not_found(f"transaction {ident!r}")
                return json_response(record)
            if method == "PATCH":
                body = self._object(request)
                modify = {
                    "client": self.modify_client,
                    "bank_account": self.modify_bank_account,
                    "transaction": self.modify_transaction,
                }[entity]
                return json_response(modify(ident, **body))
            if method == "DELETE":
                if entity == "client":
                    return json_response(self.remove_client(ident))
                if entity == "bank_account":
                    return json_response(self.remove_bank_account(ident))
                force = request.args.get("force", "").lower() in ("1", "true", "yes")
                force = force or bool(self._object(request).get("force"))
                return json_response(self.delete_transaction(ident, force=force))
        return None

    def info(self):
        cfg = self.config
        return {
            "service": "LedgerSync sandbox (local testing only)",
            "config": {
                "clients": cfg.clients,
                "other_clients": cfg.other_clients,
                "accounts_per_client": cfg.accounts_per_client,
                "transactions_per_account": cfg.transactions_per_account,
                "history_days": cfg.history_days,
                "pending_days": cfg.pending_days,
                "seed": cfg.seed,
                "today": self.today,
                "token_ttl": self.token_ttl,
                "lockout_after": cfg.lockout_after,
                "max_window_days": cfg.max_window_days,
            },
            "as_of": self.as_of,
            "now": self.clock.now(),
            "summary": self.summary(),
            "logins": self.logins(),
            "password": cfg.password,
            "fault_kinds": FAULT_KINDS,
        }


__all__ = ["BUILTIN_LOGINS", "LOGIN_STATES", "SandboxApp", "SandboxError"]
