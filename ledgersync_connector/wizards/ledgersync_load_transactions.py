from odoo import api, fields, models
from odoo.exceptions import UserError, ValidationError

from .. import const


class LedgerSyncLoadTransactions(models.TransientModel):
    """Load Transactions: one bank account's transactions of a date range, fetched from
    LedgerSync now (``ledgersync.range.load._start``), then shown."""

    _name = "ledgersync.load.transactions"
    _description = "Load LedgerSync Transactions"

    client_id = fields.Many2one("ledgersync.client", required=True)
    bank_account_id = fields.Many2one(
        "ledgersync.bank.account",
        required=True,
        domain="[('client_id', '=', client_id)]",
    )
    date_from = fields.Date(
        string="From", required=True, default=lambda self: self._default_date_from()
    )
    date_to = fields.Date(string="To", required=True, default=fields.Date.context_today)

    @api.model
    def _default_date_from(self):
        return fields.Date.context_today(self).replace(day=1)

    @api.model
    def default_get(self, fields_list):
        values = super().default_get(fields_list)
        account = self.env["ledgersync.bank.account"].browse(values.get("bank_account_id"))
        if account and not values.get("client_id"):
            values["client_id"] = account.client_id.id
        return values

    @api.onchange("client_id")
    def _onchange_client_id(self):
        if self.bank_account_id.client_id != self.client_id:
            self.bank_account_id = False

    @api.constrains("client_id", "bank_account_id", "date_from", "date_to")
    def _check_range(self):
        _ = self.env._
        today = fields.Date.context_today(self)
        for wizard in self:
            if wizard.date_from > wizard.date_to:
                raise ValidationError(_("The start date must be on or before the end date."))
            if wizard.date_to > today:
                raise ValidationError(
                    _(
                        "The end date cannot be after today (%(today)s): LedgerSync has no "
                        "transactions from the future.",
                        today=fields.Date.to_string(today),
                    )
                )
            days = (wizard.date_to - wizard.date_from).days + 1
            if days > const.RANGE_MAX_DAYS:
                raise ValidationError(
                    _(
                        "At most %(max)s days are loaded at a time, and this range has "
                        "%(days)s: load it in parts.",
                        max=const.RANGE_MAX_DAYS,
                        days=days,
                    )
                )
            if wizard.bank_account_id.client_id != wizard.client_id:
                raise ValidationError(
                    _(
                        "“%(account)s” is not a bank account of %(client)s.",
                        account=wizard.bank_account_id.display_name,
                        client=wizard.client_id.display_name,
                    )
                )

    def action_load(self):
        self.ensure_one()
        _ = self.env._
        account = self.bank_account_id
        # The account is read with the person's rights: another company's is refused.
        account.check_access("read")
        if not account.active or not account.client_id.active:
            raise UserError(
                _(
                    "LedgerSync no longer lists “%(account)s”: there is nothing to load.",
                    account=account.display_name,
                )
            )
        if not account.sudo().connection_id._can_sync():
            raise UserError(
                _(
                    "LedgerSync is not connected: an administrator checks Settings → "
                    "LedgerSync Integration first."
                )
            )
        RangeLoad = self.env["ledgersync.range.load"]
        loading = RangeLoad._running(account)[:1]
        if loading:
            raise UserError(
                _(
                    "“%(account)s” is already loading %(start)s to %(end)s (%(progress)s%%): "
                    "wait until that load ends.",
                    account=account.display_name,
                    start=fields.Date.to_string(loading.range_start),
                    end=fields.Date.to_string(loading.range_end),
                    progress=round(loading.progress),
                )
            )
        run = RangeLoad._start(account, self.date_from, self.date_to)
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": self._outcome(run) | {"next": self._transactions_action()},
        }

    def _outcome(self, run):
        _ = self.env._
        if run.state == "done":
            return {
                "type": "success",
                "message": _(
                    "Loaded: %(created)s new, %(updated)s changed, %(unchanged)s unchanged "
                    "transactions.",
                    created=run.created_count,
                    updated=run.updated_count,
                    unchanged=run.unchanged_count,
                ),
            }
        if run.state == "running":
            return {
                "type": "info",
                "sticky": True,
                "message": _(
                    "The range is loading in the background; its progress shows on the "
                    "bank account. The list fills in as it loads."
                ),
            }
        return {
            "type": "danger",
            "sticky": True,
            "message": _(
                "The range could not be loaded: %(reason)s",
                reason=run.error_message or run.error_code,
            ),
        }

    def _transactions_action(self):
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "ledgersync_connector.ledgersync_transaction_action"
        )
        action["domain"] = [
            ("bank_account_id", "=", self.bank_account_id.id),
            ("date", ">=", fields.Date.to_string(self.date_from)),
            ("date", "<=", fields.Date.to_string(self.date_to)),
        ]
        action["context"] = {"searchpanel_default_client_id": self.client_id.id}
        action["name"] = self.env._(
            "%(account)s: %(start)s to %(end)s",
            account=self.bank_account_id.display_name,
            start=fields.Date.to_string(self.date_from),
            end=fields.Date.to_string(self.date_to),
        )
        return action
