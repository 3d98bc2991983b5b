"""Install and uninstall hooks (declared in __manifest__.py)."""

import logging

from .crypto import remove_key_file

_logger = logging.getLogger(__name__)


def uninstall_hook(env):
    """Delete the database's key file (crypto.py) once the uninstall is committed.

    The uninstall drops the tables that hold the encrypted secrets, so the key protects
    nothing any more. It is removed only after the commit: an uninstall that fails and
    rolls back keeps its secrets, and they keep their key. (Dropping a database runs no
    addon code: the README says what to do with its key file then.)
    """
    path = env["ledgersync.connection"]._key_file_path()

    def remove():
        if remove_key_file(path):
            _logger.info("LedgerSync: encryption key file %s removed", path)

    env.cr.postcommit.add(remove)
