"""Handlers of the /_sandbox/ admin endpoints (local testing only: no authentication).

Each handler is ``handler(app, request, **url_values)`` -> Response, ``app`` being the
``SandboxApp``; the routing table in ``http.py`` says which URL and method reach which.
``SandboxError`` becomes its error answer, ``TypeError``/``ValueError`` a 400.
"""

import json

from .errors import bad_request, not_found
from .faults import FAULT_KINDS
from .responses import json_response

LOGIN_FIELDS = {"password", "state", "firm", "expire_tokens"}
RUNTIME_CONFIG = {"token_ttl"}  # the config values POST /_sandbox/config may change


def _body(request):
    """The JSON body ({} when empty), or 400."""
    text = request.get_data(as_text=True)
    if not text.strip():
        return {}
    try:
        return json.loads(text)
    except ValueError as exc:
        raise bad_request("the body must be JSON") from exc


def _object(request):
    body = _body(request)
    if not isinstance(body, dict):
        raise bad_request("the body must be a JSON object")
    return body


# -- the sandbox as a whole ---------------------------------------------------------------
def index(app, request):
    return json_response(app.info())


def reset(app, request):
    app.reset()
    return json_response({"reset": True})


def stats(app, request):
    return json_response(app.stats)


def reset_stats(app, request):
    app.reset_stats()
    return json_response(app.stats)


def clock(app, request):
    if request.method == "POST":
        body = _object(request)
        if body.get("now") is not None:
            app.clock.set(body["now"])
        if body.get("advance") is not None:
            app.clock.advance(float(body["advance"]))
        if body.get("real"):
            app.clock.unfreeze()
    return json_response({"now": app.clock.now(), "frozen": app.clock.frozen, "today": app.today})


def config(app, request):
    if request.method == "POST":
        body = _object(request)
        unknown = set(body) - RUNTIME_CONFIG
        if unknown:
            raise bad_request(f"only token_ttl can change at run time, not {sorted(unknown)}")
        if "token_ttl" in body:
            ttl = body["token_ttl"]
            if not isinstance(ttl, int) or isinstance(ttl, bool) or ttl < 1:
                raise bad_request("token_ttl must be a positive integer")
            app.token_ttl = ttl
    return json_response(app.info()["config"])


# -- faults -------------------------------------------------------------------------------
def list_faults(app, request):
    return json_response({"data": app.faults.list(), "kinds": FAULT_KINDS})


def clear_faults(app, request):
    app.faults.clear()
    return json_response({"data": []})


def add_faults(app, request):
    """One fault object, a list of them, or ``{"faults": [...]}``; ``"replace": true`` (in a
    fault or as a query parameter) clears the existing faults first."""
    body = _body(request)
    if isinstance(body, dict) and "faults" in body:
        body = body["faults"]
    specs = body if isinstance(body, list) else [body]
    if not specs or not all(isinstance(s, dict) and "kind" in s for s in specs):
        raise bad_request(
            "post a fault object with a kind (or a list of them); kinds: " + ", ".join(FAULT_KINDS)
        )
    if any(s.get("replace") for s in specs) or request.args.get("replace"):
        app.faults.clear()
    added = []
    for spec in specs:
        spec = {k: v for k, v in spec.items() if k != "replace"}
        added.append(app.faults.add(spec.pop("kind"), **spec).to_dict())
    return json_response({"data": added}, 201)


def remove_fault(app, request, fault_id):
    if not fault_id.isdigit() or not app.faults.remove(int(fault_id)):
        raise not_found(f"fault {fault_id}")
    return json_response({"removed": int(fault_id)})


# -- logins and tokens --------------------------------------------------------------------
def expire_tokens(app, request):
    return json_response({"expired": app.auth.expire_tokens(_object(request).get("email"))})


def revoke_tokens(app, request):
    return json_response({"revoked": app.auth.revoke_tokens(_object(request).get("email"))})


def list_logins(app, request):
    return json_response({"data": app.auth.logins()})


def set_login(app, request, email=None):
    """POST /logins with the email in the body, or PATCH/PUT /logins/{email}."""
    body = _object(request)
    if email is None:
        email = body.pop("email", None)
    if not isinstance(email, str) or "@" not in email:
        raise bad_request("email is required")
    unknown = set(body) - LOGIN_FIELDS
    if unknown:
        raise bad_request(f"unknown fields {sorted(unknown)}")
    return json_response(app.auth.set_login(email, **body))


# -- data ---------------------------------------------------------------------------------
def _parent(body, key):
    parent = body.pop(key, None)
    if not isinstance(parent, str):
        raise bad_request(f"{key} is required")
    return parent


def add_client(app, request):
    body = _object(request)
    return json_response(app.mutations.add_client(body.pop("firm", "demo"), **body), 201)


def modify_client(app, request, client_id):
    return json_response(app.mutations.modify_client(client_id, **_object(request)))


def remove_client(app, request, client_id):
    return json_response(app.mutations.remove_client(client_id))


def add_bank_account(app, request):
    body = _object(request)
    parent = _parent(body, "client_id")
    return json_response(app.mutations.add_bank_account(parent, **body), 201)


def modify_bank_account(app, request, account_id):
    return json_response(app.mutations.modify_bank_account(account_id, **_object(request)))


def remove_bank_account(app, request, account_id):
    return json_response(app.mutations.remove_bank_account(account_id))


def add_transaction(app, request):
    body = _object(request)
    parent = _parent(body, "bank_account_id")
    if "id" in body:
        body["tx_id"] = body.pop("id")
    return json_response(app.mutations.add_transaction(parent, **body), 201)


def get_transaction(app, request, tx_id):
    record = app.mutations.get_transaction(tx_id)
    if record is None:
        raise not_found(f"transaction {tx_id!r}")
    return json_response(record)


def modify_transaction(app, request, tx_id):
    return json_response(app.mutations.modify_transaction(tx_id, **_object(request)))


def delete_transaction(app, request, tx_id):
    """Pending ones only, unless ``?force=1`` (or ``{"force": true}``)."""
    force = request.args.get("force", "").lower() in ("1", "true", "yes")
    force = force or bool(_object(request).get("force"))
    return json_response(app.mutations.delete_transaction(tx_id, force=force))
