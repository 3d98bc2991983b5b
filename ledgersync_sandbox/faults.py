"""Fault injection: make chosen API requests fail in chosen ways, a chosen number of times.

``FaultSet`` holds the rules and picks the one that fires for a request; ``apply_fault``
turns a fired fault into the answer (an error, a wait, or the real answer rewritten).
"""

import json
import math
import re
import threading
from dataclasses import asdict, dataclass, field

from werkzeug.wrappers import Response

from .responses import error_response, json_response

FAULT_KINDS = {
    "rate_limit": "429 rate_limited with a Retry-After header (retry_after, default 1 s)",
    "server_error": "a 5xx (status, default 500) with a JSON error body, or `body` as given",
    "delay": "answer normally after `delay` seconds (default 1)",
    "hang": "accept the request and answer nothing for `delay` seconds (default 3600); "
    "released at once when the server stops",
    "html": "an HTML page (a proxy's error page) with `status` (default 200)",
    "empty": "an empty body with `status` (default 200)",
    "truncated": "the normal JSON body cut in half (Content-Length matches the cut body)",
    "wrong_shape": 'valid JSON of the wrong shape: the normal body wrapped as {"result": ...}',
    "bad_record": "the normal page with its first record broken (amount/date/id of wrong type)",
    "token_expired": "401 token_expired on data calls, whatever the token",
    "patch": "the normal answer with `body` (a JSON object) merged into its first record, "
    "or into the login answer (out-of-range values the mutations refuse: amounts, expires_in)",
    "drip": "the normal answer, its body sent one byte every `delay` seconds (default 0.5) "
    "after the headers; released at once when the server stops",
    "huge": "a 200 answer of `size` bytes (default 8 MiB) streamed without Content-Length",
    "endless": "an empty page whose next_cursor is new at every answer (a listing that never ends)",
}
ENDPOINTS = ("login", "clients", "bank_accounts", "transactions")
DATA_ENDPOINTS = ("clients", "bank_accounts", "transactions")
DEFAULT_STATUS = {
    "rate_limit": 429,
    "server_error": 500,
    "html": 200,
    "empty": 200,
    "token_expired": 401,
}
DEFAULT_DELAY = {"delay": 1.0, "hang": 3600.0, "drip": 0.5}
DEFAULT_SIZE = 8 * 1024 * 1024
HUGE_CHUNK = 64 * 1024


@dataclass
class Fault:
    """One fault rule. It fires on requests matching ``path`` (regex, searched in the URL path),
    ``endpoint`` (login|clients|bank_accounts|transactions) and ``method``; the first ``skip``
    matching requests pass untouched, then it fires ``count`` times (-1 = forever)."""

    kind: str
    path: str = None
    endpoint: str = None
    method: str = None
    count: int = 1
    skip: int = 0
    status: int = None
    retry_after: float = None
    delay: float = None
    body: str = None
    content_type: str = None
    size: int = None
    id: int = 0
    fired: int = 0
    _regex: object = field(default=None, repr=False, compare=False)

    def __post_init__(self):
        if self.kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault kind {self.kind!r}; one of {', '.join(FAULT_KINDS)}")
        if self.endpoint is not None and self.endpoint not in ENDPOINTS:
            raise ValueError(f"unknown endpoint {self.endpoint!r}; one of {', '.join(ENDPOINTS)}")
        for name in ("count", "skip"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool):
                raise ValueError(f"{name} must be an integer")
        if self.count < -1 or self.skip < 0:
            raise ValueError("count must be >= -1 (-1 = forever) and skip >= 0")
        if self.status is None:
            self.status = DEFAULT_STATUS.get(self.kind)
        elif not isinstance(self.status, int) or not 100 <= self.status <= 599:
            raise ValueError("status must be an HTTP status code")
        if self.kind == "server_error" and not 500 <= self.status <= 599:
            raise ValueError("server_error needs a 5xx status")
        if self.delay is None:
            self.delay = DEFAULT_DELAY.get(self.kind)
        if self.delay is not None:
            self.delay = float(self.delay)
            if self.delay < 0:
                raise ValueError("delay must be >= 0")
        if self.kind == "rate_limit" and self.retry_after is None:
            self.retry_after = 1
        self._check_kind_options()
        if self.method is not None:
            self.method = self.method.upper()
        try:
            self._regex = re.compile(self.path) if self.path else None
        except re.error as exc:
            raise ValueError(f"bad path regex {self.path!r}: {exc}") from exc

    def _check_kind_options(self):
        """The options of ``huge`` (size) and ``patch`` (body: a JSON object)."""
        if self.kind == "huge":
            self.size = DEFAULT_SIZE if self.size is None else self.size
            if not isinstance(self.size, int) or isinstance(self.size, bool) or self.size < 1:
                raise ValueError("size must be a positive integer (bytes)")
        if self.kind == "patch":
            if isinstance(self.body, dict):  # as the admin endpoint's JSON may give it
                self.body = json.dumps(self.body)
            try:
                patch = json.loads(self.body) if isinstance(self.body, str) else None
            except ValueError:
                patch = None
            if not isinstance(patch, dict):
                raise ValueError("a patch fault needs a body: a JSON object of fields")

    @property
    def active(self):
        return self.count != 0

    def matches(self, method, path, endpoint):
        if self.method and method != self.method:
            return False
        if self.endpoint and endpoint != self.endpoint:
            return False
        if self.endpoint is None and self.path is None:
            # unscoped: every API endpoint; token_expired only makes sense on data calls
            allowed = DATA_ENDPOINTS if self.kind == "token_expired" else ENDPOINTS
            if endpoint not in allowed:
                return False
        return self._regex is None or self._regex.search(path) is not None

    def to_dict(self):
        data = asdict(self)
        data.pop("_regex", None)
        data["active"] = self.active
        return data


class FaultSet:
    """Thread-safe ordered list of faults; the first active matching fault wins."""

    def __init__(self):
        self._lock = threading.Lock()
        self._faults = []
        self._next_id = 1

    def add(self, kind, **options):
        """Add a fault; see ``Fault`` for the options. Returns the ``Fault``."""
        fault = Fault(
            kind, **{k: v for k, v in options.items() if k not in ("id", "fired", "active")}
        )
        with self._lock:
            fault.id = self._next_id
            self._next_id += 1
            self._faults.append(fault)
        return fault

    def remove(self, fault_id):
        with self._lock:
            before = len(self._faults)
            self._faults = [f for f in self._faults if f.id != fault_id]
            return len(self._faults) != before

    def clear(self):
        with self._lock:
            self._faults = []

    def list(self):
        with self._lock:
            return [f.to_dict() for f in self._faults]

    def __len__(self):
        with self._lock:
            return sum(1 for f in self._faults if f.active)

    def match(self, method, path, endpoint):
        """Consume and return the fault that fires for this request, or None."""
        with self._lock:
            for fault in self._faults:
                if not fault.active or not fault.matches(method, path, endpoint):
                    continue
                if fault.skip > 0:
                    fault.skip -= 1
                    continue
                if fault.count > 0:
                    fault.count -= 1
                fault.fired += 1
                return fault
        return None


def parse_fault_spec(spec):
    """``"kind"`` or ``"kind:key=value,key=value"`` (CLI form) -> keyword dict for ``FaultSet.add``.

    Values are ints/floats when they look like numbers. A comma only separates options when
    followed by ``key=``, so path regexes like ``\\d{1,3}`` survive.
    """
    kind, _, rest = spec.partition(":")
    options = {}
    if rest:
        for part in re.split(r",(?=\s*\w+=)", rest):
            key, sep, value = part.partition("=")
            if not sep:
                raise ValueError(f"bad fault option {part!r} in {spec!r} (want key=value)")
            key, value = key.strip(), value.strip()
            if (
                key not in Fault.__dataclass_fields__
                or key.startswith("_")
                or key in ("id", "fired", "kind")
            ):
                raise ValueError(f"unknown fault option {key!r}")
            if re.fullmatch(r"-?\d+", value) and key not in ("path", "body"):
                options[key] = int(value)
            elif re.fullmatch(r"-?\d+\.\d*", value) and key not in ("path", "body"):
                options[key] = float(value)
            else:
                options[key] = value
    return kind.strip(), options


# ==========================================================================================
# what a fired fault answers
# ==========================================================================================
HTML_PAGE = (
    "<!DOCTYPE html>\n<html><head><title>502 Bad Gateway</title></head>\n"
    "<body><center><h1>502 Bad Gateway</h1></center><hr><center>nginx</center></body></html>\n"
)
# bad_record: (key, value) put into the first record of a page, when the record has the key
BROKEN_VALUES = (
    ("amount", "12,34 EUR"),
    ("date", "yesterday"),
    ("current_balance", [1]),
    ("id", None),
    ("updated_at", "not a time"),
)


def _answer_rate_limit(fault):
    # delay-seconds is an integer in HTTP (RFC 9110): round fractions up
    retry = str(math.ceil(float(fault.retry_after)))
    return error_response(
        fault.status, "rate_limited", "Too many requests; slow down.", {"Retry-After": retry}
    )


def _answer_server_error(fault):
    if fault.body is not None:
        return Response(
            fault.body, status=fault.status, content_type=fault.content_type or "text/plain"
        )
    code = "service_unavailable" if fault.status == 503 else "server_error"
    return error_response(fault.status, code, "Simulated server failure.")


def _answer_token_expired(fault):
    return error_response(401, "token_expired", "The access token has expired; log in again.")


def _answer_html(fault):
    return Response(
        fault.body if fault.body is not None else HTML_PAGE,
        status=fault.status,
        content_type=fault.content_type or "text/html; charset=utf-8",
    )


def _answer_empty(fault):
    return Response(b"", status=fault.status, content_type=fault.content_type or "application/json")


def _rewrite_truncated(body):
    return Response(body[: max(1, len(body) // 2)], status=200, content_type="application/json")


def _rewrite_wrong_shape(body):
    return json_response({"result": json.loads(body)})


def _rewrite_bad_record(body):
    payload = json.loads(body)
    items = payload.get("data") if isinstance(payload, dict) else None
    if isinstance(items, list) and items:
        broken = items[0]
        for key, value in BROKEN_VALUES:
            if key in broken:
                broken[key] = value
    elif isinstance(payload, dict):  # the login answer
        payload["access_token"] = None
        payload["expires_in"] = "soon"
    return json_response(payload)


def _answer_huge(fault, released):
    def filler():
        yield b'{"data": ["'
        sent = len(b'{"data": ["')
        while sent < fault.size and not released.is_set():
            chunk = b"x" * min(HUGE_CHUNK, fault.size - sent)
            sent += len(chunk)
            yield chunk

    return Response(filler(), status=200, content_type="application/json")


def _answer_endless(fault):
    return json_response({"data": [], "next_cursor": f"endless-{fault.id}-{fault.fired}"})


def _rewrite_patch(fault, response):
    payload = json.loads(response.get_data())
    items = payload.get("data") if isinstance(payload, dict) else None
    target = items[0] if isinstance(items, list) and items else payload
    if isinstance(target, dict):
        target.update(json.loads(fault.body))
    return json_response(payload)


def _rewrite_drip(fault, response, released):
    body = response.get_data()

    def drip():
        for index in range(len(body)):
            if index and released.wait(fault.delay):
                return  # the server stops: the answer stays cut
            yield body[index : index + 1]

    headers = {"Content-Length": str(len(body))}
    return Response(
        drip(), status=response.status_code, headers=headers, content_type=response.content_type
    )


# faults answered without running the request
FAULT_ANSWERS = {
    "rate_limit": _answer_rate_limit,
    "server_error": _answer_server_error,
    "token_expired": _answer_token_expired,
    "html": _answer_html,
    "empty": _answer_empty,
    "endless": _answer_endless,
}
# faults rewriting the real answer (when it is a 200)
FAULT_REWRITES = {
    "truncated": _rewrite_truncated,
    "wrong_shape": _rewrite_wrong_shape,
    "bad_record": _rewrite_bad_record,
}


def apply_fault(fault, run, released):
    """The answer to a request ``fault`` fired on. ``run()`` gives the real answer;
    ``released`` (a ``threading.Event``, set when the server stops) ends the wait of
    ``delay`` and ``hang`` faults, and the streaming of ``drip`` and ``huge``, at once."""
    kind = fault.kind
    if kind in ("hang", "delay"):
        released.wait(fault.delay)
        if kind == "hang":
            return error_response(
                503, "service_unavailable", "The sandbox stopped while the request hung."
            )
        return run()
    if kind in FAULT_ANSWERS:
        return FAULT_ANSWERS[kind](fault)
    if kind == "huge":
        return _answer_huge(fault, released)
    response = run()
    if kind == "drip":
        return _rewrite_drip(fault, response, released)
    if response.status_code != 200:
        return response
    if kind == "patch":
        return _rewrite_patch(fault, response)
    return FAULT_REWRITES[kind](response.get_data())
