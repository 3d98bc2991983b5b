"""Constants shared by the API client, the sync engine and the models (no Odoo import)."""

# -- LedgerSync API client (ledgersync_connector/api) ----------------------------------

DEFAULT_BASE_URL = "https://api.ledgersync.com"
# Hosts that the base URL may name although they are not public, and over plain http:
# the default of the Odoo option ``ledgersync_allowed_hosts`` (the sandbox, local tests).
# Any other host must be a public name or address, over https.
DEFAULT_ALLOWED_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})
USER_AGENT = "odoo-ledgersync-connector"

# Seconds. One float per request: Odoo's test harness compares `timeout < 10`.
REQUEST_TIMEOUT = 10.0
# Each HTTP exchange (connect, request, headers, body) ends within REQUEST_TIMEOUT seconds
# on the monotonic clock, however slowly the server trickles its answer or its name
# resolves. Wall-clock bound of LedgerSyncApiClient.verify() (login + first page of
# clients), all exchanges together.
VERIFY_DEADLINE = 8.0

# Largest answer read, in bytes (after decompression). A page of 500 transactions is about
# 155 KB; a larger answer, or a Content-Length announcing one, is a protocol error.
MAX_RESPONSE_BYTES = 4 * 1024 * 1024
# Bytes read from the network at a time (the deadline is checked between two reads).
RESPONSE_CHUNK_BYTES = 64 * 1024

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
# A query (one listing, or one date window of transactions) that has not ended after this
# many pages is a protocol error: 2,000 pages hold 1,000,000 transactions of one bank
# account at 500 a page, or 200,000 clients at 100 a page.
MAX_PAGES_PER_QUERY = 2000

# Amounts and balances: at most this many digits before and after the decimal point
# (the largest plausible bank amount, and finer than any currency); beyond, the record is
# a protocol error (Decimal arithmetic on "1e999999999" would overflow).
AMOUNT_MAX_INTEGER_DIGITS = 15
AMOUNT_MAX_DECIMALS = 6

# A token this close to its expiry (seconds) is replaced before it is used.
TOKEN_EXPIRY_MARGIN = 60
# A login's expires_in is clamped to 0..this many seconds (one day).
TOKEN_LIFETIME_MAX_SECONDS = 86400
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
# A first phase whose worker's database session has done nothing for this long is taken
# over: that worker's call ended (its connection went back to Odoo's pool). A working
# worker is never idle that long: Odoo ends a cron call after limit_time_real_cron (120 s).
IDLE_WORKER_SECONDS = 120
# Web clients hear of a sync's progress at most this often (seconds), and at once of a
# run's end or a change of the connection's status (models/ir_websocket.py).
LIVE_UPDATE_SECONDS = 2.0
# One call of the scheduled action works at most this long, and never longer than Odoo's
# own time for the job (what ir.cron._commit_progress returns: about 10 s from the job's
# start), then reports its progress; Odoo calls it again while work is left.
CRON_SLICE_SECONDS = 45
# Under Odoo's time limit of a cron call (limit_time_real_cron, else limit_time_real), a
# call's slice is at most this share of it, and a page loop's overrun this share: with
# --workers, one watchdog covers every job that the cron worker runs in one pass.
CRON_SLICE_SHARE_OF_LIMIT = 0.4
CRON_OVERRUN_SHARE_OF_LIMIT = 0.2
# A worker stops taking work (bank accounts, clients, history windows) once this little
# time is left in its slice.
CRON_MIN_SECONDS_LEFT = 0
# A page loop already started (one client's bank accounts, one date window of a bank
# account's history, one incremental query) stops between two pages once the slice is
# overrun by this many seconds (or the share of Odoo's limit above, if smaller); the bank
# account then gets the error "out_of_time" and the next run goes on from where it is.
CRON_PAGE_LOOP_OVERRUN_SECONDS = 40
# After this many bank accounts in a row fail with a server error, the run stops.
MAX_CONSECUTIVE_SERVER_ERRORS = 5

# -- Load Transactions (on demand, a date range of one bank account) ----------------------

# A range is loaded in windows of at most this many days: the resume point and the unit of
# its progress. A range of at most one window loads at once, while the person waits; a
# longer one in the background (the sync's scheduled action).
RANGE_WINDOW_DAYS = 31
# The longest range one load may ask for.
RANGE_MAX_DAYS = 366

# -- Export to bank statements ------------------------------------------------------------

# An export of at most this many lines is built while the accountant waits (Odoo creates
# 35 to 80 statement lines a second, bench_statement_export.py: a few seconds); a bigger
# one in the background, by its scheduled action, with its progress shown.
STATEMENT_EXPORT_AT_ONCE_LINES = 200
# Statement lines created per unit of work in the background: each is one commit, the
# point a crash resumes from, and a step of the progress.
STATEMENT_EXPORT_CHUNK_LINES = 200
# A browser request stops building lines after this many seconds (the rest goes to the
# background), so that it never waits much longer than about 10 s.
STATEMENT_EXPORT_REQUEST_SECONDS = 6.0
# ... checked after each chunk of this many lines.
STATEMENT_EXPORT_REQUEST_CHUNK_LINES = 50
# Unexpected errors in a row after which a background export stops as failed (a crash
# is retried: its unit of work was rolled back).
STATEMENT_EXPORT_MAX_ATTEMPTS = 3
