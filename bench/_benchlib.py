"""Shared plumbing of the benchmarks in bench/ (not a test, not part of the addon).

- runs every bench with the project's virtualenv (re-executing itself when needed);
- finds Odoo 19 with tools/odoo_locate.py, the one definition shared with run_tests.sh
  (ODOO_SRC, an importable odoo, /opt/odoo19, ~/odoo19, then the project's shared archive);
- creates and drops the benchmark databases (install once, copy per scenario);
- starts the LedgerSync sandbox as a separate process on a free port;
- opens an Odoo registry in-process;
- collects machine information and prints/writes the report.
"""

import contextlib
import importlib.util
import json
import math
import os
import platform
import re
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from datetime import datetime, timezone
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
ODOO_LOCATE = REPO / "tools" / "odoo_locate.py"
BENCH_DIR = REPO / "bench"
RESULTS_DIR = BENCH_DIR / "results"
DEFAULT_VENV = Path.home() / ".cache" / "ledgersync_connector" / "venv"

DEMO_EMAIL = "demo@ledgersync.test"
DEMO_PASSWORD = "demo-password"
MODULE = "ledgersync_connector"


# --------------------------------------------------------------------------- environment


def venv_dir():
    return Path(os.environ.get("LEDGERSYNC_VENV") or DEFAULT_VENV)


def ensure_venv():
    """Re-execute the running script with the project's virtualenv python if needed."""
    venv = venv_dir()
    python = venv / "bin" / "python"
    if Path(sys.prefix).resolve() == venv.resolve():
        return
    if not python.exists():
        sys.exit(
            f"The project's virtualenv {venv} does not exist: run ./run_tests.sh once to "
            "build it (or set LEDGERSYNC_VENV)."
        )
    os.execv(str(python), [str(python), *sys.argv])


def _load_odoo_locate():
    """tools/odoo_locate.py (standard library only), loaded by its path: tools/ is no
    package."""
    spec = importlib.util.spec_from_file_location("odoo_locate", ODOO_LOCATE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


odoo_locate = _load_odoo_locate()


def find_odoo():
    """The Odoo 19 source tree (the folder holding odoo-bin), found by
    ``tools/odoo_locate.find_odoo()`` as for the tests; exits with its reason if none."""
    try:
        return odoo_locate.find_odoo()
    except odoo_locate.OdooNotFound as error:
        sys.exit(f"No Odoo 19 for the benchmarks: {error} (see tools/odoo_locate.py).")


def pg_settings():
    return {
        "host": os.environ.get("PGHOST", "localhost"),
        "port": os.environ.get("PGPORT", "5432"),
        "user": os.environ.get("PGUSER") or os.environ.get("USER") or "root",
    }


def pg_connect(dbname, autocommit=False):
    import psycopg2

    settings = pg_settings()
    connection = psycopg2.connect(
        dbname=dbname, host=settings["host"], port=settings["port"], user=settings["user"]
    )
    connection.autocommit = autocommit
    return connection


def db_rows(db, sql, params=None):
    """All rows of one query on ``db``, on a connection of its own (autocommit)."""
    connection = pg_connect(db, autocommit=True)
    try:
        with connection.cursor() as cr:
            cr.execute(sql, params)
            return cr.fetchall()
    finally:
        connection.close()


def pg_env():
    settings = pg_settings()
    return dict(
        os.environ, PGHOST=settings["host"], PGPORT=settings["port"], PGUSER=settings["user"]
    )


def addons_path(odoo_src):
    return f"{REPO},{odoo_src}/addons,{odoo_src}/odoo/addons"


def odoo_options(odoo_src, db, data_dir):
    settings = pg_settings()
    return [
        f"--addons-path={addons_path(odoo_src)}",
        f"--data-dir={data_dir}",
        f"--db_host={settings['host']}",
        f"--db_port={settings['port']}",
        f"--db_user={settings['user']}",
        "--http-interface=127.0.0.1",
        "--log-level=warn",
        "-d",
        db,
    ]


def prepare():
    """What every bench needs first: Odoo's source tree, an encryption key, and the
    machine's description for the report. Returns ``(odoo_src, machine_info)``."""
    odoo_src = find_odoo()
    ensure_encryption_key()
    return odoo_src, machine_info()


def add_database_options(parser, db_prefix):
    """The options of a bench that keeps a template database and copies of it."""
    parser.add_argument("--db-prefix", default=db_prefix)
    parser.add_argument("--reuse-template", action="store_true")
    parser.add_argument("--keep-dbs", action="store_true")


def ensure_encryption_key():
    """One Fernet key for the whole bench run, shared with the child processes."""
    if not os.environ.get("LEDGERSYNC_ENCRYPTION_KEYS"):
        from cryptography.fernet import Fernet

        os.environ["LEDGERSYNC_ENCRYPTION_KEYS"] = Fernet.generate_key().decode()


# --------------------------------------------------------------------------- databases


def drop_db(db):
    subprocess.run(
        ["dropdb", "--if-exists", db], env=pg_env(), check=True, stderr=subprocess.DEVNULL
    )


def install_db(odoo_src, db, data_dir, log_path):
    """A fresh database with ledgersync_connector installed (dropdb + odoo-bin -i)."""
    drop_db(db)
    command = [
        sys.executable,
        str(odoo_src / "odoo-bin"),
        *odoo_options(odoo_src, db, data_dir),
        "-i",
        MODULE,
        "--stop-after-init",
    ]
    with open(log_path, "w") as log:
        status = subprocess.run(command, stdout=log, stderr=subprocess.STDOUT, check=False)
    text = Path(log_path).read_text(errors="replace")
    errors = re.findall(r"^\d{4}-\d\d-\d\d [\d:,]+ \d+ (?:ERROR|CRITICAL) .*$", text, re.M)
    if status.returncode or errors:
        print(text[-5000:], file=sys.stderr)
        sys.exit(f"Installing {MODULE} into {db} failed (log: {log_path})")


def copy_db(template, db):
    """A copy of an installed database (CREATE DATABASE ... TEMPLATE): a second or so."""
    drop_db(db)
    subprocess.run(["createdb", "-T", template, db], env=pg_env(), check=True)


def checkpoint():
    """Flush PostgreSQL's dirty buffers now (superusers only), so that the WAL of a database
    copy is not written back in the middle of the next measurement. Returns success."""
    try:
        connection = pg_connect("postgres", autocommit=True)
    except Exception:
        return False
    try:
        with connection.cursor() as cr:
            cr.execute("CHECKPOINT")
        return True
    except Exception:
        return False
    finally:
        connection.close()


def db_exists_with_module(db):
    try:
        connection = pg_connect(db, autocommit=True)
    except Exception:
        return False
    try:
        with connection.cursor() as cr:
            cr.execute("SELECT state FROM ir_module_module WHERE name = %s", [MODULE])
            row = cr.fetchone()
            return bool(row and row[0] == "installed")
    except Exception:
        return False
    finally:
        connection.close()


def open_registry(odoo_src, db, data_dir):
    """An Odoo registry of ``db`` in this process (configuration as odoo-bin would get it)."""
    if str(odoo_src) not in sys.path:
        sys.path.insert(0, str(odoo_src))
    from odoo.tools import config

    config.parse_config(odoo_options(odoo_src, db, data_dir))
    from odoo.modules.registry import Registry

    return Registry(db)


def close_registry(db):
    """Forget the registry of ``db`` and close its pooled connections (before a dropdb)."""
    from odoo import sql_db
    from odoo.modules.registry import Registry

    Registry.delete(db)
    sql_db.close_db(db)


def connect_demo(env, base_url, history_days):
    """The company's connection, signed in to the sandbox's demo firm (Save Integration),
    loading ``history_days`` of history; RuntimeError when the sign-in failed."""
    connection = env["ledgersync.connection"]._for_company(env.company)
    connection = connection.action_connect(DEMO_EMAIL, DEMO_PASSWORD, base_url)
    if connection.state != "connected":
        raise RuntimeError(f"Save Integration failed: {connection.failure_code}")
    connection.history_days = history_days
    return connection


# --------------------------------------------------------------------------- sandbox


class Sandbox:
    """``python -m ledgersync_sandbox`` in its own process, on a free port of 127.0.0.1."""

    def __init__(self, clients, accounts_per_client, transactions_per_account, history_days):
        self.sizes = {
            "clients": clients,
            "accounts_per_client": accounts_per_client,
            "transactions_per_account": transactions_per_account,
            "history_days": history_days,
        }
        self.process = None
        self.base_url = None
        self.banner = ""

    @property
    def total(self):
        sizes = self.sizes
        return sizes["clients"] * sizes["accounts_per_client"] * sizes["transactions_per_account"]

    @property
    def accounts(self):
        return self.sizes["clients"] * self.sizes["accounts_per_client"]

    def start(self, timeout=30):
        command = [
            sys.executable,
            "-m",
            "ledgersync_sandbox",
            "--host",
            "127.0.0.1",
            "--port",
            "0",
            "--clients",
            str(self.sizes["clients"]),
            "--accounts-per-client",
            str(self.sizes["accounts_per_client"]),
            "--transactions-per-account",
            str(self.sizes["transactions_per_account"]),
            "--history-days",
            str(self.sizes["history_days"]),
        ]
        self.process = subprocess.Popen(
            command,
            cwd=REPO,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        lines = []
        found = threading.Event()

        def read():
            for line in self.process.stdout:
                lines.append(line.rstrip())
                match = re.search(r"sandbox on (http://\S+)", line)
                if match and not found.is_set():
                    self.base_url = match.group(1)
                    found.set()
            found.set()

        threading.Thread(target=read, daemon=True).start()
        if not found.wait(timeout) or not self.base_url:
            self.stop()
            raise RuntimeError("The sandbox did not start:\n" + "\n".join(lines))
        # Wait for the summary lines (cosmetic) and for the first answer.
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with contextlib.suppress(OSError):
                self.admin("GET", "/_sandbox/stats")
                break
            time.sleep(0.05)
        self.banner = " / ".join(lines[:2])
        return self

    def admin(self, method, path, body=None):
        return sandbox_admin(self.base_url, method, path, body)

    def reset_stats(self):
        self.admin("DELETE", "/_sandbox/stats")

    def stats(self):
        return self.admin("GET", "/_sandbox/stats")

    def cpu_seconds(self):
        return process_cpu_seconds(self.process.pid)

    def stop(self):
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc_info):
        self.stop()


def sandbox_admin(base_url, method, path, body=None):
    """Call one of the sandbox's /_sandbox/ admin endpoints -> the decoded JSON answer
    (the sandbox's own client, ledgersync_sandbox.admin_client)."""
    if str(REPO) not in sys.path:
        sys.path.insert(0, str(REPO))
    from ledgersync_sandbox.admin_client import SandboxAdmin

    return SandboxAdmin(base_url).call(method, path, body)


def process_cpu_seconds(pid):
    """user + system CPU seconds of a process (any user's: /proc is readable)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    ticks = os.sysconf("SC_CLK_TCK")
    return (int(fields[11]) + int(fields[12])) / ticks


def self_cpu_seconds():
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def max_rss_mb():
    """Peak resident set size of this process so far (ru_maxrss is in KiB on Linux)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def current_rss_mb():
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return None


# --------------------------------------------------------------------------- report


def machine_info():
    cpu_model = platform.processor() or "unknown"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu_model = line.split(":", 1)[1].strip()
                break
    memory = "unknown"
    with contextlib.suppress(OSError, IndexError, ValueError):
        kib = int(Path("/proc/meminfo").read_text().split("\n")[0].split()[1])
        memory = f"{kib / 1024 / 1024:.1f} GiB"
    postgres = "unknown"
    with contextlib.suppress(Exception):
        connection = pg_connect("postgres", autocommit=True)
        with connection.cursor() as cr:
            cr.execute("SHOW server_version")
            postgres = cr.fetchone()[0]
            cr.execute("SHOW synchronous_commit")
            postgres += f" (synchronous_commit={cr.fetchone()[0]})"
        connection.close()
    commit = "unknown"
    with contextlib.suppress(Exception):
        commit = subprocess.run(
            ["git", "-C", str(REPO), "describe", "--always", "--dirty"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    return {
        "host": platform.node(),
        "os": f"{platform.system()} {platform.release()}",
        "nproc": os.cpu_count(),
        "cpu": cpu_model,
        "memory": memory,
        "load_average": " ".join(f"{value:.2f}" for value in os.getloadavg()),
        "python": platform.python_version(),
        "postgresql": postgres,
        "repository": commit,
        "date": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC"),
    }


def odoo_version(odoo_src):
    text = (Path(odoo_src) / "odoo" / "release.py").read_text()
    match = re.search(r"^version_info = \((\d+), (\d+), (\d+), (\w+)", text, re.M)
    return ".".join(match.groups()[:3]) + f" {match.group(4)}" if match else "unknown"


def verdict(ok):
    return "PASS" if ok else "MISS"


class Report:
    """Figures with their goal, the measurement and PASS/MISS, plus free-form sections."""

    def __init__(self, title):
        self.title = title
        self.sections = []  # (heading, lines)
        self.figures = []  # (figure, goal, measured, verdict or "")

    def figure(self, name, goal, measured, ok=None):
        self.figures.append((name, goal, measured, "" if ok is None else verdict(ok)))

    def section(self, heading, lines):
        self.sections.append((heading, list(lines)))

    def render(self):
        width = 92
        out = ["=" * width, self.title, "=" * width]
        if self.figures:
            name_w = max(len(row[0]) for row in self.figures)
            goal_w = max(len(row[1]) for row in self.figures)
            meas_w = max(len(row[2]) for row in self.figures)
            header = f"{'figure':<{name_w}}  {'goal':<{goal_w}}  {'measured':<{meas_w}}  verdict"
            out += [header, "-" * len(header)]
            for name, goal, measured, result in self.figures:
                out.append(
                    f"{name:<{name_w}}  {goal:<{goal_w}}  {measured:<{meas_w}}  {result}".rstrip()
                )
        for heading, lines in self.sections:
            out += ["", f"-- {heading}"]
            out += [f"   {line}" for line in lines]
        out.append("=" * width)
        return "\n".join(out)

    def write(self, name, data=None):
        """bench/results/<name>-<timestamp>.txt (and .json with the raw figures)."""
        RESULTS_DIR.mkdir(exist_ok=True)
        stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
        text_path = RESULTS_DIR / f"{name}-{stamp}.txt"
        text_path.write_text(self.render() + "\n")
        if data is not None:
            (RESULTS_DIR / f"{name}-{stamp}.json").write_text(
                json.dumps(data, indent=2, default=str) + "\n"
            )
        return text_path

    def publish(self, name, data=None):
        """Print the report, write it (``write``) and say where."""
        print(self.render())
        path = self.write(name, data)
        print(f"(written to {path.relative_to(REPO)})")
        return path


def machine_lines(info, odoo_src):
    return [
        f"{info['cpu']}, nproc={info['nproc']}, memory {info['memory']}, "
        f"load average at start {info['load_average']}",
        f"{info['os']}; Python {info['python']}; PostgreSQL {info['postgresql']}",
        f"Odoo {odoo_version(odoo_src)} at {odoo_src}; repository {info['repository']}; "
        f"{info['date']}",
    ]


def percentile(values, fraction):
    """Nearest-rank percentile of a non-empty list."""
    ordered = sorted(values)
    rank = max(1, math.ceil(fraction * len(ordered)))
    return ordered[min(rank, len(ordered)) - 1]


@contextlib.contextmanager
def scratch_dir(prefix):
    path = tempfile.mkdtemp(prefix=prefix)
    try:
        yield Path(path)
    finally:
        shutil.rmtree(path, ignore_errors=True)


def start_child(script, work, name, params, flag="--child"):
    """Run ``script`` again in a child process, as ``script flag <params file>``: its
    parameters go in a JSON file, its output in ``<name>.log``, its result in
    ``<name>.result.json``. Returns (process, log, result path) for finish_child()."""
    params = dict(params, result=str(work / f"{name}.result.json"))
    params_path = work / f"{name}.params.json"
    params_path.write_text(json.dumps(params))
    log = open(work / f"{name}.log", "w")  # noqa: SIM115 - closed by finish_child
    process = subprocess.Popen(
        [sys.executable, str(Path(script).resolve()), flag, str(params_path)],
        cwd=REPO,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    return process, log, Path(params["result"])


def finish_child(name, process, log, result_path, timeout=1800):
    """Wait for a child of start_child(); its result, or exit with its log's end."""
    try:
        status = process.wait(timeout)
    finally:
        log.close()
    if status != 0 or not result_path.exists():
        print(Path(log.name).read_text()[-6000:], file=sys.stderr)
        sys.exit(f"child process {name} failed (exit {status}; log {log.name})")
    return json.loads(result_path.read_text())
