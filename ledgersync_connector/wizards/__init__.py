from . import ledgersync_load_transactions
