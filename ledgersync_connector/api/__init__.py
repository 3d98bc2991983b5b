"""LedgerSync API client: the only code that speaks HTTP to LedgerSync (no Odoo import)."""

from . import errors, records
from .client import LedgerSyncApiClient
from .urls import parse_allowed_hosts, validate_base_url

__all__ = [
    "LedgerSyncApiClient",
    "errors",
    "parse_allowed_hosts",
    "records",
    "validate_base_url",
]
