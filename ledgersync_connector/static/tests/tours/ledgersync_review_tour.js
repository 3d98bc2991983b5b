import { registry } from "@web/core/registry";

// An accountant reviews one client's transactions: picks the client in the search panel,
// sees only that client's bank accounts and lines, selects them all and marks them
// reviewed, after which the default "To Review" filter leaves nothing to show.
// Data is created by tests/test_review_views.py (clients "Client a1", "Client a2").
registry.category("web_tour.tours").add("ledgersync_review_tour", {
    url: "/odoo/action-ledgersync_connector.ledgersync_transaction_action",
    steps: () => [
        {
            content: "The review list opens on the lines to review, with colours",
            trigger: ".o_list_view .o_data_row .badge.text-bg-danger:contains(Unmatched)",
        },
        {
            content: "Pick the client in the search panel",
            trigger: ".o_search_panel_category_value header:contains(Client a1)",
            run: "click",
        },
        {
            content: "Only the client's lines are listed",
            trigger: ".o_list_table:not(:has(.o_data_row:contains(Client a2))):has(.o_data_row:contains(Client a1))",
        },
        {
            content: "Only the client's bank accounts are offered",
            trigger: ".o_search_panel_filter_value:contains(Checking Client a1)",
            run() {
                // The bank account section (the match section below it has its own values).
                const section = [...document.querySelectorAll(".o_search_panel_section")].find(
                    (node) =>
                        node
                            .querySelector(".o_search_panel_section_header")
                            ?.textContent.includes("Bank Account")
                );
                const labels = [...section.querySelectorAll(".o_search_panel_filter_value")].map(
                    (node) => node.textContent
                );
                if (labels.length !== 1) {
                    throw new Error(`Expected one bank account in the panel, got ${labels}`);
                }
            },
        },
        {
            content: "Select all the lines",
            trigger: ".o_list_table thead .o_list_record_selector input",
            run: "click",
        },
        {
            content: "Mark them reviewed",
            trigger: ".o_selection_container button[name='action_mark_reviewed']",
            run: "click",
        },
        {
            content: "Nothing of this client is left to review",
            trigger: ".o_list_view:not(:has(.o_data_row))",
        },
    ],
});
