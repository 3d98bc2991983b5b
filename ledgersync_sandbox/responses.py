"""JSON bodies of the sandbox: records with dates/datetimes made JSON, and the error shape
``{"error": {"code", "message"}}`` every error answer has (docs/ledgersync-api.md)."""

import json
from datetime import date, datetime

from werkzeug.wrappers import Response

from .config import format_datetime


def jsonable(value):
    """``value`` with every ``datetime`` as ISO 8601 UTC text and every ``date`` as YYYY-MM-DD."""
    if isinstance(value, datetime):
        return format_datetime(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    return value


def json_response(payload, status=200, headers=None):
    body = json.dumps(jsonable(payload), separators=(",", ":"), ensure_ascii=False)
    return Response(
        body, status=status, headers=headers, content_type="application/json; charset=utf-8"
    )


def error_response(status, code, message, headers=None):
    return json_response({"error": {"code": code, "message": message}}, status, headers)
