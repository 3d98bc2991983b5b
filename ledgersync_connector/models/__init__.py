from . import ledgersync_connection
from . import ledgersync_client
from . import res_config_settings
