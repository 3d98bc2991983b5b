"""Why a LedgerSync list is empty, and what to do: the one table of these texts.

``empty_list_reason`` decides from a few facts (pure); the models show the reason's texts
instead of the list's own help (ledgersync.connection._empty_list_help). Texts are lazy
translations, as in failures.py; ``%(progress)s`` and ``%(reason)s`` are filled in, escaped.
"""

from typing import NamedTuple

if __name__.startswith("odoo.addons."):
    from odoo.tools.translate import LazyTranslate

    _lt = LazyTranslate(__name__)
else:

    def _lt(source):
        return source


class EmptyState(NamedTuple):
    title: object
    text: object


EMPTY_STATES = {
    "not_connected": EmptyState(
        _lt("LedgerSync is not connected"),
        _lt(
            "An administrator connects the firm's LedgerSync account in Settings → "
            "LedgerSync Integration (email and password); the clients, their bank accounts "
            "and their transactions then appear here."
        ),
    ),
    "connection_failed": EmptyState(
        _lt("The LedgerSync connection is not working"),
        _lt("%(reason)s An administrator can fix it in Settings → LedgerSync Integration."),
    ),
    "first_sync_running": EmptyState(
        _lt("The first sync is running"),
        _lt(
            "The firm's clients, bank accounts and transactions appear here as they arrive "
            "from LedgerSync (%(progress)s); this list refreshes by itself."
        ),
    ),
    "no_clients": EmptyState(
        _lt("The firm has no clients in LedgerSync"),
        _lt(
            "Add the firm's clients in LedgerSync and connect their bank accounts there; the "
            "next sync brings them here."
        ),
    ),
    "no_bank_accounts": EmptyState(
        _lt("No bank account is connected in LedgerSync"),
        _lt(
            "The firm's clients are here, but none has a bank account connected in "
            "LedgerSync yet. Connect the accounts in LedgerSync; the next sync brings them "
            "and their transactions here."
        ),
    ),
}

# The lists that need bank accounts to show anything.
NEEDS_BANK_ACCOUNTS = frozenset({"ledgersync.bank.account", "ledgersync.transaction"})


def empty_list_reason(model, *, connection_state, first_sync_running, clients, bank_accounts):
    """The key of EMPTY_STATES that explains an empty list of ``model``, or None when the
    list's own help does (for example: everything is reviewed).

    ``connection_state``: the state of the connection of the user's companies (None when
    there is none); ``first_sync_running``: no run has ended yet and one is going on;
    ``clients``, ``bank_accounts``: how many the user can see.
    """
    if connection_state == "failed":
        return "connection_failed"
    if connection_state != "connected":
        return "not_connected"
    if first_sync_running:
        return "first_sync_running"
    if not clients:
        return "no_clients"
    if model in NEEDS_BANK_ACCOUNTS and not bank_accounts:
        return "no_bank_accounts"
    return None
