from . import ledgersync_load_transactions
from . import ledgersync_export_accounting_cs
from . import ledgersync_firmadmin_import
from . import ledgersync_firmadmin_import_line
