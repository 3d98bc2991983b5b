from . import test_connection
from . import test_security
from . import test_sync
from . import test_export
from . import test_settings_tour
from . import test_review_views
from . import test_real_workers
from . import test_sync_failures
