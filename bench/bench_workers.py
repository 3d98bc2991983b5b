"""Benchmark of the parallel sync workers: prints one report, is not a test.

    python bench/bench_workers.py [--delay 0.05] [--transactions 500] [--repeat 1]
                                  [--keep-dbs] [--reuse-template]

The same initial sync (20 clients x 5 bank accounts x 500 transactions) is run by Odoo's
own cron machinery with 1 and then with 2 worker scheduled actions (the "Parallel sync
workers" setting). Each time, two separate Odoo processes act as two cron servers sharing
the database: each calls ``ir.cron._process_jobs(db)`` in a loop, as Odoo's cron threads
do, until the run is over. With one worker cron, only one of them can have work (Odoo
never runs one scheduled action twice at once); with two, each can run one. The sandbox
runs in its own process and answers every transactions request after ``--delay`` seconds
(its ``delay`` fault), standing for the latency of the real API.

Reported: wall time from the start signal to the end of the run, for 1 and 2 workers, and
the speed-up (goal >= 1.5x); and, for each sync, that every bank account was asked for
its transactions exactly as often as by a single worker (sandbox ``by_account``
counters), that no row is duplicated and none is missing.
"""

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

import _benchlib as lib

lib.ensure_venv()

CLIENTS = 20
ACCOUNTS_PER_CLIENT = 5
SANDBOX_HISTORY_DAYS = 80
CONNECTION_HISTORY_DAYS = 90
CRON_PROCESSES = 2
GOAL_SPEEDUP = 1.5


# =========================================================================== child side


def child_setup(params):
    """Connect, choose the number of worker crons, leave only them to run, trigger them."""
    registry = lib.open_registry(Path(params["odoo_src"]), params["db"], params["data_dir"])
    from odoo import SUPERUSER_ID, api

    with registry.cursor() as cr:
        env = api.Environment(cr, SUPERUSER_ID, {})
        env.ref("base.EUR").active = True  # the sandbox has one EUR bank account
        connection = lib.connect_demo(env, params["base_url"], params["history_days"])
        workers = env["ledgersync.sync.workers"]
        workers._set_worker_count(params["workers"])
        crons = workers._worker_crons()
        # Only the sync's crons run in the bench database; they run on their triggers.
        others = env["ir.cron"].search([("id", "not in", crons.ids)])
        others.write({"active": False})
        far = "2100-01-01 00:00:00"
        crons.write({"nextcall": far})
        env["ir.cron.trigger"].search([]).unlink()
        workers._trigger_all()  # as Sync Now does
        result = {"crons": crons.ids, "connection": connection.id}
    Path(params["result"]).write_text(json.dumps(result))


def child_cron(params):
    """One Odoo "server": runs the ready cron jobs of the database until the run is over."""
    registry = lib.open_registry(Path(params["odoo_src"]), params["db"], params["data_dir"])
    from odoo.addons.base.models.ir_cron import IrCron

    go = Path(params["go"])
    print("ready", flush=True)
    while not go.exists():
        time.sleep(0.01)
    deadline = time.monotonic() + params["timeout"]
    jobs = 0
    while time.monotonic() < deadline:
        IrCron._process_jobs(params["db"])
        jobs += 1
        with registry.cursor() as cr:
            cr.execute(
                "SELECT count(*) FILTER (WHERE state = 'running'), count(*) "
                "FROM ledgersync_sync_run"
            )
            running, total = cr.fetchone()
        if total and not running:
            break
        time.sleep(0.05)
    Path(params["result"]).write_text(json.dumps({"pid": os.getpid(), "loops": jobs}))


# =========================================================================== parent side


def start_child(work, mode, name, params):
    return lib.start_child(__file__, work, name, params, flag=f"--{mode}")


finish_child = lib.finish_child


def wait_ready(name, log_path, process, timeout=120):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if "ready" in Path(log_path).read_text(errors="replace").split():
            return
        if process.poll() is not None:
            break
        time.sleep(0.05)
    print(Path(log_path).read_text(errors="replace")[-6000:], file=sys.stderr)
    sys.exit(f"cron process {name} did not get ready")


query = lib.db_rows


def measure(work, db, workers, params, sandbox, timeout):
    """One sync with ``workers`` worker crons and CRON_PROCESSES Odoo processes."""
    name = f"w{workers}"
    setup = finish_child(
        f"{name}-setup", *start_child(work, "setup", f"{name}-setup", dict(params, workers=workers))
    )
    go = work / f"{name}.go"
    go.unlink(missing_ok=True)
    children = []
    for number in range(CRON_PROCESSES):
        child_name = f"{name}-cron{number + 1}"
        child = start_child(work, "cron", child_name, dict(params, go=str(go), timeout=timeout))
        children.append((child_name, child))
    for child_name, (process, log, _result) in children:
        wait_ready(child_name, log.name, process)
    lib.checkpoint()
    sandbox.reset_stats()
    started = time.monotonic()
    go.write_text("go")
    seconds = None
    while time.monotonic() - started < timeout:
        ((running, total),) = query(
            db,
            "SELECT count(*) FILTER (WHERE state = 'running'), count(*) FROM ledgersync_sync_run",
        )
        if total and not running:
            seconds = time.monotonic() - started
            break
        time.sleep(0.02)
    for child_name, child in children:
        finish_child(child_name, *child)
    if seconds is None:
        sys.exit(f"the sync with {workers} workers did not end within {timeout} s")
    stats = sandbox.stats()
    runs = query(
        db,
        "SELECT id, state, accounts_total, error_message FROM ledgersync_sync_run ORDER BY id",
    )
    by_worker = query(
        db,
        "SELECT worker_pid, sum(accounts_done), sum(created_count) FROM ledgersync_sync_worker "
        "GROUP BY worker_pid ORDER BY worker_pid",
    )
    ((rows, distinct),) = query(
        db,
        "SELECT count(*), count(DISTINCT (bank_account_id, ledgersync_id)) "
        "FROM ledgersync_transaction",
    )
    per_account = dict(
        query(
            db,
            "SELECT account.ledgersync_id, count(tx.id) FROM ledgersync_bank_account account "
            "LEFT JOIN ledgersync_transaction tx ON tx.bank_account_id = account.id "
            "GROUP BY account.ledgersync_id",
        )
    )
    return {
        "workers": workers,
        "crons": setup["crons"],
        "seconds": seconds,
        "runs": runs,
        "by_worker": by_worker,
        "rows": rows,
        "distinct_rows": distinct,
        "per_account_rows": per_account,
        "by_account": stats.get("by_account", {}),
    }


def check(result, expected_per_account, accounts, reference_by_account):
    """Problems found in one sync (empty when correct)."""
    problems = []
    states = [run[1] for run in result["runs"]]
    if states != ["done"]:
        problems.append(f"runs: {result['runs']}")
    if result["rows"] != result["distinct_rows"]:
        problems.append(f"{result['rows'] - result['distinct_rows']} duplicated rows")
    wrong = {
        account: count
        for account, count in result["per_account_rows"].items()
        if count != expected_per_account
    }
    if len(result["per_account_rows"]) != accounts or wrong:
        problems.append(
            f"{len(result['per_account_rows'])} bank accounts; wrong row counts: {wrong}"
        )
    by_account = result["by_account"]
    if len(by_account) != accounts:
        problems.append(f"transactions asked for {len(by_account)} of {accounts} bank accounts")
    if reference_by_account is not None and by_account != reference_by_account:
        diff = {
            account: (reference_by_account.get(account), by_account.get(account))
            for account in set(by_account) | set(reference_by_account)
            if by_account.get(account) != reference_by_account.get(account)
        }
        problems.append(f"requests per bank account differ from 1 worker's: {diff}")
    return problems


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--delay", type=float, default=0.05, help="sandbox latency (s)")
    parser.add_argument("--transactions", type=int, default=500, help="per bank account")
    parser.add_argument("--repeat", type=int, default=1, help="syncs per worker count")
    parser.add_argument("--timeout", type=float, default=900)
    lib.add_database_options(parser, "ledgersync_bench_workers")
    parser.add_argument("--setup", help=argparse.SUPPRESS)
    parser.add_argument("--cron", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.setup:
        child_setup(json.loads(Path(args.setup).read_text()))
        return 0
    if args.cron:
        child_cron(json.loads(Path(args.cron).read_text()))
        return 0

    odoo_src, info = lib.prepare()
    template = f"{args.db_prefix}_tpl"
    bench_started = time.monotonic()
    results = {1: [], 2: []}
    problems = {1: [], 2: []}
    with lib.scratch_dir("ledgersync-bench-workers-") as work:
        if not (args.reuse_template and lib.db_exists_with_module(template)):
            print(f"Installing {lib.MODULE} into a fresh template database {template} ...")
            lib.install_db(odoo_src, template, work / "data", work / "install.log")
        sandbox = lib.Sandbox(CLIENTS, ACCOUNTS_PER_CLIENT, args.transactions, SANDBOX_HISTORY_DAYS)
        with sandbox:
            sandbox.admin(
                "POST",
                "/_sandbox/faults",
                {"kind": "delay", "endpoint": "transactions", "count": -1, "delay": args.delay},
            )
            params = {
                "odoo_src": str(odoo_src),
                "data_dir": str(work / "data"),
                "history_days": CONNECTION_HISTORY_DAYS,
                "base_url": sandbox.base_url,
            }
            reference = None
            for repeat in range(args.repeat):
                for workers in (1, 2):
                    db = f"{args.db_prefix}_{workers}_{repeat + 1}"
                    lib.copy_db(template, db)
                    print(
                        f"[{time.monotonic() - bench_started:5.0f} s] sync of "
                        f"{sandbox.total:,} transactions with {workers} worker cron(s), "
                        f"{CRON_PROCESSES} Odoo processes ({repeat + 1}/{args.repeat}) ...",
                        flush=True,
                    )
                    result = measure(work, db, workers, dict(params, db=db), sandbox, args.timeout)
                    if not args.keep_dbs:
                        lib.drop_db(db)
                    if workers == 1 and reference is None:
                        reference = result["by_account"]
                    found = check(
                        result,
                        args.transactions,
                        sandbox.accounts,
                        None if workers == 1 else reference,
                    )
                    problems[workers] += found
                    results[workers].append(result)
                    print(
                        f"        {result['seconds']:.1f} s, {result['rows']:,} rows, "
                        f"per worker (pid, accounts, rows): {result['by_worker']}"
                        + (f"; PROBLEMS: {found}" if found else ""),
                        flush=True,
                    )
        if not args.keep_dbs:
            lib.drop_db(template)

    one = statistics.median(r["seconds"] for r in results[1])
    two = statistics.median(r["seconds"] for r in results[2])
    speedup = one / two
    requests = sum(reference.values()) if reference else 0
    report = lib.Report(
        "LedgerSync parallel sync workers: 1 vs 2 worker crons "
        f"({CLIENTS} clients x {ACCOUNTS_PER_CLIENT} accounts x {args.transactions} "
        f"transactions, {args.delay * 1000:.0f} ms per transactions request)"
    )
    report.figure("wall time, 1 worker cron", "-", f"{one:.1f} s")
    report.figure("wall time, 2 worker crons", "-", f"{two:.1f} s")
    report.figure(
        "speed-up with 2 workers", f">= {GOAL_SPEEDUP}x", f"{speedup:.2f}x", speedup >= GOAL_SPEEDUP
    )
    for workers in (1, 2):
        report.figure(
            f"every account synced once, no row duplicated or missing ({workers} worker"
            f"{'s' if workers > 1 else ''})",
            "0 problems",
            f"{len(problems[workers])} problems",
            not problems[workers],
        )
    details = []
    for workers in (1, 2):
        for result in results[workers]:
            details.append(
                f"{workers} worker cron(s) {result['crons']}: {result['seconds']:.2f} s, "
                f"{result['rows']:,} rows ({result['distinct_rows']:,} distinct), "
                f"run {result['runs']}"
            )
            for pid, accounts, created in result["by_worker"]:
                details.append(
                    f"    worker backend {pid}: {accounts} bank accounts, {created:,} rows"
                )
    details.append(
        f"transactions requests per sync: {requests} for {sandbox.accounts} bank accounts "
        f"(the same per account with 2 workers as with 1: "
        f"{'yes' if not any('requests per bank account' in p for p in problems[2]) else 'no'})"
    )
    for workers in (1, 2):
        details += [f"problem ({workers} workers): {problem}" for problem in problems[workers]]
    report.section("Syncs", details)
    report.section(
        "How",
        [
            f"{CRON_PROCESSES} Odoo processes each call ir.cron._process_jobs(db) in a loop "
            "(as Odoo's cron threads do) from the same start signal;",
            "wall time: from that signal until the run is no longer running (polled every 20 ms);",
            "setup per sync (not timed): fresh copy of the installed template, Save "
            "Integration, the setting's worker crons, every other cron archived, triggers "
            "of the worker crons (as Sync Now).",
        ],
    )
    report.section("Machine", lib.machine_lines(info, odoo_src))
    report.publish(
        "bench_workers",
        {
            "machine": info,
            "args": vars(args),
            "seconds": {"1": one, "2": two},
            "speedup": speedup,
            "results": {str(k): v for k, v in results.items()},
            "problems": {str(k): v for k, v in problems.items()},
        },
    )
    return 0 if speedup >= GOAL_SPEEDUP and not any(problems.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
