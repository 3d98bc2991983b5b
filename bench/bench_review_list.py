"""Benchmark of the accountant's review list at 1M transactions: prints one report, is not
a test.

    python bench/bench_review_list.py [--clients 20] [--accounts 10] [--transactions 5000]
                                      [--repeat 7] [--reuse-db] [--keep-db]

It builds 20 clients x 10 bank accounts x 5,000 transactions (1M rows) in one company,
with the shape the sandbox gives: dates over the last ~3 years, about a third of them
still to review, a few pending, money in and out, LedgerSync's vendor and GL hints on
most lines. Rows are written with one INSERT ... SELECT (the sync's own speed is
bench_sync.py's subject). Then, as an accountant (record rules applied), it times on the
server what the web client asks for, each call in a warm registry with the ORM cache
cleared, ``--repeat`` times (the median is reported):

- opening the list as its action opens it: the "To Review" filter, all clients, the first
  80 rows with the list view's fields and the count, plus the search panel's client and
  bank-account sections (goal <= 150 ms in total);
- one client's list (goal <= 50 ms) and its month groups with sums (goal <= 100 ms);
- all grouped by client with sums (goal <= 150 ms);
- the match-coverage figure of one client, bank account and range (goal <= 200 ms).

The fields read are those of the list view itself (``get_view``), as the web client reads
them. ``EXPLAIN ANALYZE`` of the slowest query of each figure is printed with --explain.
"""

import argparse
import statistics
import sys
import time

import _benchlib as lib

lib.ensure_venv()

GOALS_MS = {
    "open the list (To Review, 80 rows, count, search panel)": 150,
    "one client's list": 50,
    "one client's month groups with sums": 100,
    "all grouped by client with sums": 150,
    "match coverage (client, bank account, range)": 200,
}
HISTORY_DAYS = 3 * 365


def build_rows(env, clients, accounts, transactions):
    """The firm's clients and bank accounts (ORM), and their transactions (one INSERT)."""
    company = env.company
    connection = env["ledgersync.connection"]._for_company(company)
    connection.sudo().write({"state": "connected", "email": "bench@ledgersync.test"})
    client_ids = env["ledgersync.client"].create(
        [
            {
                "name": f"Client {n:03d}",
                "ledgersync_id": f"cl_{n:04d}",
                "connection_id": connection.id,
                "company_id": company.id,
            }
            for n in range(clients)
        ]
    )
    bank_accounts = (
        env["ledgersync.bank.account"]
        .sudo()
        .create(
            [
                {
                    "name": f"Checking {client.name} #{n}",
                    "ledgersync_id": f"ba_{client.ledgersync_id}_{n:02d}",
                    "client_id": client.id,
                    "connection_id": connection.id,
                    "company_id": company.id,
                    "currency_id": company.currency_id.id,
                }
                for client in client_ids
                for n in range(accounts)
            ]
        )
    )
    env.flush_all()
    env.cr.execute(
        """
        INSERT INTO ledgersync_transaction (
            ledgersync_id, bank_account_id, client_id, company_id, currency_id, date,
            description, reference, amount, ledgersync_status, vendor_name, gl_code,
            match_type, match_status, review_state, active, content_hash,
            create_uid, write_uid, create_date, write_date)
        SELECT 'tx_' || ba.id || '_' || n, ba.id, ba.client_id, ba.company_id, ba.currency_id,
               current_date - (n * %(days)s / %(per_account)s),
               (ARRAY['AMAZON MKTPLACE', 'SHELL OIL 5734', 'PAYROLL ADP', 'COMCAST CABLE',
                      'DEPOSIT MOBILE', 'OFFICE DEPOT', 'UBER TRIP', 'CHECK'])[1 + n %% 8]
                   || ' ' || n,
               CASE WHEN n %% 17 = 0 THEN (1000 + n)::text END,
               round(((n * 7919) %% 200000 - 60000) / 100.0, 2),
               CASE WHEN n < 15 THEN 'pending' ELSE 'posted' END,
               (ARRAY['Amazon', 'Shell', 'ADP', 'Comcast', NULL, 'Office Depot', 'Uber',
                      NULL])[1 + n %% 8],
               (ARRAY['6100', '6400', '6000', '6200', NULL, '6100', '6400', NULL])[1 + n %% 8],
               (ARRAY['rule', 'ai', 'semantic', NULL])[1 + n %% 4],
               (ARRAY['rule', 'manual', 'suggested', 'unmatched'])[1 + n %% 4],
               CASE WHEN n %% 3 = 0 THEN 'to_review'
                    WHEN n %% 3 = 1 THEN 'reviewed' ELSE 'exported' END,
               true, md5(ba.id || '_' || n), 1, 1, now(), now()
          FROM ledgersync_bank_account ba, generate_series(0, %(per_account)s - 1) n
         WHERE ba.company_id = %(company)s
        """,
        {"days": HISTORY_DAYS, "per_account": transactions, "company": company.id},
    )
    env.cr.execute("ANALYZE ledgersync_transaction")
    return client_ids, bank_accounts


def list_specification(env):
    """The fields the list view reads, as the web client asks for them."""
    from lxml import etree

    Transaction = env["ledgersync.transaction"]
    view = Transaction.get_view(
        env.ref("ledgersync_connector.ledgersync_transaction_view_list").id, "list"
    )
    specification = {}
    for node in etree.fromstring(view["arch"]).iter("field"):
        if node.getparent().tag != "list":
            continue
        name = node.get("name")
        field = Transaction._fields[name]
        specification[name] = {"fields": {"display_name": {}}} if field.type == "many2one" else {}
    return specification


def search_panel_calls(Transaction, search_domain):
    """The search panel's calls as the web client makes them on opening, from the search
    view's <searchpanel> (no value selected yet: a section's domain sees False)."""
    from lxml import etree

    from odoo.tools.safe_eval import safe_eval

    env = Transaction.env
    view = Transaction.get_view(
        env.ref("ledgersync_connector.ledgersync_transaction_view_search").id, "search"
    )
    panel = etree.fromstring(view["arch"]).find("searchpanel")
    sections = [node.get("name") for node in panel.iter("field")]
    calls = {}
    for node in panel.iter("field"):
        name = node.get("name")
        options = {
            "search_domain": search_domain,
            "enable_counters": node.get("enable_counters") == "1",
            "expand": node.get("expand") == "1",
            "limit": int(node.get("limit") or 200) or None,
        }
        if node.get("select") == "one":
            calls[name] = lambda name=name, options=options: Transaction.search_panel_select_range(
                name, **options
            )
            continue
        comodel_domain = safe_eval(node.get("domain") or "[]", dict.fromkeys(sections, False))
        calls[name] = lambda name=name, options=options, comodel_domain=comodel_domain: (
            Transaction.search_panel_select_multi_range(
                name,
                category_domain=[],
                filter_domain=[],
                comodel_domain=comodel_domain,
                category_related_field_values={},
                **options,
            )
        )
    return calls


def timed(env, call, repeat):
    """Median and all durations (ms) of ``call()``, the ORM cache cleared before each."""
    call()  # warm-up: the registry's own caches, PostgreSQL's buffers
    durations = []
    for _ in range(repeat):
        env.invalidate_all()
        started = time.perf_counter()
        call()
        durations.append((time.perf_counter() - started) * 1000)
    return statistics.median(durations), durations


def coverage_call(Transaction, domain):
    """The coverage figure as the list shows it: the model's own method when there is one
    (the rules of the review workflow), otherwise the read_group it stands for."""
    method = getattr(Transaction, "get_match_coverage", None)
    if method is not None:
        return lambda: method(domain)
    return lambda: Transaction.formatted_read_group(domain, ["match_type"], ["__count"])


def measure(env, repeat):
    Transaction = env["ledgersync.transaction"]
    specification = list_specification(env)
    to_review = [("review_state", "=", "to_review")]
    client = env["ledgersync.client"].search([], limit=1, order="name")
    account = env["ledgersync.bank.account"].search([("client_id", "=", client.id)], limit=1)
    one_client = [*to_review, ("client_id", "=", client.id)]
    last_quarter = [
        ("client_id", "=", client.id),
        ("bank_account_id", "=", account.id),
        ("date", ">=", time.strftime("%Y-%m-%d", time.gmtime(time.time() - 90 * 86400))),
    ]
    order = "date desc, id desc"

    # The calls the web client makes to open the list, its search panel included.
    opening = {
        "the first 80 rows and the count": lambda: Transaction.web_search_read(
            to_review, specification, limit=80, order=order, count_limit=10001
        ),
        **{
            f"search panel: {name}": call
            for name, call in search_panel_calls(Transaction, to_review).items()
        },
    }

    def open_list():
        for call in opening.values():
            call()

    calls = {
        "open the list (To Review, 80 rows, count, search panel)": open_list,
        "one client's list": lambda: Transaction.web_search_read(
            one_client, specification, limit=80, order=order, count_limit=10001
        ),
        "one client's month groups with sums": lambda: Transaction.web_read_group(
            one_client, ["date:month"], ["amount:sum"]
        ),
        "all grouped by client with sums": lambda: Transaction.web_read_group(
            to_review, ["client_id"], ["amount:sum"]
        ),
        "match coverage (client, bank account, range)": coverage_call(Transaction, last_quarter),
    }
    parts = {f"  {name}": timed(env, call, repeat) for name, call in opening.items()}
    return {name: timed(env, call, repeat) for name, call in calls.items()}, parts


def explain(env):
    """The plans of the list's main queries (the SQL Odoo builds for them)."""
    from odoo.tools import SQL

    Transaction = env["ledgersync.transaction"]
    to_review = [("review_state", "=", "to_review")]
    queries = {
        "to review, first 80": Transaction._search(
            to_review, limit=80, order="date desc, id desc"
        ).select(),
        "to review, count": Transaction._search(to_review).select(SQL("count(*)")),
    }
    lines = []
    for name, query in queries.items():
        env.cr.execute(SQL("EXPLAIN ANALYZE %s", query))
        lines += [f"{name}:"] + [f"  {row[0]}" for row in env.cr.fetchall()]
    return lines


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--accounts", type=int, default=10, help="bank accounts per client")
    parser.add_argument("--transactions", type=int, default=5000, help="per bank account")
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--db", default="ledgersync_bench_review")
    parser.add_argument("--reuse-db", action="store_true", help="keep the rows of a last run")
    parser.add_argument("--keep-db", action="store_true")
    parser.add_argument("--explain", action="store_true")
    args = parser.parse_args()

    odoo_src, info = lib.prepare()
    rows = args.clients * args.accounts * args.transactions
    with lib.scratch_dir("ledgersync-bench-review-") as work:
        data_dir = work / "data"
        reuse = args.reuse_db and lib.db_exists_with_module(args.db)
        if not reuse:
            print(f"Installing {lib.MODULE} into a fresh database {args.db} ...", flush=True)
            lib.install_db(odoo_src, args.db, data_dir, work / "install.log")
        registry = lib.open_registry(odoo_src, args.db, data_dir)
        from odoo import SUPERUSER_ID, api
        from odoo.tests import new_test_user

        build_seconds = None
        with registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            if not env["ledgersync.transaction"].search_count([], limit=1):
                print(f"Building {rows:,} transactions ...", flush=True)
                started = time.monotonic()
                build_rows(env, args.clients, args.accounts, args.transactions)
                build_seconds = time.monotonic() - started
                cr.commit()
            accountant = env["res.users"].search([("login", "=", "bench_accountant")])
            accountant = accountant or new_test_user(
                env, login="bench_accountant", groups="account.group_account_user"
            )
            cr.commit()
            stored = env["ledgersync.transaction"].search_count([])
            user_env = env(user=accountant)
            print(f"Timing the review list on {stored:,} transactions ...", flush=True)
            results, parts = measure(user_env, args.repeat)
            plans = explain(env) if args.explain else []
            cr.rollback()
        lib.close_registry(args.db)
        if not args.keep_db:
            lib.drop_db(args.db)

    report = lib.Report("Review list at scale (bench/bench_review_list.py)")
    for name, (median, _durations) in results.items():
        goal = GOALS_MS[name]
        report.figure(name, f"<= {goal} ms", f"{median:.1f} ms", median <= goal)
    report.section(
        "Setup",
        [
            f"{stored:,} transactions ({args.clients} clients x {args.accounts} bank accounts "
            f"x {args.transactions:,}), one company; timed as an accountant (record rules on)",
            "built in " + (f"{build_seconds:.0f} s" if build_seconds else "an earlier run"),
            f"each figure: the median of {args.repeat} calls after one warm-up, ORM cache "
            "cleared before each; server time only (no HTTP, no JSON)",
        ],
    )
    report.section(
        "All calls (ms)",
        [
            f"{name}: " + ", ".join(f"{value:.1f}" for value in durations)
            for name, (_median, durations) in {**results, **parts}.items()
        ],
    )
    if plans:
        report.section("Plans (EXPLAIN ANALYZE)", plans)
    report.section("Machine", lib.machine_lines(info, odoo_src))
    report.publish("bench_review_list")
    return 0 if all(median <= GOALS_MS[name] for name, (median, _) in results.items()) else 1


if __name__ == "__main__":
    sys.exit(main())
