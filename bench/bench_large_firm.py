"""Benchmark of a large firm's initial sync under Odoo's real time limits: prints one
report, is not a test.

    python bench/bench_large_firm.py [--quick] [--clients 2000] [--accounts-per-client 1]
        [--transactions 40] [--history-days 2190] [--heavy-accounts 4]
        [--heavy-transactions 5000] [--delay 0.05] [--cron-limit 20] [--sync-workers 1]
        [--timeout 3600] [--keep-db]

A real Odoo server (``odoo-bin --workers=2 --max-cron-threads=1
--limit-time-real-cron=<--cron-limit>``) runs the addon's scheduled action on a fresh
database, against the sandbox in its own process answering every API call after
``--delay`` seconds. The firm has thousands of clients, most with one bank account and a
few transactions a year, and a few heavy bank accounts with years of history (thousands of
transactions each). The bench saves the integration (as Save Integration does), makes the
sync's scheduled actions ready at once (their triggers, as Sync Now), then only watches:
Odoo's cron worker does the whole run, calling the scheduled action again while work is
left, and its master kills the cron worker whenever one pass over the database's jobs
outlasts the limit.

Reported: the run's duration and state; the rows in Odoo against the sandbox's, per table
(clients, bank accounts, transactions: exact, none lost, none duplicated); from the server
log, the scheduled action's job runs and calls, and the kills by the time limit
("WorkerCron ... timeout", "virtual real time limit"). Goals: the run completes, the rows
are exact, no cron call is killed.

``--quick`` divides the firm by ten (a check in a few minutes). The issue's stall is
``--clients 20 --accounts-per-client 5 --transactions 5000 --history-days 2190
--heavy-accounts 0 --cron-limit 30``.
"""

import argparse
import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import _benchlib as lib

lib.ensure_venv()

FULL = {
    "clients": 2000,
    "accounts_per_client": 1,
    "transactions": 40,
    "history_days": 6 * 365,
    "heavy_accounts": 4,
    "heavy_transactions": 5000,
}
QUICK_DIVISOR = 10
# Log lines of Odoo's cron machinery that the report counts.
KILL_PATTERNS = {
    "worker kills (WorkerCron timeout)": re.compile(r"WorkerCron \(\d+\) timeout after"),
    "virtual real time limit reached": re.compile(r"virtual real time limit"),
    "jobs failed by timeouts (Job timed out)": re.compile(
        r"Job '.*LedgerSync.*' \(\d+\) timed out"
    ),
}
JOB_DONE = re.compile(
    r"Job '(?P<name>[^']*LedgerSync[^']*)' \(\d+\) \S+ done \(#loop (?P<loops>\d+);"
    r".*?duration (?P<seconds>[\d.]+)s\)"
)
JOB_STARTING = re.compile(r"Job '[^']*LedgerSync[^']*' \(\d+\) starting")


# =========================================================================== child side


def child_setup(params):
    """Odoo's own scheduled actions run once (as on a database in use for a while, where
    they are not all due at once); Save Integration, the history to load, the parallel
    workers; every sync cron ready."""
    registry = lib.open_registry(Path(params["odoo_src"]), params["db"], params["data_dir"])
    from odoo import SUPERUSER_ID, api, fields

    from odoo.addons.base.models.ir_cron import IrCron

    IrCron._process_jobs(params["db"])

    with registry.cursor() as cr:
        env = api.Environment(cr, SUPERUSER_ID, {})
        connection = lib.connect_demo(env, params["base_url"], params["history_days"])
        workers = env["ledgersync.sync.workers"]
        workers._set_worker_count(params["sync_workers"])
        crons = workers._worker_crons()
        # Ready now: the server's cron worker takes them at its first pass.
        crons.write({"nextcall": fields.Datetime.now()})
        workers._trigger_all()
        result = {"crons": crons.ids, "connection": connection.id}
    Path(params["result"]).write_text(json.dumps(result))


# =========================================================================== parent side


def server_command(odoo_src, db, data_dir, args):
    return [
        sys.executable,
        str(odoo_src / "odoo-bin"),
        *lib.odoo_options(odoo_src, db, data_dir),
        f"--db-filter=^{db}$",
        # The cron side of a prefork server: its master, its cron worker and its watchdog
        # (no HTTP workers, nor the gevent process, which needs more than the test venv).
        "--no-http",
        "--workers=2",
        "--max-cron-threads=1",
        f"--limit-time-real-cron={args.cron_limit}",
        f"--limit-time-real={max(args.cron_limit * 3, 60)}",
        "--log-level=info",
    ]


def start_server(command, log_path):
    log = open(log_path, "w")  # noqa: SIM115 - closed by stop_server
    # A session of its own: stopping it reaches the master and the workers it forked.
    process = subprocess.Popen(
        command, cwd=lib.REPO, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
    )
    return process, log


def stop_server(process, log):
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
    log.close()


def run_state(db):
    rows = lib.db_rows(
        db,
        """
        SELECT run.id, run.state, run.phase, run.accounts_total,
               COALESCE(sum(worker.accounts_done), 0), COALESCE(sum(worker.created_count), 0),
               run.error_code, run.error_message
          FROM ledgersync_sync_run run
          LEFT JOIN ledgersync_sync_worker worker ON worker.run_id = run.id
         GROUP BY run.id ORDER BY run.id
        """,
    )
    return [
        dict(
            zip(
                (
                    "id",
                    "state",
                    "phase",
                    "accounts_total",
                    "accounts_done",
                    "created",
                    "code",
                    "message",
                ),
                row,
                strict=True,
            )
        )
        for row in rows
    ]


def odoo_rows(db):
    """Rows of the synced tables in Odoo: total and distinct LedgerSync ids per table."""
    counts = {}
    for table, key in (
        ("ledgersync_client", "ledgersync_id"),
        ("ledgersync_bank_account", "ledgersync_id"),
        ("ledgersync_transaction", "bank_account_id, ledgersync_id"),
    ):
        ((rows, distinct, active),) = lib.db_rows(
            db,
            f"SELECT count(*), count(DISTINCT ({key})), count(*) FILTER (WHERE active) "
            f"FROM {table}",
        )
        counts[table] = {"rows": rows, "distinct": distinct, "active": active}
    return counts


def leases_left(db):
    return lib.db_rows(
        db,
        "SELECT id, sync_lease_until, sync_worker_pid FROM ledgersync_bank_account "
        "WHERE sync_lease_until IS NOT NULL ORDER BY id",
    )


def notify_cron_workers(db):
    """What Sync Now does in a running server: wake its cron workers for ``db``."""
    connection = lib.pg_connect("postgres", autocommit=True)
    try:
        with connection.cursor() as cr:
            cr.execute("NOTIFY cron_trigger, %s", [db])
    finally:
        connection.close()


def log_figures(text):
    """Counts in the server log from the sync job's first start on (before, an idle cron
    worker of a limit shorter than Odoo's one-minute cron sleep is killed in its sleep)."""
    match = JOB_STARTING.search(text)
    before, text = (text[: match.start()], text[match.start() :]) if match else (text, "")
    figures = {name: len(pattern.findall(text)) for name, pattern in KILL_PATTERNS.items()}
    figures["idle cron workers killed before the first sync job"] = len(
        KILL_PATTERNS["worker kills (WorkerCron timeout)"].findall(before)
    )
    figures["job runs started"] = len(JOB_STARTING.findall(text))
    done = JOB_DONE.findall(text)
    figures["job runs ended"] = len(done)
    figures["calls in ended job runs"] = sum(int(loops) for _name, loops, _seconds in done)
    figures["longest job run (s)"] = max((float(seconds) for *_rest, seconds in done), default=0)
    figures["ERROR lines"] = len(re.findall(r"^\S+ \S+ \d+ ERROR ", text, re.M))
    return figures


def leases_by_pid(db):
    return dict(
        lib.db_rows(
            db,
            "SELECT id, sync_worker_pid FROM ledgersync_bank_account "
            "WHERE sync_lease_until IS NOT NULL",
        )
    )


def watch_kill(db, server_log, kill, elapsed, args, say):
    """Kill the server's cron worker once (SIGKILL, as Odoo's watchdog does) at
    ``--kill-cron-worker-after`` seconds, then time how long its database sessions stay
    in pg_stat_activity and until another worker took over its bank account."""
    if kill is None:
        if elapsed < args.kill_cron_worker_after:
            return None
        pids = re.findall(r"Worker WorkerCron \((\d+)\) alive", server_log.read_text())
        leases = leases_by_pid(db)
        os.kill(int(pids[-1]), signal.SIGKILL)
        say(f"killed the cron worker {pids[-1]} (SIGKILL); leases held: {leases}")
        return {"at": elapsed, "pid": int(pids[-1]), "leases": leases}
    if "backends_gone_after" not in kill:
        live = lib.db_rows(
            db,
            "SELECT pid FROM pg_stat_activity WHERE pid = ANY(%s)",
            [list(kill["leases"].values())],
        )
        if not live:
            kill["backends_gone_after"] = elapsed - kill["at"]
    if "taken_over_after" not in kill and kill["leases"]:
        now = leases_by_pid(db)
        if all(now.get(account) != pid for account, pid in kill["leases"].items()):
            kill["taken_over_after"] = elapsed - kill["at"]
    return kill


def sizes_from(args):
    sizes = {key: getattr(args, key) for key in FULL}
    for key, value in FULL.items():
        if sizes[key] is None:
            sizes[key] = value
            if args.quick and key in ("clients", "heavy_transactions"):
                sizes[key] = max(value // QUICK_DIVISOR, 1)
    return sizes


def populate_heavy_accounts(sandbox, sizes):
    """A second bank account with years of history for the first ``heavy_accounts``
    clients (the sandbox generates its transactions over the whole history)."""
    for index in range(sizes["heavy_accounts"]):
        sandbox.admin(
            "POST",
            "/_sandbox/bank-accounts",
            {"client_id": f"cl_d_{index + 1:04d}", "transactions": sizes["heavy_transactions"]},
        )


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="a firm ten times smaller")
    parser.add_argument("--clients", type=int)
    parser.add_argument("--accounts-per-client", type=int)
    parser.add_argument("--transactions", type=int, help="per ordinary bank account")
    parser.add_argument("--history-days", type=int, help="days of history in LedgerSync")
    parser.add_argument("--heavy-accounts", type=int, help="bank accounts with long history")
    parser.add_argument("--heavy-transactions", type=int, help="transactions of each")
    parser.add_argument("--delay", type=float, default=0.05, help="seconds per API answer")
    parser.add_argument("--cron-limit", type=int, default=20, help="--limit-time-real-cron")
    parser.add_argument("--sync-workers", type=int, default=1, help="parallel sync workers")
    parser.add_argument("--timeout", type=float, help="seconds (default 3600, quick 900)")
    parser.add_argument(
        "--kill-cron-worker-after",
        type=float,
        help="SIGKILL the server's cron worker once, this many seconds after its start",
    )
    parser.add_argument("--db", default="ledgersync_bench_large")
    parser.add_argument("--keep-db", action="store_true")
    parser.add_argument("--setup", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.setup:
        child_setup(json.loads(Path(args.setup).read_text()))
        return 0
    sizes = sizes_from(args)
    timeout = args.timeout or (900 if args.quick else 3600)
    db = f"{args.db}_quick" if args.quick else args.db

    odoo_src, info = lib.prepare()
    bench_started = time.monotonic()

    def say(text):
        print(f"[{time.monotonic() - bench_started:6.0f} s] {text}", flush=True)

    with lib.scratch_dir("ledgersync-bench-large-") as work:
        data_dir = work / "data"
        say(f"installing {lib.MODULE} into a fresh database {db} ...")
        lib.install_db(odoo_src, db, data_dir, work / "install.log")
        sandbox = lib.Sandbox(
            sizes["clients"],
            sizes["accounts_per_client"],
            sizes["transactions"],
            sizes["history_days"],
        )
        with sandbox:
            populate_heavy_accounts(sandbox, sizes)
            expected = sandbox.admin("GET", "/_sandbox/")["summary"]["demo"]
            say(
                f"sandbox: {expected['clients']:,} clients, {expected['bank_accounts']:,} bank "
                f"accounts, {expected['transactions']:,} transactions over "
                f"{sizes['history_days']} days; every answer after {args.delay * 1000:.0f} ms"
            )
            sandbox.admin(
                "POST", "/_sandbox/faults", {"kind": "delay", "count": -1, "delay": args.delay}
            )
            params = {
                "odoo_src": str(odoo_src),
                "data_dir": str(data_dir),
                "db": db,
                "base_url": sandbox.base_url,
                "history_days": sizes["history_days"] + 1,
                "sync_workers": args.sync_workers,
            }
            setup = lib.finish_child(
                "setup", *lib.start_child(__file__, work, "setup", params, flag="--setup")
            )
            server_log = work / "odoo-server.log"
            command = server_command(odoo_src, db, data_dir, args)
            say("starting " + " ".join(command[2:]))
            sandbox.reset_stats()
            started = time.monotonic()
            process, log = start_server(command, server_log)
            runs, seconds, last_report, kill = [], None, started, None
            try:
                while time.monotonic() - started < timeout:
                    time.sleep(2)
                    if not JOB_STARTING.search(server_log.read_text(errors="replace")):
                        notify_cron_workers(db)  # until its cron worker took the sync job
                    if process.poll() is not None:
                        say(f"the Odoo server exited ({process.returncode})")
                        break
                    runs = run_state(db)
                    if runs and not any(run["state"] == "running" for run in runs):
                        seconds = time.monotonic() - started
                        break
                    if args.kill_cron_worker_after:
                        kill = watch_kill(
                            db, server_log, kill, time.monotonic() - started, args, say
                        )
                    if time.monotonic() - last_report >= 30:
                        last_report = time.monotonic()
                        figures = log_figures(server_log.read_text(errors="replace"))
                        run = runs[-1] if runs else {}
                        say(
                            f"run {run.get('state')} / {run.get('phase')}: "
                            f"{run.get('accounts_done', 0)}/{run.get('accounts_total', 0)} "
                            f"accounts, {run.get('created', 0):,} transactions; "
                            f"{figures['job runs started']} job runs, "
                            f"{figures['worker kills (WorkerCron timeout)']} kills"
                        )
            finally:
                stop_server(process, log)
            stats = sandbox.stats()
        log_text = server_log.read_text(errors="replace")
        rows = odoo_rows(db)
        leases = leases_left(db)
        if seconds is None:
            (RESULT_LOG := lib.RESULTS_DIR / "bench_large_firm-last-server.log").parent.mkdir(
                exist_ok=True
            )
            RESULT_LOG.write_text(log_text)
            say(f"the run did not end within {timeout:.0f} s; server log kept in {RESULT_LOG}")
        if not args.keep_db:
            lib.drop_db(db)

    figures = log_figures(log_text)
    kills = sum(figures[name] for name in KILL_PATTERNS)  # from the first sync job on
    states = [run["state"] for run in runs]
    completed = seconds is not None and states == ["done"]
    table_expected = {
        "ledgersync_client": expected["clients"],
        "ledgersync_bank_account": expected["bank_accounts"],
        "ledgersync_transaction": expected["transactions"],
    }
    exact = all(
        rows[table]["active"] == rows[table]["rows"] == rows[table]["distinct"] == count
        for table, count in table_expected.items()
    )
    firm = (
        f"{sizes['clients']:,} clients x {sizes['accounts_per_client']} bank account(s) x "
        f"{sizes['transactions']:,} transactions + {sizes['heavy_accounts']} accounts x "
        f"{sizes['heavy_transactions']:,} transactions, {sizes['history_days']} days"
    )
    report = lib.Report(
        f"LedgerSync large firm under Odoo's time limits{' (quick)' if args.quick else ''}: "
        f"{firm}; --workers=2 --max-cron-threads=1 --limit-time-real-cron={args.cron_limit}, "
        f"{args.delay * 1000:.0f} ms per API answer"
    )
    duration = f"{seconds:.0f} s" if seconds is not None else f"> {timeout:.0f} s"
    report.figure("run completes (state done)", "done", f"{states} in {duration}", completed)
    for table, count in table_expected.items():
        found = rows[table]
        lost = count - found["distinct"]
        duplicated = found["rows"] - found["distinct"]
        report.figure(
            f"{table} rows vs sandbox",
            f"{count:,}, 0 lost, 0 dup.",
            f"{found['rows']:,} ({lost:,} lost, {duplicated:,} dup., "
            f"{found['rows'] - found['active']:,} archived)",
            found["active"] == found["rows"] == found["distinct"] == count,
        )
    report.figure("cron calls killed by the time limit", "0", str(kills), kills == 0)
    report.figure("leases left on bank accounts", "0", str(len(leases)), not leases)
    if kill:
        report.figure(
            "killed worker's bank account taken over",
            "yes",
            f"after {kill.get('taken_over_after', float('nan')):.0f} s "
            f"(its sessions gone after {kill.get('backends_gone_after', float('nan')):.0f} s)",
            "taken_over_after" in kill or not kill["leases"],
        )
    details = [f"{name}: {value}" for name, value in figures.items()]
    details.append(f"sync crons: {setup['crons']} (parallel sync workers: {args.sync_workers})")
    requests = {key: stats.get(key) for key in ("clients", "bank_accounts", "transactions")}
    details.append(f"sandbox requests: {requests}, {stats.get('total')} in all")
    for run in runs:
        details.append(
            f"run {run['id']}: {run['state']} ({run['phase']}), {run['accounts_done']}/"
            f"{run['accounts_total']} bank accounts, {run['created']:,} transactions created"
            + (f", {run['code']}: {run['message']}" if run["code"] else "")
        )
    details += [f"lease left: account {lease}" for lease in leases[:10]]
    report.section("Run", details)
    report.section(
        "How",
        [
            "fresh database with the addon installed (odoo-bin -i), Save Integration in a "
            "separate process, the history days covering the sandbox's history, the sync's "
            "crons ready at once; then only the Odoo server works (Odoo's other crons too);",
            "duration: from the server's start until no run is running (polled every 2 s);",
            "kills and calls: counted in the server's log (info level).",
        ],
    )
    report.section("Machine", lib.machine_lines(info, odoo_src))
    report.publish(
        "bench_large_firm" + ("_quick" if args.quick else ""),
        {
            "machine": info,
            "args": vars(args),
            "sizes": sizes,
            "seconds": seconds,
            "runs": runs,
            "rows": rows,
            "expected": expected,
            "log": figures,
            "leases": leases,
            "kill": kill,
        },
    )
    return 0 if completed and exact and kills == 0 and not leases else 1


if __name__ == "__main__":
    sys.exit(main())
