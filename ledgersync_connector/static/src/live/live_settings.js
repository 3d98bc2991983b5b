import { Component, xml } from "@odoo/owl";
import { registry } from "@web/core/registry";
import { standardWidgetProps } from "@web/views/widgets/standard_widget_props";

import { useLedgerSyncNews } from "./news";

/**
 * Placed in Settings' LedgerSync section: shows nothing, and reloads the section's status
 * when LedgerSync's sync or status moves on, unless the administrator is typing there.
 */
export class LedgerSyncLiveSettings extends Component {
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
        await record.model.load();
    }
}

registry.category("view_widgets").add("ledgersync_live_settings", {
    component: LedgerSyncLiveSettings,
});
