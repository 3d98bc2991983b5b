"""A small client of a running sandbox's /_sandbox/ admin endpoints (standard library only).

For tests and benchmarks that drive a sandbox over HTTP, often in another process:

    admin = SandboxAdmin("http://127.0.0.1:8079")
    admin.call("POST", "/faults", {"kind": "rate_limit", "count": 2})  # decoded JSON
    admin.request("GET", "/nothing").status_code  # 404: any answer, not raised
    admin.stats()["by_account"]

Paths are relative to ``/_sandbox`` (``""`` is the index); a path that already starts with
``/_sandbox`` is taken as it is. See the README's admin endpoint table.
"""

import json
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass

ADMIN_PREFIX = "/_sandbox"


@dataclass
class AdminResponse:
    """One answer: ``status_code``, ``headers`` (case-insensitive), ``content`` (bytes)."""

    status_code: int
    headers: object
    content: bytes

    @property
    def text(self):
        return self.content.decode("utf-8", errors="replace")

    def json(self):
        return json.loads(self.content or b"null")


class AdminError(Exception):
    """``SandboxAdmin.call`` got an error answer: ``status``, ``code`` and ``message`` of the
    sandbox's ``{"error": {"code", "message"}}`` body (None when the body is not that)."""

    def __init__(self, method, url, response):
        try:
            error = response.json()["error"]
            code, message = error["code"], error["message"]
        except (ValueError, TypeError, KeyError):
            code, message = None, response.text[:200]
        super().__init__(f"{method} {url}: HTTP {response.status_code} {code}: {message}")
        self.status = response.status_code
        self.code = code
        self.message = message
        self.response = response


class SandboxAdmin:
    """The admin endpoints of the sandbox at ``base_url``. Connection failures raise
    ``OSError`` (``urllib.error.URLError``); answers are never followed to another URL."""

    def __init__(self, base_url, *, timeout=30.0):
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout

    def url(self, path, params=None):
        if not (path == ADMIN_PREFIX or path.startswith(ADMIN_PREFIX + "/")):
            path = ADMIN_PREFIX + path
        query = f"?{urllib.parse.urlencode(params)}" if params else ""
        return self.base_url + path + query

    def request(self, method, path, body=None, *, params=None):
        """Send one request (``body``: JSON-encoded when not None) -> ``AdminResponse``,
        whatever its status."""
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(
            self.url(path, params),
            data=data,
            method=method,
            headers={"Content-Type": "application/json"} if data is not None else {},
        )
        try:
            with _OPENER.open(request, timeout=self.timeout) as answer:
                return AdminResponse(answer.status, answer.headers, answer.read())
        except urllib.error.HTTPError as error:
            with error:
                return AdminResponse(error.code, error.headers, error.read())

    def call(self, method, path, body=None, *, params=None):
        """Send one request -> its decoded JSON body; an error answer raises ``AdminError``."""
        response = self.request(method, path, body, params=params)
        if not 200 <= response.status_code < 300:
            raise AdminError(method, self.url(path, params), response)
        return response.json()

    # -- shorthands ------------------------------------------------------------------------
    def info(self):
        return self.call("GET", "")

    def reset(self):
        """Back to the start state: data, logins, tokens, faults, stats, clock."""
        return self.call("POST", "/reset")

    def stats(self):
        return self.call("GET", "/stats")

    def reset_stats(self):
        return self.call("DELETE", "/stats")

    def add_fault(self, kind, **options):
        """Add one fault (options as in ``FaultSet.add``) -> its JSON form."""
        return self.call("POST", "/faults", {"kind": kind, **options})["data"][0]

    def clear_faults(self):
        return self.call("DELETE", "/faults")


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None  # a 3xx comes back as it is


_OPENER = urllib.request.build_opener(_NoRedirect)
