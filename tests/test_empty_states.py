"""Why a LedgerSync list is empty: the decision, without Odoo (the texts are checked by
the Odoo tests in ledgersync_connector/tests/test_live_updates.py)."""

import pytest

from ledgersync_connector.empty_states import EMPTY_STATES, empty_list_reason

TRANSACTIONS = "ledgersync.transaction"
CLIENTS = "ledgersync.client"
ACCOUNTS = "ledgersync.bank.account"
SYNCED = {"first_sync_running": False, "clients": 3, "bank_accounts": 5}


@pytest.mark.parametrize(
    ("model", "facts", "expected"),
    [
        (TRANSACTIONS, {"connection_state": None, **SYNCED, "clients": 0}, "not_connected"),
        (CLIENTS, {"connection_state": "disconnected", **SYNCED}, "not_connected"),
        (CLIENTS, {"connection_state": "not_configured", **SYNCED}, "not_connected"),
        (TRANSACTIONS, {"connection_state": "failed", **SYNCED}, "connection_failed"),
        (
            TRANSACTIONS,
            {"connection_state": "connected", **SYNCED, "first_sync_running": True},
            "first_sync_running",
        ),
        (CLIENTS, {"connection_state": "connected", **SYNCED, "clients": 0}, "no_clients"),
        (
            ACCOUNTS,
            {"connection_state": "connected", **SYNCED, "bank_accounts": 0},
            "no_bank_accounts",
        ),
        (
            TRANSACTIONS,
            {"connection_state": "connected", **SYNCED, "bank_accounts": 0},
            "no_bank_accounts",
        ),
        # A client list needs no bank accounts; synced data: the list's own help.
        (CLIENTS, {"connection_state": "connected", **SYNCED, "bank_accounts": 0}, None),
        (TRANSACTIONS, {"connection_state": "connected", **SYNCED}, None),
    ],
)
def test_the_reason_of_an_empty_list(model, facts, expected):
    assert empty_list_reason(model, **facts) == expected


def test_every_reason_has_a_title_and_a_text():
    for state in EMPTY_STATES.values():
        assert str(state.title) and str(state.text)
