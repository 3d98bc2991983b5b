"""Benchmark of Save Integration (issue 3): prints a report, is not a test.

    python bench/bench_save_integration.py [--runs 20] [--hang-runs 3] [--reuse-db]

- installs ledgersync_connector into a fresh database (``ledgersync_bench_save``);
- starts the LedgerSync sandbox as a separate process on a free port of 127.0.0.1;
- times ``ledgersync.connection.action_connect(email, password, base_url)`` (what the
  Settings button "Save Integration" calls) against it over real HTTP, ``--runs`` times,
  each in its own transaction rolled back afterwards (so each run is a first connect),
  with the ORM flushed and the precommit hooks (mail tracking) run inside the timing;
  the Settings button itself (settings record created from the form values, then
  ``action_ledgersync_save_integration``) is timed too;
- times the same call against a server that accepts TCP connections and never answers
  (goal: the administrator has an answer within 10 s), and against the sandbox when its
  login answers but the list of clients hangs (the bound covers the whole verification).
"""

import argparse
import statistics
import sys
import time
from pathlib import Path

import _benchlib as lib

lib.ensure_venv()
sys.path.insert(0, str(lib.REPO))

from ledgersync_sandbox.silent import silent_server  # noqa: E402  (needs the path above)

SAVE_GOAL_S = 1.0
HANG_GOAL_S = 10.0


def timed_connect(registry, base_url, *, via_settings=False):
    """One Save Integration in its own transaction, rolled back afterwards.

    Returns (seconds, state, failure_code, clients stored).
    """
    from odoo import SUPERUSER_ID, api

    with registry.cursor() as cr:
        root = api.Environment(cr, SUPERUSER_ID, {})
        env = root(user=root.ref("base.user_admin"))  # an administrator presses the button
        try:
            if via_settings:
                started = time.perf_counter()
                settings = env["res.config.settings"].create(
                    {
                        "ledgersync_email": lib.DEMO_EMAIL,
                        "ledgersync_password": lib.DEMO_PASSWORD,
                        "ledgersync_base_url": base_url,
                    }
                )
                settings.action_ledgersync_save_integration()
                cr.flush()
                elapsed = time.perf_counter() - started
                connection = env["ledgersync.connection"]._for_company(env.company)
            else:
                connection = env["ledgersync.connection"]._for_company(env.company)
                cr.flush()
                started = time.perf_counter()
                connection = connection.action_connect(lib.DEMO_EMAIL, lib.DEMO_PASSWORD, base_url)
                cr.flush()  # the SQL a commit would send: ORM writes, mail tracking
                elapsed = time.perf_counter() - started
            outcome = (
                elapsed,
                connection.state,
                connection.failure_code or "",
                len(connection.client_ids),
            )
        finally:
            cr.rollback()
    return outcome


def summary(values):
    return {
        "min": min(values),
        "median": statistics.median(values),
        "p95": lib.percentile(values, 0.95),
        "max": max(values),
    }


def ms(seconds):
    return f"{seconds * 1000:.0f} ms"


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=20, help="timed Save Integrations (20)")
    parser.add_argument("--hang-runs", type=int, default=3, help="runs against a silent server")
    parser.add_argument("--clients", type=int, default=20, help="clients in the sandbox (20)")
    parser.add_argument("--db", default="ledgersync_bench_save")
    parser.add_argument(
        "--reuse-db", action="store_true", help="keep an installed --db instead of reinstalling"
    )
    parser.add_argument("--keep-db", action="store_true", help="do not drop --db at the end")
    args = parser.parse_args()

    odoo_src, info = lib.prepare()

    with lib.scratch_dir("ledgersync-bench-save-") as data_dir:
        started = time.monotonic()
        if not (args.reuse_db and lib.db_exists_with_module(args.db)):
            print(f"Installing {lib.MODULE} into a fresh database {args.db} ...", flush=True)
            lib.install_db(odoo_src, args.db, data_dir, data_dir / "install.log")
        install_s = time.monotonic() - started
        registry = lib.open_registry(odoo_src, args.db, data_dir)
        from odoo.addons.ledgersync_connector import const

        sandbox = lib.Sandbox(args.clients, 5, 10, 80)
        with sandbox:
            print(f"Sandbox: {sandbox.banner}", flush=True)
            # First call of the process (imports, caches, TLS-free HTTP pool): reported alone.
            cold = timed_connect(registry, sandbox.base_url)
            sandbox.reset_stats()
            print(f"Timing {args.runs} Save Integrations ...", flush=True)
            runs = [timed_connect(registry, sandbox.base_url) for _ in range(args.runs)]
            stats_after = sandbox.stats()
            button_runs = [
                timed_connect(registry, sandbox.base_url, via_settings=True)
                for _ in range(max(5, args.runs // 4))
            ]
            # The sandbox answers the login, then hangs on the list of clients.
            sandbox.admin("POST", "/_sandbox/faults", {"kind": "hang", "endpoint": "clients"})
            print("Against the sandbox hanging on GET /v1/clients ...", flush=True)
            hang_clients = timed_connect(registry, sandbox.base_url)
            sandbox.admin("DELETE", "/_sandbox/faults")

        hang_runs = []
        with silent_server() as (url, accepted):
            for index in range(args.hang_runs):
                print(
                    f"Against a silent TCP server, run {index + 1}/{args.hang_runs} ...",
                    flush=True,
                )
                hang_runs.append(timed_connect(registry, url))
            accepted_connections = len(accepted)
        lib.close_registry(args.db)
        if not args.keep_db:
            lib.drop_db(args.db)

    times = [run[0] for run in runs]
    states = {run[1] for run in runs}
    clients = {run[3] for run in runs}
    save = summary(times)
    button = summary([run[0] for run in button_runs])
    hang_times = [run[0] for run in hang_runs]
    per_run_calls = stats_after["total"] / len(runs)

    report = lib.Report("ledgersync_connector - Save Integration benchmark (issue 3)")
    report.figure(
        f"Save Integration, median of {len(runs)}",
        f"<= {SAVE_GOAL_S:.0f} s",
        ms(save["median"]),
        save["median"] <= SAVE_GOAL_S,
    )
    report.figure(
        f"Save Integration, p95 of {len(runs)}",
        f"<= {SAVE_GOAL_S:.0f} s",
        ms(save["p95"]),
        save["p95"] <= SAVE_GOAL_S,
    )
    report.figure(
        f"Settings button (form save + action), p95 of {len(button_runs)}",
        f"<= {SAVE_GOAL_S:.0f} s",
        ms(button["p95"]),
        button["p95"] <= SAVE_GOAL_S,
    )
    report.figure(
        f"Silent server (accepts, never answers), max of {len(hang_runs)}",
        f"<= {HANG_GOAL_S:.0f} s",
        f"{max(hang_times):.2f} s",
        max(hang_times) <= HANG_GOAL_S,
    )
    report.figure(
        "Sandbox: login answers, clients list hangs",
        f"<= {HANG_GOAL_S:.0f} s",
        f"{hang_clients[0]:.2f} s",
        hang_clients[0] <= HANG_GOAL_S,
    )
    report.section(
        "Save Integration against the sandbox (real HTTP on 127.0.0.1, separate process)",
        [
            f"action_connect + flush, {len(runs)} runs: min {ms(save['min'])}, "
            f"median {ms(save['median'])}, p95 {ms(save['p95'])}, max {ms(save['max'])}",
            f"first call of the process (cold caches, not in the figures): {ms(cold[0])}",
            f"outcome of every run: state {sorted(states)}, clients stored {sorted(clients)} "
            f"(sandbox: {args.clients} clients); HTTP requests per Save Integration: "
            f"{per_run_calls:g} (login + first page of clients)",
            f"Settings button, {len(button_runs)} runs: min {ms(button['min'])}, median "
            f"{ms(button['median'])}, p95 {ms(button['p95'])}, max {ms(button['max'])} "
            "(res.config.settings create with every app's settings fields + the action)",
            "each run in its own transaction, rolled back afterwards: every run is a first "
            "connect of the company (connection created before the timing); COMMIT itself "
            "is not timed, the SQL it would flush is",
        ],
    )
    report.section(
        f"Bounded verification (VERIFY_DEADLINE = {const.VERIFY_DEADLINE:g} s, "
        f"REQUEST_TIMEOUT = {const.REQUEST_TIMEOUT:g} s)",
        [
            "silent TCP server: "
            + ", ".join(f"{run[0]:.2f} s ({run[1]}/{run[2]})" for run in hang_runs)
            + f"; connections it accepted: {accepted_connections}",
            f"sandbox hanging on GET /v1/clients after a good login: {hang_clients[0]:.2f} s "
            f"({hang_clients[1]}/{hang_clients[2]})",
        ],
    )
    report.section(
        "Machine",
        [
            *lib.machine_lines(info, odoo_src),
            f"database {args.db} (install {install_s:.0f} s); sandbox "
            f"--clients {args.clients} --accounts-per-client 5",
        ],
    )
    text = report.render()
    print(text)
    path = report.write(
        "bench_save_integration",
        {
            "machine": info,
            "save_integration_s": times,
            "cold_s": cold[0],
            "settings_button_s": [run[0] for run in button_runs],
            "silent_server_s": hang_times,
            "hang_on_clients_s": hang_clients[0],
        },
    )
    print(f"(written to {path.relative_to(lib.REPO)})")
    failed = [run for run in runs if run[1] != "connected"]
    bad_hangs = [run for run in [*hang_runs, hang_clients] if run[2] != "timeout"]
    if failed or bad_hangs:
        print("UNEXPECTED OUTCOMES: " + repr(failed + bad_hangs), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    sys.exit(main())
