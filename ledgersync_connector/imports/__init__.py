"""Imports of the firm's own lists (pure Python: no Odoo)."""
