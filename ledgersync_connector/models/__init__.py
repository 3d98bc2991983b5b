from . import ledgersync_synced_mixin
from . import ledgersync_connection
from . import ledgersync_client
from . import ledgersync_bank_account
from . import ledgersync_transaction
from . import ledgersync_sync_worker
from . import ledgersync_sync_run
from . import res_config_settings
