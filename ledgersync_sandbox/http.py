"""The sandbox over HTTP: one werkzeug routing table for the LedgerSync API (/v1/...) and the
admin endpoints (/_sandbox/...), fault injection and request accounting around it.

Every answer the routing gives itself is in the contract's error shape: an unknown path is
404 ``not_found``, a known path with another method 405 ``method_not_allowed`` (with an
``Allow`` header). HEAD is not part of the contract: it gets 405 like any other method.
"""

import json
import logging
import threading
from dataclasses import dataclass

from werkzeug.exceptions import HTTPException, MethodNotAllowed, NotFound
from werkzeug.routing import Map, Rule
from werkzeug.wrappers import Request

from . import admin
from .errors import SandboxError, bad_request
from .faults import apply_fault
from .responses import error_response, json_response

_logger = logging.getLogger(__name__)

ADMIN_PREFIX = "/_sandbox"


# ==========================================================================================
# the LedgerSync API (docs/ledgersync-api.md)
# ==========================================================================================
def login(app, request):
    try:
        body = json.loads(request.get_data(as_text=True) or "null")
    except ValueError as exc:
        raise bad_request('the body must be JSON: {"email": ..., "password": ...}') from exc
    if not isinstance(body, dict):
        raise bad_request("the body must be a JSON object with email and password")
    return json_response(app.auth.login(body.get("email"), body.get("password")))


def _page(records, next_cursor):
    return json_response({"data": records, "next_cursor": next_cursor})


def _firm(app, request):
    return app.auth.authenticate(request.headers.get("Authorization"))


def clients(app, request):
    firm = _firm(app, request)
    args = request.args
    return _page(*app.store.query_clients(firm, limit=args.get("limit"), cursor=args.get("cursor")))


def bank_accounts(app, request, client_id):
    firm = _firm(app, request)
    args = request.args
    return _page(
        *app.store.query_bank_accounts(
            client_id, firm=firm, limit=args.get("limit"), cursor=args.get("cursor")
        )
    )


def transactions(app, request, account_id):
    firm = _firm(app, request)
    args = request.args
    return _page(
        *app.store.query_transactions(
            account_id,
            firm=firm,
            start_date=args.get("start_date") or None,
            end_date=args.get("end_date") or None,
            updated_since=args.get("updated_since") or None,
            limit=args.get("limit"),
            cursor=args.get("cursor"),
        )
    )


# ==========================================================================================
# the routing table
# ==========================================================================================
@dataclass(frozen=True)
class Endpoint:
    """What a rule leads to: the request ``kind`` (the stats key; the fault ``endpoint`` of
    API calls) and ``handler(app, request, **url_values)``."""

    kind: str
    handler: object


def _api(path, method, kind, handler):
    return Rule(path, methods=[method], endpoint=Endpoint(kind, handler))


def _admin(path, methods, handler):
    # admin paths accept a trailing slash (/_sandbox and /_sandbox/ are the same page)
    rule_path = ADMIN_PREFIX + path
    return Rule(
        rule_path, methods=methods, endpoint=Endpoint("admin", handler), strict_slashes=False
    )


URL_MAP = Map(
    [
        _api("/v1/auth/login", "POST", "login", login),
        _api("/v1/clients", "GET", "clients", clients),
        _api("/v1/clients/<client_id>/bank-accounts", "GET", "bank_accounts", bank_accounts),
        _api("/v1/bank-accounts/<account_id>/transactions", "GET", "transactions", transactions),
        # local testing only (admin.py); not served with SandboxConfig(admin=False)
        _admin("/", ["GET"], admin.index),
        _admin("/reset", ["POST"], admin.reset),
        _admin("/stats", ["GET"], admin.stats),
        _admin("/stats", ["DELETE"], admin.reset_stats),
        _admin("/stats/reset", ["POST"], admin.reset_stats),
        _admin("/faults", ["GET"], admin.list_faults),
        _admin("/faults", ["POST"], admin.add_faults),
        _admin("/faults", ["DELETE"], admin.clear_faults),
        _admin("/faults/<fault_id>", ["DELETE"], admin.remove_fault),
        _admin("/clock", ["GET", "POST"], admin.clock),
        _admin("/config", ["GET", "POST"], admin.config),
        _admin("/tokens/expire", ["POST"], admin.expire_tokens),
        _admin("/tokens/revoke", ["POST"], admin.revoke_tokens),
        _admin("/logins", ["GET"], admin.list_logins),
        _admin("/logins", ["POST"], admin.set_login),
        _admin("/logins/<email>", ["PATCH", "PUT"], admin.set_login),
        _admin("/clients", ["POST"], admin.add_client),
        _admin("/clients/<client_id>", ["PATCH"], admin.modify_client),
        _admin("/clients/<client_id>", ["DELETE"], admin.remove_client),
        _admin("/bank-accounts", ["POST"], admin.add_bank_account),
        _admin("/bank-accounts/<account_id>", ["PATCH"], admin.modify_bank_account),
        _admin("/bank-accounts/<account_id>", ["DELETE"], admin.remove_bank_account),
        _admin("/transactions", ["POST"], admin.add_transaction),
        _admin("/transactions/<tx_id>", ["GET"], admin.get_transaction),
        _admin("/transactions/<tx_id>", ["PATCH"], admin.modify_transaction),
        _admin("/transactions/<tx_id>", ["DELETE"], admin.delete_transaction),
    ],
    merge_slashes=False,  # never redirect: a client of the API must not follow redirects
)


def match(path, method):
    """(Endpoint, url values) of a request; raises werkzeug's NotFound or MethodNotAllowed."""
    adapter = URL_MAP.bind("sandbox")
    if method == "HEAD":  # werkzeug would answer HEAD with the GET rules
        allowed = adapter.allowed_methods(path)
        if allowed:
            raise MethodNotAllowed(valid_methods=allowed)
        raise NotFound()
    return adapter.match(path, method)


def routing_error(exc, method, path, is_admin):
    """The JSON answer to a request the routing table has no handler for."""
    if isinstance(exc, MethodNotAllowed):
        allowed = sorted(m for m in exc.valid_methods or () if m != "HEAD")
        message = f"Use {', '.join(allowed)} on {path}."
        return error_response(405, "method_not_allowed", message, {"Allow": ", ".join(allowed)})
    # NotFound (never a redirect: merge_slashes is off and no strict slash rule ends with /)
    if is_admin:
        return error_response(404, "not_found", f"No such admin endpoint: {method} {path}")
    return error_response(404, "not_found", f"No such endpoint: {path}")


# ==========================================================================================
# the WSGI application
# ==========================================================================================
class HttpApp:
    """Routes a request, applies the fault that fires on it, answers, counts it."""

    def __init__(self, app):
        self.app = app  # the SandboxApp: handlers reach its parts through it
        self._released = threading.Event()  # set: requests held by hang/delay faults go on

    def release_hangs(self):
        """Wake every request held by a ``hang`` (answers 503) or ``delay`` fault (answers)."""
        self._released.set()

    def arm_hangs(self):
        self._released.clear()

    def __call__(self, environ, start_response):
        request = Request(environ)
        try:
            response = self.dispatch(request)
        except Exception:  # never leak a werkzeug HTML 500
            _logger.exception("sandbox: unexpected error on %s %s", request.method, request.path)
            response = error_response(500, "server_error", "Unexpected sandbox error.")
        return response(environ, start_response)

    def dispatch(self, request):
        path = request.path
        is_admin = path == ADMIN_PREFIX or path.startswith(ADMIN_PREFIX + "/")
        if is_admin and not self.app.config.admin:
            return error_response(404, "not_found", "No such endpoint.")
        if is_admin:  # counted first, so that GET /_sandbox/stats counts itself
            self.app.request_stats.count("admin", path, None)
        try:
            endpoint, values = match(path, request.method)
        except HTTPException as exc:
            response = routing_error(exc, request.method, path, is_admin)
            if not is_admin:
                self.app.request_stats.count("other", path, response.status_code)
            return response
        if is_admin:
            return self._run(endpoint, request, values)
        response = self._answer_api(endpoint, request, values)
        account = values.get("account_id") if endpoint.kind == "transactions" else None
        self.app.request_stats.count(endpoint.kind, path, response.status_code, account)
        return response

    def _answer_api(self, endpoint, request, values):
        fault = self.app.faults.match(request.method, request.path, endpoint.kind)
        if fault is None:
            return self._run(endpoint, request, values)
        self.app.request_stats.fault_fired()
        return apply_fault(fault, lambda: self._run(endpoint, request, values), self._released)

    def _run(self, endpoint, request, values):
        try:
            return endpoint.handler(self.app, request, **values)
        except SandboxError as exc:
            return error_response(exc.status, exc.code, exc.message, exc.headers)
        except (TypeError, ValueError) as exc:
            if endpoint.kind != "admin":
                raise  # a bug: __call__ answers 500
            return error_response(400, "bad_request", str(exc))
