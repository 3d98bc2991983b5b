"""Constants shared by the API client, the sync engine and the models (no Odoo import)."""

# -- LedgerSync API client (ledgersync_connector/api) ----------------------------------

DEFAULT_BASE_URL = "https://api.ledgersync.com"
# Plain http is accepted only for these hosts (the sandbox and local tests).
LOCAL_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})
USER_AGENT = "odoo-ledgersync-connector"

# Seconds. One float per request: Odoo's test harness compares `timeout < 10`.
REQUEST_TIMEOUT = 10.0
# Wall-clock bound of LedgerSyncApiClient.verify() (login + first page of clients).
VERIFY_DEADLINE = 8.0

# Retries of GET requests answered 429/502/503/504 or failing to connect.
MAX_RETRIES = 3
RETRY_STATUSES = frozenset({429, 502, 503, 504})
BACKOFF_FACTOR = 0.5
# No single wait between two attempts exceeds this, whatever Retry-After says.
RETRY_AFTER_CAP = 30.0

# Page sizes ("limit"); the API accepts 1..500 and defaults to 100.
CLIENT_PAGE_SIZE = 100
BANK_ACCOUNT_PAGE_SIZE = 100
TRANSACTION_PAGE_SIZE = 500
MAX_PAGE_SIZE = 500
# One transactions query spans at most this many days, both ends included.
MAX_WINDOW_DAYS = 366

# A token this close to its expiry (seconds) is replaced before it is used.
TOKEN_EXPIRY_MARGIN = 60
# Messages from LedgerSync are cut to this many characters before they reach an error.
SERVER_MESSAGE_MAX_CHARS = 200

# -- Sync engine (ledgersync_connector/sync) ---------------------------------------------

# First sync of a bank account: how many days of history (Settings can change it).
DEFAULT_HISTORY_DAYS = 90
# Incremental syncs ask for changes since the cursor minus this, so that changes that
# reach LedgerSync late, or clocks that disagree, are never missed.
UPDATED_SINCE_OVERLAP_SECONDS = 3600
# A worker holds a bank account this long; a crashed worker's accounts are then free again.
ACCOUNT_LEASE_SECONDS = 600
# A run whose heartbeat is older than this is taken over by the next worker.
RUN_STALE_SECONDS = 900
# One call of the scheduled action works this long, then reports its progress; Odoo calls
# it again at once while work is left (well under Odoo's 120 s worker time limit).
CRON_SLICE_SECONDS = 45
# A worker stops taking bank accounts when less time than this is left in its slice.
CRON_MIN_SECONDS_LEFT = 0
# After this many bank accounts in a row fail with a server error, the run stops.
MAX_CONSECUTIVE_SERVER_ERRORS = 5
