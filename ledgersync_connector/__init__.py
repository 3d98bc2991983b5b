from . import api, crypto

# The API client and the crypto helpers are plain Python and are imported by the
# pure tests without Odoo; the models need Odoo, so they load only as an addon.
if __name__.startswith("odoo.addons."):
    from . import models, wizards
    from .hooks import uninstall_hook
