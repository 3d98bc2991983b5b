"""``SandboxApp``: one sandbox, as a WSGI callable and a Python API for tests.

It composes the parts, each in its own module:

- ``store`` (store.py, paging.py): the generated data set, its overlay, the queries;
- ``mutations`` (mutations.py): the Python API that changes the data set;
- ``auth`` (auth.py): logins, login states and tokens;
- ``faults`` (faults.py): fault injection;
- ``request_stats`` (stats.py): request counters;
- ``http`` (http.py, admin.py): the routing table, the API and admin endpoints.

Every method of the Python API is also available on the app itself (``app.add_transaction``
is ``app.mutations.add_transaction``), as the README documents.
"""

import functools

from .auth import BUILTIN_LOGINS, LOGIN_STATES, Auth
from .config import DEFAULT_LIMIT, MAX_LIMIT, Clock, SandboxConfig
from .errors import SandboxError
from .faults import FAULT_KINDS, FaultSet
from .http import HttpApp
from .mutations import Mutations
from .stats import RequestStats
from .store import Store


def _forward(part, cls, name):
    """A ``SandboxApp`` method calling ``self.<part>.<name>``, with its signature and doc."""
    target = getattr(cls, name)

    @functools.wraps(target)
    def method(self, *args, **kwargs):
        return getattr(getattr(self, part), name)(*args, **kwargs)

    method.__qualname__ = f"SandboxApp.{name}"
    return method


class SandboxApp:
    """A LedgerSync API server as a WSGI callable.

    Data comes from ``DataGenerator`` on the fly; mutations live in a small overlay.
    ``clock`` drives token expiry and the ``updated_at`` of mutations.
    """

    def __init__(self, config=None, *, clock=None):
        self.config = config if config is not None else SandboxConfig()
        self.clock = clock if clock is not None else Clock(self.config.now)
        self.store = Store(self.config, self.clock)
        self.mutations = Mutations(self.store)
        self.auth = Auth(self.config, self.clock)
        self.faults = FaultSet()
        self.request_stats = RequestStats()
        self.http = HttpApp(self)

    # -- state ---------------------------------------------------------------------------
    @property
    def today(self):
        """Last day of the data (a ``date``)."""
        return self.store.today

    @property
    def as_of(self):
        """No generated timestamp is later than this instant."""
        return self.store.as_of

    @property
    def gen(self):
        return self.store.gen

    @property
    def token_ttl(self):
        """Seconds a new token lives (settable at run time)."""
        return self.auth.token_ttl

    @token_ttl.setter
    def token_ttl(self, seconds):
        self.auth.token_ttl = seconds

    def now(self):
        return self.clock.now()

    def reset(self):
        """Back to the freshly started state: data overlay, logins, tokens, faults, stats, clock."""
        self.faults.clear()
        self.clock.reset()
        self.auth.reset()
        self.store.reset()
        self.request_stats.reset()

    @property
    def stats(self):
        """Snapshot of the request counters: per endpoint kind (login, clients, bank_accounts,
        transactions, other, admin), total API requests, by_path, by_status, by_account
        (transactions calls per bank account id), faults_fired."""
        return self.request_stats.snapshot()

    def reset_stats(self):
        self.request_stats.reset()

    def info(self):
        """What ``GET /_sandbox/`` shows: config, data summary, logins, clock, fault kinds."""
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

    # -- WSGI ----------------------------------------------------------------------------
    def __call__(self, environ, start_response):
        return self.http(environ, start_response)

    dispatch = _forward("http", HttpApp, "dispatch")
    release_hangs = _forward("http", HttpApp, "release_hangs")
    arm_hangs = _forward("http", HttpApp, "arm_hangs")

    # -- queries (store.py) --------------------------------------------------------------
    summary = _forward("store", Store, "summary")
    query_clients = _forward("store", Store, "query_clients")
    query_bank_accounts = _forward("store", Store, "query_bank_accounts")
    query_transactions = _forward("store", Store, "query_transactions")

    # -- logins and tokens (auth.py) -----------------------------------------------------
    login = _forward("auth", Auth, "login")
    authenticate = _forward("auth", Auth, "authenticate")
    expire_tokens = _forward("auth", Auth, "expire_tokens")
    revoke_tokens = _forward("auth", Auth, "revoke_tokens")
    set_login = _forward("auth", Auth, "set_login")
    logins = _forward("auth", Auth, "logins")

    # -- mutations (mutations.py) --------------------------------------------------------
    add_transaction = _forward("mutations", Mutations, "add_transaction")
    get_transaction = _forward("mutations", Mutations, "get_transaction")
    modify_transaction = _forward("mutations", Mutations, "modify_transaction")
    post_transaction = _forward("mutations", Mutations, "post_transaction")
    delete_transaction = _forward("mutations", Mutations, "delete_transaction")
    restore_transaction = _forward("mutations", Mutations, "restore_transaction")
    add_client = _forward("mutations", Mutations, "add_client")
    modify_client = _forward("mutations", Mutations, "modify_client")
    remove_client = _forward("mutations", Mutations, "remove_client")
    restore_client = _forward("mutations", Mutations, "restore_client")
    add_bank_account = _forward("mutations", Mutations, "add_bank_account")
    modify_bank_account = _forward("mutations", Mutations, "modify_bank_account")
    remove_bank_account = _forward("mutations", Mutations, "remove_bank_account")


__all__ = [
    "BUILTIN_LOGINS",
    "DEFAULT_LIMIT",
    "LOGIN_STATES",
    "MAX_LIMIT",
    "SandboxApp",
    "SandboxError",
]
