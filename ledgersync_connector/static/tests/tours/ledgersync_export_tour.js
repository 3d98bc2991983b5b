import { browser } from "@web/core/browser/browser";
import { registry } from "@web/core/registry";

// The bookkeeper's export of one reviewed range, in one go: narrow the review list to a
// client's bank account and its reviewed lines of last month, export them to a bank
// statement and check its balances, then export the same range to Accounting CS and
// download the file. Data: tests/test_export_tour.py (TestExportTour): client "Export
// Tour Client", its "Export Tour Checking" account mapped to the "Export Tour Bank"
// journal, last month's posted lines reviewed (among them "EXPORT TOUR SUPPLIES #1..3"),
// and two reviewed lines the narrowing must leave out: "EXPORT TOUR EARLIER MONTH" (the
// month before) and "EXPORT TOUR EURO" (the client's other account, without journal).
const lastMonth = luxon.DateTime.now().minus({ months: 1 });
// The search's Date filter names the month as Odoo writes it (luxon, the user's language).
const lastMonthName = lastMonth.toFormat("MMMM");
// The wizard's dates, in the bookkeeper's (en_US) date format.
const firstDay = lastMonth.startOf("month").toFormat("MM/dd/yyyy");
const lastDay = lastMonth.endOf("month").toFormat("MM/dd/yyyy");

const menu = (xmlid) => `[data-menu-xmlid='ledgersync_connector.${xmlid}']`;
const statementRow =
    ".o_field_widget[name='statement_ids'] .o_data_row:has(td[name='journal_id']:contains(Export Tour Bank))";
// The Accounting CS file of that client, account and range (ClientName_BankName_Start_End).
const fileName = `Export-Tour-Client_Export-Tour-Checking_${lastMonth
    .startOf("month")
    .toFormat("yyyy-MM-dd")}_${lastMonth.endOf("month").toFormat("yyyy-MM-dd")}.csv`;
const historyRow = `.o_data_row:contains(${fileName})`;

// A download leaves the page in the tour's eyes: the app sends the browser to the file
// (location.assign), which starts by firing "beforeunload", and the tour engine stops
// there; headless Chrome would refuse the file anyway. So the tour catches the file's
// address the app sends the browser to, fetches it as the browser would, and keeps the
// answer for the next step to read.
let download = null;
const browserLocation = Object.getOwnPropertyDescriptor(browser, "location");

function catchDownloads() {
    download = null;
    const location = window.location;
    // (A proxy of an empty object: the real location's own properties are fixed.)
    const caught = new Proxy({}, {
        get(_target, key) {
            if (key === "assign") {
                return (url) => {
                    if (!String(url).startsWith("/web/content/")) {
                        return location.assign(url);
                    }
                    download = fetch(url).then(async (response) => ({
                        url: String(url),
                        status: response.status,
                        disposition: response.headers.get("Content-Disposition") || "",
                        text: await response.text(),
                    }));
                };
            }
            const value = location[key];
            return typeof value === "function" ? value.bind(location) : value;
        },
        set(_target, key, value) {
            location[key] = value;
            return true;
        },
    });
    Object.defineProperty(browser, "location", {
        configurable: true,
        get: () => caught,
        set: (value) => {
            window.location = value;
        },
    });
}

async function downloadedFile() {
    for (let tries = 0; !download && tries < 100; tries++) {
        await new Promise((resolve) => setTimeout(resolve, 100));
    }
    if (!download) {
        throw new Error("The app sent the browser to no file");
    }
    const file = await download;
    download = null;
    Object.defineProperty(browser, "location", browserLocation);
    const [header, ...lines] = file.text.replace(/^\ufeff/, "").trim().split("\r\n");
    const problems = [
        !file.url.includes("download=true") && `not a download: ${file.url}`,
        file.status !== 200 && `status ${file.status}`,
        !file.disposition.startsWith("attachment") && `not an attachment: ${file.disposition}`,
        !file.disposition.includes(fileName) && `not named ${fileName}: ${file.disposition}`,
        header.split(",").length !== 11 && `not 11 columns: ${header}`,
        !header.startsWith("Date,Description,Vendor Name") && `not the header: ${header}`,
        !lines.some((line) => line.includes("EXPORT TOUR SUPPLIES #1")) && "a line is missing",
        lines.some((line) => /EXPORT TOUR (EARLIER MONTH|EURO)/.test(line)) &&
            "a line out of the range is in",
    ].filter(Boolean);
    if (problems.length) {
        throw new Error(`The downloaded file: ${problems.join("; ")}`);
    }
}

// A monetary cell's value ("$ 1,234.56", "-$ 12.50" ...).
function amountIn(row, fieldName) {
    const text = row.querySelector(`td[name='${fieldName}']`).textContent;
    return Number(text.replace(/[^\d.-]/g, ""));
}

registry.category("web_tour.tours").add("ledgersync_export_tour", {
    url: "/odoo",
    steps: () => [
        {
            content: "1. Open the apps menu",
            trigger: ".o_navbar_apps_menu button:enabled",
            run: "click",
        },
        {
            content: "Open LedgerSync: its review list of transactions",
            trigger: `.o_app${menu("menu_ledgersync_root")}`,
            run: "click",
        },
        {
            content: "2. Narrow the list: pick the client in the side panel",
            trigger: ".o_search_panel_category_value header:contains(Export Tour Client)",
            run: "click",
        },
        {
            content: "Tick its bank account mapped to the bank journal",
            trigger:
                ".o_search_panel_filter_value:contains(Export Tour Checking) input:not(:checked)",
            run: "click",
        },
        {
            content: "Open the filters",
            trigger: ".o_searchview_dropdown_toggler",
            run: "click",
        },
        {
            content: "Drop the default To Review filter",
            trigger: ".o_filter_menu .o_menu_item.selected:contains(To Review)",
            run: "click",
        },
        {
            content: "Keep the reviewed lines only",
            trigger: ".o_filter_menu .o_menu_item:not(.selected):contains(Reviewed)",
            run: "click",
        },
        {
            content: "Open the Date filter's periods",
            trigger: ".o_filter_menu .o_accordion_toggle:contains(Date)",
            run: "click",
        },
        {
            content: `Choose last month (${lastMonthName})`,
            trigger: `.o_filter_menu .o_item_option:contains(${lastMonthName})`,
            run: "click",
        },
        {
            content: "Close the filters",
            trigger: ".o_searchview_dropdown_toggler",
            run: "click",
        },
        {
            content: "The search shows the reviewed lines of last month",
            trigger: `.o_searchview:has(.o_searchview_facet:contains(Reviewed)):has(.o_searchview_facet:contains(${lastMonthName}))`,
        },
        {
            content:
                "The list holds that account's reviewed lines only: nothing of the month before, nothing of the other account",
            trigger: [
                ".o_list_view",
                ":not(:has(.o_data_row:contains(EXPORT TOUR EARLIER MONTH)))",
                ":not(:has(.o_data_row:contains(EXPORT TOUR EURO)))",
                ":not(:has(.o_data_row td[name='bank_account_id']:not(:contains(Export Tour Checking))))",
                ":not(:has(.o_data_row td[name='review_state']:not(:contains(Reviewed))))",
                " .o_data_row:contains(EXPORT TOUR SUPPLIES #3)",
            ].join(""),
        },
        {
            content: "3. Select every line shown",
            trigger: "thead .o_list_record_selector input",
            run: "click",
        },
        {
            content: "Export the selection to a bank statement",
            trigger: ".o_selection_container button[name='action_export_to_statement']",
            run: "click",
        },
        {
            content: "The export is announced: the lines went into one bank statement",
            trigger: ".o_notification:contains(exported to 1 bank statements)",
        },
        {
            content: "4. The export's form lists its statement, in the journal of the account",
            trigger: [
                ".o_form_view .o_field_widget[name='statement_ids']",
                ":has(th[data-name='balance_start'])",
                ":has(th[data-name='balance_end'])",
                ":has(th[data-name='ledgersync_balance_end'])",
                ":has(th[data-name='ledgersync_difference'])",
                ":not(:has(.o_data_row + .o_data_row))",
                " .o_data_row:has(td[name='journal_id']:contains(Export Tour Bank))",
            ].join(""),
        },
        {
            content:
                "Its starting and ending balances are shown, and the ending balance is LedgerSync's: no difference",
            trigger: `${statementRow}:not(.text-danger):has(td[name='balance_start']:contains(.))`,
            run() {
                const row = this.anchor;
                const ending = amountIn(row, "balance_end");
                const ledgersync = amountIn(row, "ledgersync_balance_end");
                const difference = amountIn(row, "ledgersync_difference");
                if (Number.isNaN(amountIn(row, "balance_start")) || Number.isNaN(ending)) {
                    throw new Error(`The statement's balances are not amounts: ${row.textContent}`);
                }
                if (ending !== ledgersync || difference !== 0) {
                    throw new Error(
                        `Ending balance ${ending}, LedgerSync's ${ledgersync}, difference ${difference}`
                    );
                }
            },
        },
        {
            content: "5. Then the file for Accounting CS: open the Exports menu",
            trigger: `.o_menu_sections .dropdown-toggle${menu("menu_ledgersync_exports")}`,
            run: "click",
        },
        {
            content: "Choose Export to Accounting CS",
            trigger: `.dropdown-item${menu("menu_ledgersync_export_accounting_cs")}`,
            run: "click",
        },
        {
            content: "Type the same client",
            trigger: ".modal div[name='client_id'] input",
            run: "edit Export Tour Client",
        },
        {
            content: "The client is offered: choose it",
            trigger: ".o-autocomplete--dropdown-item:contains(Export Tour Client)",
            run: "click",
        },
        {
            content: "Type the same bank account",
            trigger: ".modal div[name='bank_account_id'] input",
            run: "edit Export Tour Checking",
        },
        {
            content: "The account is offered: choose it",
            trigger: ".o-autocomplete--dropdown-item:contains(Export Tour Checking)",
            run: "click",
        },
        {
            content: "Open the start date",
            trigger: ".modal div[name='date_from'] button",
            run: "click",
        },
        {
            content: `From the first of last month (${firstDay})`,
            trigger: ".modal div[name='date_from'] input",
            run: `click && edit ${firstDay} && click .modal-body`,
        },
        {
            content: "Open the end date",
            trigger: ".modal div[name='date_to'] button",
            run: "click",
        },
        {
            content: `To the last of last month (${lastDay})`,
            trigger: ".modal div[name='date_to'] input",
            run: `click && edit ${lastDay} && click .modal-body`,
        },
        {
            content: "Reviewed lines only (the default), then Export: the file downloads",
            trigger: ".modal:has(div[name='reviewed_only'] input:checked) button[name='action_export']",
            async run(helpers) {
                catchDownloads();
                await helpers.click();
            },
        },
        {
            content: "The file arrives: the CSV of that account's reviewed lines of last month",
            trigger: ".modal button[name='action_export']",
            run: downloadedFile,
        },
        {
            content: "The dialog stays open after the download: close it",
            trigger: ".modal .btn-close",
            run: "click",
        },
        {
            content: "6. The export is in the history: open the Exports menu",
            trigger: `body:not(:has(.modal)) .o_menu_sections .dropdown-toggle${menu("menu_ledgersync_exports")}`,
            run: "click",
        },
        {
            content: "Choose Export History",
            trigger: `.dropdown-item${menu("menu_ledgersync_export_history")}`,
            run: "click",
        },
        {
            content: "The file of that client, account and range is listed, with who made it",
            trigger: `${historyRow}:has(td[name='create_uid']:contains(export_tour_bookkeeper))`,
        },
        {
            content: "Download it again from the history",
            trigger: `${historyRow} button[name='action_download']`,
            async run(helpers) {
                catchDownloads();
                await helpers.click();
            },
        },
        {
            content: "The same file arrives",
            trigger: `.o_list_view ${historyRow}`,
            run: downloadedFile,
        },
    ],
});
