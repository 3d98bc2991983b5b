"""File exports of reviewed transactions (pure Python: no Odoo)."""
