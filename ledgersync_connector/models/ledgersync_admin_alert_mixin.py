import logging

from markupsafe import Markup

from odoo import fields, models

from .. import failures

_logger = logging.getLogger(__name__)

ALERT_ACTIVITY_TYPE = "mail.mail_activity_data_todo"


class LedgerSyncAdminAlertMixin(models.AbstractModel):
    """The firm's administrators learn of a broken sync by a To Do activity, on the
    connection: when its status turns red, and when one of its bank accounts fails in
    several syncs in a row (sync/engine.py). One open activity per problem, whatever the
    number of runs; it is marked done when the problem clears.

    A problem's open activity is linked from the record it is about (the connection, or a
    bank account): ``failure_activity_id``.
    """

    _name = "ledgersync.admin.alert.mixin"
    _description = "LedgerSync Alerts to Administrators"
    _inherit = ["mail.activity.mixin"]

    failure_activity_id = fields.Many2one(
        "mail.activity", readonly=True, copy=False, ondelete="set null", groups="base.group_system"
    )

    def write(self, vals):
        result = super().write(vals)
        if "state" in vals:
            if vals["state"] == "failed":
                for record in self:
                    record._alert_connection_failure()
            else:
                for record in self.filtered(lambda r: r.sudo().failure_activity_id):
                    record._ledgersync_alert_done(
                        record, self.env._("The LedgerSync status is no longer red.")
                    )
        return result

    # ------------------------------------------------------------------ problems

    def _alert_connection_failure(self):
        """The status turned red: the same reason and hint as the Settings status."""
        self.ensure_one()

        def texts(record):
            reason, hint = failures.describe(record.env, record.failure_code, record.failure_detail)
            summary = record.env._("LedgerSync connection failed")
            return summary, Markup("<p>%s</p><p>%s</p>") % (reason, hint or "")

        self._ledgersync_alert(self, texts)

    def _alert_account_failure(self, account):
        """``account`` failed in several syncs in a row."""
        self.ensure_one()

        def texts(record):
            _ = record.env._
            summary = _("LedgerSync: %(account)s does not sync", account=account.display_name)
            note = _(
                "The bank account %(account)s of %(client)s failed in the last %(count)s "
                "syncs: %(error)s",
                account=account.display_name,
                client=account.client_id.display_name,
                count=account.sync_failure_streak,
                error=account.last_sync_error,
            )
            hint = _(
                "Its transactions are not updated until it syncs again (LedgerSync > "
                "Bank Accounts)."
            )
            return summary, Markup("<p>%s</p><p>%s</p>") % (note, hint)

        self._ledgersync_alert(account, texts)

    def _alert_account_recovered(self, account):
        self.ensure_one()
        self._ledgersync_alert_done(
            account,
            self.env._("The bank account %(account)s syncs again.", account=account.display_name),
        )

    def _alert_accounts_gone(self):
        """Bank accounts that LedgerSync no longer lists (archived, or of an archived
        client) are no longer synced: their problems end with them."""
        self.ensure_one()
        gone = (
            self.env["ledgersync.bank.account"]
            .sudo()
            .with_context(active_test=False)
            .search(
                [
                    ("connection_id", "=", self.id),
                    ("failure_activity_id", "!=", False),
                    "|",
                    ("active", "=", False),
                    ("client_id.active", "=", False),
                ]
            )
        )
        for account in gone:
            self._ledgersync_alert_done(
                account,
                self.env._(
                    "LedgerSync no longer lists the bank account %(account)s.",
                    account=account.display_name,
                ),
            )

    # ------------------------------------------------------------------ activities

    def _ledgersync_admin(self):
        """The administrator who gets the To Do: a user with Settings rights in the
        connection's company, preferably one whose main company it is."""
        self.ensure_one()
        company = self.company_id
        admins = (
            self.env["res.users"]
            .sudo()
            .search(
                [
                    ("all_group_ids", "in", self.env.ref("base.group_system").id),
                    ("company_ids", "in", company.id),
                    ("share", "=", False),
                ],
                order="id",
            )
        )
        return admins.sorted(lambda user: user.company_id != company)[:1]

    def _ledgersync_alert(self, holder, texts):
        """Open a To Do about ``holder``'s problem (``holder``: this record or one of its
        bank accounts) unless one is open, which then gets the newest words.
        ``texts(record)`` gives the summary and the note, in the language of ``record``."""
        self.ensure_one()
        holder = holder.sudo()
        try:
            with self.env.cr.savepoint():
                activity = holder.failure_activity_id
                if activity.active:
                    summary, note = texts(self.with_context(lang=activity.user_id.lang))
                    activity.write({"summary": summary, "note": note})
                    return
                admin = self._ledgersync_admin()
                if not admin:
                    _logger.warning(
                        "LedgerSync: no administrator of company %s to alert", self.company_id.id
                    )
                    return
                summary, note = texts(self.with_context(lang=admin.lang))
                holder.failure_activity_id = self.sudo().activity_schedule(
                    ALERT_ACTIVITY_TYPE, summary=summary, note=note, user_id=admin.id
                )
        except Exception:  # an alert must never break the sync that reports the problem
            _logger.warning("LedgerSync: the administrators' To Do failed", exc_info=True)

    def _ledgersync_alert_done(self, holder, feedback):
        """Mark the open To Do about ``holder``'s problem done: the problem cleared."""
        holder = holder.sudo()
        activity = holder.failure_activity_id
        if not activity:
            return
        try:
            with self.env.cr.savepoint():
                if activity.active:
                    activity.action_feedback(feedback=feedback)
                holder.failure_activity_id = False
        except Exception:  # an alert must never break the sync that reports the problem
            _logger.warning(
                "LedgerSync: marking the administrators' To Do done failed", exc_info=True
            )
