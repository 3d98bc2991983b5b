"""Records returned by the LedgerSync API, as frozen dataclasses with converted types.

``from_api`` builds a record from one JSON object: unknown keys are ignored, a missing
or malformed required key raises ProtocolError. Amounts are Decimal, dates ``date``,
timestamps timezone-aware UTC ``datetime``.
"""

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Generic, TypeVar

from .. import const
from . import parsing as p
from .errors import ProtocolError

T = TypeVar("T")

TRANSACTION_STATUSES = frozenset({"pending", "posted"})


@dataclass(frozen=True)
class Page(Generic[T]):
    """One page of a list: its records and the cursor of the next page (None on the last)."""

    items: tuple[T, ...]
    next_cursor: str | None = None


@dataclass(frozen=True)
class Account:
    """The answer to a login: the firm, its standing, and the access token (kept out of repr)."""

    firm_name: str
    subscription_status: str
    account_status: str
    access_token: str = field(repr=False)
    expires_in: int | None = None

    @classmethod
    def from_api(cls, payload):
        p.require_object(payload, "LedgerSync's answer to the login")
        token = p.read_str(payload, "access_token", "The login answer", required=True)
        if not token.strip():
            raise ProtocolError("The login answer has an empty 'access_token'.")
        account = p.require_object(payload.get("account"), "The login answer's 'account'")
        label = "The login answer's account"
        expires_in = p.read_int(payload, "expires_in", "The login answer")
        if expires_in is not None:
            # Whatever LedgerSync says, a token is reused for at most a day (and 10**12
            # seconds would overflow the date arithmetic).
            expires_in = min(max(expires_in, 0), const.TOKEN_LIFETIME_MAX_SECONDS)
        return cls(
            firm_name=p.read_str(account, "firm_name", label, required=True),
            subscription_status=p.read_str(account, "subscription_status", label, required=True),
            account_status=p.read_str(account, "account_status", label, required=True),
            access_token=token,
            expires_in=expires_in,
        )


@dataclass(frozen=True)
class Client:
    id: str
    name: str
    code: str | None
    status: str
    updated_at: datetime | None

    @classmethod
    def from_api(cls, data, label="A client"):
        p.require_object(data, label)
        ident = p.read_id(data, "id", label)
        label = f"Client {ident!r}"
        return cls(
            id=ident,
            name=p.read_str(data, "name", label, required=True),
            code=p.read_str(data, "code", label),
            status=p.read_str(data, "status", label, required=True),
            updated_at=p.read_datetime(data, "updated_at", label),
        )


@dataclass(frozen=True)
class BankAccount:
    id: str
    client_id: str
    name: str
    institution: str | None
    mask: str | None
    type: str | None
    currency: str | None
    current_balance: Decimal | None
    connection_status: str | None
    last_refreshed_at: datetime | None

    @classmethod
    def from_api(cls, data, label="A bank account", client_id=None):
        """``client_id`` (the client asked about) fills in a missing ``client_id``."""
        p.require_object(data, label)
        ident = p.read_id(data, "id", label)
        label = f"Bank account {ident!r}"
        if client_id is not None and data.get("client_id") is None:
            owner = str(client_id)
        else:
            owner = p.read_id(data, "client_id", label)
        return cls(
            id=ident,
            client_id=owner,
            name=p.read_str(data, "name", label, required=True),
            institution=p.read_str(data, "institution", label),
            mask=p.read_str(data, "mask", label),
            type=p.read_str(data, "type", label),
            currency=p.read_str(data, "currency", label),
            current_balance=p.read_decimal(data, "current_balance", label),
            connection_status=p.read_str(data, "connection_status", label),
            last_refreshed_at=p.read_datetime(data, "last_refreshed_at", label),
        )


@dataclass(frozen=True)
class Transaction:
    id: str
    bank_account_id: str
    date: date
    description: str
    amount: Decimal
    currency: str
    status: str
    reference: str | None
    vendor_name: str | None
    gl_code: str | None
    match_type: str | None
    updated_at: datetime
    deleted: bool = False

    @classmethod
    def from_api(cls, data, label="A transaction", bank_account_id=None):
        """``bank_account_id`` (the account asked about) fills in a missing one."""
        p.require_object(data, label)
        ident = p.read_id(data, "id", label)
        label = f"Transaction {ident!r}"
        if bank_account_id is not None and data.get("bank_account_id") is None:
            account_id = str(bank_account_id)
        else:
            account_id = p.read_id(data, "bank_account_id", label)
        return cls(
            id=ident,
            bank_account_id=account_id,
            date=p.read_date(data, "date", label, required=True),
            description=p.read_str(data, "description", label) or "",
            amount=p.read_decimal(data, "amount", label, required=True),
            currency=p.read_str(data, "currency", label, required=True),
            status=p.read_choice(data, "status", label, TRANSACTION_STATUSES),
            reference=p.read_str(data, "reference", label),
            vendor_name=p.read_str(data, "vendor_name", label),
            gl_code=p.read_str(data, "gl_code", label),
            match_type=p.read_str(data, "match_type", label),
            updated_at=p.read_datetime(data, "updated_at", label, required=True),
            deleted=p.read_bool(data, "deleted", label),
        )
