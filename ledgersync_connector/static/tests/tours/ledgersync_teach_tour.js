import { registry } from "@web/core/registry";

// Corrections that teach, as an accountant: set the vendor of one line of "Client a1";
// the notification tells of the new rule, with Undo; the client's other lines matched by
// it turn green; Undo takes the rule back and they are red again.
// Data is created by tests/test_rules.py (TestTeachTour).
registry.category("web_tour.tours").add("ledgersync_teach_tour", {
    url: "/odoo/action-ledgersync_connector.ledgersync_transaction_action",
    steps: () => [
        {
            content: "Pick the client in the search panel",
            trigger: ".o_search_panel_category_value header:contains(Client a1)",
            run: "click",
        },
        {
            content: "Only the client's lines, all unmatched",
            trigger:
                ".o_list_table:not(:has(.o_data_row:contains(Client a2))):not(:has(.badge.text-bg-success)):has(.o_data_row:contains(Client a1))",
        },
        {
            content: "Edit the vendor of the first line",
            trigger: ".o_data_row:first-child .o_data_cell[name='partner_id']",
            run: "click",
        },
        {
            content: "Type the vendor",
            trigger: ".o_data_row:first-child .o_field_widget[name='partner_id'] input",
            run: "edit Tour Vendor",
        },
        {
            content: "Choose it",
            trigger: ".o-autocomplete--dropdown-item:contains(Tour Vendor)",
            run: "click",
        },
        {
            content: "Save the line",
            trigger: ".o_list_button_save",
            run: "click",
        },
        {
            content: "The new rule is announced, with Undo",
            trigger: ".o_notification:contains(New rule for Client a1) button:contains(Undo)",
        },
        {
            content: "The client's other lines follow the rule: green",
            trigger: ".o_data_row:not(:first-child) .badge.text-bg-success:contains(Matched by Rule)",
        },
        {
            content: "Undo",
            trigger: ".o_notification:contains(New rule for Client a1) button:contains(Undo)",
            run: "click",
        },
        {
            content: "The rule is gone: only the corrected line keeps its vendor",
            trigger:
                ".o_notification:contains(undone), .o_list_table:not(:has(.badge:contains(Matched by Rule)))",
        },
        {
            content: "No line is matched by a rule any more",
            trigger: ".o_list_table:not(:has(.badge:contains(Matched by Rule))):has(.badge:contains(Set by Hand))",
        },
    ],
});
