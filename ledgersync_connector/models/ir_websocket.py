from odoo import models

from .ledgersync_connection import LIVE_SUBCHANNEL


class IrWebsocket(models.AbstractModel):
    _inherit = "ir.websocket"

    def _build_bus_channel_list(self, channels):
        """Internal users hear the LedgerSync news of the companies they may work in
        (see ledgersync.connection._notify_live): a channel the server grants, not one a
        browser can ask for."""
        channels = super()._build_bus_channel_list(channels)
        user = self.env.user
        if user and user._is_internal():
            channels.extend((company, LIVE_SUBCHANNEL) for company in user.company_ids)
        return channels
