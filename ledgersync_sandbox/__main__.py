"""``python -m ledgersync_sandbox``: serve the sandbox in the foreground."""

import argparse
import signal
import sys

from .app import SandboxApp
from .auth import BUILTIN_LOGINS
from .config import SandboxConfig
from .faults import FAULT_KINDS, parse_fault_spec
from .server import SandboxServer


def build_parser():
    defaults = SandboxConfig()
    parser = argparse.ArgumentParser(
        prog="python -m ledgersync_sandbox",
        description="A LedgerSync API sandbox with seeded demo data and fault injection "
        "(local testing only: the /_sandbox/ admin endpoints are not authenticated).",
        epilog="fault kinds: " + "; ".join(f"{k}: {v}" for k, v in FAULT_KINDS.items()),
    )
    add = parser.add_argument
    add("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    add("--port", type=int, default=8079, help="port (default 8079; 0 = any free port)")
    add("--clients", type=int, default=defaults.clients, help="clients of the demo firm")
    add(
        "--other-clients",
        type=int,
        default=defaults.other_clients,
        help="clients of the second firm",
    )
    add("--accounts-per-client", type=int, default=defaults.accounts_per_client)
    add("--transactions-per-account", type=int, default=defaults.transactions_per_account)
    add(
        "--history-days",
        type=int,
        default=defaults.history_days,
        help="days of history up to --today",
    )
    add("--pending-days", type=int, default=defaults.pending_days, help="last N days are pending")
    add("--seed", type=int, default=defaults.seed)
    add("--today", default=None, help="YYYY-MM-DD, last day of the data (default: today, UTC)")
    add(
        "--token-ttl",
        type=int,
        default=defaults.token_ttl,
        help="seconds a token lives (expires_in)",
    )
    add(
        "--lockout-after",
        type=int,
        default=defaults.lockout_after,
        help="lock a login after N wrong passwords in a row (0 = never)",
    )
    add("--max-window-days", type=int, default=defaults.max_window_days)
    add("--password", default=defaults.password, help="password of the built-in logins")
    add("--no-admin", action="store_true", help="do not serve the /_sandbox/ admin endpoints")
    add(
        "--fault",
        action="append",
        default=[],
        metavar="KIND[:key=value,...]",
        help="inject a fault, e.g. rate_limit:count=3,retry_after=2 or "
        "server_error:status=503,count=-1,path=/bank-accounts/ba_d_0002_01/ (repeatable)",
    )
    add("--delay", type=float, default=None, metavar="SECONDS", help="slow every API response down")
    add(
        "--rate-limit",
        type=int,
        default=None,
        metavar="N",
        help="answer the next N API calls with 429",
    )
    add("--verbose", action="store_true", help="log every request")
    return parser


def main(argv=None):
    args = build_parser().parse_args(argv)
    try:
        config = SandboxConfig(
            clients=args.clients,
            other_clients=args.other_clients,
            accounts_per_client=args.accounts_per_client,
            transactions_per_account=args.transactions_per_account,
            history_days=args.history_days,
            pending_days=args.pending_days,
            seed=args.seed,
            today=args.today,
            token_ttl=args.token_ttl,
            lockout_after=args.lockout_after,
            max_window_days=args.max_window_days,
            password=args.password,
            admin=not args.no_admin,
        )
        app = SandboxApp(config)
        for spec in args.fault:
            kind, options = parse_fault_spec(spec)
            app.faults.add(kind, **options)
        if args.delay:
            app.faults.add("delay", delay=args.delay, count=-1)
        if args.rate_limit:
            app.faults.add("rate_limit", count=args.rate_limit)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    server = SandboxServer(app, args.host, args.port, quiet=not args.verbose)
    summary = app.summary()["demo"]
    print(f"LedgerSync sandbox on {server.base_url}  (local testing only)")
    print(
        f"  demo firm: {summary['clients']} clients, {summary['bank_accounts']} bank accounts, "
        f"{summary['transactions']} transactions up to {app.today}"
    )
    print(f"  logins (password {config.password!r}): " + ", ".join(BUILTIN_LOGINS))
    for fault in app.faults.list():
        options = ", ".join(
            f"{key}={value}"
            for key, value in fault.items()
            if value is not None and key not in ("kind", "id", "fired", "active", "skip")
        )
        print(f"  fault: {fault['kind']} ({options})")
    print("  admin: GET /_sandbox/ ; Ctrl-C stops", flush=True)
    # docker stop sends SIGTERM (ignored by a PID 1 without a handler): stop cleanly
    signal.signal(signal.SIGTERM, _interrupt)
    server.serve_forever()
    return 0


def _interrupt(signum, frame):
    raise KeyboardInterrupt


if __name__ == "__main__":
    sys.exit(main())
