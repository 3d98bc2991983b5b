import { registry } from "@web/core/registry";

// Settings → LedgerSync Integration → Save Integration → green check, as an administrator
// does it. The test sets the API base URL to its local sandbox beforehand.
registry.category("web_tour.tours").add("ledgersync_settings_tour", {
    url: "/odoo/settings",
    steps: () => [
        {
            content: "Open the LedgerSync settings",
            trigger: ".settings_tab .tab[data-key='ledgersync_connector']",
            run: "click",
        },
        {
            content: "The LedgerSync Integration section is shown, not connected yet",
            trigger: ".app_settings_block[data-key='ledgersync_connector']:contains(Not connected yet)",
        },
        {
            content: "Type the LedgerSync email",
            trigger: "div[name='ledgersync_email'] input",
            run: "edit demo@ledgersync.test",
        },
        {
            content: "Type the LedgerSync password",
            trigger: "div[name='ledgersync_password'] input",
            run: "edit demo-password",
        },
        {
            content: "Press Save Integration",
            trigger: "button[name='action_ledgersync_save_integration']",
            run: "click",
            // The settings page reloads to show the new status.
            expectUnloadPage: true,
        },
        {
            content: "A green check with the firm name",
            trigger: ".o_ledgersync_status_connected .text-success:contains(Demo Accounting LLP)",
        },
        {
            content: "The password field stays empty, and says a password is stored",
            trigger: ".o_ledgersync_password_stored",
            run() {
                const input = document.querySelector("div[name='ledgersync_password'] input");
                if (!input || input.value !== "") {
                    throw new Error("The stored password was sent back to the browser");
                }
            },
        },
    ],
});
