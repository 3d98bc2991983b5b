import { Component, xml } from "@odoo/owl";
import { registry } from "@web/core/registry";
import { standardWidgetProps } from "@web/views/widgets/standard_widget_props";

import { useLedgerSyncNews } from "./news";

/**
 * Placed in a form (Settings' LedgerSync section, an export to bank statements): shows
 * nothing, and reloads the record when LedgerSync's sync, status or export moves on,
 * unless the person is typing there.
 */
export class LedgerSyncLiveRecord extends Component {
    static template = xml``;
    static props = { ...standardWidgetProps };

    setup() {
        useLedgerSyncNews(() => this.reloadUnlessEdited());
    }

    async reloadUnlessEdited() {
        const record = this.props.record;
        if (await record.isDirty()) {
            return;
        }
        // This record's own reload: a model load would use the model's current
        // configuration, which lags behind a move to another record still loading.
        await record.load();
    }
}

registry.category("view_widgets").add("ledgersync_live_record", {
    component: LedgerSyncLiveRecord,
});
