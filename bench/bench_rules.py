"""Benchmark of the rule matcher (issue 9): prints one report, is not a test.

    python bench/bench_rules.py [--transactions 100000] [--rules 1000] [--naive-sample 10000]

Pure Python (ledgersync_connector/sync/rules.py, no Odoo, no database): a generated rule
set (client and firm-wide rules, every match kind, wildcards, alternatives, amount
conditions) is compiled once, then matches every generated transaction. The naive loop
(each transaction against every rule, best first) runs in the same process on the first
``--naive-sample`` transactions (it is several times slower); both are compiled once, so
the figures compare the index with the plain loop, and both must find the same rule for
each of those transactions.
"""

import argparse
import random
import sys
import time

import _benchlib as lib

lib.ensure_venv()

sys.path.insert(0, str(lib.REPO))
from ledgersync_connector.sync.rules import NaiveMatcher, RuleSpec, compile_rules  # noqa: E402

GOAL_RATE = 20_000  # transactions per second, compiled matcher
CLIENTS = 20
COMPANIES = 2
SEED = 9

PREFIXES = ["POS PURCHASE", "CARD", "ACH DEBIT", "ONLINE TRANSFER", "SQ *", "TST*", "CHECK"]
CITIES = ["SEATTLE WA", "PORTLAND OR", "AUSTIN TX", "DENVER CO", "BOSTON MA", ""]
SYLLABLES = ["ka", "lo", "mi", "ra", "tu", "ven", "dor", "ex", "sol", "bri", "qua", "zen"]


def vendor_names(rng, count):
    names = set()
    while len(names) < count:
        word = "".join(rng.choice(SYLLABLES) for _ in range(rng.randint(2, 4)))
        names.add(f"{word} {rng.choice(['MARKET', 'CAFE', 'SUPPLY', 'LLC', 'INC', 'CO'])}")
    return sorted(names)


def make_rules(rng, vendors, count):
    kinds = ["contains", "contains", "contains", "exact", "starts_with", "ends_with"]
    rules = []
    for ident in range(1, count + 1):
        vendor = rng.choice(vendors)
        kind = rng.choice(kinds)
        if kind == "exact":
            pattern = vendor
        elif kind == "starts_with":
            pattern = f"{rng.choice(PREFIXES)} {vendor.split()[0]}"
        elif kind == "ends_with":
            pattern = f"{vendor.split()[0]}*{rng.choice(CITIES[:-1])}"
        elif rng.random() < 0.3:
            pattern = f"{vendor.split()[0]}, {rng.choice(vendors).split()[0]}"
        else:
            pattern = vendor.split()[0]
        company_id = rng.randint(1, COMPANIES)
        client = rng.random() < 0.7
        sign = rng.choice(["any", "any", "any", "out", "in"])
        low = rng.choice([None, None, None, 10.0])
        rules.append(
            RuleSpec(
                id=ident,
                pattern=pattern,
                kind=kind,
                priority=rng.randint(0, 5),
                client_id=rng.randint(1, CLIENTS) if client else None,
                company_id=company_id,
                amount_sign=sign,
                amount_min=low,
                amount_max=low * 50 if low else None,
                partner_id=ident,
            )
        )
    return rules


def make_transactions(rng, vendors, count):
    rows = []
    for _ in range(count):
        vendor = rng.choice(vendors) if rng.random() < 0.8 else "UNKNOWN PAYEE"
        description = f"{rng.choice(PREFIXES)} {vendor} #{rng.randint(100, 9999)} "
        description += rng.choice(CITIES)
        amount = round(rng.uniform(-900, 300), 2)
        client_id = rng.randint(1, CLIENTS)
        rows.append((description, amount, client_id, 1 + client_id % COMPANIES))
    return rows


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--transactions", type=int, default=100_000)
    parser.add_argument("--rules", type=int, default=1000)
    parser.add_argument("--naive-sample", type=int, default=10_000)
    args = parser.parse_args()

    rng = random.Random(SEED)
    vendors = vendor_names(rng, 600)
    rules = make_rules(rng, vendors, args.rules)
    transactions = make_transactions(rng, vendors, args.transactions)

    started = time.perf_counter()
    matcher = compile_rules(rules)
    compile_seconds = time.perf_counter() - started

    started = time.perf_counter()
    found = [matcher.match(*row) for row in transactions]
    match_seconds = time.perf_counter() - started
    rate = len(transactions) / match_seconds

    sample = transactions[: args.naive_sample]
    naive_matcher = NaiveMatcher(rules)  # compiled once too: only the index differs
    started = time.perf_counter()
    naive = [naive_matcher.match(*row) for row in sample]
    naive_seconds = time.perf_counter() - started
    naive_rate = len(sample) / naive_seconds
    agree = naive == found[: len(sample)]
    matched = sum(1 for rule in found if rule is not None)

    info = lib.machine_info()
    report = lib.Report(
        f"LedgerSync rule matcher: {len(transactions):,} transactions x {len(rules):,} rules"
    )
    report.figure(
        "compiled matcher, transactions/s",
        f">= {GOAL_RATE:,}",
        f"{rate:,.0f}",
        rate >= GOAL_RATE,
    )
    report.figure("naive loop (every rule), transactions/s", "-", f"{naive_rate:,.0f}")
    report.figure("speed-up over the naive loop", "-", f"{rate / naive_rate:,.0f}x")
    report.figure(
        f"same rule as the naive loop ({len(sample):,} transactions)", "all", str(agree), agree
    )
    report.section(
        "Details",
        [
            f"compile once: {compile_seconds * 1000:.1f} ms; match all: {match_seconds:.2f} s",
            f"naive loop on the first {len(sample):,}: {naive_seconds:.2f} s",
            f"transactions with a matching rule: {matched:,} ({matched / len(found):.0%})",
        ],
    )
    report.section(
        "Machine",
        [
            f"{info['cpu']}, nproc={info['nproc']}, load average at start "
            f"{info['load_average']}; Python {info['python']}; repository "
            f"{info['repository']}; {info['date']}",
        ],
    )
    report.publish(
        "bench_rules",
        {
            "rate": rate,
            "naive_rate": naive_rate,
            "compile_seconds": compile_seconds,
            "agree": agree,
            "matched": matched,
        },
    )
    return 0 if rate >= GOAL_RATE and agree else 1


if __name__ == "__main__":
    sys.exit(main())
