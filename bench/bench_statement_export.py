"""Benchmark of the export to bank statements: prints one report, is not a test.

    python bench/bench_statement_export.py [--lines 2000] [--repeat 3] [--no-variants]
        [--profile-lines 400] [--reuse-template] [--keep-dbs] [--db-prefix P]

Issue 8: "The benchmark in bench/ reports export lines/s beside a plain batched create of
the same lines, in the same run. Goal: not slower than the plain create. Report how far
Odoo's own per-line cost allows going beyond it."

A template database gets the sandbox's demo firm (one client, one USD bank account,
synced by Save Integration and an initial sync), a bank journal for that account
(LedgerSync's Create Bank Journal), and ``--lines`` posted transactions reviewed with one
of 20 vendors and a GL account (expense for money out, income for money in). Each
measurement runs in a child process of its own, on a fresh copy of that template, so that
every one starts from the same database (same sequence numbers, same tables):

- **plain create:** ``account.bank.statement.line.create`` of the same lines, in batches of
  the export's chunk size (``const.STATEMENT_EXPORT_CHUNK_LINES``), each followed by a
  COMMIT, with the values that ``ledgersync.transaction._statement_line_values`` gives and
  nothing else. The values are computed before the clock starts (the baseline is the
  create alone). It runs as the export builds its lines: the exporter's user in superuser
  mode (``ledgersync.statement.export._worker_env``).
- **export:** a bookkeeper's ``action_export_to_statement`` on the same transactions (the
  claim under row locks; the request ends with its COMMIT), then the scheduled action's
  ``_cron_build()``, called again as long as the export has work: the chunks with a COMMIT
  each, the linking of the transactions, the grouping into one bank statement per journal
  with LedgerSync's balances.

Both are lines per second over the whole wall time. Every measurement runs ``--repeat``
times, in rounds whose order turns, so that a slower spell of the machine does not fall on
one side only; the ratio is the median of the rounds' export/plain ratios. Goal: export >=
plain create, with a noise margin of NOISE_MARGIN (5%): on this 2-core machine, shared
with other work, the runs of one mode differ by up to 5% between the slowest and the
fastest. The CPU seconds of the Odoo process and of its PostgreSQL backend per line are
shown too: they move less with the machine's load than the wall time.

Every run checks its journal entries (one per transaction, posted, balanced, named) and
takes their fingerprint (name, date, state, partner, each item's account, debit, credit,
partner and amount in currency): the plain create and the export must give the same
entries, and so must every variant below.

"How far beyond": a pass of each mode over ``--profile-lines`` lines with a wall-clock
stack sampler shows what Odoo's per-line cost is made of (statement line and journal entry
create, journal items, sequence names, posting, balance checks, chatter, ORM triggers,
flush, SQL), and the variants run the plain create and the export again with context keys
that skip work (``VARIANTS``: ``mail_create_nolog``, ``tracking_disable``,
``check_move_validity=False``). For each one the report gives lines/s, CPU per line, the
chatter rows written per line (``mail_message`` of account.move, whose notifications are
Odoo's Audit Trail report, and ``mail_tracking_value``) and whether the entries are the
same as with Odoo's defaults. ``--no-variants`` runs the main comparison only.
"""

import argparse
import hashlib
import json
import signal
import statistics
import sys
import threading
import time
from pathlib import Path

import _benchlib as lib

lib.ensure_venv()

NOISE_MARGIN = 0.05
# autovacuum_naptime's default: how often AutoAnalyze looks for tables to analyze.
AUTOANALYZE_NAPTIME = 60
SANDBOX_HISTORY_DAYS = 80
CONNECTION_HISTORY_DAYS = 90
# The sandbox's last days are pending: more transactions than lines are asked for.
SANDBOX_MARGIN = 1.15

# Context keys that skip work in the statement line's create, timed beside Odoo's defaults.
DEFAULT = "Odoo's defaults"
VARIANTS = {
    DEFAULT: {},
    "mail_create_nolog": {"mail_create_nolog": True},
    "tracking_disable": {"tracking_disable": True},
    "check_move_validity=False": {"check_move_validity": False},
    "tracking_disable, check_move_validity=False": {
        "tracking_disable": True,
        "check_move_validity": False,
    },
}


# =========================================================================== child side


class QueryCounter:
    """Statements and SQL seconds of this thread (Odoo's per-thread query hooks)."""

    def __init__(self):
        self.count = 0
        self.seconds = 0.0
        self.statements = {}  # statement text (parameters apart) -> [count, seconds]

    def hook(self, cr, query, params, query_start, query_time):
        self.count += 1
        self.seconds += query_time
        text = query if isinstance(query, str) else str(query)
        figures = self.statements.setdefault(" ".join(text.split())[:150], [0, 0.0])
        figures[0] += 1
        figures[1] += query_time

    def slowest(self, count=8):
        """The statements that took the most SQL time: [text, count, seconds]."""
        ranked = sorted(self.statements.items(), key=lambda item: -item[1][1])[:count]
        return [[text, figures[0], figures[1]] for text, figures in ranked]

    def __enter__(self):
        thread = threading.current_thread()
        self._hooks = getattr(thread, "query_hooks", None)
        thread.query_hooks = [*(self._hooks or []), self.hook]
        return self

    def __exit__(self, *exc_info):
        threading.current_thread().query_hooks = self._hooks or []


class AutoAnalyze:
    """What PostgreSQL's autovacuum daemon would do about the planner's statistics, for a
    server where it is off: every ``naptime`` seconds, ANALYZE each table changed by more
    than 50 rows + 10% of its rows since its last analyze (the defaults of
    autovacuum_analyze_threshold and autovacuum_analyze_scale_factor). Odoo's sequence
    lookups choose their index from these statistics."""

    def __init__(self, db, naptime):
        self.db = db
        self.naptime = naptime
        self.analyzed = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        connection = lib.pg_connect(self.db, autocommit=True)
        try:
            with connection.cursor() as cr:
                while not self._stop.wait(self.naptime):
                    cr.execute(
                        """
                        SELECT s.relname FROM pg_stat_user_tables s
                          JOIN pg_class c ON c.oid = s.relid
                         WHERE s.n_mod_since_analyze > 50 + 0.1 * greatest(c.reltuples, 0)
                        """
                    )
                    for (table,) in cr.fetchall():
                        cr.execute(f'ANALYZE "{table}"')
                        self.analyzed.append(table)
        finally:
            connection.close()

    def __enter__(self):
        if self.naptime:
            self._thread.start()
        return self

    def __exit__(self, *exc_info):
        if self.naptime:
            self._stop.set()
            self._thread.join()


def child_setup(params):
    """The template's data: synced transactions, a bank journal, ``lines`` of them
    reviewed with a vendor and a GL account; the bookkeeper who exports."""
    registry = lib.open_registry(Path(params["odoo_src"]), params["db"], params["data_dir"])
    from odoo import SUPERUSER_ID, api
    from odoo.tests import new_test_user

    with registry.cursor() as cr:
        env = api.Environment(cr, SUPERUSER_ID, {})
        connection = lib.connect_demo(env, params["base_url"], params["history_days"])
        cr.commit()
        run, _out_of_time = connection._sync("initial", commit=env["ir.cron"]._commit_progress)
        if run.state != "done":
            raise RuntimeError(f"initial sync {run.state}: {run.error_message}")
        bank_account = env["ledgersync.bank.account"].search([], limit=1)
        bank_account.action_create_journal()
        transactions = env["ledgersync.transaction"].search(
            [("bank_account_id", "=", bank_account.id), ("ledgersync_status", "=", "posted")],
            order="date, id",
            limit=params["lines"],
        )
        if len(transactions) < params["lines"]:
            raise RuntimeError(f"only {len(transactions)} posted transactions synced")
        vendors = env["res.partner"].create(
            [{"name": f"Vendor {n:02d}", "ref": f"V{n:02d}"} for n in range(20)]
        )
        expense = env["account.account"].search([("account_type", "=", "expense")], limit=1)
        income = env["account.account"].search([("account_type", "=", "income")], limit=1)
        for index, vendor in enumerate(vendors):
            share = transactions[index :: len(vendors)]
            share.filtered(lambda t: t.amount < 0).write(
                {"partner_id": vendor.id, "account_id": expense.id}
            )
            share.filtered(lambda t: t.amount >= 0).write(
                {"partner_id": vendor.id, "account_id": income.id}
            )
        transactions.action_mark_reviewed()
        bookkeeper = new_test_user(
            env, login="bench_bookkeeper", groups="account.group_account_basic"
        )
        result = {
            "transactions": len(transactions),
            "journal": bank_account.journal_id.code,
            "bookkeeper": bookkeeper.id,
            "synced": run.created_count,
        }
        cr.commit()
    Path(params["result"]).write_text(json.dumps(result))


def reviewed_transactions(env):
    """The reviewed transactions, in the order the export builds them."""
    return (
        env["ledgersync.transaction"]
        .with_context(active_test=False)
        .search([("review_state", "=", "reviewed")], order="bank_account_id, date, id")
    )


def moves_summary(cr):
    """What the lines' journal entries are: checks, chatter rows, and a fingerprint."""
    cr.execute(
        """
        SELECT t.id, m.name, m.state, m.date, m.partner_id, m.journal_id,
               (SELECT string_agg(concat_ws(':', aml.account_id, aml.debit, aml.credit,
                                            aml.partner_id, aml.amount_currency), ','
                                  ORDER BY aml.debit, aml.credit, aml.account_id)
                  FROM account_move_line aml WHERE aml.move_id = m.id),
               (SELECT sum(debit) - sum(credit) FROM account_move_line aml
                 WHERE aml.move_id = m.id)
          FROM account_bank_statement_line l
          JOIN ledgersync_transaction t ON t.id = l.ledgersync_transaction_id
          JOIN account_move m ON m.id = l.move_id
         ORDER BY t.id
        """
    )
    rows = cr.fetchall()
    cr.execute(
        """
        SELECT count(*),
               (SELECT count(*) FROM mail_tracking_value v WHERE v.mail_message_id IN
                    (SELECT id FROM mail_message WHERE model = 'account.move'))
          FROM mail_message WHERE model = 'account.move'
        """
    )
    messages, tracking_values = cr.fetchone()
    cr.execute("SELECT count(*) FROM account_bank_statement WHERE ledgersync_export_id IS NOT NULL")
    statements = cr.fetchone()[0]
    fingerprint = hashlib.sha256(
        "\n".join("|".join(str(value) for value in row[:7]) for row in rows).encode()
    ).hexdigest()[:16]
    return {
        "lines": len(rows),
        "posted": sum(1 for row in rows if row[2] == "posted"),
        "balanced": sum(1 for row in rows if row[7] == 0),
        "named": len({row[1] for row in rows if row[1] and row[1] != "/"}),
        "messages": messages,
        "tracking_values": tracking_values,
        "statements": statements,
        "fingerprint": fingerprint,
    }


def plain_create(env, transactions, chunk, context, profiler=None):
    """Odoo's batched create of the transactions' statement lines, a COMMIT per batch."""
    worker_env = env(user=transactions.env.uid, su=True)
    values = [transaction._statement_line_values() for transaction in transactions]
    Line = worker_env["account.bank.statement.line"].with_context(**context)
    env.cr.commit()
    started = time.perf_counter()
    if profiler:
        profiler.enable()
    batches = []
    for start in range(0, len(values), chunk):
        batch_started = time.perf_counter()
        Line.create(values[start : start + chunk])
        env.cr.commit()
        batches.append(time.perf_counter() - batch_started)
    if profiler:
        profiler.disable()
    return time.perf_counter() - started, batches


def export(env, transactions, context, profiler=None):
    """The bookkeeper's export, then the scheduled action until it is done. Returns the
    whole time, the time of the bookkeeper's request (the claim of every row, and the
    lines built at once when they are few), the scheduled action's calls and the
    exports' states."""
    from odoo.addons.ledgersync_connector.models.ledgersync_statement_export import (
        WORKING_STATES,
    )

    Export = env["ledgersync.statement.export"].with_context(**context)
    transactions = transactions.with_context(**context)
    env.cr.commit()
    calls = 0
    started = time.perf_counter()
    if profiler:
        profiler.enable()
    transactions.action_export_to_statement()
    env.cr.commit()
    request_seconds = time.perf_counter() - started
    while Export.search_count([("state", "in", WORKING_STATES)]):
        Export._cron_build()
        calls += 1
    if profiler:
        profiler.disable()
    seconds = time.perf_counter() - started
    exports = Export.search([])
    return seconds, request_seconds, calls, exports.mapped("state")


def child_measure(params):
    registry = lib.open_registry(Path(params["odoo_src"]), params["db"], params["data_dir"])
    from odoo import SUPERUSER_ID, api

    from odoo.addons.ledgersync_connector import const

    result = {
        "mode": params["mode"],
        "variant": params["variant"],
        "chunk": const.STATEMENT_EXPORT_CHUNK_LINES,
    }
    profiler = StackSampler() if params.get("profile") else None
    with registry.cursor() as cr:
        env = api.Environment(cr, SUPERUSER_ID, {})
        bookkeeper = env["res.users"].browse(params["bookkeeper"])
        transactions = reviewed_transactions(env(user=bookkeeper))
        if params.get("limit"):
            transactions = transactions[: params["limit"]]
        context = VARIANTS[params["variant"]]
        cr.execute("SELECT pg_backend_pid()")
        backend = cr.fetchone()[0]
        cpu_before = (lib.self_cpu_seconds(), lib.process_cpu_seconds(backend))
        with QueryCounter() as queries, AutoAnalyze(params["db"], params["naptime"]) as analyze:
            if params["mode"] == "plain":
                seconds, batches = plain_create(
                    env, transactions, const.STATEMENT_EXPORT_CHUNK_LINES, context, profiler
                )
                result["batch_seconds"] = batches
            else:
                seconds, request_seconds, calls, states = export(
                    env, transactions, context, profiler
                )
                result.update(request_seconds=request_seconds, cron_calls=calls, states=states)
        result.update(
            seconds=seconds,
            count=len(transactions),
            queries=queries.count,
            sql_seconds=queries.seconds,
            slowest_statements=queries.slowest(),
            analyzed=analyze.analyzed,
            cpu_odoo=lib.self_cpu_seconds() - cpu_before[0],
            cpu_postgres=lib.process_cpu_seconds(backend) - cpu_before[1],
            moves=moves_summary(cr),
        )
        cr.rollback()
    if profiler:
        result["profile"] = profiler.result()
    lib.close_registry(params["db"])
    Path(params["result"]).write_text(json.dumps(result))


# Where a statement line's time goes: the wall time during which these functions (file
# suffix, function name) are on the stack; nested ones are also counted in their callers.
PROFILE_PARTS = [
    ("account/models/account_bank_statement_line.py", "create", "statement line create"),
    ("account/models/account_move.py", "create", "  journal entry create"),
    ("account/models/account_move_line.py", "create", "  journal items create"),
    ("account/models/account_move.py", "_compute_name", "  sequence names (_compute_name)"),
    ("account/models/account_move.py", "action_post", "  action_post"),
    ("account/models/account_move.py", "_check_balanced", "  balance checks"),
    ("mail/models/mail_thread.py", "_message_log_batch", "  chatter: creation messages"),
    ("mail/models/mail_thread.py", "_track_finalize", "  chatter: tracking"),
    ("odoo/orm/models.py", "modified", "  ORM: invalidation and recompute triggers"),
    ("odoo/orm/models.py", "_create", "  ORM: INSERTs (_create)"),
    ("odoo/orm/environments.py", "flush_all", "flush (UPDATEs of computed fields)"),
    ("ledgersync_statement_export.py", "_build_chunk", "export: _build_chunk"),
    ("ledgersync_statement_export.py", "_group_into_statements", "export: statements"),
    ("odoo/sql_db.py", "commit", "COMMIT"),
]
# The innermost frame that belongs to one of these folders names the time's owner.
OWNERS = [
    (f"{lib.REPO / lib.MODULE}/", "ledgersync_connector (Python)"),
    ("/odoo/sql_db.py", "SQL (the wait for PostgreSQL included)"),
    ("/odoo/orm/", "Odoo ORM (Python)"),
    ("/addons/account/", "account addon (Python)"),
    ("/addons/mail/", "mail addon (Python)"),
    ("/odoo/", "other Odoo (Python)"),
]
SAMPLE_SECONDS = 0.002


class StackSampler:
    """A wall-clock sampler: every SAMPLE_SECONDS, SIGALRM's handler (run in this thread,
    between two bytecodes, so after a blocking SQL call returns) adds the time since the
    last sample to the PROFILE_PARTS on the stack and to the owner of the innermost frame.
    Unlike cProfile, it does not inflate code made of many small calls."""

    def __init__(self):
        self.parts = dict.fromkeys([label for _suffix, _name, label in PROFILE_PARTS], 0.0)
        self.owners = dict.fromkeys([label for _folder, label in OWNERS] + ["other"], 0.0)
        self.by_name = {}
        for suffix, name, label in PROFILE_PARTS:
            self.by_name.setdefault(name, []).append((suffix, label))
        self.samples = 0

    def _sample(self, _signum, frame):
        now = time.perf_counter()
        elapsed, self.last = now - self.last, now
        self.samples += 1
        owner = None
        seen = set()
        while frame is not None:
            code = frame.f_code
            for suffix, label in self.by_name.get(code.co_name, ()):
                if code.co_filename.endswith(suffix):
                    seen.add(label)
            if owner is None:
                owner = next(
                    (label for folder, label in OWNERS if folder in code.co_filename), None
                )
            frame = frame.f_back
        for label in seen:
            self.parts[label] += elapsed
        self.owners[owner or "other"] += elapsed

    def enable(self):
        self.last = time.perf_counter()
        signal.signal(signal.SIGALRM, self._sample)
        signal.setitimer(signal.ITIMER_REAL, SAMPLE_SECONDS, SAMPLE_SECONDS)

    def disable(self):
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, signal.SIG_DFL)

    def result(self):
        return {"parts": self.parts, "owners": self.owners, "samples": self.samples}


# =========================================================================== parent side


def rate(result):
    return result["count"] / result["seconds"]


def measure(work, template, db, base, mode, variant, **extra):
    lib.copy_db(template, db)
    lib.checkpoint()
    name = f"{mode}-{variant}-{extra.get('run', 0)}".replace(" ", "_").replace("'", "")
    params = dict(base, db=db, mode=mode, variant=variant, **extra)
    result = lib.finish_child(
        name, *lib.start_child(__file__, work, name, params), timeout=3 * 3600
    )
    lib.drop_db(db)
    return result


def build_template(work, odoo_src, template, base, args, say):
    """The installed template with its synced, reviewed transactions (see child_setup)."""
    say(f"Installing {lib.MODULE} into a fresh template database {template} ...")
    lib.install_db(odoo_src, template, work / "data", work / "install.log")
    transactions = int(args.lines * SANDBOX_MARGIN) + 20
    with lib.Sandbox(1, 1, transactions, SANDBOX_HISTORY_DAYS) as sandbox:
        say(f"Syncing {transactions:,} sandbox transactions, reviewing {args.lines:,} ...")
        params = dict(base, db=template, mode="setup", base_url=sandbox.base_url)
        setup = lib.finish_child("setup", *lib.start_child(__file__, work, "setup", params))
    return setup


def analyze_template(template, args):
    """The template's planner statistics, as a database in use has them (each copy keeps
    them); and, when the server's autovacuum is off, AutoAnalyze in each run."""
    connection = lib.pg_connect(template, autocommit=True)
    try:
        with connection.cursor() as cr:
            cr.execute("ANALYZE")
            cr.execute("SHOW autovacuum")
            autovacuum = cr.fetchone()[0]
    finally:
        connection.close()
    emulate = autovacuum != "on" and not args.no_autoanalyze
    return {"autovacuum": autovacuum, "naptime": AUTOANALYZE_NAPTIME if emulate else 0}


def reusable_setup(template, args):
    """The setup of an existing template (--reuse-template) made for ``args.lines``."""
    if not lib.db_exists_with_module(template):
        return None
    rows = lib.db_rows(
        template,
        """
        SELECT (SELECT id FROM res_users WHERE login = 'bench_bookkeeper'),
               (SELECT count(*) FROM ledgersync_transaction WHERE review_state = 'reviewed'),
               (SELECT count(*) FROM ledgersync_transaction),
               (SELECT code FROM account_journal j
                  JOIN ledgersync_bank_account b ON b.journal_id = j.id LIMIT 1)
        """,
    )
    bookkeeper, reviewed, synced, journal = rows[0]
    if not bookkeeper or reviewed != args.lines:
        return None
    return {
        "transactions": reviewed,
        "journal": journal,
        "bookkeeper": bookkeeper,
        "synced": synced,
        "reused": True,
    }


def moves_ok(result):
    moves = result["moves"]
    count = result["count"]
    return moves["lines"] == moves["posted"] == moves["balanced"] == moves["named"] == count


def per_line(result, key):
    return result["moves"][key] / result["count"]


def cpu_ms(result):
    """CPU milliseconds per line: the Odoo process and its PostgreSQL backend."""
    return 1000 * (result["cpu_odoo"] + (result["cpu_postgres"] or 0)) / result["count"]


def median_rate(runs):
    return statistics.median(rate(result) for result in runs)


def median_cpu(runs):
    return statistics.median(cpu_ms(result) for result in runs)


def build_report(args, info, odoo_src, setup, results, profiles, timings):
    runs = results[DEFAULT]
    from_plain, from_export = median_rate(runs["plain"]), median_rate(runs["export"])
    # Paired by round (same spell of the machine), then the median of the rounds.
    ratio = statistics.median(
        rate(export_run) / rate(plain_run)
        for plain_run, export_run in zip(runs["plain"], runs["export"], strict=True)
    )
    cpu_ratio = median_cpu(runs["plain"]) / median_cpu(runs["export"])
    passed = ratio >= 1 - NOISE_MARGIN
    every_run = [result for modes in results.values() for mode in modes.values() for result in mode]
    fingerprints = {result["moves"]["fingerprint"] for mode in runs.values() for result in mode}
    all_ok = all(moves_ok(result) for result in every_run)
    statements = {
        result["moves"]["statements"] for modes in results.values() for result in modes["export"]
    }
    report = lib.Report("Export to bank statements (bench/bench_statement_export.py)")
    report.figure(
        f"export / plain batched create, {args.lines:,} lines",
        f">= 1 (noise margin {NOISE_MARGIN:.0%}: >= {1 - NOISE_MARGIN:.2f})",
        f"{ratio:.2f} (export {from_export:.1f} lines/s, plain {from_plain:.1f} lines/s)",
        passed,
    )
    report.figure(
        "the same in CPU time (Odoo + PostgreSQL)",
        "-",
        f"{cpu_ratio:.2f} (export {median_cpu(runs['export']):.1f} ms/line, "
        f"plain {median_cpu(runs['plain']):.1f} ms/line)",
    )
    report.figure(
        "journal entries: posted, balanced, named",
        "every line, every run",
        "yes" if all_ok else "NO",
        all_ok,
    )
    report.figure(
        "same entries from export and plain create",
        "one fingerprint",
        f"{len(fingerprints)}: {', '.join(sorted(fingerprints))}",
        len(fingerprints) == 1,
    )
    report.figure(
        "bank statements built by each export",
        "1 (one journal)",
        ", ".join(str(value) for value in sorted(statements)),
        statements == {1},
    )
    report.section(
        "Setup",
        [
            f"sandbox: 1 client, 1 USD bank account, {setup['synced']:,} transactions synced "
            f"(Save Integration + initial sync); journal {setup['journal']} (Create Bank "
            "Journal)",
            f"{setup['transactions']:,} posted transactions reviewed with one of 20 vendors "
            "and a GL account (expense out, income in): each line has a partner and its "
            "counterpart account",
            f"chunk (export) = batch (plain create) = {runs['plain'][0]['chunk']} lines, "
            "a COMMIT after each; every run on a fresh copy of the template, in a child "
            "process of its own",
            f"{args.repeat} round(s) of every measurement, in a turning order; lines/s are "
            "medians, the ratio the median of the rounds' ratios",
            autoanalyze_line(setup, every_run),
        ],
    )
    run_lines = [
        f"{'run':<54} {'seconds':>7} {'lines/s':>7} {'queries/line':>12} "
        f"{'SQL ms/line':>11} {'CPU ms/line':>11}  notes"
    ]
    for variant, modes in results.items():
        for mode, mode_runs in modes.items():
            for index, result in enumerate(mode_runs):
                notes = ""
                if mode == "plain":
                    notes = growth(result)
                if mode == "export":
                    notes = (
                        f"request {result['request_seconds']:.2f} s, "
                        f"{result['cron_calls']} _cron_build call(s), {result['states']}"
                    )
                run_lines.append(
                    f"{f'{mode} #{index + 1}, {variant}':<54} {result['seconds']:>7.1f} "
                    f"{rate(result):>7.1f} {result['queries'] / result['count']:>12.1f} "
                    f"{1000 * result['sql_seconds'] / result['count']:>11.2f} "
                    f"{cpu_ms(result):>11.1f}  {notes}"
                )
    report.section("Runs", run_lines)
    report.section(
        "SQL statements that take the most time (plain #1 | export #1 of Odoo's defaults)",
        statement_lines(runs),
    )
    if profiles:
        report.section("Where a line's time goes", profile_lines(profiles))
    if len(results) > 1:
        report.section("How far beyond: context keys that skip work", variant_lines(results))
    report.section("How far beyond: Odoo's per-line cost", beyond_lines(results, profiles))
    report.section("Timings", [f"whole bench {timings['total']:.0f} s"])
    report.section("Machine", lib.machine_lines(info, odoo_src))
    return report, passed and all_ok and len(fingerprints) == 1 and statements == {1}


def autoanalyze_line(setup, every_run):
    if setup["naptime"]:
        counts = [len(result["analyzed"]) for result in every_run]
        return (
            f"PostgreSQL's autovacuum is {setup['autovacuum']} here: a thread of each run "
            f"ANALYZEs as its daemon would (every {setup['naptime']} s, the tables changed by "
            f"over 50 rows + 10%): {min(counts)} to {max(counts)} ANALYZE per run; the "
            "template was analyzed once"
        )
    return f"PostgreSQL's autovacuum is {setup['autovacuum']}; the template was analyzed once" + (
        "" if setup["autovacuum"] == "on" else " (--no-autoanalyze: nothing more)"
    )


def growth(result):
    """ms per line of the first and the last batches: Odoo's per-line cost as the
    journal fills up."""
    batches = result["batch_seconds"]
    size = result["count"] / len(batches)
    if len(batches) < 4:
        return ""
    few = max(1, len(batches) // 10)
    first = 1000 * statistics.mean(batches[:few]) / size
    last = 1000 * statistics.mean(batches[-few:]) / size
    return f"batches {first:.1f} -> {last:.1f} ms/line (first / last {few})"


def statement_lines(runs):
    lines = []
    for mode in ("plain", "export"):
        result = runs[mode][0]
        lines.append(
            f"{mode}: {result['queries']:,} statements, {result['sql_seconds']:.1f} s of SQL "
            f"in {result['seconds']:.1f} s"
        )
        for text, count, seconds in result["slowest_statements"][:6]:
            lines.append(f"  {count:>7,} x {seconds:>6.2f} s  {text[:110]}")
    return lines


def profile_lines(profiles):
    lines = [
        f"a stack sampler (every {SAMPLE_SECONDS * 1000:.0f} ms of wall time) over "
        f"{profiles['plain']['count']} lines of each mode; ms per line; a part nested "
        "in another (indented) is counted in both",
        f"{'':<44} {'plain':>7} {'export':>7}",
    ]
    for label in profiles["plain"]["profile"]["parts"]:
        values = [
            1000 * profiles[mode]["profile"]["parts"][label] / profiles[mode]["count"]
            for mode in ("plain", "export")
        ]
        if any(value >= 0.05 for value in values):
            lines.append(f"{label:<44} {values[0]:>7.2f} {values[1]:>7.2f}")
    lines.append("whose code runs (the innermost frame), ms per line:")
    for label in profiles["plain"]["profile"]["owners"]:
        values = [
            1000 * profiles[mode]["profile"]["owners"][label] / profiles[mode]["count"]
            for mode in ("plain", "export")
        ]
        lines.append(f"  {label:<42} {values[0]:>7.2f} {values[1]:>7.2f}")
    lines.append(
        f"  {'whole wall time':<42} "
        + " ".join(
            f"{1000 * profiles[mode]['seconds'] / profiles[mode]['count']:>7.2f}"
            for mode in ("plain", "export")
        )
        + f"  ({profiles['plain']['profile']['samples']} / "
        f"{profiles['export']['profile']['samples']} samples)"
    )
    return lines


def variant_lines(results):
    default = results[DEFAULT]
    reference = default["plain"][0]["moves"]["fingerprint"]
    default_cpu = median_cpu(default["plain"] + default["export"])
    default_messages = per_line(default["export"][0], "messages")
    width = max(len(variant) for variant in results)
    lines = [
        f"{'context':<{width}} {'plain l/s':>9} {'x':>5} {'export l/s':>10} {'x':>5} "
        f"{'CPU ms/line':>11} {'x':>5} {'messages':>8} {'tracking':>8}  reading"
    ]
    for variant, modes in results.items():
        every = modes["plain"] + modes["export"]
        export_runs = modes["export"]
        speed = median_rate(export_runs) / median_rate(default["export"])
        messages = per_line(export_runs[0], "messages")
        if variant == DEFAULT:
            reading = "the reference"
        elif not all(
            result["moves"]["fingerprint"] == reference and moves_ok(result) for result in every
        ):
            reading = "DIFFERENT journal entries"
        elif messages < default_messages:
            reading = "same entries, but drops audit-trail messages"
        elif speed < 1 + NOISE_MARGIN:
            reading = "same entries; gain within the noise margin"
        else:
            reading = "same entries, same audit trail, faster"
        lines.append(
            f"{variant:<{width}} {median_rate(modes['plain']):>9.1f} "
            f"{median_rate(modes['plain']) / median_rate(default['plain']):>5.2f} "
            f"{median_rate(export_runs):>10.1f} {speed:>5.2f} "
            f"{median_cpu(every):>11.1f} {default_cpu / median_cpu(every):>5.2f} "
            f"{messages:>8.2f} {per_line(export_runs[0], 'tracking_values'):>8.2f}  {reading}"
        )
    lines += [
        "x: speed against Odoo's defaults (medians); CPU: Odoo + PostgreSQL, both modes;",
        "messages, tracking: mail_message rows of account.move and their mail_tracking_value",
        "rows per line after the export. Odoo's Audit Trail report (Accounting) lists the",
        "account.move notifications: the 'Journal Entry created' message is one of them.",
        "The journal entries are compared by fingerprint with Odoo's defaults (name, date,",
        "state, partner, each item's account, debit, credit, partner, amount in currency).",
    ]
    return lines


def beyond_lines(results, profiles):
    """How far Odoo's own per-line cost lets the export go beyond the plain create."""
    default = results[DEFAULT]
    plain_ms = 1000 / median_rate(default["plain"])
    export_ms = 1000 / median_rate(default["export"])
    lines = [
        f"plain create: {plain_ms:.1f} ms per line ({median_rate(default['plain']):.1f} "
        f"lines/s); the export: {export_ms:.1f} ms ({export_ms - plain_ms:+.1f} ms per line "
        "for the claim, the links, the chunks' bookkeeping and the statements)",
    ]
    if profiles:
        plain = profiles["plain"]
        owners = {
            label: 1000 * seconds / plain["count"]
            for label, seconds in plain["profile"]["owners"].items()
        }
        python = sum(value for label, value in owners.items() if not label.startswith("SQL"))
        lines.append(
            f"of Odoo's create (sampled): {python:.1f} ms of Python (ORM "
            f"{owners['Odoo ORM (Python)']:.1f} ms) and "
            f"{owners['SQL (the wait for PostgreSQL included)']:.1f} ms of SQL per line, for "
            "4 records (statement line, journal entry, 2 journal items), a sequence name and "
            "the posting"
        )
    if len(results) > 1:
        best = max(
            (variant for variant in results if variant != DEFAULT),
            key=lambda variant: median_rate(results[variant]["export"]),
        )
        gain = median_rate(results[best]["export"]) / median_rate(default["export"])
        lines.append(
            f"the most that Odoo's context keys skip: {best}, x{gain:.2f} "
            f"({median_rate(results[best]['export']):.1f} lines/s): see the readings above"
        )
    return lines


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--lines", type=int, default=2000, help="transactions to export")
    parser.add_argument(
        "--repeat", type=int, default=3, help="rounds of every measurement (medians)"
    )
    parser.add_argument("--no-variants", action="store_true", help="skip the context-key variants")
    parser.add_argument(
        "--profile-lines", type=int, default=400, help="lines of the sampled pass (0: none)"
    )
    parser.add_argument(
        "--no-autoanalyze",
        action="store_true",
        help="on a server whose autovacuum is off, do not ANALYZE as autovacuum would",
    )
    lib.add_database_options(parser, "ledgersync_bench_statements")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        params = json.loads(Path(args.child).read_text())
        if params["mode"] == "setup":
            child_setup(params)
        else:
            child_measure(params)
        return 0

    odoo_src, info = lib.prepare()
    template = f"{args.db_prefix}_tpl"
    bench_started = time.monotonic()

    def say(message):
        print(f"[{time.monotonic() - bench_started:5.0f} s] {message}", flush=True)

    chosen = [DEFAULT] if args.no_variants else list(VARIANTS)
    results = {variant: {"plain": [], "export": []} for variant in chosen}
    profiles = {}
    with lib.scratch_dir("ledgersync-bench-statements-") as work:
        base = {
            "odoo_src": str(odoo_src),
            "data_dir": str(work / "data"),
            "history_days": CONNECTION_HISTORY_DAYS,
            "lines": args.lines,
        }
        scratch_db = f"{args.db_prefix}_run"
        try:
            setup = reusable_setup(template, args) if args.reuse_template else None
            if setup is None:
                setup = build_template(work, odoo_src, template, base, args, say)
            base["bookkeeper"] = setup["bookkeeper"]
            setup.update(analyze_template(template, args))
            base["naptime"] = setup["naptime"]
            plan = [(variant, mode) for variant in chosen for mode in ("plain", "export")]
            for repeat in range(args.repeat):
                # Each round runs everything once, in an order turned by one step per
                # round (and reversed every other round), so that a slower spell of the
                # machine does not fall on one mode or variant only.
                shift = repeat % len(plan)
                order = plan[shift:] + plan[:shift]
                if repeat % 2:
                    order.reverse()
                for variant, mode in order:
                    say(
                        f"round {repeat + 1}/{args.repeat}: {mode}, {variant}, "
                        f"{args.lines:,} lines ..."
                    )
                    result = measure(work, template, scratch_db, base, mode, variant, run=repeat)
                    results[variant][mode].append(result)
                    say(
                        f"        {rate(result):.1f} lines/s in {result['seconds']:.1f} s, "
                        f"CPU {cpu_ms(result):.1f} ms/line"
                    )
            if args.profile_lines:
                for mode in ("plain", "export"):
                    say(f"sampling where the time goes: {mode}, {args.profile_lines} lines ...")
                    profiles[mode] = measure(
                        work,
                        template,
                        scratch_db,
                        base,
                        mode,
                        DEFAULT,
                        limit=args.profile_lines,
                        profile=True,
                    )
        finally:
            lib.drop_db(scratch_db)
            if not args.keep_dbs:
                lib.drop_db(template)
    timings = {"total": time.monotonic() - bench_started}
    report, ok = build_report(args, info, odoo_src, setup, results, profiles, timings)
    report.publish(
        "bench_statement_export",
        {
            "machine": info,
            "setup": setup,
            "results": results,
            "profiles": profiles,
            "timings": timings,
        },
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
