import { registry } from "@web/core/registry";

// An accountant loads a date range of one bank account on demand: Load Transactions on
// the transactions list, picks the client, its bank account and the last 20 days, presses
// Load, and lands on that account's lines of the range. Data: tests/test_load_transactions.py
// (client "Load Tour Client", bank account "Load Tour Checking").
function daysAgo(days) {
    const day = new Date();
    day.setDate(day.getDate() - days);
    const pad = (number) => String(number).padStart(2, "0");
    return `${pad(day.getMonth() + 1)}/${pad(day.getDate())}/${day.getFullYear()}`;
}

registry.category("web_tour.tours").add("ledgersync_load_transactions_tour", {
    url: "/odoo/action-ledgersync_connector.ledgersync_transaction_action",
    steps: () => [
        {
            content: "Nothing is loaded yet: open Load Transactions from the list",
            trigger: ".o_control_panel button:contains(Load Transactions)",
            run: "click",
        },
        {
            content: "Pick the client",
            trigger: ".modal div[name='client_id'] input",
            run: "edit Load Tour",
        },
        {
            content: "The client is offered",
            trigger: ".o-autocomplete--dropdown-item:contains(Load Tour Client)",
            run: "click",
        },
        {
            content: "Pick its bank account",
            trigger: ".modal div[name='bank_account_id'] input:not([readonly])",
            run: "edit Load Tour",
        },
        {
            content: "The client's bank account is offered",
            trigger: ".o-autocomplete--dropdown-item:contains(Load Tour Checking)",
            run: "click",
        },
        {
            content: "Open the start date",
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
            content: "The outcome is told",
            trigger: ".o_notification:contains(new)",
        },
        {
            content: "The list shows the loaded lines of that account and range",
            trigger: ".o_list_view .o_data_row:contains(Load Tour Checking)",
        },
    ],
});
