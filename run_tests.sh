#!/usr/bin/env bash
# The whole test suite in one command: lint, pure and sandbox tests, and the Odoo tests
# (under Odoo's own runner, then under pytest-odoo, with headless-browser tours) on a
# fresh database. Odoo 19 is found by tools/odoo_locate.py; on a machine without one it is
# unpacked from ../shared/odoo/odoo-19.0-community.tar.xz into ~/.cache/ledgersync_connector.
#
# Environment (all optional; see README.md "Running the tests"):
#   ODOO_SRC            Odoo 19 source tree (the folder holding odoo-bin). Default: an
#                       importable `odoo`, /opt/odoo19, ~/odoo19, then the shared archive.
#   LEDGERSYNC_VENV     virtualenv to create/reuse (default ~/.cache/ledgersync_connector/venv)
#   PGHOST PGPORT PGUSER  PostgreSQL for the Odoo tests (default localhost, 5432, current user)
#   LEDGERSYNC_TEST_DB  database created fresh for the Odoo tests (default ledgersync_test)
#   LEDGERSYNC_SKIP_LINT=1  skip ruff/pylint (for quick local loops; CI never sets it)
#   CI=true             fail when the Odoo tests cannot run, ran none, or skipped one
# Extra arguments are passed to pytest (and then Odoo's own runner is not run).
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
cd "$repo"

banner() { printf '\n==== %s ====\n' "$*"; }
loud() {
    printf '\n%s\n' "########################################################################"
    printf '### %s\n' "$@"
    printf '%s\n\n' "########################################################################"
}

python=${PYTHON:-python3}
venv=${LEDGERSYNC_VENV:-$HOME/.cache/ledgersync_connector/venv}
export PGHOST=${PGHOST:-localhost}
export PGPORT=${PGPORT:-5432}
export PGUSER=${PGUSER:-$(id -un)}
test_db=${LEDGERSYNC_TEST_DB:-ledgersync_test}

# --------------------------------------------------------------------------- Odoo lookup
# tools/odoo_locate.py is the one definition of where Odoo is looked for (ODOO_SRC, an
# importable odoo, /opt/odoo19, ~/odoo19, then ../shared/odoo's archive, unpacked once).
ci=false
case "${CI:-}" in true | 1 | yes) ci=true ;; esac
odoo_src=$("$python" tools/odoo_locate.py) || odoo_src=""
if [ -z "$odoo_src" ] && [ "$ci" = true ]; then
    loud "CI: no Odoo 19 found and none could be unpacked: the Odoo tests cannot run." \
        "CI never passes without them (see README, Running the tests)."
    exit 1
fi

# --------------------------------------------------------------------------- virtualenv
banner "Python environment: $venv"
if [ ! -x "$venv/bin/python" ]; then
    "$python" -m venv "$venv"
fi
pip_install() { "$venv/bin/python" -m pip install --quiet --disable-pip-version-check "$@"; }
stamp_of() { cat "$@" 2>/dev/null | sha256sum | cut -c1-16; }

wanted="pure-$(stamp_of tests/requirements.txt)"
if [ -n "$odoo_src" ]; then
    wanted="$wanted-odoo-$(stamp_of "$odoo_src/requirements.txt" tests/requirements-odoo.txt)"
fi
if [ "$(cat "$venv/.ledgersync-stamp" 2>/dev/null)" != "$wanted" ]; then
    if [ -n "$odoo_src" ]; then
        # Odoo's own pins first, so the pure tests also run against the versions Odoo 19
        # ships with. python-ldap (auth_ldap only) needs system headers: left out.
        # psycopg2 is replaced by its binary wheel. Old sdists still import pkg_resources
        # while building, hence the setuptools cap for their build environments.
        odoo_requirements=$(mktemp)
        grep -v -i -E '^\s*(#|$)|^python-ldap|^psycopg2' "$odoo_src/requirements.txt" >"$odoo_requirements"
        build_constraints=$(mktemp)
        echo 'setuptools<70' >"$build_constraints"
        PIP_CONSTRAINT="$build_constraints" pip_install -r "$odoo_requirements" -r tests/requirements-odoo.txt
        rm -f "$odoo_requirements" "$build_constraints"
    fi
    pip_install -r tests/requirements.txt
    echo "$wanted" >"$venv/.ledgersync-stamp"
fi

site_packages=$("$venv/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
if [ -n "$odoo_src" ]; then
    echo "$odoo_src" >"$site_packages/ledgersync-odoo-src.pth"
else
    rm -f "$site_packages/ledgersync-odoo-src.pth"
fi

# --------------------------------------------------------------------------- lint
if [ "${LEDGERSYNC_SKIP_LINT:-0}" != "1" ]; then
    banner "Lint: ruff"
    "$venv/bin/ruff" check .
    "$venv/bin/ruff" format --check .
    banner "Lint: pylint-odoo (mandatory checks)"
    "$venv/bin/pylint" --rcfile=.pylintrc ledgersync_connector
fi

# --------------------------------------------------------------------------- Odoo
# A full run (no pytest arguments) runs the Odoo tests twice: first with Odoo's own runner
# (odoo-bin -i ... --test-enable, from a folder outside the repository, as OCA CI, hosted
# Odoo and the odoo:19 image do), which also installs the addon into the test database;
# then with pytest-odoo on that database. With pytest arguments, only pytest runs.
# pytest's own selection (setup.cfg testpaths) applies unless arguments choose tests.
pytest_args=()
odoo_runner_summary=""
if [ -n "$odoo_src" ]; then
    banner "Odoo 19 at $odoo_src: database $test_db on $PGHOST:$PGPORT as $PGUSER"
    if ! command -v chromium >/dev/null && ! command -v google-chrome >/dev/null; then
        if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null; then
            echo "Installing Debian's chromium for the browser tours ..."
            (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) ||
                loud "chromium could not be installed: the browser tours will fail."
        else
            loud "No chromium/google-chrome and no root apt-get: the browser tours will fail."
        fi
    fi
    data_dir="$venv/odoo-data"
    addons_path="$repo,$odoo_src/addons,$odoo_src/odoo/addons"
    http_port=$("$venv/bin/python" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    odoo_options=(
        --addons-path="$addons_path" --data-dir="$data_dir"
        --db_host="$PGHOST" --db_port="$PGPORT" --db_user="$PGUSER" -d "$test_db"
        --http-interface=127.0.0.1 --http-port="$http_port" --stop-after-init
    )
    dropdb --if-exists "$test_db"
    odoo_log="$venv/odoo-$test_db.log"
    if [ $# -eq 0 ]; then
        banner "Odoo's own runner: odoo-bin -i ledgersync_connector --test-enable (from /)"
        set +e
        (cd / && "$venv/bin/python" "$odoo_src/odoo-bin" "${odoo_options[@]}" \
            -i ledgersync_connector --test-enable --test-tags /ledgersync_connector \
            --log-level=info >"$odoo_log" 2>&1)
        runner_status=$?
        set -e
        grep -E ' (ERROR|CRITICAL) |odoo\.tests\.stats: |odoo\.tests\.result: |: skipped ' "$odoo_log" || true
        tests_line=$(grep -E 'odoo\.tests\.result: .* of [0-9]+ tests when loading' "$odoo_log" | tail -n 1 || true)
        odoo_runner_tests=$(echo "$tests_line" | grep -oE 'of [0-9]+ tests' | grep -oE '[0-9]+' || echo 0)
        odoo_runner_skipped=$(grep -cE ' odoo\.addons\.ledgersync_connector\.[a-z_.]+: skipped ' "$odoo_log" || true)
        odoo_runner_summary="Odoo's own runner: ${tests_line##*odoo.tests.result: }; ${odoo_runner_skipped:-0} skipped"
        log_error='^[0-9-]+ [0-9:,]+ [0-9]+ (ERROR|CRITICAL) '
        if [ "$runner_status" != 0 ] || grep -qE "$log_error" "$odoo_log" ||
            [ "${odoo_runner_tests:-0}" = 0 ] || [ "${odoo_runner_skipped:-0}" != 0 ]; then
            tail -n 40 "$odoo_log"
            # Last, where a truncated CI log still shows them: the first errors logged, each
            # with what follows it (its traceback), and the skipped tests.
            banner "Errors logged by Odoo's own runner (first 3, with the 30 lines after each)"
            { grep -nE "$log_error" "$odoo_log" || true; } | head -n 3 | cut -d: -f1 |
                while read -r line; do
                    sed -n "${line},$((line + 30))p" "$odoo_log"
                    echo "----"
                done
            grep -E ' odoo\.addons\.ledgersync_connector\.[a-z_.]+: skipped ' "$odoo_log" | head -n 10 || true
            loud "Odoo's own test runner failed, ran no test or skipped some (exit $runner_status)." \
                "$odoo_runner_summary" \
                "First error: $({ grep -m1 -E "$log_error" "$odoo_log" || echo none; } | cut -c1-300)" \
                "Full log: $odoo_log"
            exit 1
        fi
        echo "$odoo_runner_summary"
    else
        if ! "$venv/bin/python" "$odoo_src/odoo-bin" "${odoo_options[@]}" -i ledgersync_connector \
            --log-level=warn >"$odoo_log" 2>&1 ||
            grep -E '^[0-9-]+ [0-9:,]+ [0-9]+ (ERROR|CRITICAL) ' "$odoo_log"; then
            tail -n 60 "$odoo_log"
            echo "Installing ledgersync_connector into $test_db failed (log: $odoo_log)" >&2
            exit 1
        fi
    fi
    export LEDGERSYNC_ODOO_SRC="$odoo_src" LEDGERSYNC_ODOO_ADDONS_PATH="$addons_path"
    export LEDGERSYNC_ODOO_DATA_DIR="$data_dir"
    # A full run fails when no Odoo test passed under pytest, or when one was skipped
    # (conftest.py); a selection given as arguments may leave them out.
    if [ $# -eq 0 ]; then
        export LEDGERSYNC_REQUIRE_ODOO_TESTS=1
    fi
    pytest_args+=(
        --odoo-database="$test_db"
        --odoo-addons-path="$addons_path"
        --odoo-http
        --odoo-log-level=warn
        --odoo-extra="db_host=$PGHOST" --odoo-extra="db_port=$PGPORT" --odoo-extra="db_user=$PGUSER"
        --odoo-extra="data-dir=$data_dir"
        --odoo-extra="http-interface=127.0.0.1" --odoo-extra="http-port=$http_port"
    )
else
    # pytest-odoo may be installed from an earlier run that found Odoo: keep it out.
    pytest_args+=(-p no:odoo)
    loud "ODOO 19 NOT FOUND (set ODOO_SRC, or put ../shared/odoo beside the repository):" \
        "the Odoo tests in ledgersync_connector/tests are SKIPPED. Lint, pure and sandbox tests run."
fi

# --------------------------------------------------------------------------- pytest
banner "pytest"
set +e
"$venv/bin/python" -m pytest "${pytest_args[@]}" "$@"
status=$?
set -e
if [ "$status" = "5" ]; then
    # No test collected: a selection that matched nothing. Never a pass.
    loud "pytest collected NO TESTS (exit code 5): check the selection you passed."
fi
[ -n "$odoo_runner_summary" ] && echo "$odoo_runner_summary"
if [ -z "$odoo_src" ]; then
    loud "Reminder: Odoo tests were SKIPPED because no Odoo 19 source tree was found."
fi
exit "$status"
