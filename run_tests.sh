#!/usr/bin/env bash
# The whole test suite in one command: lint, pure and sandbox tests, and, when an Odoo 19
# source tree is found, the Odoo tests (install, settings flow against the sandbox over
# real HTTP, access rights, multi-company, a headless-browser tour) on a fresh database.
#
# Environment (all optional; see README.md "Running the tests"):
#   ODOO_SRC            Odoo 19 source tree (the folder holding odoo-bin). Default: an
#                       importable `odoo`, else /opt/odoo19, else ~/odoo19.
#   LEDGERSYNC_VENV     virtualenv to create/reuse (default ~/.cache/ledgersync_connector/venv)
#   PGHOST PGPORT PGUSER  PostgreSQL for the Odoo tests (default localhost, 5432, current user)
#   LEDGERSYNC_TEST_DB  database created fresh for the Odoo tests (default ledgersync_test)
#   LEDGERSYNC_SKIP_LINT=1  skip ruff/pylint (for quick local loops; CI never sets it)
# Extra arguments are passed to pytest.
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
find_odoo() {
    if [ -n "${ODOO_SRC:-}" ]; then
        [ -f "$ODOO_SRC/odoo/release.py" ] && { echo "$ODOO_SRC"; return; }
        echo "ODOO_SRC=$ODOO_SRC holds no Odoo source tree (no odoo/release.py)" >&2
        return
    fi
    local importable
    importable=$("$python" -c 'import os, odoo; print(os.path.dirname(os.path.dirname(odoo.__file__)))' 2>/dev/null || true)
    for candidate in "$importable" /opt/odoo19 "$HOME/odoo19"; do
        if [ -n "$candidate" ] && [ -f "$candidate/odoo/release.py" ]; then
            echo "$candidate"
            return
        fi
    done
}
odoo_src=$(find_odoo)
if [ -n "$odoo_src" ]; then
    odoo_series=$(cd "$odoo_src" && "$python" -c 'from odoo import release; print(release.series)' 2>/dev/null || true)
    if [ "$odoo_series" != "19.0" ]; then
        loud "Odoo found at $odoo_src is series '${odoo_series:-unknown}', not 19.0: Odoo tests SKIPPED."
        odoo_src=""
    fi
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

# --------------------------------------------------------------------------- pytest
pytest_args=(tests)
if [ -n "$odoo_src" ]; then
    banner "Odoo 19 found at $odoo_src: preparing database $test_db on $PGHOST:$PGPORT as $PGUSER"
    if ! command -v chromium >/dev/null && ! command -v google-chrome >/dev/null; then
        if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null; then
            echo "Installing Debian's chromium for the browser tour ..."
            (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) ||
                loud "chromium could not be installed: the browser tour will be SKIPPED."
        else
            loud "No chromium/google-chrome and no root apt-get: the browser tour will be SKIPPED."
        fi
    fi
    data_dir="$venv/odoo-data"
    addons_path="$repo,$odoo_src/addons,$odoo_src/odoo/addons"
    dropdb --if-exists "$test_db"
    odoo_log="$venv/odoo-install-$test_db.log"
    if ! "$venv/bin/python" "$odoo_src/odoo-bin" --addons-path="$addons_path" --data-dir="$data_dir" \
        --db_host="$PGHOST" --db_port="$PGPORT" --db_user="$PGUSER" -d "$test_db" \
        -i ledgersync_connector --stop-after-init --http-interface=127.0.0.1 \
        --log-level=warn >"$odoo_log" 2>&1; then
        tail -n 60 "$odoo_log"
        echo "Installing ledgersync_connector into $test_db failed (log: $odoo_log)" >&2
        exit 1
    fi
    if grep -E '^[0-9-]+ [0-9:,]+ [0-9]+ (ERROR|CRITICAL) ' "$odoo_log"; then
        echo "Errors while installing the addon (log: $odoo_log)" >&2
        exit 1
    fi
    export LEDGERSYNC_ODOO_SRC="$odoo_src" LEDGERSYNC_ODOO_ADDONS_PATH="$addons_path"
    export LEDGERSYNC_ODOO_DATA_DIR="$data_dir"
    pytest_args+=(
        ledgersync_connector/tests
        --odoo-database="$test_db"
        --odoo-addons-path="$addons_path"
        --odoo-http
        --odoo-log-level=warn
        --odoo-extra="db_host=$PGHOST" --odoo-extra="db_port=$PGPORT" --odoo-extra="db_user=$PGUSER"
        --odoo-extra="data-dir=$data_dir"
        --odoo-extra="http-interface=127.0.0.1"
    )
else
    # pytest-odoo may be installed from an earlier run that found Odoo: keep it out.
    pytest_args+=(-p no:odoo)
    loud "ODOO 19 NOT FOUND (set ODOO_SRC, or install it at /opt/odoo19): the Odoo tests" \
        "in ledgersync_connector/tests are SKIPPED. Lint, pure and sandbox tests run."
fi

banner "pytest"
set +e
"$venv/bin/python" -m pytest "${pytest_args[@]}" "$@"
status=$?
set -e
if [ "$status" = "5" ]; then
    # Not a failure by itself, but never silent: it means a selection matched nothing.
    loud "pytest collected NO TESTS (exit code 5): check the selection you passed."
    status=0
fi
if [ -z "$odoo_src" ]; then
    loud "Reminder: Odoo tests were SKIPPED because no Odoo 19 source tree was found."
fi
exit "$status"
