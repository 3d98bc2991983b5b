"""Deterministic, on-the-fly generation of the sandbox data set.

Nothing here holds transactions: record ``i`` of an account is a pure function of
(seed, account id, i). Dates never decrease with ``i`` and ids are zero-padded, so
id order == index order == date order and date or ``updated_since`` filters become
index ranges found by binary search (a few dozen hashes, whatever the account size).
"""

import hashlib
import random
from datetime import datetime, time, timedelta, timezone
from decimal import Decimal
from typing import NamedTuple


class Firm(NamedTuple):
    letter: str  # the firm's letter in every id: cl_<letter>_0001, ba_<letter>_0001_01...
    name: str  # the login answer's firm_name


# firm key -> Firm
FIRMS = {
    "demo": Firm("d", "Demo Accounting LLP"),
    "other": Firm("o", "Other Partners CPA"),
    "empty": Firm("e", "Empty Ledger Bookkeeping"),
}
FIRM_BY_LETTER = {firm.letter: key for key, firm in FIRMS.items()}

CLIENT_NAMES = (
    "Acme Plumbing",
    "Bluebird Bakery",
    "Cedar Dental Group",
    "Summit Landscaping",
    "Harbor Freight Logistics",
    "Maple Street Cafe",
    "Northwind Traders",
    "Pinecrest Veterinary",
    "Riverbend Construction",
    "Sunrise Yoga Studio",
    "Golden Gate Realty",
    "Ironwood Fitness",
    "Lakeside Pediatrics",
    "Brightside Electric",
    "Copperleaf Design",
    "Evergreen Home Care",
    "Foxglove Florist",
    "Granite Peak Roofing",
    "Hillside Auto Repair",
    "Juniper Law Office",
    "Keystone HVAC",
    "Lighthouse Marketing",
    "Meadowbrook Farms",
    "Oak & Anchor Brewing",
    "Prairie Wind Solar",
    "Quarry Stone Masonry",
    "Redwood Cabinetry",
    "Silver Lining Events",
    "Tidewater Marine Supply",
    "Willow Creek Dentistry",
)
CLIENT_SUFFIXES = (" LLC", " Inc.", "", " & Co.", " LLC", " Ltd.")

# label, type; cycled by account number
ACCOUNT_KINDS = (
    ("Operating Checking", "checking"),
    ("Business Credit Card", "credit_card"),
    ("Business Savings", "savings"),
    ("Payroll Checking", "checking"),
    ("PayPal Balance", "other"),
)
BANKS = (
    "Chase",
    "Bank of America",
    "Wells Fargo",
    "Citibank",
    "U.S. Bank",
    "PNC Bank",
    "Capital One",
    "TD Bank",
)
CARD_ISSUERS = ("American Express", "Chase", "Capital One", "Citibank")

# vendor name, description ({n}: store number, {c}: short code), GL code, min cents, max cents
PURCHASES = (
    ("Staples", "POS PURCHASE STAPLES #{n} BOSTON MA", "6000", 1500, 45000),
    ("Amazon Web Services", "AWS EMEA AWS.AMAZON.CO WA", "6150", 2000, 250000),
    ("Shell", "SHELL OIL {n} HOUSTON TX", "6300", 2500, 12000),
    ("Delta Air Lines", "DELTA AIR {n} ATLANTA GA", "6400", 15000, 120000),
    ("Comcast Business", "COMCAST BUSINESS 800-391-3000", "6210", 8000, 30000),
    ("Pacific Gas & Electric", "PGANDE WEB ONLINE {c}", "6220", 10000, 90000),
    ("ADP", "ADP PAYROLL FEES ADP - FEES", "6610", 5000, 40000),
    ("Gusto", "GUSTO NET PAY {c}", "6600", 200000, 2500000),
    (
        "Riverside Properties LLC",
        "ONLINE TRANSFER RIVERSIDE PROPERTIES RENT",
        "6100",
        150000,
        600000,
    ),
    ("Uber", "UBER TRIP HELP.UBER.COM", "6410", 900, 8500),
    ("Starbucks", "STARBUCKS STORE {n} SEATTLE WA", "6450", 300, 4500),
    ("The Home Depot", "THE HOME DEPOT #{n} DENVER CO", "6500", 1200, 80000),
    ("Intuit", "INTUIT *QBOOKS ONLINE", "6150", 3000, 20000),
    ("FedEx", "FEDEX {n} MEMPHIS TN", "6350", 1500, 25000),
    ("Verizon Wireless", "VZWRLSS*APOCC VISE {c}", "6200", 6000, 40000),
    ("State Farm", "STATE FARM RO 27 SFPP", "6250", 20000, 150000),
    ("Office Depot", "OFFICE DEPOT #{n}", "6000", 1000, 30000),
    ("Google Workspace", "GOOGLE *GSUITE_{c}", "6150", 1200, 36000),
)
DEPOSITS = (
    ("Stripe", "STRIPE TRANSFER ST-{c}", "4000", 5000, 1500000),
    (None, "MOBILE DEPOSIT REF {n}", "4000", 10000, 500000),
    ("Square", "SQUARE INC DEPOSIT {c}", "4000", 2000, 300000),
    (None, "DEPOSIT BRANCH {n}", "4000", 5000, 800000),
)
CHECK_PAYEES = ("Acme Supply Co", "City Water Department", None, "Lopez Janitorial", None)
MATCH_TYPES = ("rule", "rule", "rule", "ai", "ai", "semantic", None)
CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
CENT = Decimal("0.01")


def client_id(letter, index):
    return f"cl_{letter}_{index + 1:04d}"


def account_id(client_ident, index):
    return f"ba_{client_ident[3:]}_{index + 1:02d}"


def transaction_id(account_ident, index):
    return f"tx_{account_ident[3:]}_{index + 1:07d}"


def money(cents):
    return str((Decimal(cents) / 100).quantize(CENT))


class DataGenerator:
    """Pure functions from (seed, ids, indexes) to records. Thread-safe (no state)."""

    def __init__(self, config, today, as_of):
        self.seed = config.seed
        self.today = today
        self.history_days = config.history_days
        self.pending_days = config.pending_days
        self.as_of = as_of  # no generated timestamp is later than this
        self.first_day = self.today - timedelta(days=self.history_days - 1)
        self.pending_from = (
            self.today - timedelta(days=self.pending_days - 1) if self.pending_days else None
        )
        self._names = {}
        for firm in FIRMS:
            names = list(CLIENT_NAMES)
            random.Random(f"{self.seed}|{firm}|names").shuffle(names)
            self._names[firm] = names

    # -- hashing ---------------------------------------------------------------------------
    def _digest(self, *parts):
        key = "|".join(str(part) for part in (self.seed, *parts)).encode()
        return hashlib.blake2b(key, digest_size=32).digest()

    @staticmethod
    def _word(digest, n):
        """The n-th 32-bit word of a digest (n in 0..7)."""
        return int.from_bytes(digest[4 * n : 4 * n + 4], "big")

    @classmethod
    def _unit(cls, digest, n):
        return cls._word(digest, n) / 4294967296.0

    # -- clients -----------------------------------------------------------------------------
    def client(self, firm, index):
        letter = FIRMS[firm].letter
        ident = client_id(letter, index)
        digest = self._digest(ident)
        names = self._names[firm]
        name = names[index % len(names)]
        if index >= len(names):
            name += f" {index // len(names) + 1}"
        initials = "".join(word[0] for word in name.split() if word[0].isalpha()).upper()[:4]
        name += CLIENT_SUFFIXES[self._word(digest, 0) % len(CLIENT_SUFFIXES)]
        code = None if self._word(digest, 1) % 10 == 0 else f"{initials}{index + 1:03d}"
        updated = self.as_of - timedelta(
            days=1 + self._word(digest, 2) % 300, seconds=self._word(digest, 3) % 86400
        )
        return {
            "id": ident,
            "name": name,
            "code": code,
            "status": "inactive" if index % 7 == 6 else "active",
            "updated_at": updated,
        }

    # -- bank accounts -----------------------------------------------------------------------
    def bank_account(self, firm, client_index, index):
        cid = client_id(FIRMS[firm].letter, client_index)
        ident = account_id(cid, index)
        digest = self._digest(ident)
        label, kind = ACCOUNT_KINDS[index % len(ACCOUNT_KINDS)]
        if index >= len(ACCOUNT_KINDS):
            label += f" {index // len(ACCOUNT_KINDS) + 1}"
        currency = "USD"
        if kind == "credit_card":
            institution = CARD_ISSUERS[self._word(digest, 0) % len(CARD_ISSUERS)]
            balance = -(20000 + self._word(digest, 1) % 1500000)
        elif kind == "other":
            institution = "PayPal"
            balance = 10000 + self._word(digest, 1) % 2000000
        elif kind == "savings":
            institution = BANKS[self._word(digest, 0) % len(BANKS)]
            balance = 1000000 + self._word(digest, 1) % 50000000
        else:
            institution = BANKS[self._word(digest, 0) % len(BANKS)]
            balance = 200000 + self._word(digest, 1) % 25000000
        status = "ok"
        refreshed = self.as_of - timedelta(minutes=self._word(digest, 2) % 720)
        if firm == "demo" and client_index == 0 and index == 1:
            # one account in euros, for variety
            label, kind, institution, currency = (
                "EUR Operating Account",
                "checking",
                "Deutsche Bank",
                "EUR",
            )
            balance = 500000 + self._word(digest, 1) % 9000000
        if firm == "demo" and client_index == 1 and index == 0:
            # one account whose bank connection is broken
            status = "broken"
            refreshed = self.as_of - timedelta(days=9, minutes=self._word(digest, 2) % 720)
        return {
            "id": ident,
            "client_id": cid,
            "name": label,
            "institution": institution,
            "mask": f"{self._word(digest, 3) % 10000:04d}",
            "type": kind,
            "currency": currency,
            "current_balance": money(balance),
            "connection_status": status,
            "last_refreshed_at": refreshed,
        }

    # -- transactions ------------------------------------------------------------------------
    def day_offset(self, account_ident, index, count):
        """Day number (0 = first_day) of transaction ``index``; never decreases with index."""
        jitter = self._word(self._digest(account_ident, index), 0) % self.history_days
        return (index * self.history_days + jitter) // count

    def tx_date(self, account_ident, index, count):
        return self.first_day + timedelta(days=self.day_offset(account_ident, index, count))

    def base_updated_at(self, day):
        """``updated_at`` of an untouched transaction of ``day``: next day 06:00 UTC, <= as_of."""
        stamp = datetime.combine(day + timedelta(days=1), time(6, 0), tzinfo=timezone.utc)
        return min(stamp, self.as_of)

    def first_index_on_or_after(self, account_ident, count, day):
        """Smallest index whose date is >= ``day`` (``count`` if none)."""
        target = (day - self.first_day).days
        low, high = 0, count
        while low < high:
            mid = (low + high) // 2
            if self.day_offset(account_ident, mid, count) < target:
                low = mid + 1
            else:
                high = mid
        return low

    def first_index_updated_after(self, account_ident, count, since):
        """Smallest index whose base ``updated_at`` is > ``since`` (``count`` if none)."""
        if since >= self.as_of:
            return count
        low, high = 0, count
        while low < high:
            mid = (low + high) // 2
            if self.base_updated_at(self.tx_date(account_ident, mid, count)) <= since:
                low = mid + 1
            else:
                high = mid
        return low

    def transaction(self, account, index, count):
        """Transaction ``index`` of ``account`` (bank account record) holding ``count`` of them."""
        ident = account["id"]
        digest = self._digest(ident, index)
        day = self.first_day + timedelta(
            days=(index * self.history_days + self._word(digest, 0) % self.history_days) // count
        )
        pick = self._unit(digest, 1)
        kind = account["type"]
        reference = vendor = gl_code = None
        store = 100 + self._word(digest, 3) % 9000
        code = "".join(CODE_ALPHABET[b % len(CODE_ALPHABET)] for b in digest[24:30])

        def choose(table, sign):
            name, text, gl, low, high = table[self._word(digest, 2) % len(table)]
            cents = low + int((high - low) * self._unit(digest, 4) ** 2)
            return name, text.format(n=store, c=code), gl, sign * cents

        if kind == "savings":
            if pick < 0.35:
                vendor, description, gl_code, cents = (
                    None,
                    "INTEREST PAYMENT",
                    "4900",
                    1 + self._word(digest, 4) % 4000,
                )
            elif pick < 0.6:
                vendor, description, gl_code, cents = choose(DEPOSITS, 1)
            else:
                description = f"ONLINE TRANSFER TO CHK ...{store % 10000:04d} REF #{code}"
                cents = -(5000 + self._word(digest, 4) % 2000000)
        elif kind == "credit_card":
            if pick < 0.08:
                description, cents = (
                    "PAYMENT THANK YOU - WEB",
                    10000 + self._word(digest, 4) % 1500000,
                )
            else:
                vendor, description, gl_code, cents = choose(PURCHASES, -1)
        elif kind == "other":
            if pick < 0.2:
                vendor, description, gl_code, cents = choose(DEPOSITS, 1)
                description = "PAYPAL TRANSFER " + description
            else:
                vendor, description, gl_code, cents = choose(PURCHASES, -1)
                description = "PAYPAL *" + description
        elif pick < 0.12:
            vendor, description, gl_code, cents = choose(DEPOSITS, 1)
        elif pick < 0.2:
            reference = str(1001 + index)
            description = f"CHECK #{reference}"
            vendor = CHECK_PAYEES[self._word(digest, 2) % len(CHECK_PAYEES)]
            gl_code = "6900" if vendor else None
            cents = -(2500 + int(400000 * self._unit(digest, 4) ** 2))
        else:
            vendor, description, gl_code, cents = choose(PURCHASES, -1)

        match_type = None
        if vendor is not None:
            roll = self._word(digest, 5) % 100
            if roll < 15:  # the bank feed did not name the vendor
                vendor = gl_code = None
            else:
                match_type = MATCH_TYPES[self._word(digest, 6) % len(MATCH_TYPES)]
                if match_type is None or roll < 25:
                    gl_code = None
        else:
            gl_code = gl_code if self._word(digest, 5) % 2 else None
        pending = self.pending_from is not None and day >= self.pending_from
        return {
            "id": transaction_id(ident, index),
            "bank_account_id": ident,
            "date": day,
            "description": description,
            "amount": money(cents),
            "currency": account["currency"],
            "status": "pending" if pending else "posted",
            "reference": reference,
            "vendor_name": vendor,
            "gl_code": gl_code,
            "match_type": match_type,
            "updated_at": self.base_updated_at(day),
            "deleted": False,
        }


def today_utc(clock_now):
    return clock_now.astimezone(timezone.utc).date()


def start_of_day(day):
    return datetime.combine(day, time(0, 0), tzinfo=timezone.utc)
