"""Benchmark of the sync engine (issue 4): prints one report, is not a test.

    python bench/bench_sync.py [--quick] [--repeat 3] [--profile] [--main-only]
                               [--no-crash] [--keep-dbs] [--reuse-template]

Against the LedgerSync sandbox (a separate process, real HTTP on 127.0.0.1) and real
Odoo 19 + PostgreSQL, in one run:

- initial sync of 20 clients x 5 bank accounts x 1,000 transactions (100k) through
  ``ledgersync.connection._sync("initial", commit=ir.cron._commit_progress)``, in a child
  process of its own, ``--repeat`` times on fresh databases (the median is reported):
  transactions per second, and where the time goes (SQL and commits as measured, the
  rest -- HTTP, JSON, parsing, engine, ORM -- by stack sampling) with the CPU used by the
  Odoo process, its PostgreSQL backend and the sandbox;
- a raw ``psycopg2.extras.execute_values`` INSERT of the same rows in the same run: the
  rows the engine wrote are read back, the table is emptied, and they are inserted again
  into the real ``ledgersync_transaction`` table (same columns, same statement, pages of
  500, a commit per page: the engine's own durability) -> rows per second, and the ratio;
  a scratch ``CREATE TEMP TABLE ... (LIKE ledgersync_transaction INCLUDING ALL)`` (no
  foreign keys, no WAL) is timed too, as a reference: the fastest any writer could go;
- SQL queries per page of 500 (Odoo's statement hooks: the statements of each page, up
  to the one that adds the page to the run's counters, and everything of the transactions
  phase divided by its pages) and API calls per bank account (sandbox counters and
  ``run.api_calls``);
- a no-op incremental sync right after: API calls and milliseconds per bank account;
- peak memory (``ru_maxrss``) of the Odoo-side process for 10k, 100k and 200k
  transactions, each in a fresh child process on a fresh database;
- a crash test: the initial sync in a child process killed with SIGKILL once some pages
  are committed, then a new process runs the sync again; rows = expected, duplicates = 0.

``--quick`` divides the sizes by 10 (2k / 10k / 20k). Databases: one installed template
(``ledgersync_bench_tpl``) copied per scenario, all dropped at the end unless --keep-dbs.

Everything is measured at the boundaries of the addon, whose code is not patched: the
``commit`` callable handed to ``_sync``, Odoo's per-thread statement hooks, the sandbox's
request counters (``/_sandbox/stats``), the run's own counters, PostgreSQL, and a
SIGALRM stack sampler (see Probe and StackSampler).
"""

import argparse
import cProfile
import io
import json
import os
import pstats
import re
import signal
import statistics
import sys
import threading
import time
from pathlib import Path

import _benchlib as lib

lib.ensure_venv()

CLIENTS = 20
ACCOUNTS_PER_CLIENT = 5
SANDBOX_HISTORY_DAYS = 80
# Covers the sandbox's 80 days (+ margin): one date window per bank account.
CONNECTION_HISTORY_DAYS = 90
# transactions per bank account, by label; the middle one is the main run.
SIZES = {"10k": 100, "100k": 1000, "200k": 2000}
QUICK_SIZES = {"2k": 20, "10k": 100, "20k": 200}

GOAL_RATIO = 0.5
GOAL_MEMORY_MB = 50
GOAL_QUERIES_PER_PAGE = 5
GOAL_NOOP_CALLS = 1
GOAL_NOOP_MS = 20
PAGE_ROWS = 500


# =========================================================================== child side


# Where a stack sample's time goes: the innermost frame of the Odoo-side thread that
# matches one of these (part of the file path, function names or None for any), in this
# order. The addon is matched by its full path: Odoo's own may hold "ledgersync_connector".
ADDON_DIR = f"{lib.REPO}/ledgersync_connector/"
SAMPLE_CATEGORIES = (
    ("mogrify", "/odoo/sql_db.py", ("mogrify", "execute_values")),
    ("sql", "/odoo/sql_db.py", None),
    ("mogrify", "/psycopg2/extras.py", None),
    ("decode", "/json/", None),
    *(
        ("http", part, None)
        for part in ("/requests/", "/urllib3/", "/http/client.py", "/socket.py", "/email/")
    ),
    ("parse", ADDON_DIR + "api/", None),
    ("engine", ADDON_DIR, None),
    ("orm", "/odoo/", None),
)
SAMPLED = ("http", "decode", "parse", "engine", "orm", "mogrify", "other")
SAMPLE_INTERVAL = 0.005


class StackSampler:
    """Where the wall time of the main thread goes, without touching the code it runs: a
    wall-clock timer (``signal.setitimer(ITIMER_REAL)``) interrupts it every few
    milliseconds; Python runs the SIGALRM handler in the main thread at its next bytecode,
    with the frame that was running, and the handler adds the time since the previous
    sample to the category of the innermost frame it recognises (SAMPLE_CATEGORIES: by
    library and package). A sampling thread would not do: it gets the GIL only when the
    main thread releases it, around I/O, and would see little else."""

    def __init__(self, interval=SAMPLE_INTERVAL):
        self.interval = interval
        self.weights = {}  # category -> sampled seconds
        self.samples = 0
        self.state = None  # set by the probe: "commit" while the commit callable runs
        self._categories = {}  # code object -> category or None
        self._last = None
        self._previous_handler = None

    def start(self):
        self._last = time.perf_counter()
        self._previous_handler = signal.signal(signal.SIGALRM, self._sample)
        signal.setitimer(signal.ITIMER_REAL, self.interval, self.interval)
        return self

    def stop(self):
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, self._previous_handler or signal.SIG_DFL)

    def _sample(self, _signum, frame):
        now = time.perf_counter()
        category = self.state or self.classify(frame)
        self.weights[category] = self.weights.get(category, 0.0) + now - self._last
        self.samples += 1
        self._last = now

    def classify(self, frame):
        while frame is not None:
            code = frame.f_code
            if code not in self._categories:
                self._categories[code] = self._category_of(code)
            if self._categories[code]:
                return self._categories[code]
            frame = frame.f_back
        return "other"

    @staticmethod
    def _category_of(code):
        for category, part, names in SAMPLE_CATEGORIES:
            if part in code.co_filename and (names is None or code.co_name in names):
                return category
        return None


# The statements that delimit pages and phases (see Probe).
TRANSACTION_TABLE = re.compile(r'\b(FROM|INTO|UPDATE)\s+"?ledgersync_transaction"?(\s|$)')
RUN_COUNTERS = re.compile(r'^UPDATE "?ledgersync_sync_worker"? SET .*"pages" = COALESCE')
RUN_COUNTER = re.compile(r'"(\w+)" = COALESCE\("\w+", 0\) \+ %s')
ROW_COUNTERS = ("created_count", "updated_count", "unchanged_count", "archived_count")
# A claim sets a lease from now on; a release (ORM write) sets it to NULL.
LEASE_CLAIM = re.compile(
    r'^UPDATE "?ledgersync_bank_account"? SET "?sync_lease_until"? = \(now\(\)'
)


class Probe:
    """Instrumentation of one ``_sync`` at its boundaries; the addon's code is untouched.

    - SQL: Odoo's per-thread statement hooks (``threading.current_thread().query_hooks``,
      which ``odoo.sql_db.Cursor.execute`` calls after every statement with its text,
      parameters and duration, as Odoo's own profiler uses them);
    - commits: the ``commit`` callable handed to ``_sync`` (the engine calls it after every
      unit of work);
    - pages: the engine adds each page to its worker's counters of the run (``pages`` + 1
      and the rows created, updated, unchanged and archived, in one
      ``UPDATE ledgersync_sync_worker``);
      that statement closes the page, which opened with the first statement on
      ``ledgersync_transaction`` after the previous page or commit;
    - phases: the first lease claim of a bank account starts the transactions phase (from
      the end of the commit before it), and a claim that finds no account left ends it
      (at the end of the commit after it); the structure phase runs from the end of the
      first commit of ``_sync`` to the start of the transactions phase;
    - the split of the remaining (Python) time: a StackSampler.
    """

    def __init__(self):
        self.thread = threading.current_thread()
        self.sampler = None
        self.reset()

    def reset(self):
        self.totals = dict.fromkeys(
            (
                "queries",
                "sql",
                "commit_queries",
                "commit_sql",
                "page_sql",
                "commit",
                "commits",
                "pages",
            ),
            0,
        )
        self.pages = []  # (rows, queries, seconds, sql seconds)
        self.page = None  # the open page: [queries, sql seconds, start]
        self.phases = {}
        self.current_phase = None
        self.phase_start = None
        self.last_commit_end = None
        self.ending = False
        self.in_commit = False
        self.statements = {}  # phase -> {statement start: [count, seconds]}
        self.thread.query_hooks = [self.on_query]

    def start(self):
        self.sampler = StackSampler().start()

    def stop(self):
        self.sampler.stop()
        self.thread.query_hooks = []
        if self.current_phase:  # the run stopped early
            self.phases[self.current_phase] = diff(self.phase_start, self.snapshot())
            self.current_phase = None

    def on_query(self, cr, query, params, start, delay):
        """Odoo's cursor calls this after every statement (threading query_hooks)."""
        if isinstance(query, bytes):
            query = query[:300].decode("utf-8", "replace")
        text = " ".join(str(query).split())
        totals = self.totals
        totals["queries"] += 1
        totals["sql"] += delay
        if self.in_commit:
            totals["commit_queries"] += 1
            totals["commit_sql"] += delay
        elif LEASE_CLAIM.match(text):
            self.on_claim(cr.rowcount)
        else:
            self.on_page_statement(text, params, delay)
        if self.current_phase is None:
            return
        if text.startswith("INSERT INTO ledgersync_transaction"):
            text = "INSERT INTO ledgersync_transaction (...) VALUES ... ON CONFLICT DO NOTHING"
        entry = self.statements.setdefault(self.current_phase, {}).setdefault(text[:88], [0, 0.0])
        entry[0] += 1
        entry[1] += delay

    def on_page_statement(self, text, params, delay):
        closes = RUN_COUNTERS.match(text)
        if self.page is None and (closes or TRANSACTION_TABLE.search(text)):
            self.page = [0, 0.0, time.perf_counter() - delay]
        if self.page is None:
            return
        self.page[0] += 1
        self.page[1] += delay
        if closes:
            counts = dict(zip(RUN_COUNTER.findall(text), params, strict=False))
            rows = sum(counts.get(name) or 0 for name in ROW_COUNTERS)
            queries, sql, started = self.page
            self.pages.append((rows, queries, time.perf_counter() - started, sql))
            self.totals["pages"] += 1
            self.totals["page_sql"] += sql
            self.page = None

    def on_claim(self, rowcount):
        if self.current_phase != "transactions" and self.last_commit_end is not None:
            if self.current_phase:
                self.phases[self.current_phase] = diff(self.phase_start, self.last_commit_end)
            self.current_phase, self.phase_start = "transactions", self.last_commit_end
        if not rowcount:  # no bank account left: the phase ends with the next commit
            self.ending = True

    def after_commit(self):
        self.page = None
        self.last_commit_end = self.snapshot()
        if self.phase_start is None:
            self.current_phase, self.phase_start = "structure", self.last_commit_end
        elif self.ending and self.current_phase == "transactions":
            self.phases["transactions"] = diff(self.phase_start, self.last_commit_end)
            self.current_phase, self.ending = None, False

    def snapshot(self):
        sampler = self.sampler
        return {
            "clock": time.perf_counter(),
            **self.totals,
            "sampled": dict(sampler.weights) if sampler else {},
            "samples": sampler.samples if sampler else 0,
        }

    def commit(self, function):
        """Wraps the commit callable handed to ``_sync``: its time and statements."""
        probe = self

        def wrapper(*args, **kwargs):
            started = time.perf_counter()
            probe.in_commit = True
            if probe.sampler:
                probe.sampler.state = "commit"
            try:
                return function(*args, **kwargs)
            finally:
                probe.in_commit = False
                if probe.sampler:
                    probe.sampler.state = None
                probe.totals["commit"] += time.perf_counter() - started
                probe.totals["commits"] += 1
                probe.after_commit()

        return wrapper


def diff(before, after):
    result = {key: after[key] - before[key] for key in after if key not in ("clock", "sampled")}
    result["seconds_wall"] = after["clock"] - before["clock"]
    result["sampled"] = {
        key: value - before["sampled"].get(key, 0.0) for key, value in after["sampled"].items()
    }
    return result


def time_split(phase):
    """Seconds of the phase by category: SQL and commits as measured (statement hooks, the
    commit callable), the rest of the wall time shared out by the stack samples."""
    sql_pages = phase["page_sql"]
    sql_other = phase["sql"] - phase["commit_sql"] - sql_pages
    rest = phase["seconds_wall"] - phase["commit"] - phase["sql"] + phase["commit_sql"]
    sampled = {key: phase["sampled"].get(key, 0.0) for key in SAMPLED}
    weight = sum(sampled.values()) or 1.0
    split = {key: rest * value / weight for key, value in sampled.items()}
    split.update(sql_pages=sql_pages, sql_other=sql_other, commit=phase["commit"])
    return split


class CpuMeter:
    """CPU seconds of this process, its PostgreSQL backend and the sandbox process."""

    def __init__(self, backend_pid, sandbox_pid):
        self.pids = {"odoo": None, "postgres": backend_pid, "sandbox": sandbox_pid}

    def read(self):
        return {
            name: lib.self_cpu_seconds() if pid is None else lib.process_cpu_seconds(pid)
            for name, pid in self.pids.items()
        }

    def since(self, before):
        now = self.read()
        return {
            name: (now[name] - before[name])
            if now[name] is not None and before[name] is not None
            else None
            for name in now
        }


def timed_sync(connection, trigger, commit, probe, cpu, sandbox_url, profile=False):
    probe.reset()
    lib.sandbox_admin(sandbox_url, "DELETE", "/_sandbox/stats")
    cpu_before = cpu.read()
    profiler = cProfile.Profile() if profile else None
    probe.start()
    started = time.perf_counter()
    if profiler:
        profiler.enable()
    run, out_of_time = connection._sync(trigger, commit=commit)
    if profiler:
        profiler.disable()
    seconds = time.perf_counter() - started
    probe.stop()
    cpu_used = cpu.since(cpu_before)
    stats = lib.sandbox_admin(sandbox_url, "GET", "/_sandbox/stats")
    run.invalidate_recordset()
    pages = probe.pages
    result = {
        "seconds": seconds,
        "out_of_time": out_of_time,
        "run": {
            "id": run.id,
            "state": run.state,
            "error": run.error_message or "",
            "accounts_total": run.accounts_total,
            "accounts_done": run.accounts_done,
            "created": run.created_count,
            "updated": run.updated_count,
            "unchanged": run.unchanged_count,
            "archived": run.archived_count,
            "api_calls": run.api_calls,
            "pages": run.pages,
        },
        "sandbox": {
            key: stats[key] for key in ("login", "clients", "bank_accounts", "transactions")
        },
        "calls_by_account": sorted(stats["by_account"].values()),
        "phases": probe.phases,
        "page_queries": [page[1] for page in pages],
        "page_rows": [page[0] for page in pages],
        "page_seconds": [page[2] for page in pages],
        "commit_queries": probe.totals["commit_queries"],
        "statements": probe.statements,
        "cpu": cpu_used,
    }
    if profiler:
        result["profile"] = profile_text(profiler)
    return result


def profile_text(profiler):
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out)
    stats.sort_stats("tottime").print_stats(22)
    out.write("\n")
    stats.sort_stats("cumulative").print_stats(r"ledgersync|requests/sessions|sql_db", 22)
    lines = []
    for line in out.getvalue().splitlines():
        if not line.strip() or line.lstrip().startswith(("Ordered by", "List reduced")):
            continue
        lines.append(line.replace(str(lib.REPO) + "/", "").rstrip())
    return lines


def raw_inserts(db, columns, expected):
    """The rows the engine wrote, inserted again with psycopg2's execute_values."""
    import psycopg2.extras

    column_list = ", ".join(columns)
    connection = lib.pg_connect(db)
    cr = connection.cursor()
    cr.execute(f"SELECT {column_list} FROM ledgersync_transaction ORDER BY id")
    rows = cr.fetchall()
    result = {"rows": len(rows)}

    def insert(table):
        statement = (
            f"INSERT INTO {table} ({column_list}) VALUES %s "
            "ON CONFLICT (bank_account_id, ledgersync_id) DO NOTHING"
        )
        started = time.perf_counter()
        for start in range(0, len(rows), PAGE_ROWS):
            chunk = rows[start : start + PAGE_ROWS]
            psycopg2.extras.execute_values(cr, statement, chunk, page_size=len(chunk))
            connection.commit()
        return time.perf_counter() - started

    # 1. The real table, emptied: same indexes, unique constraint, foreign keys, WAL.
    # Bank statement lines refer to transactions: TRUNCATE refuses while that foreign key
    # exists (none of its rows here, and this is the bench database's last use). Inserts
    # into the transactions never check it: the measure is the same without it.
    cr.execute(
        "ALTER TABLE account_bank_statement_line "
        "DROP CONSTRAINT account_bank_statement_line_ledgersync_transaction_id_fkey"
    )
    cr.execute("TRUNCATE ledgersync_transaction")
    connection.commit()
    result["real_seconds"] = insert("ledgersync_transaction")
    cr.execute("SELECT count(*) FROM ledgersync_transaction")
    result["real_count"] = cr.fetchone()[0]
    # 2. A scratch temporary copy: indexes and constraints but no foreign key, no WAL.
    cr.execute(
        "CREATE TEMP TABLE ledgersync_transaction_scratch "
        "(LIKE ledgersync_transaction INCLUDING ALL)"
    )
    connection.commit()
    result["temp_seconds"] = insert("ledgersync_transaction_scratch")
    connection.close()
    result["expected"] = expected
    return result


def child(params):
    result = {"pid": os.getpid(), "rss_start_mb": lib.max_rss_mb()}
    registry = lib.open_registry(Path(params["odoo_src"]), params["db"], params["data_dir"])
    from odoo import SUPERUSER_ID, api

    # Only a public constant of the engine (its INSERT columns, for the raw INSERT).
    from odoo.addons.ledgersync_connector.sync import engine as engine_module

    result["rss_after_registry_mb"] = lib.max_rss_mb()
    base_url = params["base_url"]
    with registry.cursor() as cr:
        env = api.Environment(cr, SUPERUSER_ID, {})
        Connection = env["ledgersync.connection"]
        if params["mode"] == "initial":
            env.ref("base.EUR").active = True  # the sandbox has one EUR bank account
            connection = lib.connect_demo(env, base_url, params["history_days"])
            cr.commit()
        else:
            connection = Connection.search([("state", "=", "connected")], limit=1)
        cr.execute("SELECT pg_backend_pid()")
        cpu = CpuMeter(cr.fetchone()[0], params["sandbox_pid"])
        probe = Probe()
        # Outside a cron, _commit_progress commits and returns "no time limit".
        commit = probe.commit(env["ir.cron"]._commit_progress)
        result["rss_before_sync_mb"] = lib.max_rss_mb()
        trigger = "initial" if params["mode"] == "initial" else "scheduled"
        result["sync"] = timed_sync(
            connection, trigger, commit, probe, cpu, base_url, params.get("profile")
        )
        result["rss_peak_mb"] = lib.max_rss_mb()
        result["rss_now_mb"] = lib.current_rss_mb()
        if params.get("extras"):
            result["noop"] = timed_sync(connection, "scheduled", commit, probe, cpu, base_url)
            cr.commit()
            result["raw"] = raw_inserts(
                params["db"], engine_module.INSERT_COLUMNS, params["expected"]
            )
    Path(params["result"]).write_text(json.dumps(result))


# =========================================================================== parent side


def start_child(work, name, params):
    return lib.start_child(__file__, work, name, params)


finish_child = lib.finish_child


def run_child(work, name, params):
    return finish_child(name, *start_child(work, name, params))


def db_scalar(db, query, params=None):
    return lib.db_rows(db, query, params)[0]


def crash_test(work, db, base_params, sandbox, kill_fraction):
    """Kill -9 the initial sync once some pages are committed, then sync again."""
    expected = sandbox.total
    tpa = sandbox.sizes["transactions_per_account"]
    outcome = {"expected": expected, "kill_fraction": kill_fraction}
    process, log, _result = start_child(
        work, "crash-initial", dict(base_params, db=db, mode="initial")
    )
    watcher = lib.pg_connect(db, autocommit=True)
    cr = watcher.cursor()
    # Once the share is in, kill as soon as a bank account is seen with part of its
    # history committed (some pages in, the account not complete): the hardest moment.
    # If that moment is never caught, kill anyway a little later.
    threshold = max(1, int(expected * kill_fraction))
    last_resort = min(expected - 1, threshold + max(tpa * 5, expected // 10))
    outcome["threshold"] = threshold
    started = time.monotonic()
    killed = False
    rows = 0
    while process.poll() is None and time.monotonic() - started < 900:
        cr.execute("SELECT count(*) FROM ledgersync_transaction")
        rows = cr.fetchone()[0]
        if (rows >= threshold and rows % tpa) or rows >= last_resort:
            os.kill(process.pid, signal.SIGKILL)
            killed = True
            outcome["kill_reason"] = (
                f"at the first partly loaded bank account past {fmt_int(threshold)} rows"
                if rows % tpa
                else f"at {fmt_int(rows)} rows, no partly loaded bank account seen"
                + (" (one page per account)" if tpa <= PAGE_ROWS else "")
            )
            break
        time.sleep(0.01)
    process.wait()
    log.close()
    outcome["killed"] = killed
    outcome["rows_seen_before_kill"] = rows
    outcome["seconds_to_kill"] = time.monotonic() - started
    # The killed process's PostgreSQL backends end when they notice the closed socket.
    gone_started = time.monotonic()
    while time.monotonic() - gone_started < 60:
        cr.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
            [db],
        )
        if cr.fetchone()[0] == 0:
            break
        time.sleep(0.05)
    outcome["backend_gone_seconds"] = time.monotonic() - gone_started
    cr.execute("SELECT count(*) FROM ledgersync_transaction")
    outcome["rows_after_kill"] = cr.fetchone()[0]
    # The run's counters are the sums of its workers' (ledgersync.sync.worker).
    cr.execute(
        "SELECT run.id, run.state, run.phase, sum(worker.accounts_done),"
        " sum(worker.created_count), sum(worker.pages), sum(worker.unchanged_count)"
        " FROM ledgersync_sync_run run"
        " LEFT JOIN ledgersync_sync_worker worker ON worker.run_id = run.id"
        " GROUP BY run.id ORDER BY run.id DESC LIMIT 1"
    )
    keys = ("id", "state", "phase", "accounts_done", "created", "pages", "unchanged")
    outcome["run_after_kill"] = dict(zip(keys, cr.fetchone(), strict=True))
    cr.execute(
        "SELECT count(*) FILTER (WHERE sync_lease_until IS NOT NULL), "
        "count(*) FILTER (WHERE initial_sync_done) FROM ledgersync_bank_account"
    )
    outcome["leases_held_after_kill"], outcome["accounts_done_after_kill"] = cr.fetchone()
    cr.execute(
        "SELECT count(*) FROM (SELECT bank_account_id, count(*) AS n FROM "
        "ledgersync_transaction GROUP BY 1) c WHERE n < %s",
        [tpa],
    )
    outcome["partial_accounts_after_kill"] = cr.fetchone()[0]
    watcher.close()

    resumed = run_child(work, "crash-resume", dict(base_params, db=db, mode="resume"))
    outcome["resume"] = resumed["sync"]
    outcome["rows"] = db_scalar(db, "SELECT count(*) FROM ledgersync_transaction")[0]
    outcome["duplicates"] = db_scalar(
        db,
        "SELECT count(*) FROM (SELECT bank_account_id, ledgersync_id, count(*) "
        "FROM ledgersync_transaction GROUP BY 1, 2 HAVING count(*) > 1) d",
    )[0]
    outcome["accounts_with_gaps"] = db_scalar(
        db,
        "SELECT count(*) FROM (SELECT a.id, count(t.id) AS n FROM ledgersync_bank_account a "
        "LEFT JOIN ledgersync_transaction t ON t.bank_account_id = a.id GROUP BY a.id) c "
        "WHERE n <> %s",
        [tpa],
    )[0]
    outcome["leases_left"] = db_scalar(
        db, "SELECT count(*) FROM ledgersync_bank_account WHERE sync_lease_until IS NOT NULL"
    )[0]
    return outcome


def statement_lines(statements, accounts):
    ordered = sorted(statements.items(), key=lambda item: (-item[1][0], item[0]))
    return [
        f"  {count:5d}  {count / accounts:5.2f}  {seconds * 1000:7.0f} ms  {text}"
        for text, (count, seconds) in ordered
    ]


def fmt_int(value):
    return f"{value:,}"


def spread(values):
    if not values:
        return "n/a"
    return f"min {min(values)} / avg {statistics.mean(values):.2f} / max {max(values)}"


def sync_rate_of(result):
    return result["sync"]["run"]["created"] / result["sync"]["seconds"]


def ratio_of(result):
    raw = result["raw"]
    return sync_rate_of(result) / (raw["rows"] / raw["real_seconds"])


def build_report(args, info, odoo_src, sizes, main_label, results, main_runs, crash, timings):
    main = results[main_label]
    initial, noop, raw = main["sync"], main["noop"], main["raw"]
    run = initial["run"]
    accounts = run["accounts_total"]
    created = run["created"]
    sync_rate = created / initial["seconds"]
    tx_phase = initial["phases"]["transactions"]
    tx_rate = created / tx_phase["seconds_wall"]
    raw_rate = raw["rows"] / raw["real_seconds"]
    temp_rate = raw["rows"] / raw["temp_seconds"]
    ratio = sync_rate / raw_rate
    page_queries = initial["page_queries"]
    full_pages = [
        q for q, rows in zip(page_queries, initial["page_rows"], strict=True) if rows == PAGE_ROWS
    ]
    per_page_all_in = tx_phase["queries"] / max(1, tx_phase["pages"])
    noop_calls = noop["calls_by_account"]
    noop_ms = noop["seconds"] * 1000 / max(1, noop["run"]["accounts_total"])
    noop_tx_ms = (
        noop["phases"]["transactions"]["seconds_wall"]
        * 1000
        / max(1, noop["run"]["accounts_total"])
    )
    labels = [label for label in sizes if label in results]
    peaks = {label: results[label]["rss_peak_mb"] for label in labels}
    memory_diff = peaks[labels[-1]] - peaks[labels[0]]
    memory_spread = max(peaks.values()) - min(peaks.values())

    report = lib.Report(
        "ledgersync_connector - sync engine benchmark (issue 4)"
        + ("  [--quick]" if args.quick else "")
    )
    report.figure(f"Initial sync of {fmt_int(created)} transactions", "", f"{sync_rate:,.0f} tx/s")
    report.figure("Raw execute_values INSERT, same rows, real table", "", f"{raw_rate:,.0f} rows/s")
    report.figure(
        f"Ratio sync / raw INSERT (median of {len(main_runs)})",
        f">= {GOAL_RATIO}",
        f"{ratio:.2f}",
        ratio >= GOAL_RATIO,
    )
    if len(labels) > 1:
        report.figure(
            f"Peak RSS {labels[0]} vs {labels[-1]} transactions (difference)",
            f"<= {GOAL_MEMORY_MB} MB",
            f"{memory_diff:+.1f} MB",
            abs(memory_diff) <= GOAL_MEMORY_MB and memory_spread <= GOAL_MEMORY_MB,
        )
    report.figure(
        "SQL queries per page of 500 (in _apply_page), max",
        f"<= {GOAL_QUERIES_PER_PAGE}",
        f"{max(page_queries)}",
        max(page_queries) <= GOAL_QUERIES_PER_PAGE,
    )
    report.figure(
        "SQL queries per bank account besides its pages",
        "(info)",
        f"{(tx_phase['queries'] - sum(page_queries)) / accounts:.1f}",
    )
    report.figure(
        "API calls per bank account, initial sync (avg)",
        "",
        f"{statistics.mean(initial['calls_by_account']):.2f}",
    )
    report.figure(
        "No-op incremental: API calls per bank account, max",
        f"<= {GOAL_NOOP_CALLS}",
        f"{max(noop_calls)}",
        max(noop_calls) <= GOAL_NOOP_CALLS,
    )
    report.figure(
        "No-op incremental: time per bank account",
        f"<= {GOAL_NOOP_MS} ms",
        f"{noop_ms:.1f} ms",
        noop_ms <= GOAL_NOOP_MS,
    )
    if crash:
        report.figure(
            "Crash test: rows after kill -9 + rerun",
            f"= {fmt_int(crash['expected'])}",
            fmt_int(crash["rows"]),
            crash["killed"] and crash["rows"] == crash["expected"],
        )
        report.figure(
            "Crash test: duplicates",
            "= 0",
            str(crash["duplicates"]),
            crash["killed"] and crash["duplicates"] == 0,
        )

    # -- main run details
    split = time_split(tx_phase)
    wall = tx_phase["seconds_wall"]
    requests = initial["sandbox"]["transactions"]  # the sandbox's count

    def share(seconds):
        return f"{seconds:6.2f} s  {100 * seconds / wall:5.1f} %"

    cpu = initial["cpu"]
    structure = initial["phases"].get("structure", {})
    report.section(
        f"Initial sync, {main_label}: {CLIENTS} clients x {ACCOUNTS_PER_CLIENT} accounts x "
        f"{fmt_int(sizes[main_label])} transactions (the run with the median ratio)",
        [
            f"{len(main_runs)} runs, each on a fresh database: sync "
            + ", ".join(f"{sync_rate_of(r):,.0f}" for r in main_runs)
            + " tx/s; raw "
            + ", ".join(f"{r['raw']['rows'] / r['raw']['real_seconds']:,.0f}" for r in main_runs)
            + " rows/s; ratio "
            + ", ".join(f"{r['ratio']:.2f}" for r in main_runs),
            f"_sync('initial') wall {initial['seconds']:.2f} s -> {sync_rate:,.0f} tx/s; run "
            f"{run['state']}, created {fmt_int(created)}, accounts {run['accounts_done']}/"
            f"{accounts}, pages {run['pages']}, api_calls {run['api_calls']}",
            f"structure phase (clients, bank accounts) {structure.get('seconds_wall', 0):.2f} s;"
            f" transactions phase {wall:.2f} s -> {tx_rate:,.0f} tx/s",
            "where the transactions phase's wall time goes (Odoo process, one thread):",
            f"  HTTP round trips      {share(split['http'])}  ({requests} requests, "
            f"{1000 * split['http'] / max(1, requests):.1f} ms each: requests + the "
            "sandbox building the page)",
            f"  JSON decode           {share(split['decode'])}  (json.loads, parse_float=Decimal)",
            f"  parse records         {share(split['parse'])}  (the API client's Python: "
            "records of 500 transactions, paging)",
            f"  sync engine, Python   {share(split['engine'])}  (diff, content hash, row "
            "tuples, bookkeeping)",
            f"  Odoo, Python          {share(split['orm'])}  (ORM reads, writes, flush, cache; "
            "SQL objects)",
            f"  mogrify               {share(split['mogrify'])}  (psycopg2 execute_values "
            "quoting rows into SQL text in Python, if the engine uses it; quoting inside "
            "cursor.execute counts as SQL)",
            f"  SQL of the pages      {share(split['sql_pages'])}  "
            "(cursor.execute time: SELECT existing, INSERT, run counters)",
            f"  SQL besides pages     {share(split['sql_other'])}  "
            "(leases, ORM reads and writes of the bank accounts)",
            f"  commit per page       {share(split['commit'])}  ({tx_phase['commits']} "
            "commits: flush + COMMIT, WAL fsync)",
            f"  other                 {share(split['other'])}  "
            "(no frame of the addon, Odoo or the libraries above)",
            "  (SQL and commits as measured by Odoo's statement hooks and the commit callable; "
            f"the rest of the wall time shared out by {tx_phase['samples']} stack samples, "
            f"one every {SAMPLE_INTERVAL * 1000:g} ms)",
            f"CPU seconds during _sync: Odoo process {cpu['odoo']:.2f}, its PostgreSQL backend "
            f"{cpu['postgres'] or 0:.2f}, sandbox process {cpu['sandbox'] or 0:.2f} "
            f"(wall {initial['seconds']:.2f} s, {info['nproc']} cores)",
            f"raw INSERT of the same {fmt_int(raw['rows'])} rows: real table "
            f"{raw['real_seconds']:.2f} s = {raw_rate:,.0f} rows/s (count after: "
            f"{fmt_int(raw['real_count'])}); TEMP table LIKE ... INCLUDING ALL "
            f"{raw['temp_seconds']:.2f} s = {temp_rate:,.0f} rows/s -> ratio vs temp "
            f"{sync_rate / temp_rate:.2f}",
            "raw = the engine's INSERT statement (same columns, ON CONFLICT DO NOTHING), pages "
            f"of {PAGE_ROWS} rows with a COMMIT after each (the engine's durability), into the "
            "emptied real table (same indexes, unique constraint, foreign keys, WAL)",
        ],
    )
    report.section(
        "SQL queries and API calls",
        [
            f"queries inside _apply_page per page: {spread(page_queries)} over "
            f"{len(page_queries)} pages ({spread(full_pages)} over full pages of {PAGE_ROWS})",
            f"whole transactions phase: {tx_phase['queries']} queries / {tx_phase['pages']} "
            f"pages = {per_page_all_in:.2f} per page, i.e. {tx_phase['queries'] / accounts:.1f} "
            f"per bank account of {tx_phase['pages'] / accounts:g} pages",
            "statements of the transactions phase (count, per bank account, total time):",
            *statement_lines(initial["statements"].get("transactions", {}), accounts),
            "in a real cron, _commit_progress also writes ir_cron_progress: +1 UPDATE per "
            "commit (here: called outside a cron, it only commits)",
            f"initial sync API calls per bank account (sandbox by_account): "
            f"{spread(initial['calls_by_account'])}; sandbox totals {initial['sandbox']}; "
            f"run.api_calls {run['api_calls']} = {run['api_calls'] / accounts:.2f} per account",
            f"no-op incremental right after: {noop['seconds'] * 1000:.0f} ms for "
            f"{noop['run']['accounts_total']} accounts = {noop_ms:.1f} ms per account "
            f"(transactions phase alone {noop_tx_ms:.1f} ms per account); run "
            f"{noop['run']['state']}, created/updated/unchanged "
            f"{noop['run']['created']}/{noop['run']['updated']}/{noop['run']['unchanged']}",
            f"no-op API calls per bank account: {spread(noop_calls)}; sandbox totals "
            f"{noop['sandbox']} (clients and bank accounts are listed per client, "
            "not per account); queries "
            f"{noop['phases']['transactions']['queries']} in the transactions phase",
        ],
    )
    memory_lines = []
    for label in labels:
        result = results[label]
        sync = result["sync"]
        memory_lines.append(
            f"{label:>5} ({fmt_int(sync['run']['created'])} tx, {sync['seconds']:.1f} s, "
            f"{sync_rate_of(result):,.0f} tx/s): ru_maxrss after registry load "
            f"{result['rss_after_registry_mb']:.1f} MB, before sync "
            f"{result['rss_before_sync_mb']:.1f} MB, peak {result['rss_peak_mb']:.1f} MB"
        )
    memory_lines.append(
        f"difference {labels[-1]} - {labels[0]}: {memory_diff:+.1f} MB; spread of the "
        f"peaks {memory_spread:.1f} MB (each size: fresh child process, fresh database)"
    )
    report.section(
        "Peak memory of the Odoo-side process (resource.getrusage ru_maxrss)", memory_lines
    )
    if crash:
        resume = crash["resume"]
        same_run = resume["run"]["id"] == crash["run_after_kill"]["id"]
        taken_over = "taken over" if same_run else "a new run"
        report.section(
            "Crash test (kill -9 mid-run, then a new process syncs again)",
            [
                f"killed the initial sync {crash['seconds_to_kill']:.1f} s after the child "
                f"started, {fmt_int(crash['rows_seen_before_kill'])} rows seen committed "
                f"(killed {crash.get('kill_reason', 'never: the sync ended first')})",
                f"after the kill: {fmt_int(crash['rows_after_kill'])} rows, run "
                f"{crash['run_after_kill']}, {crash['accounts_done_after_kill']} accounts "
                f"complete, {crash['partial_accounts_after_kill']} account(s) with part of "
                f"its history, {crash['leases_held_after_kill']} lease(s) held by the dead "
                "worker",
                f"its PostgreSQL backend gone after {crash['backend_gone_seconds']:.2f} s",
                f"rerun in a new process: {resume['seconds']:.1f} s, run id "
                f"{resume['run']['id']} (killed run {crash['run_after_kill']['id']}: "
                f"{taken_over}), state {resume['run']['state']}, accounts "
                f"{resume['run']['accounts_done']}/{resume['run']['accounts_total']}; the "
                "rerun added to the run's counters: created "
                f"{fmt_int(resume['run']['created'] - crash['run_after_kill']['created'])}, "
                "unchanged "
                f"{fmt_int(resume['run']['unchanged'] - crash['run_after_kill']['unchanged'])}"
                " (unchanged: committed rows of the interrupted account, fetched again)",
                f"final: {fmt_int(crash['rows'])} rows (expected {fmt_int(crash['expected'])}), "
                f"{crash['duplicates']} duplicates, {crash['accounts_with_gaps']} bank accounts "
                f"with a missing or extra row, {crash['leases_left']} leases left",
            ],
        )
    if main["sync"].get("profile"):
        report.section(
            "cProfile of the main initial sync (a separate, slower pass; proportions only)",
            main["sync"]["profile"],
        )
    report.section(
        "Machine and run",
        [
            *lib.machine_lines(info, odoo_src),
            f"sandbox: python -m ledgersync_sandbox --clients {CLIENTS} --accounts-per-client "
            f"{ACCOUNTS_PER_CLIENT} --transactions-per-account N --history-days "
            f"{SANDBOX_HISTORY_DAYS} (separate process); connection.history_days = "
            f"{CONNECTION_HISTORY_DAYS}; page size {PAGE_ROWS}; EUR activated",
            "sizes: " + ", ".join(f"{label} = N {tpa}" for label, tpa in sizes.items()),
            "timings: " + ", ".join(f"{key} {value:.0f} s" for key, value in timings.items()),
        ],
    )
    return report


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="sizes / 10 (2k, 10k, 20k)")
    parser.add_argument(
        "--profile", action="store_true", help="also run the main initial sync under cProfile"
    )
    parser.add_argument(
        "--repeat", type=int, default=3, help="runs of the main size (the median is reported)"
    )
    parser.add_argument(
        "--kill-at", type=float, default=0.4, help="kill once this share is in (default 0.4)"
    )
    parser.add_argument("--no-crash", action="store_true", help="skip the crash test")
    parser.add_argument(
        "--main-only",
        action="store_true",
        help="only the main size (throughput, queries, no-op): for before/after comparisons",
    )
    lib.add_database_options(parser, "ledgersync_bench")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(json.loads(Path(args.child).read_text()))
        return 0

    odoo_src, info = lib.prepare()
    sizes = QUICK_SIZES if args.quick else SIZES
    main_label = list(sizes)[1]
    timings = {}
    results = {}
    main_runs = []
    crash = None
    template = f"{args.db_prefix}_tpl"
    databases = []
    bench_started = time.monotonic()
    with lib.scratch_dir("ledgersync-bench-sync-") as work:
        started = time.monotonic()
        if not (args.reuse_template and lib.db_exists_with_module(template)):
            print(f"Installing {lib.MODULE} into a fresh template database {template} ...")
            lib.install_db(odoo_src, template, work / "data", work / "install.log")
        timings["install"] = time.monotonic() - started
        base_params = {
            "odoo_src": str(odoo_src),
            "data_dir": str(work / "data"),
            "history_days": CONNECTION_HISTORY_DAYS,
        }
        try:
            for label, tpa in sizes.items():
                if args.main_only and label != main_label:
                    continue
                sandbox = lib.Sandbox(CLIENTS, ACCOUNTS_PER_CLIENT, tpa, SANDBOX_HISTORY_DAYS)
                with sandbox:
                    params = dict(
                        base_params,
                        base_url=sandbox.base_url,
                        sandbox_pid=sandbox.process.pid,
                        expected=sandbox.total,
                    )
                    is_main = label == main_label
                    started = time.monotonic()
                    for repeat in range(args.repeat if is_main else 1):
                        db = f"{args.db_prefix}_{label}_{repeat + 1}"
                        databases.append(db)
                        lib.copy_db(template, db)
                        lib.checkpoint()
                        print(
                            f"[{time.monotonic() - bench_started:5.0f} s] {label}: initial sync "
                            f"of {fmt_int(sandbox.total)} transactions in a child process"
                            + (
                                f" + no-op incremental + raw INSERT ({repeat + 1}/{args.repeat})"
                                if is_main
                                else ""
                            )
                            + " ...",
                            flush=True,
                        )
                        result = run_child(
                            work, label, dict(params, db=db, mode="initial", extras=is_main)
                        )
                        if not args.keep_dbs:
                            lib.drop_db(db)
                        sync = result["sync"]
                        line = (
                            f"        {sync['run']['created']:,} created in "
                            f"{sync['seconds']:.1f} s ({sync['run']['state']}), peak RSS "
                            f"{result['rss_peak_mb']:.0f} MB"
                        )
                        if is_main:
                            result["ratio"] = ratio_of(result)
                            main_runs.append(result)
                            line += f", raw {result['raw']['real_seconds']:.1f} s, ratio "
                            line += f"{result['ratio']:.2f}"
                        else:
                            results[label] = result
                        print(line, flush=True)
                    if is_main:
                        # The run with the median ratio stands for the size in the report.
                        ordered = sorted(main_runs, key=lambda run: run["ratio"])
                        results[label] = ordered[(len(ordered) - 1) // 2]
                    timings[label] = time.monotonic() - started
                    if is_main and args.profile:
                        print(f"        {label}: cProfile pass ...", flush=True)
                        lib.copy_db(template, db + "_prof")
                        databases.append(db + "_prof")
                        profiled = run_child(
                            work,
                            "profile",
                            dict(params, db=db + "_prof", mode="initial", profile=True),
                        )
                        results[label]["sync"]["profile"] = profiled["sync"]["profile"]
                    if is_main and not (args.no_crash or args.main_only):
                        crash_db = f"{args.db_prefix}_crash"
                        databases.append(crash_db)
                        lib.copy_db(template, crash_db)
                        lib.checkpoint()
                        print(
                            f"[{time.monotonic() - bench_started:5.0f} s] crash test: kill -9 at "
                            f"{args.kill_at:.0%} of {fmt_int(sandbox.total)}, then sync again ...",
                            flush=True,
                        )
                        started = time.monotonic()
                        crash = crash_test(work, crash_db, params, sandbox, args.kill_at)
                        timings["crash"] = time.monotonic() - started
        finally:
            if not args.keep_dbs:
                for db in [*databases, template]:
                    lib.drop_db(db)
    timings["total"] = time.monotonic() - bench_started

    report = build_report(
        args, info, odoo_src, sizes, main_label, results, main_runs, crash, timings
    )
    report.publish(
        "bench_sync" + ("-quick" if args.quick else ""),
        {
            "machine": info,
            "sizes": sizes,
            "results": results,
            "main_runs": main_runs,
            "crash": crash,
            "timings": timings,
        },
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
