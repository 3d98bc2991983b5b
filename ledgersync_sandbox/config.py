"""Configuration, limits and the controllable clock of the LedgerSync sandbox.

Every limit of the sandbox lives here: page sizes, the date window, token lifetime and
the largest data set ids can number.
"""

import threading
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone

# -- limits of the API contract (docs/ledgersync-api.md) ---------------------------------
DEFAULT_LIMIT = 100  # page size of a listing called without `limit`
MAX_LIMIT = 500  # largest `limit` a listing accepts (1..MAX_LIMIT)
DEFAULT_MAX_WINDOW_DAYS = 366  # longest start_date..end_date span, both days included
DEFAULT_TOKEN_TTL = 3600  # seconds an access token lives (`expires_in`)

# -- size limits of the data set (the width of the zero-padded id numbers) -----------------
MAX_CLIENTS = 9999  # ids carry 4 digits for the client number
MAX_ACCOUNTS_PER_CLIENT = 99  # 2 digits
MAX_TRANSACTIONS_PER_ACCOUNT = 9_999_999  # 7 digits


def parse_date(value):
    """A ``date`` from a ``date`` or a strict ``YYYY-MM-DD`` string (``None`` stays None)."""
    if value is None or (isinstance(value, date) and not isinstance(value, datetime)):
        return value
    if isinstance(value, datetime):
        return value.date()
    text = str(value).strip()
    if len(text) != 10 or text[4] != "-" or text[7] != "-":
        raise ValueError(f"not a YYYY-MM-DD date: {value!r}")
    return date.fromisoformat(text)


def parse_datetime(value):
    """Return an aware UTC ``datetime`` from a datetime or an ISO 8601 string (naive = UTC)."""
    if value is None:
        return None
    if isinstance(value, datetime):
        result = value
    elif isinstance(value, date):
        result = datetime(value.year, value.month, value.day)
    else:
        text = str(value).strip()
        if not text or not text[:4].isdigit():
            raise ValueError(f"not an ISO 8601 timestamp: {value!r}")
        if text.endswith(("Z", "z")):
            text = text[:-1] + "+00:00"
        result = datetime.fromisoformat(text)
    if result.tzinfo is None:
        return result.replace(tzinfo=timezone.utc)
    return result.astimezone(timezone.utc)


def format_datetime(value):
    """ISO 8601 UTC with a ``Z``; microseconds only when not zero."""
    return value.astimezone(timezone.utc).replace(tzinfo=None).isoformat() + "Z"


@dataclass
class SandboxConfig:
    """Size and behaviour of one sandbox data set.

    The data set is a pure function of these values (``now`` aside), so two apps built
    from equal configs serve identical data.
    """

    clients: int = 6  # clients of the demo firm
    other_clients: int = 2  # clients of the second firm (other@ledgersync.test)
    accounts_per_client: int = 3
    transactions_per_account: int = 200
    history_days: int = 400  # transactions are spread over the last N days up to `today`
    pending_days: int = 3  # transactions of the last N days (today included) are pending
    seed: int = 42
    today: object = None  # date or "YYYY-MM-DD"; default: the clock's UTC date at start
    now: object = None  # datetime/ISO string: freeze the clock there (tests); default real time
    token_ttl: int = DEFAULT_TOKEN_TTL  # seconds, the login's `expires_in`
    lockout_after: int = 0  # lock a login after N wrong passwords in a row (0 = never)
    max_window_days: int = DEFAULT_MAX_WINDOW_DAYS  # longest start..end span, both days counted
    password: str = "demo-password"  # password of every built-in login
    admin: bool = True  # serve the /_sandbox/ admin endpoints

    def __post_init__(self):
        self.today = parse_date(self.today)
        self.now = parse_datetime(self.now)
        checks = (
            ("clients", self.clients, 0, MAX_CLIENTS),
            ("other_clients", self.other_clients, 0, MAX_CLIENTS),
            ("accounts_per_client", self.accounts_per_client, 0, MAX_ACCOUNTS_PER_CLIENT),
            (
                "transactions_per_account",
                self.transactions_per_account,
                0,
                MAX_TRANSACTIONS_PER_ACCOUNT,
            ),
            ("history_days", self.history_days, 1, 100_000),
            ("pending_days", self.pending_days, 0, 100_000),
            ("token_ttl", self.token_ttl, 1, 10**9),
            ("lockout_after", self.lockout_after, 0, 10**9),
            ("max_window_days", self.max_window_days, 1, 100_000),
        )
        for name, value, low, high in checks:
            if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
                raise ValueError(f"{name} must be an integer in [{low}, {high}], got {value!r}")
        if not isinstance(self.seed, int):
            raise ValueError("seed must be an integer")


class Clock:
    """The sandbox's notion of "now" (aware UTC).

    ``Clock()`` follows real time; ``Clock(start)`` is frozen at ``start``. Either way
    ``advance()`` moves it forward and ``set()`` freezes it at an instant, so tests can
    expire tokens and order mutations without sleeping.
    """

    def __init__(self, start=None):
        self._start = parse_datetime(start)
        self._lock = threading.Lock()
        self.reset()

    def reset(self):
        """Back to the state the clock was created in."""
        with self._lock:
            self._frozen = self._start
            self._offset = timedelta(0)

    def now(self):
        with self._lock:
            if self._frozen is not None:
                return self._frozen
            return datetime.now(timezone.utc) + self._offset

    def advance(self, seconds=0.0, **kwargs):
        """Move the clock forward (``seconds`` and/or ``timedelta`` keywords); returns now."""
        delta = timedelta(seconds=seconds, **kwargs)
        with self._lock:
            if self._frozen is not None:
                self._frozen += delta
            else:
                self._offset += delta
        return self.now()

    def set(self, when):
        """Freeze the clock at ``when`` (datetime or ISO string)."""
        with self._lock:
            self._frozen = parse_datetime(when)
            self._offset = timedelta(0)

    def unfreeze(self):
        """Follow real time again."""
        with self._lock:
            self._frozen = None
            self._offset = timedelta(0)

    @property
    def frozen(self):
        return self._frozen is not None
