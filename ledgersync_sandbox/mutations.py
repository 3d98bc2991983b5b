"""Changing the data set from Python (and from the /_sandbox/ admin endpoints): transactions
that post, change, vanish or arrive late; clients and bank accounts that come and go.

Every change goes into the store's overlay with ``updated_at`` = the sandbox clock's now,
so incremental (``updated_since``) syncs see it. Mutations return the new record in its
JSON form and raise ``SandboxError`` (404 unknown id, 400 bad value, 409 conflict).
"""

import re
from decimal import Decimal, InvalidOperation

from .config import (
    MAX_ACCOUNTS_PER_CLIENT,
    MAX_CLIENTS,
    MAX_TRANSACTIONS_PER_ACCOUNT,
    parse_date,
    parse_datetime,
)
from .data import FIRMS
from .errors import bad_request, conflict, not_found
from .responses import jsonable
from .store import REMOVED

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


# -- field validators: (key, value) -> normalized value, or 400 -------------------------------
def _money_value(value, name="amount"):
    try:
        amount = Decimal(str(value).strip())
    except (InvalidOperation, ValueError) as exc:
        raise bad_request(f"{name} must be a decimal number, got {value!r}") from exc
    if not amount.is_finite():
        raise bad_request(f"{name} must be a finite number")
    return str(amount.quantize(Decimal("0.01")))


def _v_date(key, value):
    try:
        value = parse_date(value)
    except ValueError as exc:
        raise bad_request(f"{key} must be a YYYY-MM-DD date") from exc
    if value is None:
        raise bad_request(f"{key} cannot be null")
    return value


def _v_timestamp(key, value):
    try:
        return parse_datetime(value)
    except (TypeError, ValueError) as exc:
        raise bad_request(f"{key} must be an ISO 8601 timestamp") from exc


def _v_money(key, value):
    return _money_value(value, key)


def _v_optional_money(key, value):
    return None if value is None else _money_value(value, key)


def _v_choice(*choices):
    def check(key, value):
        if value not in choices:
            raise bad_request(f"{key} must be one of {', '.join(map(str, choices))}")
        return value

    return check


def _v_pattern(pattern, what):
    def check(key, value):
        if not (isinstance(value, str) and re.fullmatch(pattern, value)):
            raise bad_request(f"{key} must be {what}")
        return value

    return check


def _v_text(key, value):
    if not isinstance(value, str) or not value.strip():
        raise bad_request(f"{key} must be a non-empty string")
    return value


def _v_optional_text(key, value):
    if value is not None and not isinstance(value, str):
        raise bad_request(f"{key} must be a string or null")
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


def _normalize(fields, validators):
    out = {}
    for key, value in fields.items():
        if key not in validators:
            allowed = ", ".join(validators)
            raise bad_request(f"unknown or read-only field {key!r}; allowed: {allowed}")
        out[key] = validators[key](key, value)
    return out


def _count_ok(value, high):
    return isinstance(value, int) and 0 <= value <= high


class Mutations:
    """The mutation API of one ``Store`` (``SandboxApp`` exposes every method)."""

    def __init__(self, store):
        self.store = store

    def _now(self):
        return self.store.clock.now()

    # -- transactions ------------------------------------------------------------------------
    def add_transaction(self, bank_account_id, *, tx_id=None, **fields):
        """Add a transaction (any date, e.g. back-dated) with ``updated_at`` = now.
        Fields: date (default today), amount (default "-10.00"), description, status
        (default posted), reference, vendor_name, gl_code, match_type. ``tx_id`` defaults to
        ``tx_<account>_nNNNNNN`` (sorts after the generated ids). Returns the record."""
        store = self.store
        values = {
            "date": store.today,
            "amount": "-10.00",
            "description": "SANDBOX ADDED TRANSACTION",
            "status": "posted",
            "reference": None,
            "vendor_name": None,
            "gl_code": None,
            "match_type": None,
        }
        values.update(_normalize(fields, TX_VALIDATORS))
        with store.lock:
            over = store.overlay
            account = store.find_account(bank_account_id)
            if account is None:
                raise not_found(f"bank account {bank_account_id!r}")
            if tx_id is None:
                seq = over.added_seq.get(bank_account_id, 0) + 1
                over.added_seq[bank_account_id] = seq
                tx_id = f"tx_{bank_account_id[3:]}_n{seq:06d}"
            elif (
                not isinstance(tx_id, str) or not tx_id or store.find_transaction(tx_id) is not None
            ):
                raise conflict(f"transaction id {tx_id!r} is taken or invalid")
            record = dict(
                values,
                id=tx_id,
                bank_account_id=bank_account_id,
                currency=account.record["currency"],
                updated_at=self._now(),
                deleted=False,
            )
            record = {key: record[key] for key in TX_KEYS}
            over.transactions.setdefault(bank_account_id, {})[tx_id] = record
            over.added_home[tx_id] = bank_account_id
            return jsonable(record)

    def get_transaction(self, tx_id):
        """The current record of a transaction (tombstones too), or None."""
        with self.store.lock:
            found = self.store.find_transaction(tx_id)
            return None if found is None else jsonable(found.record)

    def _replace_transaction(self, tx_id, record):
        self.store.overlay.transactions.setdefault(record["bank_account_id"], {})[tx_id] = record
        return jsonable(record)

    def modify_transaction(self, tx_id, **fields):
        """Change a transaction (e.g. status="posted", amount=..., date=...); updated_at = now."""
        values = _normalize(fields, TX_VALIDATORS)
        with self.store.lock:
            found = self.store.find_transaction(tx_id)
            if found is None or found.record["deleted"]:
                raise not_found(f"transaction {tx_id!r}")
            record = dict(found.record, **values, updated_at=self._now())
            return self._replace_transaction(tx_id, record)

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
        with self.store.lock:
            found = self.store.find_transaction(tx_id)
            if found is None or found.record["deleted"]:
                raise not_found(f"transaction {tx_id!r}")
            if found.record["status"] != "pending" and not force:
                raise conflict("only pending transactions vanish upstream (use force)")
            record = dict(found.record, deleted=True, updated_at=self._now())
            return self._replace_transaction(tx_id, record)

    def restore_transaction(self, tx_id):
        """A vanished transaction comes back upstream (aggregators do that): it returns to
        date queries and shows up in ``updated_since`` queries, not deleted."""
        with self.store.lock:
            found = self.store.find_transaction(tx_id)
            if found is None or not found.record["deleted"]:
                raise not_found(f"deleted transaction {tx_id!r}")
            record = dict(found.record, deleted=False, updated_at=self._now())
            return self._replace_transaction(tx_id, record)

    # -- clients -----------------------------------------------------------------------------
    def add_client(self, firm="demo", *, bank_accounts=None, **fields):
        """Add a client to a firm (with ``bank_accounts`` generated accounts, default the
        configured number, each with generated history). Fields: name, code, status."""
        if firm not in FIRMS:
            raise bad_request(f"firm must be one of {', '.join(FIRMS)}")
        values = _normalize(fields, CLIENT_VALIDATORS)
        if bank_accounts is not None and not _count_ok(bank_accounts, MAX_ACCOUNTS_PER_CLIENT):
            raise bad_request(f"bank_accounts must be an integer in [0, {MAX_ACCOUNTS_PER_CLIENT}]")
        store = self.store
        with store.lock:
            over = store.overlay
            index = over.n_clients[firm]
            if index >= MAX_CLIENTS:
                raise conflict("too many clients")
            over.n_clients[firm] = index + 1
            record = dict(store.gen.client(firm, index), **values, updated_at=self._now())
            over.clients[firm][record["id"]] = record
            if bank_accounts is not None:
                over.n_accounts[record["id"]] = bank_accounts
            return jsonable(record)

    def modify_client(self, cid, **fields):
        """Change a client's name, code or status; updated_at = now."""
        values = _normalize(fields, CLIENT_VALIDATORS)
        with self.store.lock:
            client = self.store.find_client(cid)
            if client is None:
                raise not_found(f"client {cid!r}")
            record = dict(client.record, **values, updated_at=self._now())
            self.store.overlay.clients[client.firm][cid] = record
            return jsonable(record)

    def remove_client(self, cid):
        """The client vanishes from listings; its accounts and transactions answer 404."""
        with self.store.lock:
            client = self.store.find_client(cid)
            if client is None:
                raise not_found(f"client {cid!r}")
            self.store.overlay.clients[client.firm][cid] = REMOVED
            return {"id": cid, "removed": True}

    def restore_client(self, cid):
        """A removed client is listed again, with its accounts and transactions."""
        with self.store.lock:
            for overlay in self.store.overlay.clients.values():
                if cid in overlay and overlay[cid] is REMOVED:
                    del overlay[cid]
                    return {"id": cid, "removed": False}
            raise not_found(f"removed client {cid!r}")

    # -- bank accounts -----------------------------------------------------------------------
    def add_bank_account(self, cid, *, transactions=None, **fields):
        """Add a bank account to a client with ``transactions`` generated transactions (default
        the configured number). Fields: name, institution, mask, type, currency,
        current_balance, connection_status, last_refreshed_at."""
        values = _normalize(fields, ACCOUNT_VALIDATORS)
        if transactions is not None and not _count_ok(transactions, MAX_TRANSACTIONS_PER_ACCOUNT):
            raise bad_request(
                f"transactions must be an integer in [0, {MAX_TRANSACTIONS_PER_ACCOUNT}]"
            )
        store = self.store
        with store.lock:
            client = store.find_client(cid)
            if client is None:
                raise not_found(f"client {cid!r}")
            index = store.accounts_of(cid)
            if index >= MAX_ACCOUNTS_PER_CLIENT:
                raise conflict("too many bank accounts")
            store.overlay.n_accounts[cid] = index + 1
            record = dict(store.gen.bank_account(client.firm, client.index, index), **values)
            store.overlay.accounts.setdefault(cid, {})[record["id"]] = record
            if transactions is not None:
                store.overlay.n_transactions[record["id"]] = transactions
            return jsonable(record)

    def modify_bank_account(self, aid, **fields):
        """Change a bank account's fields (name, currency, connection_status, ...)."""
        values = _normalize(fields, ACCOUNT_VALIDATORS)
        with self.store.lock:
            account = self.store.find_account(aid)
            if account is None:
                raise not_found(f"bank account {aid!r}")
            record = dict(account.record, **values)
            self.store.overlay.accounts.setdefault(record["client_id"], {})[aid] = record
            return jsonable(record)

    def remove_bank_account(self, aid):
        """The account vanishes from its client's listing; its transactions answer 404."""
        with self.store.lock:
            account = self.store.find_account(aid)
            if account is None:
                raise not_found(f"bank account {aid!r}")
            self.store.overlay.accounts.setdefault(account.record["client_id"], {})[aid] = REMOVED
            return {"id": aid, "removed": True}
