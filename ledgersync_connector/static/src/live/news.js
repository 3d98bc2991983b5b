import { onWillDestroy } from "@odoo/owl";
import { useService } from "@web/core/utils/hooks";
import { useDebounced } from "@web/core/utils/timing";

// Sent by ledgersync.connection._notify_live() on the company channels that the server
// grants each internal user (models/ir_websocket.py).
export const LEDGERSYNC_NEWS = "ledgersync/update";
// News comes at most every 2 s per sync worker; several workers, one reload.
const RELOAD_DELAY_MS = 500;

/**
 * Calls `onNews` (debounced) whenever LedgerSync's sync or status moves on, for as long
 * as the calling component lives.
 */
export function useLedgerSyncNews(onNews) {
    const busService = useService("bus_service");
    const debounced = useDebounced(onNews, RELOAD_DELAY_MS);
    busService.subscribe(LEDGERSYNC_NEWS, debounced);
    busService.start();
    onWillDestroy(() => busService.unsubscribe(LEDGERSYNC_NEWS, debounced));
}
