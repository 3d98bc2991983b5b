"""The data set the sandbox serves: generated records (``data.py``) under a mutation overlay,
looked up by id and listed page by page (``paging.py``).

Nothing is materialised: a record is generated when it is asked for, unless the overlay
holds a changed version of it (or marks it removed). ``mutations.py`` writes the overlay.
Records are dicts in the JSON shape of the contract, with ``date``/``datetime`` values.
"""

import re
import threading
from dataclasses import dataclass, field
from datetime import timedelta

from .config import DEFAULT_LIMIT, format_datetime, parse_date, parse_datetime
from .data import (
    FIRM_BY_LETTER,
    FIRMS,
    DataGenerator,
    account_id,
    client_id,
    start_of_day,
    transaction_id,
)
from .errors import bad_request, not_found
from .paging import decode_cursor, encode_cursor, keyset_page, parse_limit

REMOVED = None  # overlay marker for removed clients / bank accounts

_CLIENT_RE = re.compile(r"cl_([a-z])_(\d{4})")
_ACCOUNT_RE = re.compile(r"ba_([a-z])_(\d{4})_(\d{2})")
_TX_RE = re.compile(r"tx_([a-z])_(\d{4})_(\d{2})_(\d{7})")
# a "+hh:mm" offset sent unencoded in a query string arrives as " hh:mm"
_SPACED_OFFSET_RE = re.compile(r"(T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?) (\d{2}:?\d{2})$")


@dataclass
class Overlay:
    """Everything that differs from the generated data set (empty again after a reset)."""

    # firm -> number of clients (generated and added)
    n_clients: dict
    # client id -> number of bank accounts, account id -> number of generated transactions,
    # when not the configured number (clients and accounts added with other numbers)
    n_accounts: dict = field(default_factory=dict)
    n_transactions: dict = field(default_factory=dict)
    # firm -> {client id: record | REMOVED}; client id -> {account id: record | REMOVED}
    clients: dict = field(default_factory=lambda: {firm: {} for firm in FIRMS})
    accounts: dict = field(default_factory=dict)
    # account id -> {transaction id: record}: changed, deleted (tombstones) and added ones
    transactions: dict = field(default_factory=dict)
    # added transactions: id -> its account id; account id -> last sequence number used
    added_home: dict = field(default_factory=dict)
    added_seq: dict = field(default_factory=dict)


@dataclass(frozen=True)
class ClientRef:
    """A live client: its firm key, its index in the firm, its current record."""

    firm: str
    index: int
    record: dict


@dataclass(frozen=True)
class AccountRef:
    """A live bank account of a live client."""

    firm: str
    client_index: int
    index: int  # in its client
    record: dict


@dataclass(frozen=True)
class TransactionRef:
    """An existing transaction (tombstones included) and the record of its bank account."""

    account: dict
    record: dict


class Store:
    """The generated data set and its overlay, guarded by ``lock`` (re-entrant).

    ``today`` is the last day of the data; ``as_of`` the instant no generated timestamp
    passes (the start of ``today``, or the clock's now when ``today`` is in its future).
    """

    def __init__(self, config, clock):
        self.config = config
        self.clock = clock
        now = clock.now()
        self.today = config.today if config.today is not None else now.date()
        as_of = start_of_day(self.today)
        if as_of > now:  # `today` in the future of the clock: keep timestamps in the past
            as_of = now.replace(microsecond=0)
        self.as_of = as_of
        self.gen = DataGenerator(config, self.today, as_of)
        self.lock = threading.RLock()
        self.overlay = None
        self.reset()

    def reset(self):
        """Forget every mutation."""
        with self.lock:
            self.overlay = Overlay(
                n_clients={
                    "demo": self.config.clients,
                    "other": self.config.other_clients,
                    "empty": 0,
                }
            )

    def summary(self):
        """Counts of the current data set per firm (computed, nothing is materialised)."""
        with self.lock:
            over = self.overlay
            out = {}
            for firm in FIRMS:
                clients = accounts = transactions = 0
                for cid in self.client_ids(firm):
                    clients += 1
                    for aid in self.account_ids(cid):
                        accounts += 1
                        transactions += self.tx_count(aid)
                        changed = over.transactions.get(aid, {}).items()
                        transactions += sum(
                            1
                            for tx_id, rec in changed
                            if tx_id in over.added_home and not rec["deleted"]
                        )
                        transactions -= sum(
                            1
                            for tx_id, rec in changed
                            if tx_id not in over.added_home and rec["deleted"]
                        )
                out[firm] = {
                    "firm_name": FIRMS[firm].name,
                    "clients": clients,
                    "bank_accounts": accounts,
                    "transactions": transactions,
                }
            return out

    # ======================================================================================
    # lookup (overlay over generated data); call with the lock held
    # ======================================================================================
    def client_ids(self, firm):
        letter = FIRMS[firm].letter
        over = self.overlay.clients[firm]
        for index in range(self.overlay.n_clients[firm]):
            cid = client_id(letter, index)
            if over.get(cid, True) is not REMOVED:
                yield cid

    def account_ids(self, cid):
        over = self.overlay.accounts.get(cid, {})
        for index in range(self.accounts_of(cid)):
            aid = account_id(cid, index)
            if over.get(aid, True) is not REMOVED:
                yield aid

    def accounts_of(self, cid):
        """Number of bank accounts a client numbers (removed ones included)."""
        return self.overlay.n_accounts.get(cid, self.config.accounts_per_client)

    def tx_count(self, aid):
        """Number of generated transactions of a bank account."""
        return self.overlay.n_transactions.get(aid, self.config.transactions_per_account)

    def find_client(self, cid, firm=None):
        """The ``ClientRef`` of a live client (of ``firm`` when given), or None."""
        match = _CLIENT_RE.fullmatch(cid or "")
        if not match or match.group(1) not in FIRM_BY_LETTER:
            return None
        client_firm = FIRM_BY_LETTER[match.group(1)]
        index = int(match.group(2)) - 1
        if firm is not None and client_firm != firm:
            return None
        if not 0 <= index < self.overlay.n_clients[client_firm]:
            return None
        over = self.overlay.clients[client_firm]
        if cid in over:
            record = over[cid]
            return None if record is REMOVED else ClientRef(client_firm, index, record)
        return ClientRef(client_firm, index, self.gen.client(client_firm, index))

    def find_account(self, aid, firm=None):
        """The ``AccountRef`` of a live bank account of a live client, or None."""
        match = _ACCOUNT_RE.fullmatch(aid or "")
        if not match:
            return None
        cid = f"cl_{match.group(1)}_{match.group(2)}"
        client = self.find_client(cid, firm)
        if client is None:
            return None
        index = int(match.group(3)) - 1
        if not 0 <= index < self.accounts_of(cid):
            return None
        over = self.overlay.accounts.get(cid, {})
        if aid in over:
            record = over[aid]
            if record is REMOVED:
                return None
        else:
            record = self.gen.bank_account(client.firm, client.index, index)
        return AccountRef(client.firm, client.index, index, record)

    def find_transaction(self, tx_id):
        """The ``TransactionRef`` of an existing transaction (tombstones included), or None."""
        aid = self.overlay.added_home.get(tx_id)
        index = None
        if aid is None:
            match = _TX_RE.fullmatch(tx_id or "")
            if not match:
                return None
            aid = f"ba_{match.group(1)}_{match.group(2)}_{match.group(3)}"
            index = int(match.group(4)) - 1
        account = self.find_account(aid)
        if account is None:
            return None
        over = self.overlay.transactions.get(aid, {})
        if tx_id in over:
            return TransactionRef(account.record, over[tx_id])
        count = self.tx_count(aid)
        if index is None or not 0 <= index < count:
            return None
        return TransactionRef(account.record, self.gen.transaction(account.record, index, count))

    # ======================================================================================
    # queries (what the API endpoints answer; handy in tests too)
    # ======================================================================================
    def query_clients(self, firm, *, limit=DEFAULT_LIMIT, cursor=None):
        """One page of a firm's clients -> (records, next_cursor)."""
        limit = parse_limit(limit)
        query = ("clients", firm)
        after = decode_cursor(cursor, query)
        letter = FIRMS[firm].letter
        with self.lock:
            over = self.overlay.clients[firm]
            extras = sorted((cid, rec) for cid, rec in over.items() if rec is not REMOVED)
            records, last = keyset_page(
                0,
                self.overlay.n_clients[firm],
                lambda i: client_id(letter, i),
                lambda i: None if client_id(letter, i) in over else self.gen.client(firm, i),
                extras,
                after,
                limit,
            )
            records = [dict(r) for r in records]
        return records, encode_cursor(last, query)

    def query_bank_accounts(self, cid, *, firm=None, limit=DEFAULT_LIMIT, cursor=None):
        """One page of a client's bank accounts -> (records, next_cursor)."""
        limit = parse_limit(limit)
        query = ("bank_accounts", cid)
        after = decode_cursor(cursor, query)
        with self.lock:
            client = self.find_client(cid, firm)
            if client is None:
                raise not_found(f"client {cid!r}")
            over = self.overlay.accounts.get(cid, {})
            extras = sorted((aid, rec) for aid, rec in over.items() if rec is not REMOVED)
            records, last = keyset_page(
                0,
                self.accounts_of(cid),
                lambda i: account_id(cid, i),
                lambda i: (
                    None
                    if account_id(cid, i) in over
                    else self.gen.bank_account(client.firm, client.index, i)
                ),
                extras,
                after,
                limit,
            )
            records = [dict(r) for r in records]
        return records, encode_cursor(last, query)

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
        limit = parse_limit(limit)
        start, end, since = self._transaction_filters(start_date, end_date, updated_since)
        query = (
            "transactions",
            aid,
            start and start.isoformat(),
            end and end.isoformat(),
            since and format_datetime(since),
        )
        after = decode_cursor(cursor, query)
        gen = self.gen
        with self.lock:
            account = self.find_account(aid, firm)
            if account is None:
                raise not_found(f"bank account {aid!r}")
            count = self.tx_count(aid)
            low, high = 0, count
            if start is not None:
                low = max(low, gen.first_index_on_or_after(aid, count, start))
            if end is not None:
                high = min(high, gen.first_index_on_or_after(aid, count, end + timedelta(days=1)))
            if since is not None:
                low = max(low, gen.first_index_updated_after(aid, count, since))
            over = self.overlay.transactions.get(aid, {})

            def wanted(rec):
                if rec["deleted"] and since is None:
                    return False
                if (start and rec["date"] < start) or (end and rec["date"] > end):
                    return False
                return since is None or rec["updated_at"] > since

            extras = sorted((tx_id, rec) for tx_id, rec in over.items() if wanted(rec))
            records, last = keyset_page(
                low,
                max(low, high),
                lambda i: transaction_id(aid, i),
                lambda i: (
                    None
                    if transaction_id(aid, i) in over
                    else gen.transaction(account.record, i, count)
                ),
                extras,
                after,
                limit,
            )
            records = [dict(r) for r in records]
        return records, encode_cursor(last, query)

    def _transaction_filters(self, start_date, end_date, updated_since):
        """(start, end, since) parsed and checked against the contract, or 400."""
        try:
            start = parse_date(start_date)
        except ValueError as exc:
            raise bad_request("start_date must be a YYYY-MM-DD date") from exc
        try:
            end = parse_date(end_date)
        except ValueError as exc:
            raise bad_request("end_date must be a YYYY-MM-DD date") from exc
        if isinstance(updated_since, str):
            updated_since = _SPACED_OFFSET_RE.sub(r"\1+\2", updated_since.strip())
        try:
            since = parse_datetime(updated_since)
        except (ValueError, TypeError) as exc:
            raise bad_request("updated_since must be an ISO 8601 timestamp") from exc
        if start and end:
            if end < start:
                raise bad_request("end_date is before start_date")
            span = (end - start).days + 1
            if span > self.config.max_window_days:
                raise bad_request(
                    f"start_date..end_date spans {span} days; "
                    f"at most {self.config.max_window_days} per call"
                )
        return start, end, since
