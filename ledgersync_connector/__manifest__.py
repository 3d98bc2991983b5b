{
    "name": "LedgerSync Connector",
    "summary": "Sync LedgerSync clients, bank accounts and transactions into Odoo for review",
    "version": "19.0.1.0.0",
    "category": "Accounting/Accounting",
    "license": "LGPL-3",
    "author": "ledgersync_connector contributors",
    "website": "https://github.com/ledgersync/ledgersync_connector",
    "depends": ["base_setup", "mail", "account"],
    "external_dependencies": {"python": ["cryptography", "requests", "urllib3"]},
    "data": [
        "security/ledgersync_security.xml",
        "security/ir.model.access.csv",
        "data/ir_cron_data.xml",
        "views/ledgersync_transaction_views.xml",
        "views/ledgersync_rule_views.xml",
        "views/ledgersync_bank_account_views.xml",
        "views/ledgersync_sync_run_views.xml",
        "views/ledgersync_connection_views.xml",
        "views/ledgersync_client_views.xml",
        "views/res_config_settings_views.xml",
        "views/menus.xml",
    ],
    "assets": {
        "web.assets_backend": [
            "ledgersync_connector/static/src/js/*.js",
        ],
        "web.assets_tests": [
            "ledgersync_connector/static/tests/tours/*.js",
        ],
    },
    "application": True,
    "uninstall_hook": "uninstall_hook",
}
