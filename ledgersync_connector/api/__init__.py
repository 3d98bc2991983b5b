"""LedgerSync API client: the only code that speaks HTTP to LedgerSync (no Odoo import)."""

from . import errors, records
from .client import LedgerSyncApiClient, validate_base_url

__all__ = ["LedgerSyncApiClient", "errors", "records", "validate_base_url"]
