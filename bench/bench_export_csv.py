"""Benchmark of the Accounting CS export: prints one report, is not a test.

    python bench/bench_export_csv.py [--lines 100000] [--repeat 3] [--reuse-db] [--keep-db]

One bank account with ``--lines`` posted, reviewed transactions (built as in
bench_review_list.py, with vendors and GL accounts set) is exported as the wizard
exports it: the transactions read from PostgreSQL FETCH_LINES at a time (record rules
applied, as an accountant), each turned into its 11 cells and streamed out as UTF-8
chunks. Reported: lines per second of that whole stream (goal >= 50,000/s), the writer
alone, and the peak Python memory (tracemalloc) of the stream for ``--lines`` against a
tenth of them: flat memory means about the same peak.
"""

import argparse
import statistics
import sys
import time
import tracemalloc

import _benchlib as lib

lib.ensure_venv()

import bench_review_list  # noqa: E402 - after ensure_venv, which may re-execute

GOAL_LINES_PER_SECOND = 50_000
GOAL_MEMORY_RATIO = 2.0  # peak for all lines / peak for a tenth


def prepare(env, lines):
    """One client, one bank account, ``lines`` transactions, all posted and reviewed, with
    a vendor and a GL account."""
    _clients, accounts = bench_review_list.build_rows(env, 1, 1, lines)
    partner = env["res.partner"].create({"name": "Office Depot", "ref": "OFF01"})
    gl_account = env["account.account"].search([("account_type", "=", "expense")], limit=1)
    env.cr.execute(
        """
        UPDATE ledgersync_transaction
           SET ledgersync_status = 'posted', review_state = 'reviewed',
               partner_id = %s, account_id = %s
        """,
        [partner.id, gl_account.id],
    )
    env.cr.execute("ANALYZE ledgersync_transaction")
    return accounts


def wizard_for(env, account):
    dates = env["ledgersync.transaction"].search_read(
        [("bank_account_id", "=", account.id)], ["date"], order="date", limit=1
    )
    return env["ledgersync.export.accounting.cs"].create(
        {
            "client_id": account.client_id.id,
            "bank_account_id": account.id,
            "date_from": dates[0]["date"],
            "date_to": "2100-01-01",
        }
    )


def stream_all(wizard, limit=None):
    """Bytes and lines of the wizard's file, streamed; ``limit``: the first lines only."""
    from odoo.addons.ledgersync_connector.exports.accounting_cs import stream

    lines = wizard._export_lines(wizard._domain())
    if limit is not None:
        lines = (line for _, line in zip(range(limit), lines, strict=False))
    size = 0
    for chunk in stream(lines):
        size += len(chunk)
    return size


def writer_only(lines):
    from odoo.addons.ledgersync_connector.exports.accounting_cs import stream

    return sum(len(chunk) for chunk in stream(lines))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--lines", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--db", default="ledgersync_bench_export_csv")
    parser.add_argument("--reuse-db", action="store_true")
    parser.add_argument("--keep-db", action="store_true")
    args = parser.parse_args()

    odoo_src, info = lib.prepare()
    with lib.scratch_dir("ledgersync-bench-export-") as work:
        data_dir = work / "data"
        if not (args.reuse_db and lib.db_exists_with_module(args.db)):
            print(f"Installing {lib.MODULE} into a fresh database {args.db} ...", flush=True)
            lib.install_db(odoo_src, args.db, data_dir, work / "install.log")
        registry = lib.open_registry(odoo_src, args.db, data_dir)
        from odoo import SUPERUSER_ID, api
        from odoo.tests import new_test_user

        with registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            if not env["ledgersync.transaction"].search_count([], limit=1):
                print(f"Building {args.lines:,} transactions ...", flush=True)
                prepare(env, args.lines)
                cr.commit()
            accountant = env["res.users"].search([("login", "=", "bench_exporter")])
            accountant = accountant or new_test_user(
                env, login="bench_exporter", groups="account.group_account_invoice"
            )
            cr.commit()
            user_env = env(user=accountant)
            account = user_env["ledgersync.bank.account"].search([], limit=1)
            wizard = wizard_for(user_env, account)
            lines = list(wizard._export_lines(wizard._domain()))  # also the warm-up
            durations, sizes = [], []
            for _ in range(args.repeat):
                user_env.invalidate_all()
                started = time.perf_counter()
                sizes.append(stream_all(wizard))
                durations.append(time.perf_counter() - started)
            writer_durations = []
            for _ in range(args.repeat):
                started = time.perf_counter()
                writer_only(lines)
                writer_durations.append(time.perf_counter() - started)
            peaks = {}
            for count in (len(lines) // 10, len(lines)):
                user_env.invalidate_all()
                tracemalloc.start()
                stream_all(wizard, limit=count)
                peaks[count] = tracemalloc.get_traced_memory()[1]
                tracemalloc.stop()
            cr.rollback()
        lib.close_registry(args.db)
        if not args.keep_db:
            lib.drop_db(args.db)

    count = len(lines)
    rate = count / statistics.median(durations)
    writer_rate = count / statistics.median(writer_durations)
    small, large = sorted(peaks)
    ratio = peaks[large] / peaks[small]
    report = lib.Report("Export to Accounting CS (bench/bench_export_csv.py)")
    report.figure(
        f"{count:,} lines read and streamed",
        f">= {GOAL_LINES_PER_SECOND:,} lines/s",
        f"{rate:,.0f} lines/s",
        rate >= GOAL_LINES_PER_SECOND,
    )
    report.figure(
        "peak memory, all lines / a tenth",
        f"<= {GOAL_MEMORY_RATIO}x (flat)",
        f"{ratio:.2f}x ({peaks[large] / 2**20:.1f} MiB / {peaks[small] / 2**20:.1f} MiB)",
        ratio <= GOAL_MEMORY_RATIO,
    )
    report.figure("the writer alone (lines in memory)", "-", f"{writer_rate:,.0f} lines/s")
    report.section(
        "Setup",
        [
            f"{count:,} posted, reviewed transactions of one bank account, with a vendor and a "
            "GL account; streamed as an accountant (record rules on)",
            f"file size {sizes[0] / 2**20:.1f} MiB; median of {args.repeat} runs: "
            + ", ".join(f"{value:.2f} s" for value in durations),
        ],
    )
    report.section("Machine", lib.machine_lines(info, odoo_src))
    report.publish("bench_export_csv")
    return 0 if rate >= GOAL_LINES_PER_SECOND and ratio <= GOAL_MEMORY_RATIO else 1


if __name__ == "__main__":
    sys.exit(main())
