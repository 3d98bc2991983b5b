import { registry } from "@web/core/registry";

// The accountant's whole review, in one go: load a client's bank account over a range,
// correct one vendor, see the new rule and the next matching lines turn green, and the
// match coverage rise. Data: tests/test_rules.py (TestAccountantTour): client "Tour
// Client", bank account "Tour Checking", three "TOUR COFFEE ROASTERS #n" lines among
// others, nothing loaded yet.
function daysAgo(days) {
    const day = new Date();
    day.setDate(day.getDate() - days);
    const pad = (number) => String(number).padStart(2, "0");
    return `${pad(day.getMonth() + 1)}/${pad(day.getDate())}/${day.getFullYear()}`;
}

const matchCounter = (label) =>
    `.o_search_panel_section:contains(Match) .o_search_panel_filter_value:contains(${label}) .o_search_panel_counter`;

registry.category("web_tour.tours").add("ledgersync_accountant_tour", {
    url: "/odoo/action-ledgersync_connector.ledgersync_transaction_action",
    steps: () => [
        {
            content: "1. Pick the client and its account: Load Transactions",
            trigger: ".o_control_panel button:contains(Load Transactions)",
            run: "click",
        },
        {
            content: "The client",
            trigger: ".modal div[name='client_id'] input",
            run: "edit Tour Client",
        },
        {
            content: "The client is offered",
            trigger: ".o-autocomplete--dropdown-item:contains(Tour Client)",
            run: "click",
        },
        {
            content: "Its bank account",
            trigger: ".modal div[name='bank_account_id'] input:not([readonly])",
            run: "edit Tour Checking",
        },
        {
            content: "The account is offered",
            trigger: ".o-autocomplete--dropdown-item:contains(Tour Checking)",
            run: "click",
        },
        {
            content: "2. Load a range: open the start date",
            trigger: ".modal div[name='date_from'] button",
            run: "click",
        },
        {
            content: "From 20 days ago",
            trigger: ".modal div[name='date_from'] input",
            run: `click && edit ${daysAgo(20)} && click .modal-body`,
        },
        {
            content: "Open the end date",
            trigger: ".modal div[name='date_to'] button",
            run: "click",
        },
        {
            content: "To yesterday",
            trigger: ".modal div[name='date_to'] input",
            run: `click && edit ${daysAgo(1)} && click .modal-body`,
        },
        {
            content: "Load",
            trigger: ".modal button[name='action_load']",
            run: "click",
        },
        {
            content: "The loaded lines: the coffee roaster's are unmatched, none matched by a rule",
            trigger:
                ".o_list_view:not(:has(.badge:contains(Matched by Rule))) .o_data_row:contains(TOUR COFFEE ROASTERS #1001) .badge:contains(Unmatched)",
        },
        {
            content: "No line matched by a rule in the coverage counters",
            trigger: `.o_search_panel_section:contains(Match):not(:has(${matchCounter("Matched by Rule")}))`,
        },
        {
            content: "3. Correct one vendor",
            trigger: ".o_data_row:contains(TOUR COFFEE ROASTERS #1001) .o_data_cell[name='partner_id']",
            run: "click",
        },
        {
            content: "Type the vendor",
            trigger: ".o_selected_row .o_field_widget[name='partner_id'] input",
            run: "edit Coffee Roasters Inc",
        },
        {
            content: "Choose it",
            trigger: ".o-autocomplete--dropdown-item:contains(Coffee Roasters Inc)",
            run: "click",
        },
        {
            content: "Save the line",
            trigger: ".o_list_button_save",
            run: "click",
        },
        {
            content: "4. The new rule is announced, with Undo",
            trigger: ".o_notification:contains(New rule for Tour Client) button:contains(Undo)",
        },
        {
            content: "The next coffee roaster lines turn green",
            trigger:
                ".o_data_row:contains(TOUR COFFEE ROASTERS #2002) .badge.text-bg-success:contains(Matched by Rule)",
        },
        {
            content: "5. The coverage: narrow to the unmatched lines (the counters refresh)",
            trigger:
                ".o_search_panel_section:contains(Match) .o_search_panel_filter_value:contains(Unmatched) input",
            run: "click",
        },
        {
            content: "The coverage rose: two lines matched by the rule",
            trigger: `${matchCounter("Matched by Rule")}:contains(2)`,
        },
        {
            content: "The unmatched lines no longer hold the coffee roaster's",
            trigger: ".o_list_view:not(:has(.o_data_row:contains(TOUR COFFEE ROASTERS))) .o_data_row",
        },
    ],
});
