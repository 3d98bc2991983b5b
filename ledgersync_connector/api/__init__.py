"""LedgerSync API client: the only code that speaks HTTP to LedgerSync (no Odoo import)."""

from . import errors, models
from .client import LedgerSyncClient, date_windows, validate_base_url

__all__ = ["LedgerSyncClient", "date_windows", "errors", "models", "validate_base_url"]
