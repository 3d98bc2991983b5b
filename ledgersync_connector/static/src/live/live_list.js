import { registry } from "@web/core/registry";
import { ListController } from "@web/views/list/list_controller";
import { listView } from "@web/views/list/list_view";

import { useLedgerSyncNews } from "./news";

/** A list of LedgerSync records that reloads itself while a sync brings news. */
export class LedgerSyncLiveListController extends ListController {
    setup() {
        super.setup();
        useLedgerSyncNews(() => this.reloadUnlessBusy());
    }

    async reloadUnlessBusy() {
        const root = this.model.root;
        // Never under the accountant's hands: a line being edited, or a selection.
        if (root.editedRecord || root.selection.length) {
            return;
        }
        // The root's own reload, not the model's: a model load started before a search
        // finished would still carry the search's old domain, and would win over it.
        await root.load();
    }
}

registry.category("views").add("ledgersync_live_list", {
    ...listView,
    Controller: LedgerSyncLiveListController,
});
