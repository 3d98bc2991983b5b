from odoo import api, fields, models

from ..dates import naive_utc


class LedgerSyncSyncedMixin(models.AbstractModel):
    """Records keyed by their LedgerSync id under a parent (connection or client).

    Upserts a page of API records in one query plus one batched create, writes only the
    rows whose values changed, restores archived rows that reappear, and archives the rows
    that LedgerSync no longer lists. Each model declares its parent field, and the
    uniqueness of the LedgerSync id per parent (a ``models.Constraint``).
    """

    _name = "ledgersync.synced.mixin"
    _description = "Record synced from LedgerSync"
    # The field that links a record to its parent; set by each model.
    _ledgersync_parent_field = None

    ledgersync_id = fields.Char(string="LedgerSync ID", required=True, readonly=True)
    # Archived: LedgerSync no longer lists the record (or deleted it).
    active = fields.Boolean(default=True)

    @api.model
    def get_empty_list_help(self, help_message):
        # Why a list of synced records is empty, when LedgerSync's side explains it
        # (not connected, broken, first sync running...: empty_states.py).
        reason = self.env["ledgersync.connection"]._empty_list_help(self._name)
        return reason or super().get_empty_list_help(help_message)

    @api.model
    def _datetime_from_api(self, moment):
        """An API timestamp as an Odoo datetime value (False when missing)."""
        return fields.Datetime.to_string(naive_utc(moment)) if moment else False

    @api.model
    def _values_from_api(self, record, parent):
        raise NotImplementedError

    @api.model
    def _create_values_from_api(self, record, parent):
        """Values set only when a record is created (the parent, the company)."""
        return {self._ledgersync_parent_field: parent.id, "ledgersync_id": record.id}

    @api.model
    def _upsert_from_api(self, parent, records, *args):
        if not records:
            return self.browse()
        existing = self.with_context(active_test=False).search(
            [
                (self._ledgersync_parent_field, "=", parent.id),
                ("ledgersync_id", "in", [record.id for record in records]),
            ]
        )
        by_ledgersync_id = {row.ledgersync_id: row for row in existing}
        to_create = []
        for record in records:
            values = self._values_from_api(record, parent, *args)
            row = by_ledgersync_id.get(record.id)
            if row is None:
                to_create.append(dict(values, **self._create_values_from_api(record, parent)))
                continue
            changed = {
                name: value
                for name, value in dict(values, active=True).items()
                if row._ledgersync_value_differs(name, value)
            }
            if changed:
                row.write(changed)
        # No follower subscription for the administrator who connected: thousands of
        # synced records are not his to follow.
        created = self.with_context(mail_create_nosubscribe=True).create(to_create)
        return existing | created.with_env(self.env)

    def _ledgersync_value_differs(self, name, value):
        field = self._fields[name]
        current = self[name]
        if field.type == "many2one":
            current = current.id
        elif field.type == "datetime" and current:
            current = fields.Datetime.to_string(current)
        elif field.type in ("float", "monetary"):
            return float(current or 0.0) != float(value or 0.0)
        return (current or False) != (value or False)

    @api.model
    def _archive_missing(self, parent, seen_ledgersync_ids):
        """Archive the parent's records that LedgerSync no longer lists."""
        missing = self.search(
            [
                (self._ledgersync_parent_field, "=", parent.id),
                ("ledgersync_id", "not in", list(seen_ledgersync_ids)),
            ]
        )
        missing.action_archive()
        return missing
